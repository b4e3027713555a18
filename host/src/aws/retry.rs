//! The retry policy every DynamoDB request goes through, and the reading of its errors.
//!
//! Throttling, 5xx, timeouts and broken connections are retried with exponential backoff and
//! full jitter; anything else is returned at once.

use std::future::Future;
use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::model::fence::{Fence, LeaseExpired};

/// How often and how patiently to retry a request.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Backoff before the second attempt (doubles each time, before jitter).
    pub base: Duration,
    /// Longest backoff.
    pub cap: Duration,
    /// Whether to retry a request whose outcome is unknown (it timed out, its connection
    /// dropped, DynamoDB answered 5xx): right for reads and for writes that leave the same
    /// item when repeated; for any other write only a request DynamoDB rejected (throttled)
    /// is sent again.
    pub retry_unknown_outcomes: bool,
    /// Checked before every attempt: nothing is sent once the run's lease ran out.
    pub fence: Fence,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: crate::model::options::MAX_ATTEMPTS
                .default
                .expect("max-attempts has a default") as u32,
            base: Duration::from_millis(50),
            cap: Duration::from_secs(5),
            retry_unknown_outcomes: true,
            fence: Fence::open(),
        }
    }
}

impl RetryPolicy {
    /// This policy for a write that must not apply twice: it retries only what DynamoDB
    /// rejected without applying it.
    pub fn rejections_only(&self) -> RetryPolicy {
        RetryPolicy {
            retry_unknown_outcomes: false,
            ..self.clone()
        }
    }

    /// Full jitter: a random wait between zero and the exponential bound.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let bound = self
            .base
            .saturating_mul(1u32 << attempt.min(20))
            .min(self.cap);
        bound.mul_f64(fastrand::f64())
    }

    /// Runs `request` until it succeeds, fails for good, or runs out of attempts.
    pub async fn run<T, E, R, F, Fut>(&self, mut request: F) -> Result<T, SdkError<E, R>>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, R>>>,
    {
        let mut attempt = 0;
        loop {
            self.fence.check().map_err(SdkError::construction_failure)?;
            let sent = std::time::Instant::now();
            let answer = request().await;
            stats::answered(sent.elapsed());
            match answer {
                Ok(value) => return Ok(value),
                Err(error)
                    if attempt + 1 < self.max_attempts
                        && is_transient(&error)
                        && (self.retry_unknown_outcomes || is_rejection(&error)) =>
                {
                    tracing::debug!("retrying a DynamoDB request (attempt {})", attempt + 2);
                    stats::retried(&error);
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }
}

/// What this process's requests met, for the metrics: their latency, and the retries by
/// the error that caused them.
pub mod stats {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Mutex;
    use std::time::Duration;

    use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

    /// Upper bounds of the latency buckets, in seconds.
    pub const BUCKETS: [f64; 12] = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
    ];

    static COUNTS: [AtomicU64; BUCKETS.len() + 1] =
        [const { AtomicU64::new(0) }; BUCKETS.len() + 1];
    static SUM_MICROS: AtomicU64 = AtomicU64::new(0);
    static RETRIES: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

    /// Records one attempt's time to its answer.
    pub fn answered(took: Duration) {
        let seconds = took.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|&b| seconds <= b)
            .unwrap_or(BUCKETS.len());
        COUNTS[bucket].fetch_add(1, Ordering::Relaxed);
        SUM_MICROS.fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// Records a retry caused by `error`.
    pub fn retried<E, R>(error: &SdkError<E, R>)
    where
        E: ProvideErrorMetadata,
    {
        let code = match error {
            SdkError::ServiceError(service) => service.err().code().unwrap_or("Unknown"),
            SdkError::TimeoutError(_) => "Timeout",
            SdkError::DispatchFailure(_) => "ConnectionFailed",
            SdkError::ResponseError(_) => "ResponseError",
            _ => "Other",
        };
        *RETRIES
            .lock()
            .expect("retries lock")
            .entry(code.to_owned())
            .or_default() += 1;
    }

    /// The latency histogram: per bucket (non-cumulative, the last one above every bound),
    /// the sum in seconds, the count.
    pub fn latency() -> (Vec<u64>, f64, u64) {
        let counts: Vec<u64> = COUNTS.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        let count = counts.iter().sum();
        (
            counts,
            SUM_MICROS.load(Ordering::Relaxed) as f64 / 1e6,
            count,
        )
    }

    /// Retries so far, by error code.
    pub fn retries() -> BTreeMap<String, u64> {
        RETRIES.lock().expect("retries lock").clone()
    }
}

/// Throttling, server errors, timeouts and connection failures: worth another try (but not
/// a request the lease fence turned away).
pub fn is_transient<E, R>(error: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    if lease_expired(error) {
        return false;
    }
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            matches!(
                code,
                "ProvisionedThroughputExceededException"
                    | "ThrottlingException"
                    | "RequestLimitExceeded"
                    | "InternalServerError"
                    | "ServiceUnavailable"
                    | "InternalFailure"
                    | "LimitExceededException"
                    | "TransactionInProgressException"
                    // DynamoDB Local sometimes reports a fresh transaction as a mismatched replay
                    // of its idempotency token. Every transaction drift-host sends is conditional,
                    // and a retry is a new request with a new token, so retrying cannot apply twice.
                    | "IdempotentParameterMismatchException"
            ) || code.is_empty()
        }
        _ => false,
    }
}

/// Throttling: DynamoDB refused the request without applying it.
pub fn is_rejection<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    matches!(error, SdkError::ServiceError(service) if matches!(
        service.err().code().unwrap_or_default(),
        "ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded"
    ))
}

/// The error's code, for messages and classification.
pub fn error_code<E, R>(error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    if lease_expired(error) {
        return LeaseExpired.to_string();
    }
    match error {
        SdkError::ServiceError(service) => {
            let err = service.err();
            match (err.code(), err.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_owned(),
                _ => match http_details(service.raw()) {
                    Some(details) => format!("unknown service error ({details})"),
                    None => "unknown service error".to_owned(),
                },
            }
        }
        SdkError::TimeoutError(_) => "request timed out".to_owned(),
        SdkError::DispatchFailure(failure) => {
            if failure.is_io() || failure.is_timeout() {
                "cannot reach DynamoDB (connection failed)".to_owned()
            } else {
                format!("request could not be sent: {}", innermost(error))
            }
        }
        SdkError::ResponseError(_) => "malformed or interrupted response".to_owned(),
        SdkError::ConstructionFailure(_) => {
            format!("request could not be built: {}", innermost(error))
        }
        _ => "unknown error".to_owned(),
    }
}

/// What an answer the SDK could not read says: its HTTP status and the message of its body (a
/// JSON `message`, or the body's first line), for servers that answer outside DynamoDB's
/// protocol (an emulator's parser crashing with a 500, a proxy's error page).
fn http_details(raw: &dyn std::any::Any) -> Option<String> {
    let response = raw.downcast_ref::<aws_sdk_dynamodb::config::http::HttpResponse>()?;
    let status = response.status().as_u16();
    let body = response.body().bytes().unwrap_or_default();
    let text = String::from_utf8_lossy(body);
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|json| {
            ["message", "Message", "__type"]
                .iter()
                .find_map(|field| json.get(*field)?.as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| plain_text(&text));
    let message: String = message.chars().take(300).collect();
    Some(format!("HTTP {status}: {message}"))
}

/// A body as one line of text: an HTML page's text without its tags.
fn plain_text(body: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        "empty body".to_owned()
    } else {
        words.join(" ")
    }
}

/// Whether the fence turned the request away ([`LeaseExpired`] in its causes).
fn lease_expired(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<LeaseExpired>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// The useful message under the SDK's layers: missing credentials said plainly, otherwise the
/// deepest cause.
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    loop {
        if cause.to_string().contains("loading credentials") {
            return "no usable AWS credentials (environment variables, profile or instance role)"
                .to_owned();
        }
        match cause.source() {
            Some(next) => cause = next,
            None => return cause.to_string(),
        }
    }
}

/// Whether the error is a failed condition (`ConditionalCheckFailedException`).
pub fn is_conditional_check_failed<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    matches!(error, SdkError::ServiceError(service) if service.err().code() == Some("ConditionalCheckFailedException"))
}

#[cfg(test)]
mod tests {
    use super::plain_text;

    #[test]
    fn a_page_reads_as_its_text() {
        let page = "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error.</p>";
        assert_eq!(
            plain_text(page),
            "500 Internal Server Error Internal Server Error The server encountered an internal error."
        );
        assert_eq!(plain_text(" \n"), "empty body");
        assert_eq!(plain_text("plain words"), "plain words");
    }
}
