//! Turns a `.wasm` file into a [`LoadedMigration`]: checks what it is, wraps a core module
//! (how AssemblyScript guests arrive) into a component, compiles it or takes the compiled form
//! from the on-disk cache, links it, and reads its `info()`.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use super::bindings::{MigrationPre, WIT_SOURCE};
use super::immediate::GuestContext;
use super::sandbox::HostState;
use super::{sandbox, Limits, Runtime};
use crate::model::action::Tables;
use crate::model::names::check_table_name;

/// What a migration says about itself through `info()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationInfo {
    /// Position in the sequence.
    pub number: u64,
    /// Short name.
    pub name: String,
    /// What it changes and why.
    pub description: String,
    /// The table that is scanned.
    pub table: String,
    /// Other tables it may write to.
    pub other_tables: Vec<String>,
}

impl MigrationInfo {
    /// Checks what a guest chose against the rules the host relies on: names are shown in
    /// messages and records (never used as paths), tables follow DynamoDB's naming rules.
    pub fn check(&self) -> Result<(), String> {
        let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
        if self.name.is_empty() || self.name.len() > 128 || !self.name.chars().all(plain) {
            return Err(format!(
                "name `{}` must be 1 to 128 ASCII letters, digits, `_`, `-` or `.`",
                self.name.escape_debug()
            ));
        }
        for table in std::iter::once(&self.table).chain(&self.other_tables) {
            check_table_name(table).map_err(|why| format!("table {why}"))?;
        }
        if self.description.len() > 4096
            || self
                .description
                .chars()
                .any(|c| c.is_control() && c != '\n')
        {
            return Err("description must be at most 4096 bytes of text (no control characters but newlines)".into());
        }
        Ok(())
    }
}

/// What the file held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModuleKind {
    /// A component.
    Component,
    /// A core module implementing the world's canonical ABI, wrapped on load.
    CoreModule,
}

/// Where the compiled code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheOutcome {
    /// Deserialized from the cache: nothing was compiled.
    Hit,
    /// Compiled now (and stored in the cache if there is one).
    Compiled,
}

/// A migration ready to be instantiated by the pool.
pub struct LoadedMigration {
    /// Its `info()`.
    pub info: MigrationInfo,
    /// Hex SHA-256 of the file as given: the identity recorded in the metadata table.
    pub checksum: String,
    /// Component or wrapped core module.
    pub kind: ModuleKind,
    /// Whether the compiled code came from the cache.
    pub cache: CacheOutcome,
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) pre: MigrationPre<HostState>,
    /// `name #number`, for messages and guest log lines.
    pub label: Arc<str>,
}

impl LoadedMigration {
    /// The tables its actions may target; `table` replaces the one `info()` names.
    pub fn tables(&self, table: Option<&str>) -> Tables {
        Tables::new(self.info.table.clone(), self.info.other_tables.clone()).with_own(table)
    }

    /// The limits its guests run under (deadline, memory cap, actions per item).
    pub fn limits(&self) -> &Limits {
        self.runtime.limits()
    }
}

/// Loads a migration from a file; `cache_dir` holds compiled components between runs.
pub fn load(
    runtime: &Arc<Runtime>,
    path: &Path,
    cache_dir: Option<&Path>,
) -> Result<LoadedMigration> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    load_bytes(runtime, &bytes, cache_dir).with_context(|| format!("{}", path.display()))
}

/// Loads a migration from its bytes.
pub fn load_bytes(
    runtime: &Arc<Runtime>,
    bytes: &[u8],
    cache_dir: Option<&Path>,
) -> Result<LoadedMigration> {
    let checksum = hex::encode(Sha256::digest(bytes));
    let kind = if wasmparser::Parser::is_component(bytes) {
        ModuleKind::Component
    } else if wasmparser::Parser::is_core_wasm(bytes) {
        ModuleKind::CoreModule
    } else {
        bail!("not a WebAssembly file (no wasm header)");
    };
    let cache_file = cache_dir.map(|dir| cache_path(runtime, dir, &checksum));
    let (component, cache) = match cache_file
        .as_deref()
        .and_then(|file| from_cache(runtime, file))
    {
        Some(component) => (component, CacheOutcome::Hit),
        None => {
            let component = match kind {
                ModuleKind::Component => compile(runtime, bytes)?,
                ModuleKind::CoreModule => compile(runtime, &wrap_core_module(bytes)?)?,
            };
            if let Some(file) = &cache_file {
                if let Err(error) = store_in_cache(&component, file) {
                    tracing::warn!(
                        "could not cache the compiled component in {}: {error:#}",
                        file.display()
                    );
                }
            }
            (component, CacheOutcome::Compiled)
        }
    };
    let linker = sandbox::linker(runtime).map_err(|e| anyhow!("{e:?}"))?;
    let instance_pre = linker.instantiate_pre(&component).map_err(|e| {
        anyhow!(
            "the module is not a drift:migration component: {}",
            one_line(&e)
        )
    })?;
    let pre = MigrationPre::new(instance_pre).map_err(|e| {
        anyhow!(
            "the module is not a drift:migration component: {}",
            one_line(&e)
        )
    })?;
    // info() runs with no tables and no DynamoDB: it only describes the migration.
    let context = GuestContext {
        tables: Tables::new("", []),
        store: None,
        schemas: None,
    };
    let mut store = sandbox::store(runtime, Arc::from("loading"), context);
    store.set_epoch_deadline(runtime.deadline_ticks());
    let info = pre
        .instantiate(&mut store)
        .and_then(|instance| instance.call_info(&mut store))
        .map_err(|e| anyhow!("info() failed: {}", one_line(&e)))?;
    let info = MigrationInfo {
        number: info.number,
        name: info.name,
        description: info.description,
        table: info.table,
        other_tables: info.other_tables,
    };
    info.check().map_err(|rule| anyhow!("info() {rule}"))?;
    Ok(LoadedMigration {
        label: Arc::from(format!("{} #{}", info.name, info.number)),
        info,
        checksum,
        kind,
        cache,
        runtime: runtime.clone(),
        pre,
    })
}

/// The first line of an error chain, for one-line reports.
pub(crate) fn one_line(error: &wasmtime::Error) -> String {
    format!("{error:#}")
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn compile(runtime: &Runtime, bytes: &[u8]) -> Result<Component> {
    Component::new(runtime.engine(), bytes)
        .map_err(|e| anyhow!("not a valid component: {}", one_line(&e)))
}

/// Wraps a core module that implements the world's canonical ABI into a component.
pub fn wrap_core_module(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut resolve = wit_parser::Resolve::new();
    let package = resolve.push_str("migration.wit", WIT_SOURCE)?;
    let world = resolve.select_world(&[package], Some("migration"))?;
    let mut module = bytes.to_vec();
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        false,
    )?;
    wit_component::ComponentEncoder::default()
        .module(&module)?
        .validate(true)
        .encode()
        .map_err(|e| anyhow!("core module does not implement the drift:migration world: {e:#}"))
}

/// `<dir>/<sha256 of the wasm>-<engine compatibility hash>.cwasm`: a new wasmtime or other
/// settings give another name, so a stale compiled form is never loaded.
fn cache_path(runtime: &Runtime, dir: &Path, checksum: &str) -> PathBuf {
    // DefaultHasher may change between Rust releases; that only causes a cache miss.
    let mut hasher = DefaultHasher::new();
    runtime
        .engine()
        .precompile_compatibility_hash()
        .hash(&mut hasher);
    dir.join(format!("{checksum}-{:016x}.cwasm", hasher.finish()))
}

fn from_cache(runtime: &Runtime, file: &Path) -> Option<Component> {
    if !file.exists() {
        return None;
    }
    // SAFETY: the file was written by `store_in_cache` from `Component::serialize` of this
    // engine configuration (the name carries its compatibility hash), in the user's own
    // cache directory; wasmtime also checks the header before using it.
    match unsafe { Component::deserialize_file(runtime.engine(), file) } {
        Ok(component) => Some(component),
        Err(error) => {
            tracing::warn!(
                "ignoring cached component {}: {}",
                file.display(),
                one_line(&error)
            );
            None
        }
    }
}

fn store_in_cache(component: &Component, file: &Path) -> Result<()> {
    let dir = file.parent().expect("cache file has a directory");
    fs::create_dir_all(dir)?;
    let bytes = component.serialize().map_err(|e| anyhow!("{e:?}"))?;
    // Write then rename: a crash never leaves a truncated file under the final name, and two
    // processes filling the cache at once never write the same temporary file.
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(&bytes)?;
    temp.persist(file).map_err(|e| e.error)?;
    Ok(())
}

/// The default cache directory: `drift-host/components` in the user's cache directory
/// (`$XDG_CACHE_HOME`, `~/.cache`).
pub fn default_cache_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|dir| dir.join("drift-host").join("components"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, table: &str) -> MigrationInfo {
        MigrationInfo {
            number: 1,
            name: name.into(),
            description: "d".into(),
            table: table.into(),
            other_tables: vec![],
        }
    }

    #[test]
    fn info_fields_follow_the_rules_and_errors_name_them() {
        assert_eq!(info("users_v2", "users").check(), Ok(()));
        for bad in ["", "../../x/y", "a b", "é", &"x".repeat(129)] {
            let error = info(bad, "users").check().unwrap_err();
            assert!(error.starts_with("name `"), "{error}");
        }
        for bad in ["ab", "a/b", "t!", &"t".repeat(256)] {
            let error = info("ok", bad).check().unwrap_err();
            assert!(error.contains("is not a DynamoDB table name"), "{error}");
        }
        let mut other = info("ok", "users");
        other.other_tables.push("../etc".into());
        assert!(other.check().is_err());
        other.other_tables.clear();
        other.description = "line\u{0}".into();
        assert!(other.check().unwrap_err().starts_with("description"));
    }
}
