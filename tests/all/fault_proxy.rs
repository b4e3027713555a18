//! A fault-injecting HTTP proxy between drift-host and DynamoDB Local, on loopback.
//!
//! On a seeded schedule it answers some requests itself with throttling errors (400
//! `ProvisionedThroughputExceededException` / `ThrottlingException`) or server errors (500,
//! 503), closes some connections mid-request, forwards some requests and then drops the answer
//! (the write happened, the client cannot know), and delays others. The rest pass through.
//! In a `BatchExecuteStatement`, it also throttles single statements: it forwards the request
//! without them and answers `ThrottlingError` in their places, as DynamoDB does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// What happened to the requests, by kind.
#[derive(Debug, Default)]
pub struct FaultCounts {
    pub requests: AtomicU64,
    pub throttled: AtomicU64,
    pub server_errors: AtomicU64,
    pub closed_before: AtomicU64,
    pub dropped_after: AtomicU64,
    pub delayed: AtomicU64,
    /// Statements of `BatchExecuteStatement` requests answered `ThrottlingError`.
    pub statements_throttled: AtomicU64,
}

impl FaultCounts {
    /// Requests that did not get a normal, timely answer.
    pub fn faulted(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
            + self.server_errors.load(Ordering::Relaxed)
            + self.closed_before.load(Ordering::Relaxed)
            + self.dropped_after.load(Ordering::Relaxed)
            + self.delayed.load(Ordering::Relaxed)
            + self.statements_throttled.load(Ordering::Relaxed)
    }
}

/// A running proxy; it stops with the runtime that started it.
pub struct FaultProxy {
    pub address: String,
    pub counts: Arc<FaultCounts>,
}

enum Fault {
    Pass,
    Answer(u16, &'static str),
    CloseBefore,
    DropAfter,
    Delay(Duration),
}

/// A proxy in front of the test server, on a runtime of its own (dropping it stops the proxy).
pub fn in_front_of_test_server(seed: u64, percent: u32) -> (tokio::runtime::Runtime, FaultProxy) {
    let upstream = crate::support::endpoint()
        .trim_start_matches("http://")
        .to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let proxy = runtime.block_on(start(upstream, seed, percent));
    (runtime, proxy)
}

/// Starts a proxy to `upstream` (host:port) that faults about `percent` % of requests.
pub async fn start(upstream: String, seed: u64, percent: u32) -> FaultProxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let counts = Arc::new(FaultCounts::default());
    let rng = Arc::new(Mutex::new(fastrand::Rng::with_seed(seed)));
    let shared = counts.clone();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let (upstream, rng, counts) = (upstream.clone(), rng.clone(), shared.clone());
            tokio::spawn(async move {
                let _ = serve(client, &upstream, &rng, &counts, percent).await;
            });
        }
    });
    FaultProxy { address, counts }
}

fn choose(rng: &Mutex<fastrand::Rng>, percent: u32) -> Fault {
    let mut rng = rng.lock().unwrap();
    if rng.u32(0..100) >= percent {
        return Fault::Pass;
    }
    match rng.u32(0..10) {
        0..=2 => Fault::Answer(400, "ProvisionedThroughputExceededException"),
        3 => Fault::Answer(400, "ThrottlingException"),
        4 => Fault::Answer(500, "InternalServerError"),
        5 => Fault::Answer(503, "ServiceUnavailable"),
        6 => Fault::CloseBefore,
        7 => Fault::DropAfter,
        _ => Fault::Delay(Duration::from_millis(rng.u64(100..600))),
    }
}

/// The head and the body of an HTTP message.
fn split(message: &[u8]) -> (&[u8], &[u8]) {
    let at = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(message.len(), |p| p + 4);
    message.split_at(at)
}

/// The statements of a `BatchExecuteStatement` request (with a Content-Length body) to answer
/// `ThrottlingError` this time: each with about `percent` % chance.
fn statements_to_throttle(request: &[u8], rng: &Mutex<fastrand::Rng>, percent: u32) -> Vec<usize> {
    let (head, body) = split(request);
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    if !head.contains("batchexecutestatement") || !head.contains("content-length") {
        return Vec::new();
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Vec::new();
    };
    let count = json["Statements"].as_array().map_or(0, Vec::len);
    let mut rng = rng.lock().unwrap();
    (0..count).filter(|_| rng.u32(0..100) < percent).collect()
}

/// The request's statements without those in `dropped`, and how many there were.
fn without_statements(request: &[u8], dropped: &[usize]) -> (Vec<serde_json::Value>, usize) {
    let json: serde_json::Value = serde_json::from_slice(split(request).1).unwrap();
    let all = json["Statements"].as_array().cloned().unwrap_or_default();
    let kept = all
        .iter()
        .enumerate()
        .filter(|(i, _)| !dropped.contains(i))
        .map(|(_, s)| s.clone())
        .collect();
    (kept, all.len())
}

/// The request again, with only `statements` (DynamoDB Local does not check signatures).
fn forwarded_request(request: &[u8], statements: &[serde_json::Value]) -> Vec<u8> {
    let (head, body) = split(request);
    let mut json: serde_json::Value = serde_json::from_slice(body).unwrap();
    json["Statements"] = serde_json::Value::Array(statements.to_vec());
    let body = json.to_string();
    let head: String = String::from_utf8_lossy(head)
        .split("\r\n")
        .filter(|line| !line.is_empty())
        .map(|line| {
            if line.to_ascii_lowercase().starts_with("content-length:") {
                format!("Content-Length: {}", body.len())
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    format!("{head}\r\n\r\n{body}").into_bytes()
}

/// The per-statement answers of a `BatchExecuteStatement` response, if it is one.
fn statement_answers(response: &[u8]) -> Option<Vec<serde_json::Value>> {
    let (head, body) = split(response);
    if !String::from_utf8_lossy(head).starts_with("HTTP/1.1 200") {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    json["Responses"].as_array().cloned()
}

/// Reads one HTTP/1.1 message (head and body, Content-Length or chunked); `None` at EOF.
async fn read_message(
    reader: &mut BufReader<impl tokio::io::AsyncRead + Unpin>,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(None);
        }
        head.extend_from_slice(&line);
        if line == b"\r\n" {
            break;
        }
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let header = |name: &str| {
        text.lines().find_map(|l| {
            l.strip_prefix(&format!("{name}:"))
                .map(|v| v.trim().to_owned())
        })
    };
    let mut message = head;
    if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let mut size_line = Vec::new();
            reader.read_until(b'\n', &mut size_line).await?;
            message.extend_from_slice(&size_line);
            let size =
                usize::from_str_radix(String::from_utf8_lossy(&size_line).trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).await?;
            message.extend_from_slice(&chunk);
            if size == 0 {
                break;
            }
        }
    } else if let Some(length) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        message.extend_from_slice(&body);
    }
    Ok(Some(message))
}

async fn serve(
    client: TcpStream,
    upstream: &str,
    rng: &Mutex<fastrand::Rng>,
    counts: &FaultCounts,
    percent: u32,
) -> std::io::Result<()> {
    let (client_read, mut client_write) = client.into_split();
    let mut client_read = BufReader::new(client_read);
    let server = TcpStream::connect(upstream).await?;
    let (server_read, mut server_write) = server.into_split();
    let mut server_read = BufReader::new(server_read);
    while let Some(request) = read_message(&mut client_read).await? {
        counts.requests.fetch_add(1, Ordering::Relaxed);
        let throttle = statements_to_throttle(&request, rng, percent);
        if !throttle.is_empty() {
            counts
                .statements_throttled
                .fetch_add(throttle.len() as u64, Ordering::Relaxed);
            let (forwarded, all) = without_statements(&request, &throttle);
            let answers = if forwarded.is_empty() {
                Vec::new()
            } else {
                server_write
                    .write_all(&forwarded_request(&request, &forwarded))
                    .await?;
                let Some(response) = read_message(&mut server_read).await? else {
                    return Ok(());
                };
                let Some(answers) = statement_answers(&response) else {
                    client_write.write_all(&response).await?;
                    continue;
                };
                answers
            };
            let mut answers = answers.into_iter();
            let merged: Vec<serde_json::Value> = (0..all)
                .map(|i| match throttle.contains(&i) {
                    true => serde_json::json!({"Error": {"Code": "ThrottlingError", "Message": "injected fault"}}),
                    false => answers.next().unwrap_or(serde_json::json!({})),
                })
                .collect();
            let body = serde_json::json!({ "Responses": merged }).to_string();
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            client_write.write_all(response.as_bytes()).await?;
            continue;
        }
        match choose(rng, percent) {
            Fault::Answer(status, code) => {
                let counter = if status == 400 {
                    &counts.throttled
                } else {
                    &counts.server_errors
                };
                counter.fetch_add(1, Ordering::Relaxed);
                let body = format!("{{\"__type\":\"com.amazonaws.dynamodb.v20120810#{code}\",\"message\":\"injected fault\"}}");
                let reason = match status {
                    400 => "Bad Request",
                    500 => "Internal Server Error",
                    _ => "Service Unavailable",
                };
                let response = format!(
                    "HTTP/1.1 {status} {reason}\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-ErrorType: {code}\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                client_write.write_all(response.as_bytes()).await?;
            }
            Fault::CloseBefore => {
                counts.closed_before.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            Fault::DropAfter => {
                counts.dropped_after.fetch_add(1, Ordering::Relaxed);
                server_write.write_all(&request).await?;
                read_message(&mut server_read).await?;
                return Ok(());
            }
            fault => {
                if let Fault::Delay(delay) = fault {
                    counts.delayed.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(delay).await;
                }
                server_write.write_all(&request).await?;
                let Some(response) = read_message(&mut server_read).await? else {
                    return Ok(());
                };
                client_write.write_all(&response).await?;
            }
        }
    }
    Ok(())
}

/// A proxy in front of the test server for a server without PartiQL: every
/// `BatchExecuteStatement` or `ExecuteStatement` is answered `UnknownOperationException` (as
/// DynamoDB answers an operation it does not know); everything else passes through. With
/// `probe_passes`, drift-host's probe statement passes through, and the other statement
/// requests are answered `ValidationException` (a server whose PartiQL takes simple
/// statements only).
pub fn without_partiql_in_front_of_test_server(
    probe_passes: bool,
) -> (tokio::runtime::Runtime, String) {
    let upstream = crate::support::endpoint()
        .trim_start_matches("http://")
        .to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let address = runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let _ = serve_without_partiql(client, &upstream, probe_passes).await;
                });
            }
        });
        address
    });
    (runtime, address)
}

async fn serve_without_partiql(
    client: TcpStream,
    upstream: &str,
    probe_passes: bool,
) -> std::io::Result<()> {
    let (client_read, mut client_write) = client.into_split();
    let mut client_read = BufReader::new(client_read);
    let server = TcpStream::connect(upstream).await?;
    let (server_read, mut server_write) = server.into_split();
    let mut server_read = BufReader::new(server_read);
    while let Some(request) = read_message(&mut client_read).await? {
        let head = String::from_utf8_lossy(split(&request).0).to_ascii_lowercase();
        let probe = String::from_utf8_lossy(split(&request).1).contains("drift_host_probe");
        if head.contains("executestatement") && !(probe_passes && probe) {
            let body = if probe_passes {
                r#"{"__type":"com.amazon.coral.validate#ValidationException","message":"Statement not supported"}"#
            } else {
                r#"{"__type":"com.amazon.coral.service#UnknownOperationException"}"#
            };
            let response = format!(
                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            client_write.write_all(response.as_bytes()).await?;
            continue;
        }
        server_write.write_all(&request).await?;
        let Some(response) = read_message(&mut server_read).await? else {
            return Ok(());
        };
        client_write.write_all(&response).await?;
    }
    Ok(())
}
