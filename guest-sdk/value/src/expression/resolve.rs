//! An update expression with its placeholders replaced by what they stand for.

use std::collections::BTreeMap;

use super::{Spelling, UpdateExpression};
use crate::{Item, Value};

impl UpdateExpression {
    /// The expression with `#placeholders` replaced by attribute names and `:placeholders` by
    /// readable values (see [`readable`]): what a migration's unit test asserts on, e.g.
    /// `SET email_lower = "ada@example.com", schema_version = 2 REMOVE name`.
    ///
    /// Names other than letters, digits and `_` are quoted with backticks (`` `first name` ``).
    /// Fails on a placeholder that `names` or `values` does not define.
    pub fn resolve(
        &self,
        names: &BTreeMap<String, String>,
        values: &Item,
    ) -> Result<String, String> {
        let name = |placeholder: &str| {
            names
                .get(placeholder)
                .map(|name| readable_name(name))
                .ok_or_else(|| format!("undefined name placeholder `{placeholder}`"))
        };
        let value = |placeholder: &str| {
            values
                .get(placeholder)
                .map(readable)
                .ok_or_else(|| format!("undefined value placeholder `{placeholder}`"))
        };
        let mut out = String::new();
        self.write(
            &mut out,
            &Spelling {
                name: &name,
                value: &value,
            },
        )?;
        Ok(out)
    }
}

fn readable_name(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        name.to_owned()
    } else {
        format!("`{name}`")
    }
}

/// A value as a test reads it: `S` as a JSON string, `N` as its text, `BOOL` and `NULL` as
/// `true`, `false`, `null`, lists as `[..]` and maps as `{"name": ..}` of readable values, and
/// the types JSON has no form for in DynamoDB JSON: `{"B": "<base64>"}`, `{"SS": [..]}`,
/// `{"NS": [..]}`, `{"BS": [..]}`.
pub fn readable(value: &Value) -> String {
    let mut out = String::new();
    write_readable(&mut out, value);
    out
}

fn write_readable(out: &mut String, value: &Value) {
    fn list<T>(out: &mut String, items: &[T], mut write: impl FnMut(&mut String, &T)) {
        out.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write(out, item);
        }
        out.push(']');
    }
    match value {
        Value::S(s) => json_string(out, s),
        Value::N(n) => out.push_str(n),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Null => out.push_str("null"),
        Value::B(b) => {
            out.push_str("{\"B\": ");
            json_string(out, &base64(b));
            out.push('}');
        }
        Value::Ss(set) => {
            out.push_str("{\"SS\": ");
            list(out, set, |out, s| json_string(out, s));
            out.push('}');
        }
        Value::Ns(set) => {
            out.push_str("{\"NS\": ");
            list(out, set, |out, n| json_string(out, n));
            out.push('}');
        }
        Value::Bs(set) => {
            out.push_str("{\"BS\": ");
            list(out, set, |out, b| json_string(out, &base64(b)));
            out.push('}');
        }
        Value::L(values) => list(out, values, write_readable),
        Value::M(map) => {
            out.push('{');
            for (i, (name, value)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_string(out, name);
                out.push_str(": ");
                write_readable(out, value);
            }
            out.push('}');
        }
    }
}

/// `s` as a JSON string literal.
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Standard base64 with padding, as DynamoDB JSON spells binary.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        for (bytes, expected) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (&[0xff, 0xfe, 0x00][..], "//4A"),
        ] {
            assert_eq!(base64(bytes), expected);
        }
    }

    #[test]
    fn values_read_like_json() {
        let map = Item::new()
            .with("k", Value::Ns(vec!["1".into()]))
            .with("b", vec![1u8, 2]);
        for (value, expected) in [
            (Value::from("a \"q\"\n\u{1}é"), r#""a \"q\"\n\u0001é""#),
            (Value::number("-1.5E3"), "-1.5E3"),
            (Value::Bool(false), "false"),
            (Value::Null, "null"),
            (
                Value::Ss(vec!["x".into(), "y".into()]),
                r#"{"SS": ["x", "y"]}"#,
            ),
            (Value::Bs(vec![vec![0xff]]), r#"{"BS": ["/w=="]}"#),
            (
                Value::L(vec![Value::from(1), Value::from(map)]),
                r#"[1, {"b": {"B": "AQI="}, "k": {"NS": ["1"]}}]"#,
            ),
        ] {
            assert_eq!(readable(&value), expected);
        }
    }
}
