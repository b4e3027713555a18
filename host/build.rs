//! Embeds the guest SDKs and the WIT world in the binary, so `drift-host new` can write them
//! beside a new migration project: they are not published to crates.io or npm.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What is embedded, relative to the repository root: folders (walked) and files.
const SOURCES: &[&str] = &[
    "wit",
    "guest-sdk/value/Cargo.toml",
    "guest-sdk/value/src",
    "guest-sdk/rust/Cargo.toml",
    "guest-sdk/rust/src",
    "guest-sdk/assemblyscript/package.json",
    "guest-sdk/assemblyscript/README.md",
    "guest-sdk/assemblyscript/assembly",
    "guest-sdk/assemblyscript/tests/runner.mjs",
    "guest-sdk/js/package.json",
    "guest-sdk/js/tsconfig.json",
    "guest-sdk/js/README.md",
    "guest-sdk/js/src",
    "guest-sdk/js/drift-js.sh",
    "guest-sdk/python/pyproject.toml",
    "guest-sdk/python/README.md",
    "guest-sdk/python/drift_sdk",
    "guest-sdk/python/drift-py.sh",
    "guest-sdk/c/README.md",
    "guest-sdk/c/drift-c.sh",
    "guest-sdk/c/include",
    "guest-sdk/c/src",
    "guest-sdk/c/tests/native_stubs.c",
];

/// What a guest never compiles (drift-value's `evaluate` feature, the host's evaluation of
/// update and condition expressions), left out of the embedded SDK.
const HOST_ONLY: &[&str] = &[
    "guest-sdk/value/src/expression/evaluate",
    "guest-sdk/value/src/expression/condition.rs",
    "guest-sdk/value/src/expression/condition_parse.rs",
    "guest-sdk/value/src/expression/condition_tests.rs",
];

/// drift-value's feature for the files in [`HOST_ONLY`], dropped (with the comment above it)
/// from the embedded manifest since its files are not there.
const HOST_ONLY_FEATURE: &str = "evaluate = []";

fn walk(path: &Path, files: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .expect("read an SDK folder")
            .map(|e| e.expect("an SDK folder entry").path())
            .collect();
        entries.sort();
        for entry in entries {
            walk(&entry, files);
        }
    } else {
        files.push(path.to_owned());
    }
}

/// The workspace manifest's `[workspace.package]` and `[workspace.dependencies]`.
fn workspace(root: &Path) -> toml::Table {
    let path = root.join("Cargo.toml");
    println!("cargo:rerun-if-changed={}", path.display());
    let text = std::fs::read_to_string(path).expect("the workspace manifest");
    let manifest: toml::Table = text.parse().expect("a valid workspace manifest");
    manifest["workspace"]
        .as_table()
        .expect("a [workspace] table")
        .clone()
}

/// `key.workspace = true` and `dep = { workspace = true }` lines replaced by the workspace's
/// values; a workspace dependency on one of the embedded crates becomes a path beside it.
fn resolve_manifest(text: &str, workspace: &toml::Table) -> String {
    let package = workspace["package"]
        .as_table()
        .expect("[workspace.package]");
    let dependencies = workspace["dependencies"]
        .as_table()
        .expect("[workspace.dependencies]");
    let mut out = String::new();
    for line in text.lines() {
        if line == HOST_ONLY_FEATURE {
            while out.lines().last().is_some_and(|l| l.starts_with('#')) {
                let last = out[..out.len() - 1].rfind('\n').map_or(0, |i| i + 1);
                out.truncate(last);
            }
            continue;
        }
        let resolved = if let Some(key) = line.strip_suffix(".workspace = true") {
            format!("{key} = {}", package[key])
        } else if let Some(name) = line.strip_suffix(" = { workspace = true }") {
            match dependencies[name].get("path").and_then(|p| p.as_str()) {
                // `guest-sdk/value` seen from `guest-sdk/rust`.
                Some(path) => format!(
                    "{name} = {{ path = \"../{}\" }}",
                    Path::new(path).file_name().unwrap().to_string_lossy()
                ),
                None => format!("{name} = {}", dependencies[name]),
            }
        } else {
            line.to_owned()
        };
        out.push_str(&resolved);
        out.push('\n');
    }
    out
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for source in SOURCES {
        let path = root.join(source);
        println!("cargo:rerun-if-changed={}", path.display());
        walk(&path, &mut files);
    }
    let mut code =
        String::from("/// The embedded SDK files: path from the repository root, contents.\n");
    code.push_str("pub const SDK_FILES: &[(&str, &str)] = &[\n");
    let workspace = workspace(&root);
    let host_only: Vec<PathBuf> = HOST_ONLY.iter().map(|p| root.join(p)).collect();
    for file in files {
        if host_only.iter().any(|p| file.starts_with(p)) {
            continue;
        }
        let relative = file.strip_prefix(&root).expect("below the root");
        let absolute = file.canonicalize().expect("an SDK file");
        if file.file_name().is_some_and(|n| n == "Cargo.toml") {
            // Stand-alone manifests: what the SDK crates inherit from our workspace, written out.
            let text = std::fs::read_to_string(&file).expect("an SDK manifest");
            let resolved = resolve_manifest(&text, &workspace);
            writeln!(
                code,
                "    ({:?}, {:?}),",
                relative.to_string_lossy(),
                resolved
            )
            .unwrap();
        } else {
            writeln!(
                code,
                "    ({:?}, include_str!({:?})),",
                relative.to_string_lossy(),
                absolute.to_string_lossy()
            )
            .unwrap();
        }
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("sdk_files.rs");
    std::fs::write(out, code).expect("write sdk_files.rs");
}
