//! The WIT world's item arena, one codec for every bindings generator.
//!
//! WIT types cannot be recursive, so `wit/migration.wit` passes an item as a flat arena: a
//! `list<value>` of nodes, in which a list or map refers to its children by index, and the
//! top-level attributes as `(name, index)` pairs. wasmtime's `bindgen!` (the host) and
//! wit-bindgen's `generate!` (the guests) each generate their own `value` and `item` types;
//! [`arena_node!`](crate::arena_node) and [`arena_item!`](crate::arena_item) connect them to
//! this module's [`Node`], so that both sides encode and decode with the same code:
//!
//! ```
//! use drift_value::{arena, Item};
//!
//! // What both generators make of the WIT `value` variant and `item` record.
//! enum Value {
//!     S(String), N(String), B(Vec<u8>), Boolean(bool), Null,
//!     Ss(Vec<String>), Ns(Vec<String>), Bs(Vec<Vec<u8>>), L(Vec<u32>), M(Vec<(String, u32)>),
//! }
//! struct Record {
//!     attributes: Vec<(String, u32)>,
//!     nodes: Vec<Value>,
//! }
//! drift_value::arena_node!(Value);
//! drift_value::arena_item!(Record, Value);
//!
//! let item = Item::new().with("id", "u1").with("visits", 3);
//! let record: Record = arena::encode_item(&item);
//! assert_eq!(record.nodes.len(), 2);
//! assert_eq!(arena::decode_item(record), Ok(item));
//! ```
//!
//! An arena from the other side is untrusted: [`decode`] checks every index, takes each node
//! out as it is used (so a node referenced twice, shared or cyclic, is caught without extra
//! bookkeeping), rejects duplicate attribute and map key names, and bounds the nesting depth
//! before any recursion can run deep.

use crate::limits::MAX_DEPTH;
use crate::{Item, Value};

/// One node of an arena, with the variants of the WIT `value`: the form every generated
/// `value` type converts to and from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// String (`S`).
    S(String),
    /// Number (`N`), as decimal text.
    N(String),
    /// Binary (`B`).
    B(Vec<u8>),
    /// Boolean (`BOOL`).
    Boolean(bool),
    /// Null (`NULL`).
    Null,
    /// String set (`SS`).
    Ss(Vec<String>),
    /// Number set (`NS`).
    Ns(Vec<String>),
    /// Binary set (`BS`).
    Bs(Vec<Vec<u8>>),
    /// List (`L`): indices of the elements in the arena.
    L(Vec<u32>),
    /// Map (`M`): names with the indices of their values in the arena.
    M(Vec<(String, u32)>),
}

/// A generated WIT `value` type; implement it with [`arena_node!`](crate::arena_node).
pub trait ArenaNode: Sized {
    /// Converts from the shared form.
    fn from_node(node: Node) -> Self;
    /// Converts to the shared form.
    fn into_node(self) -> Node;
}

/// A generated WIT `item` record (`{ attributes, nodes }`); implement it with
/// [`arena_item!`](crate::arena_item).
pub trait ArenaItem: Sized {
    /// The record's node type.
    type Node: ArenaNode;
    /// Builds the record from its fields.
    fn from_parts(attributes: Vec<(String, u32)>, nodes: Vec<Self::Node>) -> Self;
    /// Takes the record apart.
    fn into_parts(self) -> (Vec<(String, u32)>, Vec<Self::Node>);
}

impl ArenaNode for Node {
    fn from_node(node: Node) -> Node {
        node
    }

    fn into_node(self) -> Node {
        self
    }
}

/// Implements [`ArenaNode`] for a generated WIT `value` enum (variants `S`, `N`, `B`,
/// `Boolean`, `Null`, `Ss`, `Ns`, `Bs`, `L`, `M`, as both wasmtime's `bindgen!` and
/// wit-bindgen's `generate!` name them). Fields are moved, never copied.
#[macro_export]
macro_rules! arena_node {
    ($value:ty) => {
        impl $crate::arena::ArenaNode for $value {
            fn from_node(node: $crate::arena::Node) -> Self {
                use $crate::arena::Node;
                match node {
                    Node::S(s) => Self::S(s),
                    Node::N(n) => Self::N(n),
                    Node::B(b) => Self::B(b),
                    Node::Boolean(b) => Self::Boolean(b),
                    Node::Null => Self::Null,
                    Node::Ss(s) => Self::Ss(s),
                    Node::Ns(s) => Self::Ns(s),
                    Node::Bs(s) => Self::Bs(s),
                    Node::L(l) => Self::L(l),
                    Node::M(m) => Self::M(m),
                }
            }

            fn into_node(self) -> $crate::arena::Node {
                use $crate::arena::Node;
                match self {
                    Self::S(s) => Node::S(s),
                    Self::N(n) => Node::N(n),
                    Self::B(b) => Node::B(b),
                    Self::Boolean(b) => Node::Boolean(b),
                    Self::Null => Node::Null,
                    Self::Ss(s) => Node::Ss(s),
                    Self::Ns(s) => Node::Ns(s),
                    Self::Bs(s) => Node::Bs(s),
                    Self::L(l) => Node::L(l),
                    Self::M(m) => Node::M(m),
                }
            }
        }
    };
}

/// Implements [`ArenaItem`] for a generated WIT `item` record (fields `attributes` and
/// `nodes`) whose nodes are `$value` (which needs [`arena_node!`](crate::arena_node)).
#[macro_export]
macro_rules! arena_item {
    ($item:ty, $value:ty) => {
        impl $crate::arena::ArenaItem for $item {
            type Node = $value;

            fn from_parts(
                attributes: ::std::vec::Vec<(::std::string::String, u32)>,
                nodes: ::std::vec::Vec<$value>,
            ) -> Self {
                Self { attributes, nodes }
            }

            fn into_parts(
                self,
            ) -> (
                ::std::vec::Vec<(::std::string::String, u32)>,
                ::std::vec::Vec<$value>,
            ) {
                (self.attributes, self.nodes)
            }
        }
    };
}

/// Flattens `item` into an arena: the top-level attributes and the nodes.
pub fn encode<N: ArenaNode>(item: &Item) -> (Vec<(String, u32)>, Vec<N>) {
    encode_attributes(item.iter())
}

/// Flattens attributes, in the order given, into an arena.
pub fn encode_attributes<'a, N: ArenaNode>(
    attributes: impl IntoIterator<Item = (&'a String, &'a Value)>,
) -> (Vec<(String, u32)>, Vec<N>) {
    let mut nodes = Vec::new();
    let attributes = attributes
        .into_iter()
        .map(|(name, value)| (name.clone(), push(&mut nodes, value)))
        .collect();
    (attributes, nodes)
}

/// Encodes `item` as a generated `item` record.
pub fn encode_item<I: ArenaItem>(item: &Item) -> I {
    let (attributes, nodes) = encode(item);
    I::from_parts(attributes, nodes)
}

fn push<N: ArenaNode>(nodes: &mut Vec<N>, value: &Value) -> u32 {
    let index = nodes.len();
    // Reserve the parent's slot first: its children are numbered after it.
    nodes.push(N::from_node(Node::Null));
    let node = match value {
        Value::S(s) => Node::S(s.clone()),
        Value::N(n) => Node::N(n.clone()),
        Value::B(b) => Node::B(b.clone()),
        Value::Bool(b) => Node::Boolean(*b),
        Value::Null => Node::Null,
        Value::Ss(s) => Node::Ss(s.clone()),
        Value::Ns(s) => Node::Ns(s.clone()),
        Value::Bs(s) => Node::Bs(s.clone()),
        Value::L(list) => Node::L(list.iter().map(|v| push(nodes, v)).collect()),
        Value::M(map) => Node::M(
            map.iter()
                .map(|(name, v)| (name.clone(), push(nodes, v)))
                .collect(),
        ),
    };
    nodes[index] = N::from_node(node);
    index as u32
}

/// Rebuilds an item from an arena, rejecting indices out of range, nodes referenced more than
/// once (which includes cycles), duplicate attribute or map key names, and nesting deeper than
/// [`MAX_DEPTH`].
pub fn decode<N: ArenaNode>(attributes: Vec<(String, u32)>, nodes: Vec<N>) -> Result<Item, String> {
    let mut nodes: Vec<Option<N>> = nodes.into_iter().map(Some).collect();
    let mut out = Item::new();
    for (name, index) in attributes {
        let value = take(&mut nodes, index, 0)?;
        if out.contains_key(&name) {
            return Err(format!("attribute `{name}` appears twice"));
        }
        out.insert(name, value);
    }
    Ok(out)
}

/// Decodes a generated `item` record; see [`decode`].
pub fn decode_item<I: ArenaItem>(item: I) -> Result<Item, String> {
    let (attributes, nodes) = item.into_parts();
    decode(attributes, nodes)
}

fn take<N: ArenaNode>(nodes: &mut [Option<N>], index: u32, depth: usize) -> Result<Value, String> {
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
    Ok(match node.into_node() {
        Node::S(s) => Value::S(s),
        Node::N(n) => Value::N(n),
        Node::B(b) => Value::B(b),
        Node::Boolean(b) => Value::Bool(b),
        Node::Null => Value::Null,
        Node::Ss(s) => Value::Ss(s),
        Node::Ns(s) => Value::Ns(s),
        Node::Bs(s) => Value::Bs(s),
        Node::L(list) => Value::L(
            list.into_iter()
                .map(|i| take(nodes, i, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Node::M(map) => {
            let mut out = Item::new();
            for (name, i) in map {
                let value = take(nodes, i, depth + 1)?;
                if out.contains_key(&name) {
                    return Err(format!("map key `{name}` appears twice"));
                }
                out.insert(name, value);
            }
            Value::M(out)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::arb_item;
    use proptest::prelude::*;

    /// A stand-in for a generated `value` type: the variant names the generators produce.
    #[derive(Debug, Clone, PartialEq)]
    enum Generated {
        S(String),
        N(String),
        B(Vec<u8>),
        Boolean(bool),
        Null,
        Ss(Vec<String>),
        Ns(Vec<String>),
        Bs(Vec<Vec<u8>>),
        L(Vec<u32>),
        M(Vec<(String, u32)>),
    }
    crate::arena_node!(Generated);

    /// A stand-in for a generated `item` record.
    #[derive(Debug, Clone, PartialEq)]
    struct GeneratedItem {
        attributes: Vec<(String, u32)>,
        nodes: Vec<Generated>,
    }
    crate::arena_item!(GeneratedItem, Generated);

    proptest! {
        #[test]
        fn round_trip(item in arb_item()) {
            let (attributes, nodes) = encode::<Node>(&item);
            prop_assert_eq!(decode(attributes, nodes).unwrap(), item.clone());
            let record: GeneratedItem = encode_item(&item);
            prop_assert_eq!(decode_item(record).unwrap(), item);
        }
    }

    #[test]
    fn round_trips_nested_values_in_preorder() {
        let inner: Item = [("k", Value::Ss(vec!["x".into(), "ÿ🦀".into()]))]
            .into_iter()
            .collect();
        let item = Item::new()
            .with("id", "u1")
            .with("bs", Value::Bs(vec![vec![1], vec![]]))
            .with(
                "list",
                vec![
                    Value::from(inner.clone()),
                    Value::L(vec![]),
                    Value::Bool(false),
                ],
            )
            .with("map", inner);
        let record: GeneratedItem = encode_item(&item);
        assert_eq!(
            record.attributes,
            [
                ("bs".to_owned(), 0),
                ("id".to_owned(), 1),
                ("list".to_owned(), 2),
                ("map".to_owned(), 7)
            ]
        );
        assert_eq!(record.nodes[2], Generated::L(vec![3, 5, 6]));
        assert_eq!(record.nodes[3], Generated::M(vec![("k".into(), 4)]));
        assert_eq!(record.nodes[6], Generated::Boolean(false));
        assert_eq!(decode_item(record).unwrap(), item);
    }

    fn arena(attributes: Vec<(&str, u32)>, nodes: Vec<Node>) -> Result<Item, String> {
        let attributes = attributes
            .into_iter()
            .map(|(n, i)| (n.to_owned(), i))
            .collect();
        decode(attributes, nodes)
    }

    #[test]
    fn rejects_bad_arenas() {
        use Node::*;
        let cases = [
            (
                arena(vec![("a", 3)], vec![Null]),
                "item arena: node index 3 is out of range",
            ),
            (
                arena(vec![("a", 0), ("b", 0)], vec![Null]),
                "item arena: node 0 is referenced more than once (shared or cyclic)",
            ),
            (
                arena(vec![("a", 0)], vec![L(vec![0])]),
                "item arena: node 0 is referenced more than once (shared or cyclic)",
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
        for (result, expected) in cases {
            assert_eq!(result.unwrap_err(), expected);
        }
    }

    #[test]
    fn nesting_up_to_dynamodbs_limit_is_accepted() {
        // An attribute at depth 0 holding 32 nested lists.
        let nodes = (0..32u32)
            .map(|i| Node::L(vec![i + 1]))
            .chain([Node::Null])
            .collect();
        assert!(arena(vec![("a", 0)], nodes).is_ok());
    }

    #[test]
    fn deep_chains_are_rejected_without_deep_recursion() {
        let depth = 1_000_000u32;
        let nodes = (0..depth)
            .map(|i| Node::L(vec![i + 1]))
            .chain([Node::Null])
            .collect();
        assert_eq!(
            arena(vec![("a", 0)], nodes).unwrap_err(),
            "item arena nests deeper than DynamoDB's 32 levels"
        );
    }
}
