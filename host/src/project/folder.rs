//! A migrations folder: its `*.wasm` modules, loaded and ordered by number, and its project
//! file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};

use super::config::ProjectFile;
use crate::engine::LoadedMigration;

/// One module of the folder.
#[derive(Clone)]
pub struct Module {
    /// Its file name, for messages.
    pub file: String,
    /// The loaded migration.
    pub migration: Arc<LoadedMigration>,
}

/// A migrations folder.
pub struct Folder {
    /// The folder.
    pub root: PathBuf,
    /// Its `drift.toml` (empty if there is none).
    pub project: ProjectFile,
    /// Its modules, by number.
    pub modules: Vec<Module>,
}

impl Folder {
    /// Reads the project file (so a bad one is reported before any module is compiled).
    pub fn project(root: &Path) -> Result<ProjectFile> {
        if !root.is_dir() {
            bail!("{} is not a folder", root.display());
        }
        ProjectFile::read(root)
    }

    /// Loads every `*.wasm` directly in `root`, and the module each project folder that
    /// `drift-host new` made (`NNNN_name/`) builds (`build/name.wasm`), with `load`. A project
    /// folder without its built module is an error that says so; so are two modules with one
    /// number (naming both files), unless they are a project's built module and the same module
    /// copied beside it, and a folder with no migration and no declared table.
    pub fn open(
        root: &Path,
        mut load: impl FnMut(&Path) -> Result<Arc<LoadedMigration>>,
    ) -> Result<Folder> {
        let project = Folder::project(root)?;
        let mut paths = Vec::new();
        for entry in
            std::fs::read_dir(root).with_context(|| format!("cannot read {}", root.display()))?
        {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "wasm") && path.is_file() {
                paths.push(path);
            } else if let Some(built) = built_module(&path)? {
                paths.push(built);
            }
        }
        paths.sort();
        let mut modules = Vec::new();
        for path in paths {
            let file = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            let migration = load(&path).with_context(|| format!("migration {file}"))?;
            // A project's built module also copied beside it (the old way) is one migration.
            let copy = modules.iter().any(|m: &Module| {
                m.migration.info.number == migration.info.number
                    && m.migration.checksum == migration.checksum
                    && (m.file.contains('/') != file.contains('/'))
            });
            if !copy {
                modules.push(Module { file, migration });
            }
        }
        if modules.is_empty() && project.tables.is_empty() {
            bail!(
                "{} holds no migration: no *.wasm, no project folder made by `drift-host new`, \
                 and no table declared in drift.toml",
                root.display()
            );
        }
        let numbered: Vec<(u64, &str)> = modules
            .iter()
            .map(|m| (m.migration.info.number, m.file.as_str()))
            .collect();
        check_unique(&numbered)?;
        modules.sort_by_key(|m| m.migration.info.number);
        Ok(Folder {
            root: root.to_owned(),
            project,
            modules,
        })
    }

    /// The module numbered `number`, if the folder has it.
    pub fn module(&self, number: u64) -> Option<&Module> {
        self.modules
            .iter()
            .find(|m| m.migration.info.number == number)
    }
}

/// The module a project folder made by `drift-host new` (named `NNNN_name`) builds: `None` for
/// any other entry, an error for such a folder whose module is not built yet.
fn built_module(path: &Path) -> Result<Option<PathBuf>> {
    let Some(folder) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(None);
    };
    let Some((number, name)) = folder.split_once('_') else {
        return Ok(None);
    };
    let project_like = path.is_dir()
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && ["build.sh", "Cargo.toml", "package.json"]
            .iter()
            .any(|file| path.join(file).is_file());
    if !project_like {
        return Ok(None);
    }
    let module = path.join("build").join(format!("{name}.wasm"));
    if !module.is_file() {
        bail!(
            "{folder}/ has no built module {folder}/build/{name}.wasm: build it first (see \
             {folder}/README.md)"
        );
    }
    Ok(Some(module))
}

/// Refuses two files with one migration number, naming both.
pub fn check_unique(numbered: &[(u64, &str)]) -> Result<()> {
    let mut seen: BTreeMap<u64, &str> = BTreeMap::new();
    for &(number, file) in numbered {
        if let Some(first) = seen.insert(number, file) {
            let (a, b) = if first <= file {
                (first, file)
            } else {
                (file, first)
            };
            bail!("{a} and {b} are both migration {number}: each migration needs its own number");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_numbers_name_both_files() {
        check_unique(&[(1, "a.wasm"), (2, "b.wasm")]).unwrap();
        let error = check_unique(&[(1, "z.wasm"), (2, "b.wasm"), (1, "a.wasm")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("a.wasm and z.wasm are both migration 1"),
            "{error}"
        );
    }
}
