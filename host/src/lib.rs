//! drift-host runs DynamoDB data migrations written as WebAssembly components.
//!
//! The data path, one module each: items come from a source ([`source`]), go through a pool
//! of sandboxed guest instances ([`engine`]) that turn each into checked [`action`]s; `exec`
//! ([`exec`]) prints them.
//!
//! [`bindings`] is the only module that generates code from the WIT world; [`item`] and
//! [`arena`] convert DynamoDB items between the AWS SDK, DynamoDB JSON and the guest's form.

pub mod action;
pub mod apply;
pub mod arena;
pub mod bindings;
pub mod capacity;
pub mod checkpoint;
pub mod crash;
pub mod dynamo;
pub mod engine;
pub mod exec;
pub mod item;
pub mod journal;
pub mod load;
pub mod lock;
pub mod metadata;
pub mod run;
pub mod source;
