//! Shared fixtures: wasm guests built once per test run, and running the `drift-host` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Builds every guest crate to wasm32-wasip2 once, in a target directory of its own (so the
/// nested cargo never waits for the lock of the cargo running the tests).
fn guest_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let target = root().join("target").join("guests");
        let status = Command::new(option_env!("CARGO").unwrap_or("cargo"))
            .current_dir(root())
            .args([
                "build",
                "--quiet",
                "--target",
                "wasm32-wasip2",
                "--profile",
                "guest",
            ])
            .args([
                "-p",
                "users_v2",
                "-p",
                "users_by_email",
                "-p",
                "drift-test-guests",
                "-p",
                "drift-model-guest",
            ])
            .arg("--target-dir")
            .arg(&target)
            .status()
            .expect("run cargo to build the guests");
        assert!(status.success(), "building the wasm guests failed");
        target.join("wasm32-wasip2").join("guest")
    })
}

/// The path of a built guest, e.g. `guest("users_v2")`.
pub fn guest(name: &str) -> PathBuf {
    let path = guest_dir().join(format!("{name}.wasm"));
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// Builds an AssemblyScript guest with `npm ci` and `npm run build` (asc) in `dir`.
fn npm_build(dir: &Path, wasm: &str) -> PathBuf {
    for args in [
        &["ci", "--no-audit", "--no-fund", "--silent"][..],
        &["run", "build", "--silent"][..],
    ] {
        let status = Command::new("npm")
            .args(args)
            .current_dir(dir)
            .status()
            .expect("run npm");
        assert!(status.success(), "npm {args:?} failed in {}", dir.display());
    }
    dir.join("build").join(wasm)
}

/// The AssemblyScript example, built once per test run: a core module that the host wraps
/// into a component.
pub fn as_guest() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        npm_build(
            &root().join("example-migrations").join("users_v2_as"),
            "users_v2_as.wasm",
        )
    })
    .clone()
}

/// The AssemblyScript guest that exercises every immediate DynamoDB operation, built once.
pub fn as_db_probe() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| npm_build(&root().join("tests").join("guests-as"), "db_probe.wasm"))
        .clone()
}

/// A compiled-component cache shared by the tests (keeps the user's cache out of it).
pub fn cache_dir() -> PathBuf {
    root().join("target").join("test-component-cache")
}

/// `drift-host` with `args`, the test cache, journals and server, and piped output.
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_drift-host"));
    command
        .args(args)
        .env("DRIFT_CACHE_DIR", cache_dir())
        .env("DRIFT_LOG", "warn")
        .env(
            "DRIFT_WORK_DIR",
            root().join("target").join("test-journals"),
        )
        .envs(dynamodb_env())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs `drift-host` with `args`, feeding `stdin`.
pub fn drift_host(args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = command(args)
        .stdin(Stdio::piped())
        .spawn()
        .expect("start drift-host");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

/// Runs `drift-host` in the background (to signal it), with the same environment.
pub fn spawn_drift_host(args: &[&str]) -> std::process::Child {
    command(args)
        .stdin(Stdio::null())
        .spawn()
        .expect("start drift-host")
}

/// The endpoint in `variable` (set by scripts/test), or a server that `script start --port
/// PORT` starts (left running; `script stop --port PORT` stops it).
fn server(variable: &str, script: &str, port: u16) -> String {
    if let Ok(endpoint) = std::env::var(variable) {
        return endpoint;
    }
    let status = Command::new(root().join("scripts").join(script))
        .args(["start", "--port", &port.to_string()])
        .status()
        .unwrap_or_else(|e| panic!("run scripts/{script}: {e}"));
    assert!(
        status.success(),
        "scripts/{script} could not start its server"
    );
    format!("http://127.0.0.1:{port}")
}

/// The DynamoDB Local endpoint the tests use: `DRIFT_TEST_ENDPOINT`, or a server started on
/// port 8765 with scripts/dynamodb-local.
pub fn endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| server("DRIFT_TEST_ENDPOINT", "dynamodb-local", 8765))
}

/// The moto server the tests use as a second implementation of DynamoDB:
/// `DRIFT_TEST_MOTO_ENDPOINT`, or a server started on port 8768 with scripts/moto-server.
pub fn moto_endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| server("DRIFT_TEST_MOTO_ENDPOINT", "moto-server", 8768))
}

/// Environment for a process that talks to the test server with dummy credentials.
pub fn dynamodb_env() -> Vec<(&'static str, String)> {
    vec![
        ("DRIFT_ENDPOINT_URL", endpoint().to_owned()),
        ("AWS_ACCESS_KEY_ID", "local".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "local".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ]
}

/// A name no other test (or earlier run against the same server) uses.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs a future to completion on a small runtime of its own.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// A client for the test server, with dummy credentials.
pub fn client() -> aws_sdk_dynamodb::Client {
    client_at(endpoint())
}

/// A client for the server at `endpoint`, with dummy credentials.
pub fn client_at(endpoint: &str) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("local", "local", None, None, "tests"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Runs `drift-host args` (no stdin) and returns how it ended.
pub fn drift_output(args: &[&str]) -> Output {
    command(args)
        .stdin(Stdio::null())
        .output()
        .expect("run drift-host")
}

/// Asserts that `output` exited with `code`, showing its stdout and stderr otherwise.
pub fn expect_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{}{}",
        stdout(output),
        stderr(output)
    );
}

/// The model guest's other tables (`model_s`, `model_n`, `model_sb`) are shared by every test
/// that runs that guest, and the model tests delete and create them: one such test at a time.
pub static MODEL_TABLES: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Creates the model guest's other tables where missing: `model_s` (key `k` S), `model_n`
/// (`k` N), `model_sb` (`k` B, sort key `s` S); `fresh`: deleted first, so they are empty.
/// Hold [`MODEL_TABLES`] meanwhile.
pub fn model_tables(fresh: bool) {
    use aws_sdk_dynamodb::types::ScalarAttributeType as Type;
    let client = client();
    for (table, hash, sort) in [
        ("model_s", Type::S, None),
        ("model_n", Type::N, None),
        ("model_sb", Type::B, Some(("s", Type::S))),
    ] {
        if fresh {
            let _ = block_on(client.delete_table().table_name(table).send());
        }
        block_on(drift_host::aws::create_table(
            &client,
            &Default::default(),
            table,
            ("k", hash),
            sort,
            drift_host::aws::Billing::OnDemand,
        ))
        .unwrap();
    }
}

/// Whether `table` exists on the test server.
pub fn table_exists(table: &str) -> bool {
    block_on(client().describe_table().table_name(table).send()).is_ok()
}
