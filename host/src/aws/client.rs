//! Connecting to DynamoDB: the standard AWS configuration chain plus our options, with the
//! SDK's own retries switched off (see [`super::retry`]).

use std::time::Duration;

use anyhow::{bail, Result};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::ProvideCredentials;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, Region, RuntimeComponents};
use aws_sdk_dynamodb::Client;

use crate::model::fence::Fence;

/// Where and how to reach DynamoDB.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// Endpoint, e.g. `http://127.0.0.1:8000` for DynamoDB Local.
    pub endpoint_url: Option<String>,
    /// Region; otherwise the standard AWS chain decides.
    pub region: Option<String>,
    /// Profile from the AWS config files.
    pub profile: Option<String>,
}

/// Builds a client from the standard AWS configuration chain plus `options`, and gets its
/// credentials once, so a missing login is one clear error before any work starts.
///
/// The chain is the AWS CLI's: environment variables, the shared config and credentials files
/// (static keys, `credential_process`, SSO sessions, assumed roles), web identity (Kubernetes
/// service accounts), container (ECS) and instance (EC2) metadata.
pub async fn connect(options: &ConnectOptions) -> Result<Client> {
    if let Some(endpoint) = &options.endpoint_url {
        check_endpoint(endpoint)?;
        reachable(endpoint).await?;
    }
    let config = sdk_config(options).await?;
    check_credentials(&config, options.profile.as_deref()).await?;
    Ok(Client::new(&config))
}

/// The SDK configuration `options` give (shared by the DynamoDB and the Streams clients):
/// the profile, the region, the endpoint, no SDK retries, bounded timeouts.
pub async fn sdk_config(options: &ConnectOptions) -> Result<SdkConfig> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &options.profile {
        // As with the AWS CLI, a profile named on the command line (or in drift.toml) is where
        // the credentials come from, even when AWS_ACCESS_KEY_ID is set: the default chain
        // would try the environment first.
        let credentials = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(profile)
            .build();
        loader = loader
            .profile_name(profile)
            .credentials_provider(credentials);
    }
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    } else if options.endpoint_url.is_some() {
        // A local endpoint (DynamoDB Local) works in any region: do not fail for want of one,
        // and do not wait for the instance metadata service either.
        let chain = aws_config::meta::region::RegionProviderChain::first_try(
            aws_config::environment::EnvironmentVariableRegionProvider::new(),
        )
        .or_else(
            aws_config::profile::ProfileFileRegionProvider::builder()
                .profile_name(options.profile.as_deref().unwrap_or("default"))
                .build(),
        )
        .or_else("us-east-1");
        loader = loader.region(chain);
    }
    if let Some(endpoint) = &options.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    let config = loader
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(30))
                .build(),
        )
        .load()
        .await;
    // A configuration error is no network fault: say so at once instead of retrying it.
    if config.region().is_none() {
        bail!(
            "no AWS region is configured: give --region, set AWS_REGION, or set a region in \
             the profile (~/.aws/config)"
        );
    }
    Ok(config)
}

/// An endpoint must be an `http://` or `https://` URL with a host: anything else would only
/// fail later, as a connection error after every retry.
pub fn check_endpoint(endpoint: &str) -> Result<()> {
    let Some((scheme, rest)) = endpoint.split_once("://") else {
        bail!(
            "--endpoint-url `{endpoint}` is not a URL: write its scheme, as in http://{endpoint}"
        );
    };
    if !matches!(scheme, "http" | "https") {
        bail!("--endpoint-url `{endpoint}`: the scheme must be http or https, not `{scheme}`");
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        bail!("--endpoint-url `{endpoint}` names no host");
    }
    if let Some((_, port)) = host.rsplit_once(':').filter(|_| !host.ends_with(']')) {
        if port.parse::<u16>().is_err() {
            bail!("--endpoint-url `{endpoint}`: `{port}` is not a port number");
        }
    }
    Ok(())
}

/// How long a local endpoint may take to accept a connection before it counts as down.
const REACH_TIMEOUT: Duration = Duration::from_secs(3);

/// An endpoint given on the command line (DynamoDB Local, moto, a proxy) that accepts no
/// connection is one line at once, with its URL, rather than a request retried for seconds.
async fn reachable(endpoint: &str) -> Result<()> {
    let rest = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let default_port = if endpoint.starts_with("https://") {
        443
    } else {
        80
    };
    let address = match host.rsplit_once(':') {
        Some((_, port)) if !host.ends_with(']') && port.parse::<u16>().is_ok() => host.to_owned(),
        _ => format!("{host}:{default_port}"),
    };
    let address = address.trim_start_matches('[').replace("]:", ":");
    let attempt = tokio::time::timeout(REACH_TIMEOUT, tokio::net::TcpStream::connect(&address));
    match attempt.await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => bail!("cannot reach DynamoDB at {endpoint}: {error}"),
        Err(_) => bail!(
            "cannot reach DynamoDB at {endpoint}: no answer within {} s",
            REACH_TIMEOUT.as_secs()
        ),
    }
}

/// Gets credentials from `config`'s chain once; the error is one line that names the profile
/// or the sources tried, and what to do about it.
async fn check_credentials(config: &SdkConfig, profile: Option<&str>) -> Result<()> {
    let Some(provider) = config.credentials_provider() else {
        bail!("no AWS credentials provider is configured");
    };
    let Err(error) = provider.provide_credentials().await else {
        return Ok(());
    };
    let named = profile
        .map(str::to_owned)
        .or_else(|| std::env::var("AWS_PROFILE").ok());
    let shown = named.clone().unwrap_or_else(|| "default".to_owned());
    if let Some(name) = &named {
        if !profile_exists(name) {
            bail!(
                "AWS profile `{name}` is in neither {} nor {}: check its name, or run \
                 `aws configure --profile {name}`",
                aws_file("AWS_CONFIG_FILE", "config").display(),
                aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials").display()
            );
        }
    }
    let why = error_chain(&error);
    if why.to_lowercase().contains("sso") {
        bail!(
            "AWS profile `{shown}` signs in with SSO, and its token is missing or expired: \
             run `aws sso login --profile {shown}`"
        );
    }
    if matches!(error, CredentialsError::CredentialsNotLoaded(_)) {
        match &named {
            Some(name) => bail!(
                "AWS profile `{name}` gives no credentials (no keys, credential_process, SSO \
                 or role in it): complete it, or run `aws configure --profile {name}`"
            ),
            None => bail!(
                "no AWS credentials found (tried the environment, profile `default`, web \
                 identity, container and instance metadata): set AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY, give --profile, or run `aws configure`"
            ),
        }
    }
    bail!("cannot get AWS credentials (profile `{shown}`): {why}")
}

/// An error and its sources, as their messages (not their debug dumps), on one line.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(current) = next {
        let text = current.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        next = current.source();
    }
    parts
        .join(": ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// An AWS shared file: the environment variable's path, or `~/.aws/<name>`.
fn aws_file(variable: &str, name: &str) -> std::path::PathBuf {
    std::env::var_os(variable).map_or_else(
        || {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".aws")
                .join(name)
        },
        std::path::PathBuf::from,
    )
}

/// Whether `name` has a section in the AWS config or credentials file.
fn profile_exists(name: &str) -> bool {
    let in_file = |variable: &str, file: &str, headers: &[String]| {
        std::fs::read_to_string(aws_file(variable, file)).is_ok_and(|text| {
            text.lines().any(|line| {
                let line = line.trim();
                line.strip_prefix('[')
                    .and_then(|l| l.strip_suffix(']'))
                    .is_some_and(|header| {
                        let header = header.split_whitespace().collect::<Vec<_>>().join(" ");
                        headers.contains(&header)
                    })
            })
        })
    };
    let config_headers = [format!("profile {name}"), name.to_owned()];
    in_file("AWS_CONFIG_FILE", "config", &config_headers)
        || in_file(
            "AWS_SHARED_CREDENTIALS_FILE",
            "credentials",
            &[name.to_owned()],
        )
}

/// A client whose every request is checked against `fence` just before it is sent: the last
/// moment a run that was paused past its lease can be stopped from writing.
pub fn fenced(client: &Client, fence: Fence) -> Client {
    let config = client
        .config()
        .to_builder()
        .interceptor(FenceInterceptor(fence))
        .build();
    Client::from_conf(config)
}

/// Requests this process sent through fenced clients (every attempt), for the report.
static REQUESTS_SENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many requests (attempts included) this process sent through fenced clients: every
/// request of a run.
pub fn requests_sent() -> u64 {
    REQUESTS_SENT.load(std::sync::atomic::Ordering::Relaxed)
}

/// Turns a request away, right before it goes out, once the fence is closed; counts those
/// that go.
#[derive(Debug)]
struct FenceInterceptor(Fence);

impl Intercept for FenceInterceptor {
    fn name(&self) -> &'static str {
        "drift-host lease fence"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _config: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0.check()?;
        REQUESTS_SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::check_endpoint;

    #[test]
    fn endpoints_are_urls_with_a_scheme_and_a_host() {
        for good in [
            "http://127.0.0.1:8000",
            "https://dynamodb.eu-west-1.amazonaws.com",
            "http://localhost:8000/",
            "http://[::1]:8000",
        ] {
            assert!(check_endpoint(good).is_ok(), "{good}");
        }
        for (bad, why) in [
            (
                "127.0.0.1:8123",
                "write its scheme, as in http://127.0.0.1:8123",
            ),
            ("ftp://host", "must be http or https"),
            ("http://", "names no host"),
            ("http://:8000", "names no host"),
            ("http://host:80x0", "`80x0` is not a port number"),
        ] {
            let error = check_endpoint(bad).unwrap_err().to_string();
            assert!(error.contains(why), "{bad}: {error}");
        }
    }
}
