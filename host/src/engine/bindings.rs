//! The one place that generates Rust bindings for the `drift:migration` WIT world, and the
//! glue that moves items in and out of its arena through the shared codec of `drift-value`.
//!
//! Everything else in the host uses these types through this module, so a change of the world
//! shows up as compile errors in exactly the code that must follow it.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "drift:migration/migration",
});

pub use drift::migration::types as wit;

/// The WIT source of the world, for wrapping core modules into components.
pub const WIT_SOURCE: &str = include_str!("../../../wit/migration.wit");

drift_value::arena_node!(wit::Value);
drift_value::arena_item!(wit::Item, wit::Value);

/// Items in and out of the guest's arena form. Guest output is untrusted: [`arena::decode`]
/// rejects indices out of range, shared or cyclic nodes, duplicate names and nesting deeper
/// than DynamoDB allows (the checks live in `drift_value::arena`, shared with the SDK).
pub mod arena {
    use super::wit;
    use crate::model::item::Item;

    /// Flattens an item into the arena form passed to the guest.
    pub fn encode(item: &Item) -> wit::Item {
        drift_value::arena::encode_item(item)
    }

    /// Rebuilds an item from a guest's arena, checking it.
    pub fn decode(item: wit::Item) -> Result<Item, String> {
        drift_value::arena::decode_item(item)
    }
}
