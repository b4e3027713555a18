//! Converts between the SDK's tree ([`Item`], [`Value`]) and the WIT item arena.
//!
//! Decoding takes each node out of the arena as it is used, so a node referenced twice (shared
//! or cyclic) is detected without extra bookkeeping.

use crate::bindings::drift::migration::types as wit;
use crate::value::{Item, Value};

/// Flattens `attributes` into a WIT item arena.
pub fn encode<'a>(attributes: impl IntoIterator<Item = (&'a String, &'a Value)>) -> wit::Item {
    let mut nodes = Vec::new();
    let attributes = attributes
        .into_iter()
        .map(|(name, value)| (name.clone(), push(&mut nodes, value)))
        .collect();
    wit::Item { attributes, nodes }
}

/// Encodes `item`.
pub fn encode_item(item: &Item) -> wit::Item {
    encode(item.iter())
}

fn push(nodes: &mut Vec<wit::Value>, value: &Value) -> u32 {
    let index = nodes.len();
    // Reserve the parent's slot first: children are numbered after it.
    nodes.push(wit::Value::Null);
    let node = match value {
        Value::S(s) => wit::Value::S(s.clone()),
        Value::N(n) => wit::Value::N(n.clone()),
        Value::B(b) => wit::Value::B(b.clone()),
        Value::Bool(b) => wit::Value::Boolean(*b),
        Value::Null => wit::Value::Null,
        Value::Ss(s) => wit::Value::Ss(s.clone()),
        Value::Ns(s) => wit::Value::Ns(s.clone()),
        Value::Bs(s) => wit::Value::Bs(s.clone()),
        Value::L(list) => wit::Value::L(list.iter().map(|v| push(nodes, v)).collect()),
        Value::M(map) => wit::Value::M(
            map.iter()
                .map(|(name, v)| (name.clone(), push(nodes, v)))
                .collect(),
        ),
    };
    nodes[index] = node;
    index as u32
}

/// Rebuilds the tree of a WIT item arena; fails on an index out of range or a node used twice.
pub fn decode(item: wit::Item) -> Result<Item, String> {
    let mut nodes: Vec<Option<wit::Value>> = item.nodes.into_iter().map(Some).collect();
    item.attributes
        .into_iter()
        .map(|(name, index)| Ok((name, take(&mut nodes, index)?)))
        .collect()
}

fn take(nodes: &mut [Option<wit::Value>], index: u32) -> Result<Value, String> {
    let node = nodes
        .get_mut(index as usize)
        .ok_or_else(|| format!("item arena: node index {index} is out of range"))?
        .take()
        .ok_or_else(|| format!("item arena: node {index} is referenced more than once"))?;
    Ok(match node {
        wit::Value::S(s) => Value::S(s),
        wit::Value::N(n) => Value::N(n),
        wit::Value::B(b) => Value::B(b),
        wit::Value::Boolean(b) => Value::Bool(b),
        wit::Value::Null => Value::Null,
        wit::Value::Ss(s) => Value::Ss(s),
        wit::Value::Ns(s) => Value::Ns(s),
        wit::Value::Bs(s) => Value::Bs(s),
        wit::Value::L(list) => Value::L(
            list.into_iter()
                .map(|i| take(nodes, i))
                .collect::<Result<_, _>>()?,
        ),
        wit::Value::M(map) => Value::M(
            map.into_iter()
                .map(|(name, i)| Ok((name, take(nodes, i)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_nested_values() {
        let inner: Item = [("k", Value::Ss(vec!["x".into(), "ÿ🦀".into()]))]
            .into_iter()
            .collect();
        let item = Item::new()
            .with("id", "u1")
            .with("n", Value::number("-1.5E+10"))
            .with("bin", vec![0u8, 255])
            .with("null", Value::Null)
            .with("bs", Value::Bs(vec![vec![1], vec![]]))
            .with("ns", Value::Ns(vec!["1".into(), "2".into()]))
            .with(
                "list",
                vec![
                    Value::from(inner.clone()),
                    Value::L(vec![]),
                    Value::Bool(false),
                ],
            )
            .with("map", inner);
        let arena = encode_item(&item);
        assert_eq!(arena.attributes.len(), 8);
        assert_eq!(decode(arena).unwrap(), item);
    }

    #[test]
    fn rejects_out_of_range_shared_and_cyclic_nodes() {
        let out_of_range = wit::Item {
            attributes: vec![("a".into(), 1)],
            nodes: vec![wit::Value::Null],
        };
        assert_eq!(
            decode(out_of_range).unwrap_err(),
            "item arena: node index 1 is out of range"
        );
        let shared = wit::Item {
            attributes: vec![("a".into(), 0), ("b".into(), 0)],
            nodes: vec![wit::Value::Null],
        };
        assert!(decode(shared).unwrap_err().contains("more than once"));
        let cyclic = wit::Item {
            attributes: vec![("a".into(), 0)],
            nodes: vec![wit::Value::L(vec![0])],
        };
        assert!(decode(cyclic).unwrap_err().contains("more than once"));
    }
}
