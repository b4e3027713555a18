//! The first stage: where items come from. A table's parallel scan ([`scan`]), with the
//! ledger of which of its pages are wholly journaled ([`pages`]), or files in DynamoDB JSON
//! ([`json`]).

pub mod json;
pub mod pages;
pub mod scan;
