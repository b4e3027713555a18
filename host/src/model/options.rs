//! The options of the command line and of drift.toml, each defined once: its name, the values
//! it takes, its default and its help. The command line parses with [`Bounded::parse`],
//! drift.toml's values go through [`Bounded::check`], so the two can never accept different
//! values; the help shows the range and the default from the same place. What one source gives
//! is a [`Given`]; [`Given::over`] layers the command line over drift.toml, and
//! `run::settings` resolves the result against the defaults, once.

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

/// The options one source gives (the command line, or drift.toml's top-level keys); `None`:
/// not given there. The options only the command line takes (`--table`, `--restart`, the
/// switches) are not here: they have no layer to fall back on.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Given {
    /// The metadata table.
    pub meta_table: Option<String>,
    /// AWS region.
    pub region: Option<String>,
    /// Endpoint URL (e.g. DynamoDB Local's).
    pub endpoint_url: Option<String>,
    /// AWS profile.
    pub profile: Option<String>,
    /// Guest instances working in parallel ([`CONCURRENCY`]).
    pub concurrency: Option<u64>,
    /// Parallel scan segments ([`SEGMENTS`]).
    pub segments: Option<u64>,
    /// Items per Scan request ([`PAGE_SIZE`]).
    pub page_size: Option<u64>,
    /// Concurrent write lanes while applying ([`APPLY_CONCURRENCY`]).
    pub apply_concurrency: Option<u64>,
    /// How often progress is checkpointed ([`CHECKPOINT_INTERVAL_MS`]).
    pub checkpoint_interval_ms: Option<u64>,
    /// Where journals are spooled (in drift.toml: relative to the project folder).
    pub work_dir: Option<PathBuf>,
    /// Lease of the metadata table's lock ([`LEASE_SECONDS`]).
    pub lease_seconds: Option<u64>,
    /// Attempts per DynamoDB request ([`MAX_ATTEMPTS`]).
    pub max_attempts: Option<u64>,
    /// Most read capacity units per second a scan may consume.
    pub max_rcu: Option<f64>,
    /// Most write capacity units per second an apply may consume.
    pub max_wcu: Option<f64>,
    /// CPU deadline of one guest call ([`DEADLINE_MS`]).
    pub deadline_ms: Option<u64>,
    /// Memory cap of one guest instance ([`MEMORY_MB`]).
    pub memory_mb: Option<u64>,
    /// Most actions one item may produce ([`MAX_ACTIONS_PER_ITEM`]).
    pub max_actions_per_item: Option<u64>,
}

impl Given {
    /// What `self` gives, and what `lower` gives where `self` gives nothing.
    pub fn over(self, lower: &Given) -> Given {
        let lower = lower.clone();
        Given {
            meta_table: self.meta_table.or(lower.meta_table),
            region: self.region.or(lower.region),
            endpoint_url: self.endpoint_url.or(lower.endpoint_url),
            profile: self.profile.or(lower.profile),
            concurrency: self.concurrency.or(lower.concurrency),
            segments: self.segments.or(lower.segments),
            page_size: self.page_size.or(lower.page_size),
            apply_concurrency: self.apply_concurrency.or(lower.apply_concurrency),
            checkpoint_interval_ms: self.checkpoint_interval_ms.or(lower.checkpoint_interval_ms),
            work_dir: self.work_dir.or(lower.work_dir),
            lease_seconds: self.lease_seconds.or(lower.lease_seconds),
            max_attempts: self.max_attempts.or(lower.max_attempts),
            max_rcu: self.max_rcu.or(lower.max_rcu),
            max_wcu: self.max_wcu.or(lower.max_wcu),
            deadline_ms: self.deadline_ms.or(lower.deadline_ms),
            memory_mb: self.memory_mb.or(lower.memory_mb),
            max_actions_per_item: self.max_actions_per_item.or(lower.max_actions_per_item),
        }
    }

    /// Each whole-number value with its option's definition, to check them all alike.
    pub fn bounded(&self) -> [(Bounded, Option<u64>); 10] {
        [
            (CONCURRENCY, self.concurrency),
            (SEGMENTS, self.segments),
            (PAGE_SIZE, self.page_size),
            (APPLY_CONCURRENCY, self.apply_concurrency),
            (CHECKPOINT_INTERVAL_MS, self.checkpoint_interval_ms),
            (MAX_ATTEMPTS, self.max_attempts),
            (LEASE_SECONDS, self.lease_seconds),
            (DEADLINE_MS, self.deadline_ms),
            (MEMORY_MB, self.memory_mb),
            (MAX_ACTIONS_PER_ITEM, self.max_actions_per_item),
        ]
    }
}

/// A whole-number option with its range and default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounded {
    /// The flag without its `--` (`segments`, `page-size`); drift.toml spells it with `_`.
    pub flag: &'static str,
    /// What it sets, for the help.
    pub about: &'static str,
    /// Smallest value taken.
    pub min: u64,
    /// Largest value taken.
    pub max: u64,
    /// The value when neither the command line nor drift.toml gives one (`None`: it depends,
    /// as the number of CPUs does; the help says on what).
    pub default: Option<u64>,
}

/// Guest instances working in parallel.
pub const CONCURRENCY: Bounded = Bounded {
    flag: "concurrency",
    about: "Guest instances working in parallel [default: the number of CPUs]",
    min: 1,
    max: 1024,
    default: None,
};
/// Parallel scan segments (DynamoDB's TotalSegments, at most 1 000 000).
pub const SEGMENTS: Bounded = Bounded {
    flag: "segments",
    about: "Parallel scan segments (TotalSegments)",
    min: 1,
    max: 1_000_000,
    default: Some(8),
};
/// Items per Scan request (DynamoDB's Limit; a page also ends at 1 MB).
pub const PAGE_SIZE: Bounded = Bounded {
    flag: "page-size",
    about: "Items per Scan request (a page also ends at 1 MB)",
    min: 1,
    max: i32::MAX as u64,
    default: Some(1000),
};
/// Concurrent write lanes while applying.
pub const APPLY_CONCURRENCY: Bounded = Bounded {
    flag: "apply-concurrency",
    about: "Concurrent write lanes while applying",
    min: 1,
    max: 4096,
    default: Some(32),
};
/// How often progress is checkpointed, in milliseconds.
pub const CHECKPOINT_INTERVAL_MS: Bounded = Bounded {
    flag: "checkpoint-interval-ms",
    about: "How often progress is checkpointed while it advances, in milliseconds: a resumed \
            run repeats about this much work",
    min: 10,
    max: 3_600_000,
    default: Some(500),
};
/// Attempts per DynamoDB request.
pub const MAX_ATTEMPTS: Bounded = Bounded {
    flag: "max-attempts",
    about: "Attempts per DynamoDB request before giving up (throttling, 5xx, timeouts)",
    min: 1,
    max: 100,
    default: Some(12),
};
/// The lease of the metadata table's lock, in seconds: renewed every third of it, so it must
/// leave a second at least between renewals.
pub const LEASE_SECONDS: Bounded = Bounded {
    flag: "lease-seconds",
    about: "Lease of the metadata table's lock, in seconds; renewed every third of it",
    min: 3,
    max: 86_400,
    default: Some(60),
};
/// CPU deadline of one guest call, in milliseconds.
pub const DEADLINE_MS: Bounded = Bounded {
    flag: "deadline-ms",
    about: "CPU deadline of one guest call, in milliseconds",
    min: 1,
    max: 3_600_000,
    default: Some(5000),
};
/// Memory cap of one guest instance, in MiB.
pub const MEMORY_MB: Bounded = Bounded {
    flag: "memory-mb",
    about: "Memory cap of one guest instance, in MiB",
    min: 1,
    max: 65536,
    default: Some(256),
};
/// Most actions one item may produce.
pub const MAX_ACTIONS_PER_ITEM: Bounded = Bounded {
    flag: "max-actions-per-item",
    about: "Most actions one item may produce",
    min: 1,
    max: 1_000_000,
    default: Some(10_000),
};

/// Seconds between refreshes of `status --watch` (a command-line option only).
pub const WATCH_SECONDS: Bounded = Bounded {
    flag: "watch",
    about: "Refresh every SECONDS until no migration is running",
    min: 1,
    max: 3600,
    default: Some(2),
};

/// Processes sharing one run (a command-line option only: each worker is started with it).
pub const WORKERS: Bounded = Bounded {
    flag: "workers",
    about: "Processes sharing this run, each started with its own index (--worker-index, JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX)",
    min: 1,
    max: 1000,
    default: None,
};

/// Seconds of quiet on the stream after which a live run's catch-up ends (a command-line
/// option only, with `--live`).
pub const LIVE_QUIET_SECONDS: Bounded = Bounded {
    flag: "live-quiet",
    about: "With --live: end once the stream has been quiet this many seconds",
    min: 1,
    max: 86_400,
    default: Some(5),
};

/// Every whole-number option, for the checks that they are all defined alike.
pub const ALL: [Bounded; 10] = [
    CONCURRENCY,
    SEGMENTS,
    PAGE_SIZE,
    APPLY_CONCURRENCY,
    CHECKPOINT_INTERVAL_MS,
    MAX_ATTEMPTS,
    LEASE_SECONDS,
    DEADLINE_MS,
    MEMORY_MB,
    MAX_ACTIONS_PER_ITEM,
];

impl Bounded {
    /// Its key in drift.toml.
    pub fn key(&self) -> String {
        self.flag.replace('-', "_")
    }

    /// The help line: what it sets, the values it takes, its default.
    pub fn help(&self) -> String {
        match self.default {
            Some(default) => format!("{} [{}; default: {default}]", self.about, self.range()),
            None => format!("{} [{}]", self.about, self.range()),
        }
    }

    /// The values it takes, as people read them.
    pub fn range(&self) -> Range {
        Range(self.min, self.max)
    }

    /// `value` if it is in range, else why not (without the option's name: the caller says
    /// where the value came from).
    pub fn check(&self, value: u64) -> Result<u64, String> {
        if (self.min..=self.max).contains(&value) {
            Ok(value)
        } else {
            Err(format!("{value} is not {}", self.range()))
        }
    }

    /// Reads a value from the command line.
    pub fn parse(&self, text: &str) -> Result<u64, String> {
        let value = text
            .trim()
            .parse::<u64>()
            .map_err(|_| format!("`{text}` is not a whole number ({})", self.range()))?;
        self.check(value)
    }

    /// The value given, or the default (for an option whose default depends on the machine,
    /// the caller decides: see [`concurrency`]).
    pub fn or_default(&self, given: Option<u64>) -> u64 {
        given.or(self.default).unwrap_or(self.min)
    }
}

/// Guest instances: as given, else one per CPU (within [`CONCURRENCY`]'s range).
pub fn concurrency(given: Option<u64>) -> u32 {
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get() as u64);
    given
        .unwrap_or(cpus)
        .clamp(CONCURRENCY.min, CONCURRENCY.max) as u32
}

/// An inclusive range of whole numbers, written `from 1 to 1024` or `at least 3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range(u64, u64);

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.1) {
            (min, u64::MAX) => write!(f, "at least {min}"),
            (min, max) => write!(f, "from {min} to {max}"),
        }
    }
}

/// A rate option (`--max-rcu`, `--max-wcu`): a positive, finite number.
pub fn check_rate(value: f64) -> Result<f64, String> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(format!("{value} is not a positive number"))
    }
}

/// Reads a rate option from the command line.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let value = text
        .trim()
        .parse::<f64>()
        .map_err(|_| format!("`{text}` is not a number"))?;
    check_rate(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_outside_the_range_are_refused_with_the_range() {
        assert_eq!(SEGMENTS.parse("8"), Ok(8));
        assert_eq!(
            SEGMENTS.parse("2000000"),
            Err("2000000 is not from 1 to 1000000".into())
        );
        assert_eq!(
            PAGE_SIZE.parse("0"),
            Err("0 is not from 1 to 2147483647".into())
        );
        assert_eq!(
            LEASE_SECONDS.parse("x"),
            Err("`x` is not a whole number (from 3 to 86400)".into())
        );
        assert_eq!(CONCURRENCY.check(0), Err("0 is not from 1 to 1024".into()));
        assert!(parse_rate("0").is_err() && parse_rate("inf").is_err());
        assert_eq!(parse_rate("2.5"), Ok(2.5));
    }

    #[test]
    fn the_command_line_wins_over_drift_toml_option_by_option() {
        let toml = Given {
            segments: Some(4),
            page_size: Some(10),
            meta_table: Some("from_toml".into()),
            ..Given::default()
        };
        let command_line = Given {
            segments: Some(16),
            region: Some("eu-west-1".into()),
            ..Given::default()
        };
        let merged = command_line.over(&toml);
        assert_eq!(merged.segments, Some(16));
        assert_eq!(merged.page_size, Some(10));
        assert_eq!(merged.meta_table.as_deref(), Some("from_toml"));
        assert_eq!(merged.region.as_deref(), Some("eu-west-1"));
        assert_eq!(merged.lease_seconds, None);
        let defined: Vec<&str> = merged.bounded().iter().map(|(o, _)| o.flag).collect();
        let all: Vec<&str> = ALL.iter().map(|o| o.flag).collect();
        assert_eq!(
            defined, all,
            "every whole-number option has its place in Given"
        );
        assert_eq!(concurrency(Some(0)), 1);
        assert_eq!(concurrency(Some(5000)), 1024);
    }

    #[test]
    fn every_default_is_in_its_range_and_named_in_the_help() {
        for option in ALL.iter().chain([&WATCH_SECONDS]) {
            if let Some(default) = option.default {
                assert_eq!(option.check(default), Ok(default), "{}", option.flag);
                assert!(option.help().contains(&format!("default: {default}")));
            }
            assert!(option.help().contains(&option.range().to_string()));
            assert!(!option.key().contains('-'));
        }
    }
}
