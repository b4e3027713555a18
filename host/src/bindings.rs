//! The one place that generates Rust bindings for the `drift:migration` WIT world.
//!
//! Everything else in the host uses these types through this module, so a change of the world
//! shows up as compile errors in exactly the code that must follow it.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "drift:migration/migration",
});

pub use drift::migration::types as wit;

/// The WIT source of the world, for wrapping core modules into components.
pub const WIT_SOURCE: &str = include_str!("../../wit/migration.wit");
