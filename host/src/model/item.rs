//! DynamoDB items on the host: the shared value model of `drift-value` ([`Value`], [`Item`],
//! the same types the Rust SDK gives migrations), with DynamoDB JSON (`{"S": "..."}`, the
//! format of `aws dynamodb scan`) read and written here.
//!
//! The journal serializes these trees (MessagePack); the engine converts them to and from the
//! guest's arena; the AWS layer converts them to the SDK's `AttributeValue`.

use anyhow::{anyhow, bail, Context, Result};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Map, Value as Json};

pub use drift_value::limits::{
    canonical_number, check_item, check_key, validate_number, validate_value, MAX_DEPTH,
    MAX_ITEM_BYTES,
};
pub use drift_value::{Item, Value};

/// Parses an item in DynamoDB JSON: `{"id": {"S": "u1"}, "n": {"N": "3"}}`.
pub fn from_json_item(json: &Json) -> Result<Item> {
    let object = json
        .as_object()
        .ok_or_else(|| anyhow!("an item must be a JSON object, found {}", kind(json)))?;
    object
        .iter()
        .map(|(name, value)| {
            Ok((
                name.clone(),
                from_json(value).with_context(|| format!("attribute `{name}`"))?,
            ))
        })
        .collect()
}

/// Parses one value in DynamoDB JSON: an object with exactly one type key.
pub fn from_json(json: &Json) -> Result<Value> {
    let object = json.as_object().filter(|o| o.len() == 1).ok_or_else(|| {
        anyhow!("expected a DynamoDB JSON value such as {{\"S\": \"text\"}}, found {json}")
    })?;
    let (tag, inner) = object.iter().next().expect("one entry");
    let text = |v: &Json| -> Result<String> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("{tag} needs a string, found {}", kind(v)))
    };
    let bytes = |v: &Json| -> Result<Vec<u8>> {
        BASE64
            .decode(text(v)?)
            .with_context(|| format!("{tag} needs base64"))
    };
    let array = |v: &'_ Json| -> Result<Vec<Json>> {
        v.as_array()
            .cloned()
            .ok_or_else(|| anyhow!("{tag} needs an array, found {}", kind(v)))
    };
    Ok(match tag.as_str() {
        "S" => Value::S(text(inner)?),
        "N" => Value::N(text(inner)?),
        "B" => Value::B(bytes(inner)?),
        "BOOL" => Value::Bool(
            inner
                .as_bool()
                .ok_or_else(|| anyhow!("BOOL needs true or false"))?,
        ),
        "NULL" => Value::Null,
        "SS" => Value::Ss(array(inner)?.iter().map(text).collect::<Result<_>>()?),
        "NS" => Value::Ns(array(inner)?.iter().map(text).collect::<Result<_>>()?),
        "BS" => Value::Bs(array(inner)?.iter().map(bytes).collect::<Result<_>>()?),
        "L" => Value::L(array(inner)?.iter().map(from_json).collect::<Result<_>>()?),
        "M" => Value::M(from_json_item(inner)?),
        other => bail!("unknown DynamoDB JSON type `{other}`"),
    })
}

fn kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// Writes an item as DynamoDB JSON.
pub fn to_json_item(item: &Item) -> Json {
    Json::Object(
        item.iter()
            .map(|(name, value)| (name.clone(), to_json(value)))
            .collect::<Map<_, _>>(),
    )
}

/// Writes one value as DynamoDB JSON.
pub fn to_json(value: &Value) -> Json {
    match value {
        Value::S(s) => json!({ "S": s }),
        Value::N(n) => json!({ "N": n }),
        Value::B(b) => json!({ "B": BASE64.encode(b) }),
        Value::Bool(b) => json!({ "BOOL": b }),
        Value::Null => json!({ "NULL": true }),
        Value::Ss(s) => json!({ "SS": s }),
        Value::Ns(s) => json!({ "NS": s }),
        Value::Bs(s) => json!({ "BS": s.iter().map(|b| BASE64.encode(b)).collect::<Vec<_>>() }),
        Value::L(list) => json!({ "L": list.iter().map(to_json).collect::<Vec<_>>() }),
        Value::M(map) => json!({ "M": to_json_item(map) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drift_value::testing::arb_item;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn json_round_trip(item in arb_item()) {
            let text = to_json_item(&item).to_string();
            let parsed: Json = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(from_json_item(&parsed).unwrap(), item);
        }

        #[test]
        fn messagepack_round_trip(item in arb_item()) {
            let bytes = rmp_serde::to_vec(&item).unwrap();
            prop_assert_eq!(rmp_serde::from_slice::<Item>(&bytes).unwrap(), item);
        }
    }

    #[test]
    fn json_errors_name_the_problem() {
        let error = |text: &str| {
            format!(
                "{:#}",
                from_json_item(&serde_json::from_str(text).unwrap()).unwrap_err()
            )
        };
        assert_eq!(
            error(r#"{"a": {"X": 1}}"#),
            "attribute `a`: unknown DynamoDB JSON type `X`"
        );
        assert_eq!(
            error(r#"{"a": {"S": 1}}"#),
            "attribute `a`: S needs a string, found a number"
        );
        assert_eq!(
            error(r#"[]"#),
            "an item must be a JSON object, found an array"
        );
        assert!(error(r#"{"a": {"B": "***"}}"#).starts_with("attribute `a`: B needs base64"));
    }
}
