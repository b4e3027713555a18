//! The option groups several commands share: where DynamoDB is, the metadata table, the
//! guest limits and caching, the output format, the lock's lease for the folder commands.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};
use drift_host::aws::ConnectOptions;
use drift_host::engine::{self, loader, Limits, Runtime};
use drift_host::metadata;
use drift_host::model::names::parse_table_name;
use drift_host::model::operation::Operation;
use drift_host::model::options::{self, Bounded};
use drift_host::project::config::Defaults;
use drift_host::project::folder::Folder;
use drift_host::run::RunOptions;

use super::*;

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
    /// Fills the options not given on the command line from a project's `drift.toml`.
    pub fn apply_defaults(&mut self, defaults: &Defaults) {
        self.lease_seconds = self.lease_seconds.or(defaults.lease_seconds);
        self.meta.apply_defaults(defaults);
        self.connection.apply_defaults(defaults);
        self.sandbox.apply_defaults(defaults);
    }

    /// Options for a session on the metadata table (no migration runs with them).
    pub fn options(&self) -> RunOptions {
        let run = RunArgs {
            table: None,
            concurrency: Some(1),
            segments: None,
            checkpoint_interval_ms: None,
            page_size: None,
            fail_fast: false,
            no_batch_updates: false,
            apply_concurrency: None,
            work_dir: None,
            keep_journal: false,
            report: None,
            output: OutputFormat::Text,
            provisioned: None,
            max_attempts: None,
            lease_seconds: self.lease_seconds,
            restart: false,
            max_rcu: None,
            max_wcu: None,
            meta: MetaArgs {
                meta_table: self.meta.meta_table.clone(),
            },
            connection: ConnectionArgs::default(),
            sandbox: SandboxArgs::default(),
        };
        run.options(Operation::Migrate)
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
    /// Fills the table not given on the command line from a project's `drift.toml`.
    pub fn apply_defaults(&mut self, defaults: &Defaults) {
        self.meta_table = self
            .meta_table
            .take()
            .or_else(|| defaults.meta_table.clone());
    }

    /// The metadata table's name.
    pub fn table(&self) -> String {
        self.meta_table
            .clone()
            .unwrap_or_else(|| metadata::DEFAULT_TABLE.to_owned())
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
    /// Fills what the command line did not give from a project's `drift.toml`.
    pub fn apply_defaults(&mut self, defaults: &Defaults) {
        self.endpoint_url = self
            .endpoint_url
            .take()
            .or_else(|| defaults.endpoint_url.clone());
        self.region = self.region.take().or_else(|| defaults.region.clone());
        self.profile = self.profile.take().or_else(|| defaults.profile.clone());
    }

    /// The connection options.
    pub fn options(&self) -> ConnectOptions {
        ConnectOptions {
            endpoint_url: self.endpoint_url.clone(),
            region: self.region.clone(),
            profile: self.profile.clone(),
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

    /// Fills the limits not given on the command line from a project's `drift.toml`.
    pub fn apply_defaults(&mut self, defaults: &Defaults) {
        self.deadline_ms = self.deadline_ms.or(defaults.deadline_ms);
        self.memory_mb = self.memory_mb.or(defaults.memory_mb);
    }

    /// Loads the migration at `path` for `instances` guest instances.
    pub fn load(&self, path: &Path, instances: u32) -> Result<Arc<engine::LoadedMigration>> {
        let runtime = self.runtime(instances)?;
        Ok(Arc::new(engine::load(
            &runtime,
            path,
            self.cache().as_deref(),
        )?))
    }

    /// Loads every module of the folder `dir` (one runtime for all: they run one at a time).
    pub fn load_folder(&self, dir: &Path, instances: u32) -> Result<Folder> {
        let runtime = self.runtime(instances)?;
        let cache = self.cache();
        Folder::open(dir, |path| {
            Ok(Arc::new(engine::load(&runtime, path, cache.as_deref())?))
        })
    }

    fn runtime(&self, instances: u32) -> Result<Arc<Runtime>> {
        let limits = Limits {
            deadline: Duration::from_millis(options::DEADLINE_MS.or_default(self.deadline_ms)),
            memory_bytes: (options::MEMORY_MB.or_default(self.memory_mb) as usize) << 20,
            max_actions_per_item: options::MAX_ACTIONS_PER_ITEM
                .or_default(self.max_actions_per_item) as usize,
        };
        Runtime::new(limits, instances)
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

/// Guest instances: as given, else one per CPU (within the option's range).
pub(super) fn concurrency(given: Option<u64>) -> u32 {
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get() as u64);
    given
        .unwrap_or(cpus)
        .clamp(options::CONCURRENCY.min, options::CONCURRENCY.max) as u32
}
