//! Proptest strategies for values and items (feature `testing`), for the property tests of
//! this crate and of its users.

use proptest::prelude::*;

use crate::{Item, Value};

/// Arbitrary values, nested, with unicode, binary and sets; valid for DynamoDB or not (empty
/// strings, duplicate set elements), since conversions must round-trip whatever a tree holds.
pub fn arb_value() -> impl Strategy<Value = Value> {
    let number = "-?[0-9]{1,38}(\\.[0-9]{1,10})?(E-?[0-9]{1,2})?";
    let leaf = prop_oneof![
        any::<String>().prop_map(Value::S),
        number.prop_map(Value::N),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::B),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        proptest::collection::vec(any::<String>(), 1..4).prop_map(Value::Ss),
        proptest::collection::vec(number, 1..4).prop_map(Value::Ns),
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..8), 1..4)
            .prop_map(Value::Bs),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::L),
            proptest::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|map| Value::M(Item::from(map))),
        ]
    })
}

/// Arbitrary items of up to 7 attributes.
pub fn arb_item() -> impl Strategy<Value = Item> {
    proptest::collection::btree_map(any::<String>(), arb_value(), 0..8).prop_map(Item::from)
}
