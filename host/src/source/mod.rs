//! The first stage: where items come from. A table's parallel scan ([`scan`]), with the
//! ledger of which of its pages are wholly journaled ([`pages`]), or files in DynamoDB JSON
//! ([`json`]), or a live run's stream of changes ([`changes`]).

pub mod changes;
pub mod json;
pub mod pages;
pub mod scan;
