//! The layering of `host/src`, checked: the data path reads in one direction, and so do the
//! imports. Each top-level module has a level; a module may import only modules of a lower
//! level (or itself), so no module imports upward and no cycle can form. A new top-level module
//! must be given its level here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level modules of the library, lowest first. Modules on one level (the compositions
/// at the top, the two bottom ones) may not import each other.
const LEVELS: &[(&str, u32)] = &[
    ("crash", 0),
    ("durable", 0),
    ("model", 0),
    ("aws", 1),
    ("preview", 1),
    ("source", 2),
    ("engine", 3),
    ("journal", 4),
    ("apply", 5),
    ("metadata", 6),
    ("run", 7),
    ("exec", 7),
    ("load", 7),
    ("project", 8),
    ("cases", 8),
    ("plan", 8),
];

/// Which top-level modules `source` (the text of a file of module `module`, at `relative`
/// below `src/`) refers to through `crate::` and `super::` paths.
fn references(module: &str, relative: &Path, source: &str) -> BTreeSet<String> {
    let code: String = source
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    // At the top of `X/mod.rs`, `super` is the crate root; at the top of `X/Y.rs`, it is `X`;
    // on an indented line (inside an inline module, such as `mod tests`), it is the file's
    // own module, so within `X` too.
    let file_is_mod = relative.file_name().is_some_and(|n| n == "mod.rs");
    let mut found = BTreeSet::new();
    for line in code.lines() {
        let indented = line.starts_with(char::is_whitespace);
        for (prefix, root) in [("crate::", true), ("super::", file_is_mod && !indented)] {
            let mut rest = line;
            while let Some(at) = rest.find(prefix) {
                let before = rest[..at].chars().next_back();
                rest = &rest[at + prefix.len()..];
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue; // part of a longer path, e.g. `drift_host::crate`
                }
                if !root {
                    found.insert(module.to_owned());
                    continue;
                }
                for name in first_segments(rest) {
                    found.insert(name);
                }
            }
        }
    }
    found
}

/// The first path segment after `crate::`: one name, or each name of a `{a, b::c}` group.
fn first_segments(rest: &str) -> Vec<String> {
    let ident = |text: &str| -> String {
        text.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    if let Some(group) = rest.strip_prefix('{') {
        let mut names = Vec::new();
        let (mut depth, mut start) = (0, 0);
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    names.push(ident(&group[start..i]));
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    names.push(ident(&group[start..i]));
                    start = i + 1;
                }
                _ => {}
            }
        }
        names
    } else {
        vec![ident(rest)]
    }
    .into_iter()
    .filter(|name| !name.is_empty())
    .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every import of one top-level module by another, with the file it is in.
fn imports(src: &Path) -> BTreeMap<(String, String), PathBuf> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut edges = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src).unwrap().to_owned();
        let first = relative.components().next().unwrap().as_os_str();
        let module = first.to_str().unwrap().trim_end_matches(".rs").to_owned();
        if module == "main" || module == "cli" || module == "lib" {
            continue; // the command line is on top of everything; lib.rs only declares
        }
        let source = std::fs::read_to_string(&file).unwrap();
        for target in references(&module, &relative, &source) {
            if target != module {
                edges
                    .entry((module.clone(), target))
                    .or_insert(file.clone());
            }
        }
    }
    edges
}

/// The imports that break the layering, as messages.
fn violations(edges: &BTreeMap<(String, String), PathBuf>) -> Vec<String> {
    let level = |name: &str| LEVELS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l);
    edges
        .iter()
        .filter_map(|((from, to), file)| match (level(from), level(to)) {
            (Some(a), Some(b)) if a > b => None,
            (Some(_), Some(_)) => Some(format!(
                "{} imports `{to}` from `{from}`: an upward (or sideways) import",
                file.display()
            )),
            (None, _) => Some(format!("module `{from}` has no level in LEVELS")),
            (_, None) => Some(format!(
                "{} imports `{to}`, which has no level in LEVELS",
                file.display()
            )),
        })
        .collect()
}

#[test]
fn modules_import_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = imports(&src);
    // The analysis sees the real data path (so an empty result cannot pass by accident).
    for expected in [("run", "apply"), ("apply", "journal"), ("source", "aws")] {
        let key = (expected.0.to_owned(), expected.1.to_owned());
        assert!(edges.contains_key(&key), "no import {expected:?} found");
    }
    // Every top-level module of lib.rs has a level.
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    for line in lib.lines() {
        if let Some(name) = line.strip_prefix("pub mod ") {
            let name = name.trim_end_matches(';');
            assert!(
                LEVELS.iter().any(|(n, _)| *n == name),
                "module `{name}` has no level in LEVELS"
            );
        }
    }
    let violations = violations(&edges);
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn an_upward_import_is_caught() {
    let upward = "use crate::run::RunOptions;\nuse crate::{model::item::Item, apply};\n";
    let found = references("source", Path::new("source/scan.rs"), upward);
    assert_eq!(found, ["apply", "model", "run"].map(str::to_owned).into());
    let mut edges = BTreeMap::new();
    for target in found {
        edges.insert(
            ("source".to_owned(), target),
            PathBuf::from("source/scan.rs"),
        );
    }
    let violations = violations(&edges);
    assert_eq!(violations.len(), 2, "{violations:?}");
    // `super` in a folder's file is the folder; in its mod.rs, the crate root.
    let in_folder = references("apply", Path::new("apply/watermark.rs"), "use super::x;");
    assert_eq!(in_folder, ["apply".to_owned()].into());
    let in_mod = references("apply", Path::new("apply/mod.rs"), "use super::run::x;");
    assert_eq!(in_mod, ["run".to_owned()].into());
    let in_tests = references(
        "apply",
        Path::new("apply/mod.rs"),
        "mod t {\n    use super::*;\n}",
    );
    assert_eq!(in_tests, ["apply".to_owned()].into());
}
