//! Where items come from: files in DynamoDB JSON ([`json`]).
pub mod json;
