//! Converts between host items ([`Item`]) and the WIT item arena the guests see.
//!
//! Guest output is untrusted: [`decode`] checks every index, takes each node out of the arena
//! as it is used (so a node referenced twice, shared or cyclic, is caught without extra
//! bookkeeping) and bounds the nesting depth before any recursion can run deep.

use crate::bindings::wit;
use crate::item::{AttrValue, Item, MAX_DEPTH};

/// Flattens an item into the arena form passed to the guest.
pub fn encode(item: &Item) -> wit::Item {
    let mut nodes = Vec::new();
    let attributes = item
        .iter()
        .map(|(name, value)| (name.clone(), push(&mut nodes, value)))
        .collect();
    wit::Item { attributes, nodes }
}

fn push(nodes: &mut Vec<wit::Value>, value: &AttrValue) -> u32 {
    let index = nodes.len();
    // Reserve the parent's slot first: its children are numbered after it.
    nodes.push(wit::Value::Null);
    let node = match value {
        AttrValue::S(s) => wit::Value::S(s.clone()),
        AttrValue::N(n) => wit::Value::N(n.clone()),
        AttrValue::B(b) => wit::Value::B(b.clone()),
        AttrValue::Bool(b) => wit::Value::Boolean(*b),
        AttrValue::Null => wit::Value::Null,
        AttrValue::Ss(s) => wit::Value::Ss(s.clone()),
        AttrValue::Ns(s) => wit::Value::Ns(s.clone()),
        AttrValue::Bs(s) => wit::Value::Bs(s.iter().map(|b| b.to_vec()).collect()),
        AttrValue::L(list) => wit::Value::L(list.iter().map(|v| push(nodes, v)).collect()),
        AttrValue::M(map) => wit::Value::M(
            map.iter()
                .map(|(name, v)| (name.clone(), push(nodes, v)))
                .collect(),
        ),
    };
    nodes[index] = node;
    index as u32
}

/// Rebuilds an item from a guest's arena, rejecting indices out of range, nodes referenced
/// more than once (which includes cycles), duplicate attribute names and nesting deeper than
/// DynamoDB allows.
pub fn decode(item: wit::Item) -> Result<Item, String> {
    let mut nodes: Vec<Option<wit::Value>> = item.nodes.into_iter().map(Some).collect();
    let mut out = Item::new();
    for (name, index) in item.attributes {
        let value = take(&mut nodes, index, 0)?;
        if out.insert(name.clone(), value).is_some() {
            return Err(format!("attribute `{name}` appears twice"));
        }
    }
    Ok(out)
}

fn take(nodes: &mut [Option<wit::Value>], index: u32, depth: usize) -> Result<AttrValue, String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "item arena nests deeper than DynamoDB's {MAX_DEPTH} levels"
        ));
    }
    let node = nodes
        .get_mut(index as usize)
        .ok_or_else(|| format!("item arena: node index {index} is out of range"))?
        .take()
        .ok_or_else(|| {
            format!("item arena: node {index} is referenced more than once (shared or cyclic)")
        })?;
    Ok(match node {
        wit::Value::S(s) => AttrValue::S(s),
        wit::Value::N(n) => AttrValue::N(n),
        wit::Value::B(b) => AttrValue::B(b),
        wit::Value::Boolean(b) => AttrValue::Bool(b),
        wit::Value::Null => AttrValue::Null,
        wit::Value::Ss(s) => AttrValue::Ss(s),
        wit::Value::Ns(s) => AttrValue::Ns(s),
        wit::Value::Bs(s) => AttrValue::Bs(s.into_iter().map(serde_bytes::ByteBuf::from).collect()),
        wit::Value::L(list) => AttrValue::L(
            list.into_iter()
                .map(|i| take(nodes, i, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        wit::Value::M(map) => {
            let mut out = Item::new();
            for (name, i) in map {
                let value = take(nodes, i, depth + 1)?;
                if out.insert(name.clone(), value).is_some() {
                    return Err(format!("map key `{name}` appears twice"));
                }
            }
            AttrValue::M(out)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::tests::arb_item;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arena_round_trip(item in arb_item()) {
            prop_assert_eq!(decode(encode(&item)).unwrap(), item);
        }
    }

    fn arena(attributes: Vec<(&str, u32)>, nodes: Vec<wit::Value>) -> wit::Item {
        wit::Item {
            attributes: attributes
                .into_iter()
                .map(|(n, i)| (n.to_owned(), i))
                .collect(),
            nodes,
        }
    }

    #[test]
    fn rejects_bad_arenas() {
        use wit::Value::*;
        let cases = [
            (
                arena(vec![("a", 3)], vec![Null]),
                "node index 3 is out of range",
            ),
            (
                arena(vec![("a", 0), ("b", 0)], vec![Null]),
                "referenced more than once",
            ),
            (
                arena(vec![("a", 0)], vec![L(vec![0])]),
                "referenced more than once",
            ),
            (
                arena(
                    vec![("a", 0)],
                    vec![M(vec![("x".into(), 1), ("x".into(), 2)]), Null, Null],
                ),
                "map key `x` appears twice",
            ),
            (
                arena(vec![("a", 0), ("a", 1)], vec![Null, Null]),
                "attribute `a` appears twice",
            ),
        ];
        for (input, expected) in cases {
            let error = decode(input).unwrap_err();
            assert!(
                error.contains(expected),
                "{error} should contain {expected}"
            );
        }
    }

    #[test]
    fn deep_chains_are_rejected_without_deep_recursion() {
        let depth = 1_000_000u32;
        let nodes = (0..depth)
            .map(|i| wit::Value::L(vec![i + 1]))
            .chain([wit::Value::Null])
            .collect();
        let error = decode(arena(vec![("a", 0)], nodes)).unwrap_err();
        assert!(error.contains("deeper than DynamoDB's 32 levels"));
    }
}
