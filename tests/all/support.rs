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
            .args(["-p", "users_v2", "-p", "drift-test-guests"])
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

/// A compiled-component cache shared by the tests (keeps the user's cache out of it).
pub fn cache_dir() -> PathBuf {
    root().join("target").join("test-component-cache")
}

/// Runs `drift-host` with `args`, feeding `stdin`.
pub fn drift_host(args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_drift-host"))
        .args(args)
        .env("DRIFT_CACHE_DIR", cache_dir())
        .env("DRIFT_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start drift-host");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}
