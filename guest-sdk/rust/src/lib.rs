//! Write DynamoDB data migrations for drift-host in Rust.
//!
//! A migration is a type implementing [`Migration`], exported with [`export_migration!`] from
//! a `cdylib` crate built for `wasm32-wasip2`:
//!
//! ```
//! use drift_sdk::prelude::*;
//!
//! struct AddFlag;
//!
//! impl Migration for AddFlag {
//!     fn info() -> Info {
//!         Info::new(7, "add_flag", "users").description("Mark every user as active.")
//!     }
//!
//!     fn migrate(user: Item) -> Result<Vec<Action>, Error> {
//!         let key = user.key(&["id"])?;
//!         Ok(vec![update(key).set("active", true).into()])
//!     }
//! }
//!
//! drift_sdk::export_migration!(AddFlag);
//!
//! // The logic is plain Rust: test it natively.
//! let actions = AddFlag::migrate(Item::new().with("id", "u1")).unwrap();
//! let Action::Update(update) = &actions[0] else { unreachable!() };
//! assert_eq!(update.resolved().unwrap(), "SET active = true");
//! ```
//!
//! A migration run with `drift-host run --live` (a table the application keeps writing) must be
//! idempotent: the run migrates an item again whenever the table's stream shows it written,
//! its own writes included, so `migrate` of a migrated item returns no action, or actions that
//! leave it as it is (check a version; `set` computed values rather than `add` or
//! `list_append`). `drift-host test MIGRATION --cases DIR --idempotent` checks it.
//!
//! Everything except [`log`]'s and [`db`]'s host calls is plain Rust, so a migration's logic
//! unit-tests with `cargo test` on the host machine. Values, items, paths, limits and update
//! expressions come from the `drift-value` crate, which drift-host shares.

pub mod action;
pub mod db;
mod error;
pub mod log;

pub use action::{delete, put, update, Action, ActionBuilder, Common, Delete, Put, Update};
pub use drift_value::{arena, expression, limits, Item, Path, PathError, Segment, Value};
pub use error::Error;

/// Bindings generated from the repository's `wit/` world. Migrations rarely need them directly.
#[allow(missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "drift:migration/migration",
        pub_export_macro: true,
        default_bindings_module: "drift_sdk::bindings",
    });
}

// The generated arena types, encoded and decoded by drift-value's codec (the host's).
drift_value::arena_node!(bindings::drift::migration::types::Value);
drift_value::arena_item!(
    bindings::drift::migration::types::Item,
    bindings::drift::migration::types::Value
);

/// Everything a migration usually needs.
pub mod prelude {
    pub use crate::{
        delete, put, update, Action, ActionBuilder, Delete, Error, Info, Item, Migration, Put,
        Update, Value,
    };
}

/// What a migration is: number, name, table, and the other tables its actions may touch.
#[derive(Debug, Clone, PartialEq)]
pub struct Info {
    /// Position in the project's sequence of migrations.
    pub number: u64,
    /// Short name.
    pub name: String,
    /// What it changes and why.
    pub description: String,
    /// The table that is scanned.
    pub table: String,
    /// Other tables that actions may write to.
    pub other_tables: Vec<String>,
}

impl Info {
    /// A migration numbered `number`, called `name`, over `table`.
    pub fn new(number: u64, name: impl Into<String>, table: impl Into<String>) -> Info {
        Info {
            number,
            name: name.into(),
            description: String::new(),
            table: table.into(),
            other_tables: Vec::new(),
        }
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Info {
        self.description = description.into();
        self
    }

    /// Declares another table that actions may write to.
    pub fn other_table(mut self, table: impl Into<String>) -> Info {
        self.other_tables.push(table.into());
        self
    }
}

/// A data migration: called once per item of its table.
pub trait Migration {
    /// Describes the migration.
    fn info() -> Info;

    /// The actions for one item; an error fails the item, and the host then applies nothing.
    fn migrate(item: Item) -> Result<Vec<Action>, Error>;

    /// The actions that undo [`Migration::migrate`] for one item of the migrated table.
    fn rollback(_item: Item) -> Result<Vec<Action>, Error> {
        Err("this migration has no rollback".into())
    }
}

/// Exports a [`Migration`] as the component's `info`, `migrate` and `rollback`.
#[macro_export]
macro_rules! export_migration {
    ($migration:ty) => {
        #[doc(hidden)]
        pub struct __DriftExports;

        impl $crate::bindings::Guest for __DriftExports {
            fn info() -> $crate::bindings::Info {
                $crate::exports::info::<$migration>()
            }
            fn migrate(
                item: $crate::bindings::Item,
            ) -> ::std::result::Result<::std::vec::Vec<$crate::bindings::Action>, ::std::string::String> {
                $crate::exports::call(item, <$migration as $crate::Migration>::migrate)
            }
            fn rollback(
                item: $crate::bindings::Item,
            ) -> ::std::result::Result<::std::vec::Vec<$crate::bindings::Action>, ::std::string::String> {
                $crate::exports::call(item, <$migration as $crate::Migration>::rollback)
            }
        }

        $crate::bindings::export!(__DriftExports with_types_in $crate::bindings);
    };
}

/// Glue between the WIT exports and [`Migration`]; used by [`export_migration!`].
#[doc(hidden)]
pub mod exports {
    use crate::bindings::drift::migration::types as wit;
    use crate::{arena, Action, Common, Error, Migration};

    /// `info` export.
    pub fn info<M: Migration>() -> wit::Info {
        let info = M::info();
        wit::Info {
            number: info.number,
            name: info.name,
            description: info.description,
            table: info.table,
            other_tables: info.other_tables,
        }
    }

    /// `migrate` / `rollback` export: decode, call, encode.
    pub fn call(
        item: wit::Item,
        f: fn(crate::Item) -> Result<Vec<Action>, Error>,
    ) -> Result<Vec<wit::Action>, String> {
        let actions = f(arena::decode_item(item)?).map_err(Error::into_message)?;
        actions.into_iter().map(to_wit).collect()
    }

    /// Lowers one action; fails on an update that has no valid expression.
    pub fn to_wit(action: Action) -> Result<wit::Action, String> {
        Ok(match action {
            Action::Put(put) => wit::Action::Put(wit::PutAction {
                item: arena::encode_item(&put.item),
                attributes: attributes(&put.common),
                table: put.common.table,
                condition: put.common.condition,
            }),
            Action::Update(update) => wit::Action::Update(wit::UpdateAction {
                key: arena::encode_item(&update.key),
                update_expression: update.update_expression()?,
                attributes: attributes(&update.common),
                upsert: update.upsert,
                table: update.common.table,
                condition: update.common.condition,
            }),
            Action::Delete(delete) => wit::Action::Delete(wit::DeleteAction {
                key: arena::encode_item(&delete.key),
                attributes: attributes(&delete.common),
                table: delete.common.table,
                condition: delete.common.condition,
            }),
        })
    }

    /// Lowers placeholders and their values.
    pub fn attributes(common: &Common) -> wit::ExpressionAttributes {
        wit::ExpressionAttributes {
            names: common
                .names
                .iter()
                .map(|(p, n)| (p.clone(), n.clone()))
                .collect(),
            values: arena::encode_item(&common.values),
        }
    }
}
