//! The AWS layer under every stage: the client, the retry policy, table schemas and
//! creation, single, exactly-once and batched writes, capacity budgets, and conversions between
//! our items and the SDK's `AttributeValue`.
//!
//! The SDK's own retries are switched off so that one policy, ours ([`retry::RetryPolicy`]),
//! decides.

pub mod capacity;
pub mod client;
pub mod convert;
pub mod partiql;
pub mod retry;
pub mod stream;
pub mod table;
pub mod write;

pub use capacity::Capacity;
pub use client::{connect, ConnectOptions};
pub use retry::{error_code, RetryPolicy};
pub use table::{create_table, key_schema, table_schema, Billing, Throughput};
