//! drift-host's integration tests, linked into one binary so the guests are built once.

mod support;

mod architecture;
mod assemblyscript;
mod assemblyscript_abi;
mod cases;
mod conformance;
#[cfg(feature = "crash-points")]
mod crash;
mod dynamodb;
mod engine;
mod environment;
mod evaluate;
mod exec;
mod fault_proxy;
mod first_contact;
#[cfg(feature = "crash-points")]
mod live;
#[cfg(feature = "crash-points")]
mod model;
mod operations;
mod partiql;
mod plan;
mod profile;
mod project;
mod reliability;
mod servers;
mod stopping;
mod validation;
mod watch;
#[cfg(feature = "crash-points")]
mod workers;
