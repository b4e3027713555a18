//! Migration {{number}} `{{name}}` over the table `{{table}}` (key: {{key_list}}).
//!
//! As written by `drift-host new`, it stamps every item with `migrated_by = "{{name}}"`, and
//! `rollback` takes the stamp away again: replace both with what this migration changes.

use drift_sdk::prelude::*;

/// The `{{name}}` migration.
pub struct {{type_name}};

/// The table's key attributes.
const KEY: &[&str] = &[{{key_literals}}];

impl Migration for {{type_name}} {
    fn info() -> Info {
        Info::new({{number}}, "{{name}}", "{{table}}")
            .description("Stamps every item with migrated_by = {{name}}.")
    }

    fn migrate(item: Item) -> Result<Vec<Action>, Error> {
        let mut change = update(item.key(KEY)?);
        change.set("migrated_by", "{{name}}");
        Ok(vec![change.into()])
    }

    fn rollback(item: Item) -> Result<Vec<Action>, Error> {
        if item.get_str("migrated_by") != Some("{{name}}") {
            return Ok(vec![]);
        }
        let mut change = update(item.key(KEY)?);
        change.remove("migrated_by");
        Ok(vec![change.into()])
    }
}

drift_sdk::export_migration!({{type_name}});

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> Item {
        Item::new(){{sample_with}}.with("name", "Ada")
    }

    #[test]
    fn migrate_stamps_the_item() {
        let actions = {{type_name}}::migrate(item()).unwrap();
        let [Action::Update(change)] = actions.as_slice() else {
            panic!("expected one update, got {actions:?}");
        };
        assert_eq!(
            change.resolved().unwrap(),
            "SET migrated_by = \"{{name}}\""
        );
    }

    #[test]
    fn rollback_removes_only_its_own_stamp() {
        let stamped = item().with("migrated_by", "{{name}}");
        assert_eq!({{type_name}}::rollback(stamped).unwrap().len(), 1);
        let other = item().with("migrated_by", "someone else");
        assert!({{type_name}}::rollback(other).unwrap().is_empty());
    }
}
