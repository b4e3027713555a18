//! Conversions between our items and the AWS SDK's `AttributeValue` maps.

use std::collections::HashMap;

use anyhow::{bail, Context, Result};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::model::item::{Item, Value};

/// Converts an AWS SDK item into a tree.
pub fn from_aws_item(item: &HashMap<String, AttributeValue>) -> Result<Item> {
    item.iter()
        .map(|(name, value)| {
            Ok((
                name.clone(),
                from_aws(value).with_context(|| format!("attribute `{name}`"))?,
            ))
        })
        .collect()
}

/// Converts an AWS SDK value into a tree.
pub fn from_aws(value: &AttributeValue) -> Result<Value> {
    Ok(match value {
        AttributeValue::S(s) => Value::S(s.clone()),
        AttributeValue::N(n) => Value::N(n.clone()),
        AttributeValue::B(b) => Value::B(b.as_ref().to_vec()),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Ss(s) => Value::Ss(s.clone()),
        AttributeValue::Ns(s) => Value::Ns(s.clone()),
        AttributeValue::Bs(s) => Value::Bs(s.iter().map(|b| b.as_ref().to_vec()).collect()),
        AttributeValue::L(list) => Value::L(list.iter().map(from_aws).collect::<Result<_>>()?),
        AttributeValue::M(map) => Value::M(from_aws_item(map)?),
        other => bail!("unsupported DynamoDB attribute value {other:?}"),
    })
}

/// Converts a tree item into the AWS SDK's form.
pub fn to_aws_item(item: &Item) -> HashMap<String, AttributeValue> {
    item.iter()
        .map(|(name, value)| (name.clone(), to_aws(value)))
        .collect()
}

/// Converts a tree value into the AWS SDK's form.
pub fn to_aws(value: &Value) -> AttributeValue {
    match value {
        Value::S(s) => AttributeValue::S(s.clone()),
        Value::N(n) => AttributeValue::N(n.clone()),
        Value::B(b) => AttributeValue::B(Blob::new(b.clone())),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Null => AttributeValue::Null(true),
        Value::Ss(s) => AttributeValue::Ss(s.clone()),
        Value::Ns(s) => AttributeValue::Ns(s.clone()),
        Value::Bs(s) => AttributeValue::Bs(s.iter().map(|b| Blob::new(b.clone())).collect()),
        Value::L(list) => AttributeValue::L(list.iter().map(to_aws).collect()),
        Value::M(map) => AttributeValue::M(to_aws_item(map)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drift_value::testing::arb_item;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn aws_round_trip(item in arb_item()) {
            prop_assert_eq!(from_aws_item(&to_aws_item(&item)).unwrap(), item);
        }
    }
}
