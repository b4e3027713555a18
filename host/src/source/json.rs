//! Reads items from DynamoDB JSON: the output of `aws dynamodb scan` (`{"Items": [...]}`) and
//! DynamoDB export files (one `{"Item": {...}}` per line), streamed value by value.

use std::io::{BufReader, Read};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value as Json;

use crate::model::item::{from_json_item, Item};

/// One item of the input, read and checked as DynamoDB would store it (numbers, sets, depth,
/// size): bad input is refused with its place, before any migration sees it.
fn checked_item(json: &Json) -> Result<Item> {
    let item = from_json_item(json)?;
    drift_value::limits::check_item(&item).map_err(|why| anyhow!("not a valid item: {why}"))?;
    Ok(item)
}

/// Calls `each` for every item of `reader`, in order; returns how many there were.
pub fn read_items(reader: impl Read, mut each: impl FnMut(Item) -> Result<()>) -> Result<u64> {
    let mut count = 0u64;
    let stream = serde_json::Deserializer::from_reader(BufReader::new(reader)).into_iter::<Json>();
    for (n, value) in stream.enumerate() {
        let value = value.map_err(|e| anyhow!("input is not valid JSON: {e}"))?;
        let document = n + 1;
        let object = value
            .as_object()
            .ok_or_else(|| anyhow!("JSON value {document} of the input is not an object"))?;
        if let Some(items) = object.get("Items") {
            let items = items
                .as_array()
                .ok_or_else(|| anyhow!("`Items` of JSON value {document} is not an array"))?;
            for (i, item) in items.iter().enumerate() {
                each(
                    checked_item(item)
                        .with_context(|| format!("Items[{i}] of JSON value {document}"))?,
                )?;
                count += 1;
            }
        } else if let Some(item) = object.get("Item") {
            each(checked_item(item).with_context(|| format!("Item of JSON value {document}"))?)?;
            count += 1;
        } else {
            bail!(
                "JSON value {document} of the input has neither `Items` (aws dynamodb scan output) \
                 nor `Item` (DynamoDB export line)"
            );
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::item::Value;

    fn ids(input: &str) -> Result<Vec<String>> {
        let mut ids = Vec::new();
        read_items(input.as_bytes(), |item| {
            match item.get("id") {
                Some(Value::S(id)) => ids.push(id.clone()),
                other => bail!("no id: {other:?}"),
            }
            Ok(())
        })?;
        Ok(ids)
    }

    #[test]
    fn reads_scan_output_and_export_lines() {
        let scan =
            r#"{"Items": [{"id": {"S": "a"}}, {"id": {"S": "b"}}], "Count": 2, "ScannedCount": 2}"#;
        assert_eq!(ids(scan).unwrap(), ["a", "b"]);
        let export = "{\"Item\": {\"id\": {\"S\": \"a\"}}}\n{\"Item\": {\"id\": {\"S\": \"c\"}}}\n";
        assert_eq!(ids(export).unwrap(), ["a", "c"]);
        assert_eq!(ids("").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn bad_input_names_the_place() {
        assert_eq!(
            format!(
                "{:#}",
                ids(r#"{"Items": [{"id": {"S": "a"}}, {"id": {"Q": 1}}]}"#).unwrap_err()
            ),
            "Items[1] of JSON value 1: attribute `id`: unknown DynamoDB JSON type `Q`"
        );
        assert!(format!("{:#}", ids("{\"id\": 1}").unwrap_err()).contains("neither `Items`"));
        let bad_number = "{\"Item\": {\"id\": {\"S\": \"a\"}}}\n{\"Item\": {\"id\": {\"S\": \"b\"}, \"n\": {\"N\": \"abc\"}}}";
        let error = format!("{:#}", ids(bad_number).unwrap_err());
        assert!(
            error.starts_with("Item of JSON value 2: not a valid item"),
            "{error}"
        );
        assert!(error.contains("abc"), "{error}");
        let empty_set = r#"{"Items": [{"id": {"S": "a"}, "tags": {"SS": []}}]}"#;
        assert!(
            format!("{:#}", ids(empty_set).unwrap_err()).starts_with("Items[0] of JSON value 1")
        );
        assert!(
            format!("{:#}", ids("{\"Item\": ").unwrap_err()).starts_with("input is not valid JSON")
        );
    }
}
