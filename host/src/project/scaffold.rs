//! `drift-host new`: a migration project that builds out of the box, in Rust, AssemblyScript,
//! TypeScript, Python or C, numbered after the migrations already in its folder.
//!
//! Our SDKs are not published to crates.io, npm or PyPI: the binary carries them (see
//! `build.rs`) and writes them to `<folder>/.drift-sdk/` (the repository's layout:
//! `guest-sdk/rust`, `guest-sdk/value`, `guest-sdk/assemblyscript`, `guest-sdk/js`,
//! `guest-sdk/python`, `guest-sdk/c`, `wit`), which every migration of the folder refers to by
//! path. A new project thus needs only the `drift-host` binary, the language's toolchain and
//! the package registries (the TypeScript, Python and C projects' `build.sh` installs the rest).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/sdk_files.rs"));
}
pub use embedded::SDK_FILES;

/// Where the SDKs go, inside the migrations folder.
pub const SDK_DIR: &str = ".drift-sdk";

/// The language of a new migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// A cdylib crate on `drift-sdk`, built for wasm32-wasip2.
    Rust,
    /// An npm project on `@drift/sdk`, built with asc.
    AssemblyScript,
    /// An npm project on `@drift/sdk-js`, built with componentize-qjs (QuickJS).
    TypeScript,
    /// A Python module on `drift_sdk`, built with componentize-py.
    Python,
    /// A C file on the C SDK, built with clang-19 and wasi-libc.
    C,
}

/// What to scaffold.
#[derive(Debug, Clone)]
pub struct NewMigration {
    /// Its name: lower-case letters, digits and `_`, starting with a letter.
    pub name: String,
    /// Its language.
    pub language: Language,
    /// The migrations folder it goes into.
    pub dir: PathBuf,
    /// The table it scans.
    pub table: String,
    /// The table's key attributes.
    pub key: Vec<String>,
}

/// What `new` made.
#[derive(Debug, Clone)]
pub struct Scaffolded {
    /// The migration's number.
    pub number: u64,
    /// The project's folder.
    pub project: PathBuf,
    /// Where the built module lands, relative to the project.
    pub module: PathBuf,
    /// The commands that build it and run its tests, from the project's folder.
    pub commands: Vec<String>,
}

/// The next free number in `dir`: one above every module's number (read with `number_of`)
/// and every `NNNN_name` project folder there.
pub fn next_number(dir: &Path, mut number_of: impl FnMut(&Path) -> Result<u64>) -> Result<u64> {
    let mut highest = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(1),
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", dir.display())),
    };
    for entry in entries {
        let path = entry?.path();
        let file = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let number = if path.is_dir() {
            let digits: String = file.chars().take_while(char::is_ascii_digit).collect();
            match file[digits.len()..].starts_with('_') {
                true => digits.parse().ok(),
                false => None,
            }
        } else if file.ends_with(".wasm") {
            Some(number_of(&path).with_context(|| format!("cannot read {file}"))?)
        } else {
            None
        };
        highest = highest.max(number.unwrap_or(0));
    }
    Ok(highest + 1)
}

fn check_name(name: &str) -> Result<()> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        bail!("`{name}` cannot name a migration: use lower-case letters, digits and `_`, starting with a letter");
    }
    Ok(())
}

/// `users_by_email` → `UsersByEmail`.
fn type_name(name: &str) -> String {
    name.split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Writes the embedded SDKs to `<dir>/.drift-sdk` (again: a newer drift-host brings newer
/// SDKs).
pub fn write_sdks(dir: &Path) -> Result<PathBuf> {
    let root = dir.join(SDK_DIR);
    for (path, contents) in SDK_FILES {
        let target = root.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&target, contents)
            .with_context(|| format!("cannot write {}", target.display()))?;
        if path.ends_with(".sh") {
            make_executable(&target)?;
        }
    }
    Ok(root)
}

/// The commands of a project whose `build.sh` installs, tests (with `test`) and builds.
fn built_by_script(name: &str, test: &str) -> Vec<String> {
    vec![
        test.to_owned(),
        format!("drift-host test build/{name}.wasm --cases cases"),
    ]
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<()> {
    Ok(())
}

/// Scaffolds `new` as migration `number` in `<dir>/<NNNN>_<name>/`.
pub fn scaffold(new: &NewMigration, number: u64) -> Result<Scaffolded> {
    check_name(&new.name)?;
    if new.key.is_empty() || new.key.len() > 2 {
        bail!("a table's key is one or two attributes (partition key, sort key)");
    }
    let project = new.dir.join(format!("{number:04}_{}", new.name));
    if project.exists() {
        bail!("{} exists already", project.display());
    }
    write_sdks(&new.dir)?;
    let sample_items: Vec<String> = ["a", "b"]
        .iter()
        .map(|id| {
            let key: Vec<String> = new
                .key
                .iter()
                .map(|k| format!("\"{k}\": {{\"S\": \"{id}\"}}"))
                .collect();
            format!("{{{}, \"name\": {{\"S\": \"Ada\"}}}}", key.join(", "))
        })
        .collect();
    let stamped: Vec<String> = sample_items
        .iter()
        .map(|item| {
            let open = item.strip_suffix('}').unwrap_or(item);
            format!("{open}, \"migrated_by\": {{\"S\": \"{}\"}}}}", new.name)
        })
        .collect();
    let values: BTreeMap<&str, String> = [
        ("name", new.name.clone()),
        ("number", number.to_string()),
        ("table", new.table.clone()),
        ("type_name", type_name(&new.name)),
        ("key_list", new.key.join(", ")),
        (
            "key_literals",
            new.key
                .iter()
                .map(|k| format!("\"{k}\""))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "sample_with",
            new.key
                .iter()
                .map(|k| format!(".with(\"{k}\", \"a\")"))
                .collect(),
        ),
        ("upper_name", new.name.to_ascii_uppercase()),
        (
            "key_sample",
            new.key
                .iter()
                .map(|k| format!("\"{k}\": \"a\""))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "c_sample_keys",
            new.key
                .iter()
                .map(|k| format!("    drift_item_set(item, \"{k}\", drift_s(\"a\"));\n"))
                .collect(),
        ),
        (
            "sample_set",
            new.key
                .iter()
                .map(|k| format!(".set(\"{k}\", Value.S(\"a\"))"))
                .collect(),
        ),
    ]
    .into();
    let fill = |template: &str| {
        values
            .iter()
            .fold(template.to_owned(), |text, (key, value)| {
                text.replace(&format!("{{{{{key}}}}}"), value)
            })
    };
    let sample = format!("{{\"Items\": [\n  {}\n]}}\n", sample_items.join(",\n  "));
    let expect = format!(
        "{{\n  \"tables\": {{\n    \"{}\": [\n      {}\n    ]\n  }}\n}}\n",
        new.table,
        stamped.join(",\n      ")
    );
    // Files named after the migration (a Python module, a C file and header).
    let named = |suffix: &str| format!("{}{suffix}", new.name);
    let (py_module, py_test) = (named(".py"), format!("tests/test_{}.py", new.name));
    let (c_source, c_header) = (named(".c"), named(".h"));
    let (files, module, commands): (Vec<(&str, String)>, PathBuf, Vec<String>) = match new.language
    {
        Language::Rust => (
            vec![
                (
                    "Cargo.toml",
                    fill(include_str!("templates/rust/Cargo.toml")),
                ),
                ("src/lib.rs", fill(include_str!("templates/rust/lib.rs"))),
                ("build.sh", fill(include_str!("templates/rust/build.sh"))),
                (".gitignore", "build/\ntarget/\n".to_owned()),
            ],
            Path::new("build").join(format!("{}.wasm", new.name)),
            built_by_script(&new.name, "./build.sh --test"),
        ),
        Language::AssemblyScript => (
            vec![
                (
                    "package.json",
                    fill(include_str!("templates/assemblyscript/package.json")),
                ),
                (
                    "asconfig.json",
                    fill(include_str!("templates/assemblyscript/asconfig.json")),
                ),
                (
                    "assembly/migration.ts",
                    fill(include_str!("templates/assemblyscript/migration.ts")),
                ),
                (
                    "assembly/index.ts",
                    fill(include_str!("templates/assemblyscript/index.ts")),
                ),
                (
                    "tests/migration.test.ts",
                    fill(include_str!("templates/assemblyscript/migration.test.ts")),
                ),
                (
                    "tests/run.mjs",
                    include_str!("templates/assemblyscript/run.mjs").to_owned(),
                ),
                ("tests/asconfig.json", "{ \"options\": {} }\n".to_owned()),
            ],
            Path::new("build").join(format!("{}.wasm", new.name)),
            vec![
                "npm install".into(),
                "npm test".into(),
                "npm run build".into(),
                format!("drift-host test build/{}.wasm --cases cases", new.name),
            ],
        ),
        Language::TypeScript => (
            vec![
                (
                    "package.json",
                    fill(include_str!("templates/typescript/package.json")),
                ),
                (
                    "tsconfig.json",
                    include_str!("templates/typescript/tsconfig.json").to_owned(),
                ),
                (
                    "tsconfig.test.json",
                    include_str!("templates/typescript/tsconfig.test.json").to_owned(),
                ),
                (
                    "src/migration.ts",
                    fill(include_str!("templates/typescript/migration.ts")),
                ),
                (
                    "src/component.ts",
                    include_str!("templates/typescript/component.ts").to_owned(),
                ),
                (
                    "test/migration.test.ts",
                    fill(include_str!("templates/typescript/migration.test.ts")),
                ),
                (
                    "build.sh",
                    fill(include_str!("templates/typescript/build.sh")),
                ),
                (".gitignore", "build/\nnode_modules/\n".to_owned()),
            ],
            Path::new("build").join(format!("{}.wasm", new.name)),
            built_by_script(&new.name, "./build.sh --test"),
        ),
        Language::Python => (
            vec![
                (
                    &py_module,
                    fill(include_str!("templates/python/migration.py")),
                ),
                (
                    &py_test,
                    fill(include_str!("templates/python/test_migration.py")),
                ),
                (
                    "tests/conftest.py",
                    include_str!("templates/python/conftest.py").to_owned(),
                ),
                ("pytest.ini", "[pytest]\ntestpaths = tests\n".to_owned()),
                ("build.sh", fill(include_str!("templates/python/build.sh"))),
                (".gitignore", "build/\n.venv/\n__pycache__/\n".to_owned()),
            ],
            Path::new("build").join(format!("{}.wasm", new.name)),
            built_by_script(&new.name, "./build.sh --test"),
        ),
        Language::C => (
            vec![
                (&c_source, fill(include_str!("templates/c/migration.c"))),
                (&c_header, fill(include_str!("templates/c/migration.h"))),
                ("test.c", fill(include_str!("templates/c/test.c"))),
                ("build.sh", fill(include_str!("templates/c/build.sh"))),
                (".gitignore", "build/\n.tools/\n".to_owned()),
            ],
            Path::new("build").join(format!("{}.wasm", new.name)),
            built_by_script(&new.name, "./build.sh --test"),
        ),
    };
    let readme = format!(
        "# {number:04} {name}\n\nMigration {number} of the drift-host project in `..`, over the table \
         `{table}`.\n\nBuild it and run its tests (from this folder):\n\n```sh\n{commands}\n```\n\n\
         The build writes `{module}`, where `drift-host run ..` (and `status ..`, `plan ..`) \
         find it: no copying.\n\n`cases/` holds `drift-host test` cases: each folder has \
         the input items (`input.json`, DynamoDB JSON) and what is expected (`expect.json`: the \
         resulting `tables`, or the `actions`, or the `errors` of failing items). \
         `drift-host test ... --update` rewrites the expectations from what the migration does.\n",
        name = new.name,
        table = new.table,
        commands = commands.join("\n"),
        module = module.display(),
    );
    let mut all = files;
    all.push(("README.md", readme));
    all.push(("sample/input.json", sample.clone()));
    all.push(("cases/stamps_every_item/input.json", sample));
    all.push(("cases/stamps_every_item/expect.json", expect));
    for (path, contents) in all {
        let target = project.join(path);
        std::fs::create_dir_all(target.parent().unwrap_or(&project))?;
        std::fs::write(&target, contents)
            .with_context(|| format!("cannot write {}", target.display()))?;
        if path == "build.sh" {
            make_executable(&target)?;
        }
    }
    Ok(Scaffolded {
        number,
        project,
        module,
        commands,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_modules_and_project_folders() {
        let dir = tempfile::tempdir().unwrap();
        let read = |_: &Path| -> Result<u64> { Ok(7) };
        assert_eq!(next_number(&dir.path().join("missing"), read).unwrap(), 1);
        assert_eq!(next_number(dir.path(), read).unwrap(), 1);
        std::fs::create_dir(dir.path().join("0003_a")).unwrap();
        std::fs::create_dir(dir.path().join("notes")).unwrap();
        assert_eq!(next_number(dir.path(), read).unwrap(), 4);
        std::fs::write(dir.path().join("x.wasm"), b"").unwrap();
        assert_eq!(next_number(dir.path(), read).unwrap(), 8);
    }

    #[test]
    fn names_become_types_and_bad_names_are_refused() {
        assert_eq!(type_name("users_by_email"), "UsersByEmail");
        assert_eq!(type_name("v2"), "V2");
        check_name("add_email_2").unwrap();
        for bad in ["", "2x", "Add", "a-b", "a b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_sdks_are_embedded_with_stand_alone_manifests() {
        let paths: Vec<&str> = SDK_FILES.iter().map(|(p, _)| *p).collect();
        for needed in [
            "wit/migration.wit",
            "guest-sdk/rust/src/lib.rs",
            "guest-sdk/value/src/lib.rs",
            "guest-sdk/assemblyscript/assembly/index.ts",
            "guest-sdk/js/src/index.ts",
            "guest-sdk/js/drift-js.sh",
            "guest-sdk/python/drift_sdk/__init__.py",
            "guest-sdk/python/drift-py.sh",
            "guest-sdk/c/include/drift.h",
            "guest-sdk/c/drift-c.sh",
            "guest-sdk/c/tests/native_stubs.c",
        ] {
            assert!(paths.contains(&needed), "{needed} is not embedded");
        }
        let (_, manifest) = SDK_FILES
            .iter()
            .find(|(p, _)| *p == "guest-sdk/rust/Cargo.toml")
            .unwrap();
        assert!(!manifest.contains("workspace"), "{manifest}");
        assert!(
            manifest.contains("drift-value = { path = \"../value\" }"),
            "{manifest}"
        );
    }

    #[test]
    fn the_hosts_expression_evaluation_is_left_out_of_the_embedded_sdk() {
        assert!(
            !SDK_FILES
                .iter()
                .any(|(p, _)| p.contains("expression/evaluate")
                    || p.contains("expression/condition")),
            "host-only files embedded"
        );
        let (_, manifest) = SDK_FILES
            .iter()
            .find(|(p, _)| *p == "guest-sdk/value/Cargo.toml")
            .unwrap();
        assert!(!manifest.contains("evaluate"), "{manifest}");
        assert!(manifest.contains("testing = ["), "{manifest}");
    }
}
