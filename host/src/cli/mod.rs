//! The command line on top of the library: [`args`] (what clap parses, converted into the
//! stages' options), [`commands`] (one function per command), [`output`] (tables and
//! reports), [`signals`], [`progress`], [`metrics`] (`--metrics-addr`) and the [`log`]'s format.

pub mod args;
pub mod commands;
pub mod log;
pub mod metrics;
pub mod output;
pub mod progress;
pub mod signals;
