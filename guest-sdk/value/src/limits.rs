//! What DynamoDB rejects in items, keys and values, checked before anything is written so that a
//! bad action fails while nothing has been applied, instead of half-way through a run.

use std::collections::BTreeSet;

use crate::{Item, Value};

/// The largest item DynamoDB stores, attribute names included (see [`Item::size`]).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// DynamoDB's limit on the nesting of lists and maps.
pub const MAX_DEPTH: usize = 32;

/// Checks what DynamoDB would reject in a value: empty or duplicated sets, malformed numbers,
/// nesting deeper than [`MAX_DEPTH`]. `depth` is the value's own level: 1 for an attribute.
pub fn validate_value(value: &Value, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("nesting deeper than DynamoDB's {MAX_DEPTH} levels"));
    }
    match value {
        Value::N(n) => validate_number(n),
        Value::Ss(set) => distinct("string set", set.iter()),
        Value::Ns(set) => {
            set.iter().try_for_each(|n| validate_number(n))?;
            // `1` and `1.0` are the same element to DynamoDB.
            distinct(
                "number set",
                set.iter().map(|n| canonical_number(n).unwrap_or_default()),
            )
        }
        Value::Bs(set) => distinct("binary set", set.iter()),
        Value::L(list) => list.iter().try_for_each(|v| validate_value(v, depth + 1)),
        Value::M(map) => map.values().try_for_each(|v| validate_value(v, depth + 1)),
        Value::S(_) | Value::B(_) | Value::Bool(_) | Value::Null => Ok(()),
    }
}

/// A set must be non-empty and hold each element once.
fn distinct<T: Ord>(name: &str, elements: impl Iterator<Item = T>) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for element in elements {
        if !seen.insert(element) {
            return Err(format!("{name} holds the same element twice"));
        }
    }
    if seen.is_empty() {
        return Err(format!("{name} is empty; DynamoDB has no empty sets"));
    }
    Ok(())
}

/// Checks a DynamoDB number: decimal syntax, at most 38 significant digits, and a magnitude
/// between 1E-130 and 9.99…E+125 (or zero).
pub fn validate_number(n: &str) -> Result<(), String> {
    parse_number(n).map(|_| ())
}

/// The one spelling of a number's value: plain decimal, no exponent, no `+`, no leading or
/// trailing zeros, `0` for every zero. `1`, `1.0`, `+1`, `10E-1` and `0.1e1` all give `1`;
/// `-1.5E+3` gives `-1500`. Use it to compare numbers or to key items by a number.
pub fn canonical_number(n: &str) -> Result<String, String> {
    let Some(number) = parse_number(n)? else {
        return Ok("0".to_owned());
    };
    let digits = number.digits.as_str();
    let mut out = String::with_capacity(digits.len() + 3);
    if number.negative {
        out.push('-');
    }
    // Validation bounds the magnitude to -130..=125, so these casts cannot wrap.
    if number.magnitude < 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-number.magnitude - 1) as usize));
        out.push_str(digits);
    } else {
        let int_len = number.magnitude as usize + 1;
        if digits.len() <= int_len {
            out.push_str(digits);
            out.extend(std::iter::repeat_n('0', int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    Ok(out)
}

/// A non-zero number reduced to its value: `1.50`, `15E-1` and `+1.5` are all the same.
struct Number {
    negative: bool,
    /// The significant digits, without leading or trailing zeros.
    digits: String,
    /// The power of ten of the first significant digit.
    magnitude: i64,
}

/// Parses a DynamoDB number; `None` for zero.
fn parse_number(n: &str) -> Result<Option<Number>, String> {
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
    // Saturating: an exponent near i64's bounds must be rejected below, not overflow.
    let magnitude = (int.len() as i64 - leading as i64 - 1).saturating_add(exponent);
    if magnitude > 125 {
        return bad("larger than 9.9999999999999999999999999999999999999E+125");
    }
    if magnitude < -130 {
        return bad("smaller than 1E-130");
    }
    Ok(Some(Number {
        negative,
        digits: significant.to_owned(),
        magnitude,
    }))
}

/// Checks a primary key: one or two attributes (partition key, sort key), each a non-empty
/// string, a valid number or non-empty binary.
pub fn check_key(key: &Item) -> Result<(), String> {
    if key.is_empty() || key.len() > 2 {
        return Err(format!(
            "a key has one or two attributes (partition key, sort key), this one has {}",
            key.len()
        ));
    }
    for (name, value) in key {
        match value {
            Value::S(s) if s.is_empty() => {
                return Err(format!("key attribute `{name}` is an empty string"))
            }
            Value::B(b) if b.is_empty() => {
                return Err(format!("key attribute `{name}` is empty binary"))
            }
            Value::N(n) => {
                validate_number(n).map_err(|e| format!("key attribute `{name}`: {e}"))?
            }
            Value::S(_) | Value::B(_) => {}
            other => {
                return Err(format!(
                    "key attribute `{name}` is of type {}; keys are S, N or B",
                    other.type_name()
                ))
            }
        }
    }
    Ok(())
}

/// Checks an item to put: not empty, at most [`MAX_ITEM_BYTES`], every value valid.
pub fn check_item(item: &Item) -> Result<(), String> {
    if item.is_empty() {
        return Err("put of an empty item".into());
    }
    let size = item.size();
    if size > MAX_ITEM_BYTES {
        return Err(format!(
            "put item is {size} bytes, over DynamoDB's limit of {MAX_ITEM_BYTES}"
        ));
    }
    for (name, value) in item {
        validate_value(value, 1).map_err(|e| format!("attribute `{name}`: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
            "11e9223372036854775807",
            "0.01e-9223372036854775808",
        ] {
            assert!(validate_number(bad).is_err(), "{bad}");
        }
        assert_eq!(
            validate_number("1x").unwrap_err(),
            "`1x` is not a DynamoDB number: expected digits with an optional sign, point and exponent"
        );
    }

    #[test]
    fn every_spelling_of_a_number_has_one_canonical_form() {
        for (spellings, canonical) in [
            (
                &["1", "1.0", "+1", "10E-1", "0.1e1", "001", "1.", "100e-2"][..],
                "1",
            ),
            (&["-0", "0.000", "0", "+0e5", ".0", "0."][..], "0"),
            (&["1.5", "15E-1", "+1.50", "0.15e1"][..], "1.5"),
            (&["-1.5E+3", "-1500", "-1500.000"][..], "-1500"),
            (&[".05", "5e-2", "0.050"][..], "0.05"),
            (&["1200", "12E2", "1.2e3"][..], "1200"),
        ] {
            for spelling in spellings {
                assert_eq!(canonical_number(spelling).unwrap(), canonical, "{spelling}");
            }
        }
        assert_eq!(
            canonical_number("1e-130").unwrap(),
            format!("0.{}1", "0".repeat(129))
        );
        assert_eq!(
            canonical_number("1e125").unwrap(),
            format!("1{}", "0".repeat(125))
        );
        assert!(canonical_number("x")
            .unwrap_err()
            .contains("is not a DynamoDB number"));
    }

    #[test]
    fn sets_must_be_non_empty_and_distinct() {
        assert_eq!(
            validate_value(&Value::Ss(vec![]), 0).unwrap_err(),
            "string set is empty; DynamoDB has no empty sets"
        );
        assert_eq!(
            validate_value(&Value::Ss(vec!["a".into(), "a".into()]), 0).unwrap_err(),
            "string set holds the same element twice"
        );
        assert!(
            validate_value(&Value::Ns(vec!["1.0".into(), "1".into()]), 0)
                .unwrap_err()
                .contains("twice")
        );
        assert!(validate_value(&Value::Bs(vec![vec![1], vec![1]]), 0)
            .unwrap_err()
            .contains("twice"));
        assert_eq!(
            validate_value(&Value::Ns(vec!["1".into(), "2".into()]), 0),
            Ok(())
        );
        assert!(validate_value(&Value::Ns(vec!["1".into(), "x".into()]), 0)
            .unwrap_err()
            .contains("`x` is not a DynamoDB number"));
    }

    #[test]
    fn nesting_is_bounded() {
        // An attribute (level 1) of 31 nested lists: the innermost value is at level 32.
        let mut value = Value::Null;
        for _ in 1..MAX_DEPTH {
            value = Value::L(vec![value]);
        }
        assert_eq!(validate_value(&value, 1), Ok(()));
        assert_eq!(
            validate_value(&Value::L(vec![value]), 1).unwrap_err(),
            "nesting deeper than DynamoDB's 32 levels"
        );
    }

    #[test]
    fn keys_are_one_or_two_scalars() {
        let key = |pairs: Vec<(&str, Value)>| pairs.into_iter().collect::<Item>();
        assert_eq!(check_key(&key(vec![("id", Value::from("u1"))])), Ok(()));
        assert_eq!(
            check_key(&key(vec![
                ("pk", Value::from(1)),
                ("sk", Value::B(vec![0]))
            ])),
            Ok(())
        );
        for (bad, expected) in [
            (key(vec![]), "a key has one or two attributes (partition key, sort key), this one has 0"),
            (
                key(vec![("a", Value::from(1)), ("b", Value::from(2)), ("c", Value::from(3))]),
                "a key has one or two attributes (partition key, sort key), this one has 3",
            ),
            (key(vec![("x", Value::from(""))]), "key attribute `x` is an empty string"),
            (key(vec![("x", Value::B(vec![]))]), "key attribute `x` is empty binary"),
            (
                key(vec![("x", Value::Bool(true))]),
                "key attribute `x` is of type BOOL; keys are S, N or B",
            ),
            (
                key(vec![("x", Value::number("x"))]),
                "key attribute `x`: `x` is not a DynamoDB number: expected digits with an optional sign, point and exponent",
            ),
        ] {
            assert_eq!(check_key(&bad).unwrap_err(), expected);
        }
    }

    #[test]
    fn items_are_non_empty_small_and_valid() {
        assert_eq!(
            check_item(&Item::new()).unwrap_err(),
            "put of an empty item"
        );
        let big = Item::new()
            .with("id", "u1")
            .with("blob", vec![0u8; MAX_ITEM_BYTES]);
        assert_eq!(
            check_item(&big).unwrap_err(),
            format!(
                "put item is {} bytes, over DynamoDB's limit of {MAX_ITEM_BYTES}",
                MAX_ITEM_BYTES + 8
            )
        );
        let bad = Item::new().with("id", "u1").with("tags", Value::Ss(vec![]));
        assert_eq!(
            check_item(&bad).unwrap_err(),
            "attribute `tags`: string set is empty; DynamoDB has no empty sets"
        );
        assert_eq!(check_item(&Item::new().with("id", "u1")), Ok(()));
    }
}
