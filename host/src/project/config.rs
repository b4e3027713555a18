//! `drift.toml`, the optional project file at a migrations folder's root: defaults for the
//! command line (which wins over them) and the declared tables. Unknown keys are errors that
//! name the key, so a typo never silently falls back to a default.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Deserializer};

pub use crate::model::key::{KeyAttribute, KeyType};
use crate::model::names::check_table_name;
use crate::model::options::{self, Given};

/// The project file's name.
pub const PROJECT_FILE: &str = "drift.toml";

/// The whole project file: top-level keys are options ([`Given`]), `[tables.NAME]` declares
/// tables.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectFile {
    /// Options set once for the project; the command line (or its environment variables)
    /// wins over them.
    pub defaults: Given,
    /// The project's tables, by name.
    pub tables: BTreeMap<String, TableDeclaration>,
}

/// One declared table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableDeclaration {
    /// Partition key.
    pub partition_key: KeyAttribute,
    /// Sort key, if any.
    pub sort_key: Option<KeyAttribute>,
    /// How the table is billed (on-demand unless said otherwise).
    #[serde(default)]
    pub billing: Billing,
    /// The TTL attribute, if any.
    pub ttl: Option<String>,
    /// Global secondary indexes.
    #[serde(default)]
    pub indexes: Vec<IndexDeclaration>,
    /// Local secondary indexes (same partition key; only at creation).
    #[serde(default)]
    pub local_indexes: Vec<LocalIndexDeclaration>,
}

/// A global secondary index.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexDeclaration {
    /// Index name.
    pub name: String,
    /// Its partition key.
    pub partition_key: KeyAttribute,
    /// Its sort key, if any.
    pub sort_key: Option<KeyAttribute>,
    /// What it holds besides the keys.
    #[serde(default)]
    pub projection: Projection,
    /// Provisioned `RCU,WCU` of the index (only for a provisioned table; default: the table's).
    pub capacity: Option<Throughput>,
}

/// A local secondary index.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalIndexDeclaration {
    /// Index name.
    pub name: String,
    /// Its sort key (the partition key is the table's).
    pub sort_key: KeyAttribute,
    /// What it holds besides the keys.
    #[serde(default)]
    pub projection: Projection,
}

pub use crate::model::schema::{Billing, Projection, Throughput};

/// Deserializes a string through `FromStr`, so errors carry the parser's words.
macro_rules! from_text {
    ($type:ty) => {
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$type, D::Error> {
                String::deserialize(deserializer)?
                    .parse()
                    .map_err(serde::de::Error::custom)
            }
        }
    };
}
from_text!(Throughput);
from_text!(Billing);

impl<'de> Deserialize<'de> for Projection {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Projection, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Word(String),
            Names(Vec<String>),
        }
        match Form::deserialize(deserializer)? {
            Form::Word(word) if word == "all" => Ok(Projection::All),
            Form::Word(word) if word == "keys" => Ok(Projection::KeysOnly),
            Form::Word(word) => Err(serde::de::Error::custom(format!(
                "projection `{word}`: expected \"keys\", \"all\" or a list of attribute names"
            ))),
            Form::Names(names) if names.is_empty() => Err(serde::de::Error::custom(
                "a projection list names at least one attribute",
            )),
            Form::Names(names) => Ok(Projection::Include(names)),
        }
    }
}

impl ProjectFile {
    /// Reads `drift.toml` from `folder`; no file is an empty project file.
    pub fn read(folder: &Path) -> Result<ProjectFile> {
        let path = folder.join(PROJECT_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ProjectFile::default())
            }
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read {}", path.display()))
            }
        };
        let mut file = ProjectFile::parse(&text)
            .with_context(|| format!("{} is not valid", path.display()))?;
        if let Some(work_dir) = &file.defaults.work_dir {
            file.defaults.work_dir = Some(folder.join(work_dir));
        }
        Ok(file)
    }

    /// Parses the text of a project file and checks its tables.
    pub fn parse(text: &str) -> Result<ProjectFile> {
        // toml's messages name the line, the column and the unknown key; one line is enough.
        let invalid = |e: toml::de::Error| anyhow::anyhow!("{}", one_line(&e.to_string()));
        let mut document: toml::Table = toml::from_str(text).map_err(invalid)?;
        // serde cannot both flatten and deny unknown keys: take `tables` out, then the rest
        // must be exactly the defaults.
        let tables = match document.remove("tables") {
            Some(tables) => tables.try_into().map_err(|e| {
                anyhow::anyhow!("[tables]: {}", one_line(&toml::de::Error::to_string(&e)))
            })?,
            None => BTreeMap::new(),
        };
        let defaults: Given = toml::Value::Table(document).try_into().map_err(invalid)?;
        check_options(&defaults)?;
        let file = ProjectFile { defaults, tables };
        for (name, table) in &file.tables {
            check_table_name(name).map_err(|why| anyhow::anyhow!("[tables.{name}]: {why}"))?;
            table.check().with_context(|| format!("table `{name}`"))?;
        }
        Ok(file)
    }
}

/// The key attribute names that the nearest drift.toml at or above `start` declares for
/// `table`, if one does (for `drift-host test`, whose cases sit inside a project).
pub fn declared_key(start: &Path, table: &str) -> Option<Vec<String>> {
    let start = start.canonicalize().ok()?;
    for dir in start.ancestors() {
        if !dir.join(PROJECT_FILE).is_file() {
            continue;
        }
        let declared = ProjectFile::read(dir).ok()?.tables.remove(table)?;
        let mut key = vec![declared.partition_key.name];
        key.extend(declared.sort_key.map(|k| k.name));
        return Some(key);
    }
    None
}

/// Checks each of drift.toml's options against its one definition, as the command line does.
fn check_options(given: &Given) -> Result<()> {
    for (option, value) in given.bounded() {
        if let Some(value) = value {
            option.check(value).map_err(|why| {
                anyhow::anyhow!("`{} = {value}`: {why} (as --{})", option.key(), option.flag)
            })?;
        }
    }
    for (key, value) in [("max_rcu", given.max_rcu), ("max_wcu", given.max_wcu)] {
        if let Some(value) = value {
            options::check_rate(value)
                .map_err(|why| anyhow::anyhow!("`{key} = {value}`: {why}"))?;
        }
    }
    if let Some(name) = &given.meta_table {
        check_table_name(name)
            .map_err(|why| anyhow::anyhow!("`meta_table = \"{name}\"`: {why}"))?;
    }
    if let Some(endpoint) = &given.endpoint_url {
        crate::aws::client::check_endpoint(endpoint)
            .with_context(|| format!("`endpoint_url = \"{endpoint}\"`"))?;
    }
    Ok(())
}

impl TableDeclaration {
    /// Checks what the TOML types cannot: distinct index names, one type per attribute, an
    /// index capacity only on a provisioned table.
    fn check(&self) -> Result<()> {
        let mut names = std::collections::BTreeSet::new();
        let index_names = self.indexes.iter().map(|i| &i.name);
        for name in index_names.chain(self.local_indexes.iter().map(|i| &i.name)) {
            if !names.insert(name) {
                bail!("two indexes are named `{name}`");
            }
            check_table_name(name).map_err(|why| anyhow::anyhow!("index {why}"))?;
        }
        let mut types = BTreeMap::new();
        for key in self.key_attributes() {
            if let Some(other) = types.insert(&key.name, key.kind) {
                if other != key.kind {
                    bail!(
                        "attribute `{}` is declared both {} and {}",
                        key.name,
                        other.as_str(),
                        key.kind.as_str()
                    );
                }
            }
        }
        if self.billing == Billing::OnDemand {
            if let Some(index) = self.indexes.iter().find(|i| i.capacity.is_some()) {
                bail!(
                    "index `{}` has a capacity, but the table is on-demand",
                    index.name
                );
            }
        }
        Ok(())
    }

    /// Every key attribute of the table and its indexes (with repeats).
    pub fn key_attributes(&self) -> Vec<&KeyAttribute> {
        let mut keys = vec![&self.partition_key];
        keys.extend(&self.sort_key);
        for index in &self.indexes {
            keys.push(&index.partition_key);
            keys.extend(&index.sort_key);
        }
        keys.extend(self.local_indexes.iter().map(|i| &i.sort_key));
        keys
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
meta_table = "app_migrations"
endpoint_url = "http://127.0.0.1:8000"
concurrency = 4

[tables.users]
partition_key = "id:S"

[tables.users_by_email]
partition_key = "email_lower:S"      # NAME:S|N|B
sort_key = "id:S"
billing = "provisioned:5,10"
ttl = "expires_at"
[[tables.users_by_email.indexes]]
name = "by_id"
partition_key = "id:S"
projection = "all"
[[tables.users_by_email.indexes]]
name = "by_created"
partition_key = "tenant:S"
sort_key = "created:N"
projection = ["email", "name"]
capacity = "2,3"
"#;

    #[test]
    fn reads_the_documented_form() {
        let file = ProjectFile::parse(EXAMPLE).unwrap();
        assert_eq!(file.defaults.meta_table.as_deref(), Some("app_migrations"));
        assert_eq!(file.defaults.concurrency, Some(4));
        let users = &file.tables["users"];
        assert_eq!(users.partition_key.to_string(), "id:S");
        assert_eq!(users.billing, Billing::OnDemand);
        let by_email = &file.tables["users_by_email"];
        assert_eq!(
            by_email.billing,
            Billing::Provisioned(Throughput { read: 5, write: 10 })
        );
        assert_eq!(by_email.ttl.as_deref(), Some("expires_at"));
        assert_eq!(by_email.indexes[0].projection, Projection::All);
        assert_eq!(
            by_email.indexes[1].projection,
            Projection::Include(vec!["email".into(), "name".into()])
        );
        assert_eq!(
            by_email.indexes[1].sort_key.as_ref().unwrap().kind,
            KeyType::N
        );
    }

    fn error(text: &str) -> String {
        format!("{:#}", ProjectFile::parse(text).unwrap_err())
    }

    #[test]
    fn unknown_keys_are_named() {
        assert!(error("meta_tabel = \"x\"").contains("meta_tabel"));
        assert!(
            error("[tables.tbl]\npartition_key = \"id:S\"\nsortkey = \"a:S\"").contains("sortkey")
        );
        let index =
            "[tables.tbl]\npartition_key = \"id:S\"\n[[tables.tbl.indexes]]\nname = \"idx\"\n\
                     partition_key = \"a:S\"\nprojecton = \"all\"";
        assert!(error(index).contains("projecton"));
    }

    #[test]
    fn bad_values_say_what_is_expected() {
        assert!(error("[tables.tbl]\npartition_key = \"id\"").contains("NAME:S"));
        assert!(error("[tables.tbl]\npartition_key = \"id:X\"").contains("not S, N or B"));
        assert!(
            error("[tables.tbl]\npartition_key = \"id:S\"\nbilling = \"provisioned:0,1\"")
                .contains("positive")
        );
        assert!(
            error("[tables.tbl]\npartition_key = \"id:S\"\nbilling = \"free\"")
                .contains("on-demand")
        );
        let clash =
            "[tables.tbl]\npartition_key = \"id:S\"\n[[tables.tbl.indexes]]\nname = \"idx\"\n\
                     partition_key = \"id:N\"";
        assert!(error(clash).contains("both S and N"));
        let twice = "[tables.tbl]\npartition_key = \"id:S\"\n[[tables.tbl.indexes]]\nname = \"idx\"\n\
                     partition_key = \"a:S\"\n[[tables.tbl.indexes]]\nname = \"idx\"\npartition_key = \"b:S\"";
        assert!(error(twice).contains("two indexes are named `idx`"));
        assert_eq!(
            error("segments = 2000000"),
            "`segments = 2000000`: 2000000 is not from 1 to 1000000 (as --segments)"
        );
        assert!(error("page_size = 0").contains("0 is not from 1 to"));
        assert!(error("concurrency = 0").contains("(as --concurrency)"));
        assert!(error("lease_seconds = 1").contains("1 is not from 3 to"));
        assert!(error("max_wcu = -1.0").contains("not a positive number"));
        assert!(error("meta_table = \"a b\"").contains("is not a DynamoDB table name"));
        assert!(error("[tables.\"a b\"]\npartition_key = \"id:S\"").contains("[tables.a b]"));
        assert!(
            error("concurrency = \"many\"").contains("concurrency")
                || error("concurrency = \"many\"").contains("integer")
        );
    }

    #[test]
    fn no_file_is_an_empty_project() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            ProjectFile::read(dir.path()).unwrap(),
            ProjectFile::default()
        );
        std::fs::write(dir.path().join(PROJECT_FILE), "work_dir = \"j\"").unwrap();
        assert_eq!(
            ProjectFile::read(dir.path()).unwrap().defaults.work_dir,
            Some(dir.path().join("j"))
        );
    }
}
