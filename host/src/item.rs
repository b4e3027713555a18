//! DynamoDB items on the host: [`AttrValue`] trees, with conversions to and from the AWS SDK's
//! `AttributeValue` and DynamoDB JSON (`{"S": "..."}`, the format of `aws dynamodb scan`).
//!
//! The tree is the host's one in-memory form of an item: the journal serializes it, the
//! engine converts it to and from the guest's arena (see [`crate::arena`]).

use std::collections::{BTreeMap, HashMap};

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

/// An item (or key): attribute names mapped to values, in name order.
pub type Item = BTreeMap<String, AttrValue>;

/// One DynamoDB attribute value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AttrValue {
    /// `S`
    S(String),
    /// `N`, as decimal text.
    N(String),
    /// `B`
    B(#[serde(with = "serde_bytes")] Vec<u8>),
    /// `BOOL`
    Bool(bool),
    /// `NULL`
    Null,
    /// `SS`
    Ss(Vec<String>),
    /// `NS`
    Ns(Vec<String>),
    /// `BS`
    Bs(Vec<serde_bytes::ByteBuf>),
    /// `L`
    L(Vec<AttrValue>),
    /// `M`
    M(Item),
}

/// The largest item DynamoDB stores, attribute names included.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// DynamoDB's limit on nesting of lists and maps.
pub const MAX_DEPTH: usize = 32;

impl AttrValue {
    /// DynamoDB's name for the value's type.
    pub fn type_name(&self) -> &'static str {
        match self {
            AttrValue::S(_) => "S",
            AttrValue::N(_) => "N",
            AttrValue::B(_) => "B",
            AttrValue::Bool(_) => "BOOL",
            AttrValue::Null => "NULL",
            AttrValue::Ss(_) => "SS",
            AttrValue::Ns(_) => "NS",
            AttrValue::Bs(_) => "BS",
            AttrValue::L(_) => "L",
            AttrValue::M(_) => "M",
        }
    }

    /// The size DynamoDB counts for this value (its documented sizing rules).
    pub fn size(&self) -> usize {
        match self {
            AttrValue::S(s) => s.len(),
            AttrValue::N(n) => number_size(n),
            AttrValue::B(b) => b.len(),
            AttrValue::Bool(_) | AttrValue::Null => 1,
            AttrValue::Ss(set) => set.iter().map(String::len).sum(),
            AttrValue::Ns(set) => set.iter().map(|n| number_size(n)).sum(),
            AttrValue::Bs(set) => set.iter().map(|b| b.len()).sum(),
            AttrValue::L(list) => 3 + list.iter().map(|v| 1 + v.size()).sum::<usize>(),
            AttrValue::M(map) => {
                3 + map
                    .iter()
                    .map(|(k, v)| k.len() + 1 + v.size())
                    .sum::<usize>()
            }
        }
    }
}

/// A number's size: about one byte per two significant digits, plus one.
fn number_size(n: &str) -> usize {
    let digits = n.bytes().filter(u8::is_ascii_digit).count();
    digits.div_ceil(2) + 1
}

/// The size DynamoDB counts for an item: names plus values.
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value.size())
        .sum()
}

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
pub fn from_aws(value: &AttributeValue) -> Result<AttrValue> {
    Ok(match value {
        AttributeValue::S(s) => AttrValue::S(s.clone()),
        AttributeValue::N(n) => AttrValue::N(n.clone()),
        AttributeValue::B(b) => AttrValue::B(b.as_ref().to_vec()),
        AttributeValue::Bool(b) => AttrValue::Bool(*b),
        AttributeValue::Null(_) => AttrValue::Null,
        AttributeValue::Ss(s) => AttrValue::Ss(s.clone()),
        AttributeValue::Ns(s) => AttrValue::Ns(s.clone()),
        AttributeValue::Bs(s) => AttrValue::Bs(
            s.iter()
                .map(|b| serde_bytes::ByteBuf::from(b.as_ref()))
                .collect(),
        ),
        AttributeValue::L(list) => AttrValue::L(list.iter().map(from_aws).collect::<Result<_>>()?),
        AttributeValue::M(map) => AttrValue::M(from_aws_item(map)?),
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
pub fn to_aws(value: &AttrValue) -> AttributeValue {
    match value {
        AttrValue::S(s) => AttributeValue::S(s.clone()),
        AttrValue::N(n) => AttributeValue::N(n.clone()),
        AttrValue::B(b) => AttributeValue::B(Blob::new(b.clone())),
        AttrValue::Bool(b) => AttributeValue::Bool(*b),
        AttrValue::Null => AttributeValue::Null(true),
        AttrValue::Ss(s) => AttributeValue::Ss(s.clone()),
        AttrValue::Ns(s) => AttributeValue::Ns(s.clone()),
        AttrValue::Bs(s) => AttributeValue::Bs(s.iter().map(|b| Blob::new(b.to_vec())).collect()),
        AttrValue::L(list) => AttributeValue::L(list.iter().map(to_aws).collect()),
        AttrValue::M(map) => AttributeValue::M(to_aws_item(map)),
    }
}

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
pub fn from_json(json: &Json) -> Result<AttrValue> {
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
        "S" => AttrValue::S(text(inner)?),
        "N" => AttrValue::N(text(inner)?),
        "B" => AttrValue::B(bytes(inner)?),
        "BOOL" => AttrValue::Bool(
            inner
                .as_bool()
                .ok_or_else(|| anyhow!("BOOL needs true or false"))?,
        ),
        "NULL" => AttrValue::Null,
        "SS" => AttrValue::Ss(array(inner)?.iter().map(text).collect::<Result<_>>()?),
        "NS" => AttrValue::Ns(array(inner)?.iter().map(text).collect::<Result<_>>()?),
        "BS" => AttrValue::Bs(
            array(inner)?
                .iter()
                .map(|v| bytes(v).map(serde_bytes::ByteBuf::from))
                .collect::<Result<_>>()?,
        ),
        "L" => AttrValue::L(array(inner)?.iter().map(from_json).collect::<Result<_>>()?),
        "M" => AttrValue::M(from_json_item(inner)?),
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
pub fn to_json(value: &AttrValue) -> Json {
    match value {
        AttrValue::S(s) => json!({ "S": s }),
        AttrValue::N(n) => json!({ "N": n }),
        AttrValue::B(b) => json!({ "B": BASE64.encode(b) }),
        AttrValue::Bool(b) => json!({ "BOOL": b }),
        AttrValue::Null => json!({ "NULL": true }),
        AttrValue::Ss(s) => json!({ "SS": s }),
        AttrValue::Ns(s) => json!({ "NS": s }),
        AttrValue::Bs(s) => json!({ "BS": s.iter().map(|b| BASE64.encode(b)).collect::<Vec<_>>() }),
        AttrValue::L(list) => json!({ "L": list.iter().map(to_json).collect::<Vec<_>>() }),
        AttrValue::M(map) => json!({ "M": to_json_item(map) }),
    }
}

/// Checks what DynamoDB would reject in a value, so a bad action fails before anything is
/// written: empty or duplicated sets, malformed numbers, nesting deeper than DynamoDB allows.
pub fn validate_value(value: &AttrValue, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("nesting deeper than DynamoDB's {MAX_DEPTH} levels"));
    }
    fn distinct<T: Ord>(name: &str, items: impl Iterator<Item = T>) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        let mut count = 0;
        for item in items {
            count += 1;
            if !seen.insert(item) {
                return Err(format!("{name} holds the same element twice"));
            }
        }
        if count == 0 {
            return Err(format!("{name} is empty; DynamoDB has no empty sets"));
        }
        Ok(())
    }
    match value {
        AttrValue::N(n) => validate_number(n),
        AttrValue::Ss(set) => distinct("string set", set.iter()),
        AttrValue::Ns(set) => {
            set.iter().try_for_each(|n| validate_number(n))?;
            distinct("number set", set.iter().map(|n| canonical_number(n)))
        }
        AttrValue::Bs(set) => distinct("binary set", set.iter()),
        AttrValue::L(list) => list.iter().try_for_each(|v| validate_value(v, depth + 1)),
        AttrValue::M(map) => map.values().try_for_each(|v| validate_value(v, depth + 1)),
        _ => Ok(()),
    }
}

/// Checks a DynamoDB number: decimal syntax, at most 38 significant digits, and a magnitude
/// between 1E-130 and 9.99…E+125 (or zero).
pub fn validate_number(n: &str) -> Result<(), String> {
    parse_number(n).map(|_| ())
}

/// A number reduced to sign, significant digits and the power of ten of the first digit;
/// `None` for zero. `1.50`, `15E-1` and `+1.5` parse to the same value.
fn parse_number(n: &str) -> Result<Option<(bool, String, i64)>, String> {
    let bad = |why: &str| Err(format!("`{n}` is not a DynamoDB number: {why}"));
    let (mantissa, exponent) = match n.find(['e', 'E']) {
        Some(at) => (&n[..at], Some(&n[at + 1..])),
        None => (n, None),
    };
    let negative = mantissa.starts_with('-');
    let mantissa = mantissa.strip_prefix(['-', '+']).unwrap_or(mantissa);
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return bad("expected digits with an optional sign, point and exponent");
    }
    let exponent: i64 = match exponent {
        Some(e) => match e.parse() {
            Ok(e) => e,
            Err(_) => return bad("the exponent is not a whole number"),
        },
        None => 0,
    };
    let digits = format!("{int}{frac}");
    let leading = digits.len() - digits.trim_start_matches('0').len();
    let significant = digits.trim_matches('0');
    if significant.is_empty() {
        return Ok(None);
    }
    if significant.len() > 38 {
        return bad("more than 38 significant digits");
    }
    let magnitude = int.len() as i64 - leading as i64 - 1 + exponent;
    if magnitude > 125 {
        return bad("larger than 9.9999999999999999999999999999999999999E+125");
    }
    if magnitude < -130 {
        return bad("smaller than 1E-130");
    }
    Ok(Some((negative, significant.to_owned(), magnitude)))
}

/// A number's value in one spelling, to compare set elements.
fn canonical_number(n: &str) -> Option<(bool, String, i64)> {
    parse_number(n).ok().flatten()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Arbitrary values, nested, with unicode, binary and sets (valid or not: conversions must
    /// round-trip whatever the tree holds).
    pub fn arb_value() -> impl Strategy<Value = AttrValue> {
        let number = "-?[0-9]{1,38}(\\.[0-9]{1,10})?(E-?[0-9]{1,2})?";
        let leaf = prop_oneof![
            any::<String>().prop_map(AttrValue::S),
            number.prop_map(AttrValue::N),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(AttrValue::B),
            any::<bool>().prop_map(AttrValue::Bool),
            Just(AttrValue::Null),
            proptest::collection::vec(any::<String>(), 1..4).prop_map(AttrValue::Ss),
            proptest::collection::vec(number, 1..4).prop_map(AttrValue::Ns),
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..8), 1..4).prop_map(
                |s| AttrValue::Bs(s.into_iter().map(serde_bytes::ByteBuf::from).collect())
            ),
        ];
        leaf.prop_recursive(5, 64, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(AttrValue::L),
                proptest::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(AttrValue::M),
            ]
        })
    }

    /// Arbitrary items.
    pub fn arb_item() -> impl Strategy<Value = Item> {
        proptest::collection::btree_map(any::<String>(), arb_value(), 0..8)
    }

    proptest! {
        #[test]
        fn aws_round_trip(item in arb_item()) {
            prop_assert_eq!(from_aws_item(&to_aws_item(&item)).unwrap(), item);
        }

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

    #[test]
    fn numbers_follow_dynamodb_rules() {
        for good in [
            "0",
            "-0",
            "1",
            "1.5",
            ".5",
            "5.",
            "-1.5E+10",
            "1e-130",
            "9.9999999999999999999999999999999999999E+125",
            "12345678901234567890123456789012345678",
            "0.000",
        ] {
            assert_eq!(validate_number(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "-",
            "abc",
            "1.2.3",
            "1e",
            "1e1.5",
            "123456789012345678901234567890123456789",
            "1e126",
            "1e-131",
            "0x10",
            " 1",
        ] {
            assert!(validate_number(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sets_must_be_non_empty_and_distinct() {
        assert!(validate_value(&AttrValue::Ss(vec![]), 0)
            .unwrap_err()
            .contains("empty"));
        assert!(
            validate_value(&AttrValue::Ss(vec!["a".into(), "a".into()]), 0)
                .unwrap_err()
                .contains("twice")
        );
        assert!(
            validate_value(&AttrValue::Ns(vec!["1.0".into(), "1".into()]), 0)
                .unwrap_err()
                .contains("twice")
        );
        assert_eq!(
            validate_value(&AttrValue::Ns(vec!["1".into(), "2".into()]), 0),
            Ok(())
        );
    }

    #[test]
    fn item_size_counts_names_and_values() {
        let item: Item = [
            ("id".to_string(), AttrValue::S("abc".into())),
            ("n".to_string(), AttrValue::N("1234".into())),
        ]
        .into_iter()
        .collect();
        assert_eq!(item_size(&item), 2 + 3 + 1 + 3);
    }
}
