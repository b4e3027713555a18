//! The one model of DynamoDB data shared by drift-host and its Rust SDK.
//!
//! - [`Value`] and [`Item`]: an attribute value and an item as a plain tree;
//! - [`path`]: document paths such as `address.city` or `tags[0]`;
//! - [`limits`]: what DynamoDB rejects (numbers, sets, keys, sizes, nesting), checked before
//!   anything is written;
//! - [`arena`]: the flat arena in which the WIT world passes items, one codec for the host's
//!   and the guests' generated bindings;
//! - [`expression`]: update expressions parsed into a syntax tree, and the builder that
//!   generates them with placeholders.
//!
//! The crate is plain Rust with no dependency: it builds for the host and for
//! `wasm32-wasip2` guests alike. Feature `serde` adds `Serialize`/`Deserialize` (the encoding
//! of drift-host's journal); feature `testing` adds proptest strategies in [`testing`].

#![warn(missing_docs)]

pub mod arena;
pub mod expression;
pub mod limits;
pub mod path;
#[cfg(feature = "serde")]
mod serde_support;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod value;

pub use path::{Path, PathError, Segment};
pub use value::{Item, Value};
