//! The marker items of exactly-once writes, in the metadata table.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

/// Marker items of exactly-once writes: `<prefix><journal position>` in `table`'s `id`.
#[derive(Debug, Clone)]
pub struct Markers {
    /// The metadata table.
    pub table: String,
    /// `applied#<migration number>#<run id>#`.
    pub prefix: String,
}

impl Markers {
    /// The markers of migration `number`'s run `run_id`.
    pub fn new(table: &str, number: u64, run_id: &str) -> Markers {
        Markers {
            table: table.to_owned(),
            prefix: format!("{}{run_id}#", Markers::migration_prefix(number)),
        }
    }

    /// The prefix shared by every marker of migration `number`, whatever the run.
    pub fn migration_prefix(number: u64) -> String {
        format!("applied#{number:020}#")
    }

    /// The marker item of the record at journal `position`.
    pub fn item(&self, position: u64) -> HashMap<String, AttributeValue> {
        HashMap::from([(
            "id".to_owned(),
            AttributeValue::S(format!("{}{position:020}", self.prefix)),
        )])
    }
}
