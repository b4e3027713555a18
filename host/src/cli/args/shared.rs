//! The option groups several commands share: where DynamoDB is, the metadata table, the
//! guest limits and caching, the output format, the lock's lease for the folder commands.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use clap::{Args, ValueEnum};
use drift_host::engine::{self, loader, Runtime};
use drift_host::model::names::parse_table_name;
use drift_host::model::options::{self, Bounded, Given};
use drift_host::project::folder::Folder;
use drift_host::run::Settings;

/// The options of the folder commands that take the lock without running a migration.
#[derive(Args)]
pub struct ProjectArgs {
    /// Lease of the metadata table's lock ([`options::LEASE_SECONDS`]).
    #[arg(long, help = options::LEASE_SECONDS.help(), value_parser = bounded(&options::LEASE_SECONDS))]
    pub lease_seconds: Option<u64>,
    /// The metadata table.
    #[command(flatten)]
    pub meta: MetaArgs,
    /// Where DynamoDB is.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Guest limits and caching (to read the folder's modules).
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

impl ProjectArgs {
    /// The command line over `project`'s drift.toml over the defaults.
    pub fn settings(&self, project: &Given) -> Settings {
        let given = Given {
            lease_seconds: self.lease_seconds,
            ..self
                .meta
                .given()
                .over(&self.connection.given())
                .over(&self.sandbox.given())
        };
        Settings::new(given, Some(project))
    }
}

/// How a command prints its result.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people: text and tables (`table` is the same).
    #[value(alias = "table")]
    Text,
    /// One JSON document on stdout.
    Json,
}

/// The metadata table's name.
#[derive(Args)]
pub struct MetaArgs {
    /// The metadata table [default: drift_migrations].
    #[arg(long, value_parser = parse_table_name)]
    pub meta_table: Option<String>,
}

impl MetaArgs {
    /// What the command line gives.
    pub fn given(&self) -> Given {
        Given {
            meta_table: self.meta_table.clone(),
            ..Given::default()
        }
    }
}

/// Where DynamoDB is; otherwise the standard AWS configuration chain decides.
#[derive(Args, Default)]
pub struct ConnectionArgs {
    /// Endpoint URL, e.g. http://127.0.0.1:8000 for DynamoDB Local.
    #[arg(long, env = "DRIFT_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// AWS region.
    #[arg(long)]
    pub region: Option<String>,
    /// AWS profile.
    #[arg(long)]
    pub profile: Option<String>,
}

impl ConnectionArgs {
    /// What the command line gives.
    pub fn given(&self) -> Given {
        Given {
            endpoint_url: self.endpoint_url.clone(),
            region: self.region.clone(),
            profile: self.profile.clone(),
            ..Given::default()
        }
    }
}

/// Limits and caching shared by every command that loads a migration.
#[derive(Args, Default)]
pub struct SandboxArgs {
    /// CPU deadline of one guest call ([`options::DEADLINE_MS`]).
    #[arg(long, help = options::DEADLINE_MS.help(), value_parser = bounded(&options::DEADLINE_MS))]
    pub deadline_ms: Option<u64>,
    /// Memory cap of one guest instance ([`options::MEMORY_MB`]).
    #[arg(long, help = options::MEMORY_MB.help(), value_parser = bounded(&options::MEMORY_MB))]
    pub memory_mb: Option<u64>,
    /// Most actions one item may produce ([`options::MAX_ACTIONS_PER_ITEM`]).
    #[arg(
        long,
        help = options::MAX_ACTIONS_PER_ITEM.help(),
        value_parser = bounded(&options::MAX_ACTIONS_PER_ITEM)
    )]
    pub max_actions_per_item: Option<u64>,
    /// Directory for compiled components (default: ~/.cache/drift-host/components).
    #[arg(long, env = "DRIFT_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Compile every time; read and write no cache.
    #[arg(long)]
    pub no_cache: bool,
}

impl SandboxArgs {
    /// Refuses the guest limits when `command` only reads the modules' info (`deadline-ms`,
    /// `memory-mb`, `max-actions-per-item` in `unused`), as [`RunArgs::refuse_unused`] does.
    pub fn refuse_unused(&self, command: &str, unused: &[&str]) -> Result<()> {
        let given = [
            ("deadline-ms", self.deadline_ms.is_some()),
            ("memory-mb", self.memory_mb.is_some()),
            ("max-actions-per-item", self.max_actions_per_item.is_some()),
        ];
        for (flag, given) in given {
            if given && unused.contains(&flag) {
                anyhow::bail!("`{command}` does not use --{flag}: leave it out");
            }
        }
        Ok(())
    }

    /// What the command line gives.
    pub fn given(&self) -> Given {
        Given {
            deadline_ms: self.deadline_ms,
            memory_mb: self.memory_mb,
            max_actions_per_item: self.max_actions_per_item,
            ..Given::default()
        }
    }

    /// The settings of a command that only loads modules (no project, no DynamoDB).
    pub fn settings(&self) -> Settings {
        Settings::new(self.given(), None)
    }

    /// Loads the migration at `path` for `instances` guest instances, with the limits of
    /// `settings`.
    pub fn load(
        &self,
        settings: &Settings,
        path: &Path,
        instances: u32,
    ) -> Result<Arc<engine::LoadedMigration>> {
        let runtime = Runtime::new(settings.limits(), instances)?;
        Ok(Arc::new(engine::load(
            &runtime,
            path,
            self.cache().as_deref(),
        )?))
    }

    /// Loads every module of the folder `dir` (one runtime for all: they run one at a time).
    pub fn load_folder(&self, settings: &Settings, dir: &Path, instances: u32) -> Result<Folder> {
        let runtime = Runtime::new(settings.limits(), instances)?;
        let cache = self.cache();
        Folder::open(dir, |path| {
            Ok(Arc::new(engine::load(&runtime, path, cache.as_deref())?))
        })
    }

    fn cache(&self) -> Option<PathBuf> {
        match (self.no_cache, &self.cache_dir) {
            (true, _) => None,
            (false, Some(dir)) => Some(dir.clone()),
            (false, None) => loader::default_cache_dir(),
        }
    }
}

/// The command line's parser of a whole-number option: its range, from its one definition.
pub(super) fn bounded(option: &'static Bounded) -> impl Fn(&str) -> Result<u64, String> + Clone {
    move |text| option.parse(text)
}
