//! Example migration `users_v2` over the `users` table (partition key `id`):
//!
//! - `email_lower` = lowercase(`email`): lets the application look users up by email
//!   without caring about case;
//! - `schema_version` = 2;
//! - `name` is renamed to `full_name`.
//!
//! A user without an `email` is an error: the whole migration then applies nothing.
//! Users already at schema version 2 are left alone, so the migration can be run over a
//! partially migrated table. `rollback` restores version-1 users exactly.

use drift_sdk::prelude::*;

/// The `users_v2` migration.
pub struct UsersV2;

impl Migration for UsersV2 {
    fn info() -> Info {
        Info::new(2, "users_v2", "users")
            .description("Add email_lower and schema_version 2; rename name to full_name.")
    }

    fn migrate(user: Item) -> Result<Vec<Action>, Error> {
        if user.get_i64("schema_version") == Some(2) {
            return Ok(vec![]);
        }
        let email = match user.get("email") {
            Some(Value::S(email)) => email,
            Some(other) => {
                return Err(format!(
                    "user's `email` is of type {}, expected a string (S)",
                    other.type_name()
                )
                .into())
            }
            None => return Err("user has no `email` attribute".into()),
        };
        let mut change = update(user.key(&["id"])?);
        change
            .set("email_lower", email.to_lowercase())
            .set("schema_version", 2);
        if let Some(name) = user.get("name") {
            change.set("full_name", name.clone()).remove("name");
        }
        Ok(vec![change.into()])
    }

    fn rollback(user: Item) -> Result<Vec<Action>, Error> {
        if user.get_i64("schema_version") != Some(2) {
            return Ok(vec![]);
        }
        let mut change = update(user.key(&["id"])?);
        change.remove("email_lower").remove("schema_version");
        if let Some(full_name) = user.get("full_name") {
            change.set("name", full_name.clone()).remove("full_name");
        }
        Ok(vec![change.into()])
    }
}

drift_sdk::export_migration!(UsersV2);

#[cfg(test)]
mod tests {
    use super::*;

    fn the_update(actions: &[Action]) -> &Update {
        match actions {
            [Action::Update(update)] => update,
            other => panic!("expected one update, got {other:?}"),
        }
    }

    #[test]
    fn migrates_a_version_one_user() {
        let user = Item::new()
            .with("id", "u1")
            .with("email", "Ada@Example.COM")
            .with("name", "Ada Lovelace");
        let actions = UsersV2::migrate(user).unwrap();
        let update = the_update(&actions);
        assert_eq!(update.key, Item::new().with("id", "u1"));
        assert_eq!(
            update.resolved().unwrap(),
            r#"SET email_lower = "ada@example.com", schema_version = 2, full_name = "Ada Lovelace" REMOVE name"#
        );
        // The generated text is what tests/data/users_v2.migrate.jsonl and the AssemblyScript
        // version expect, placeholder for placeholder.
        assert_eq!(
            update.update_expression().unwrap(),
            "SET #drift0 = :drift0, #drift1 = :drift1, #drift2 = :drift2 REMOVE #drift3"
        );
        assert!(!update.upsert);
    }

    #[test]
    fn a_user_without_a_name_only_gains_attributes() {
        let user = Item::new()
            .with("id", "u3")
            .with("email", "Kurt.Gödel@IAS.edu");
        let actions = UsersV2::migrate(user).unwrap();
        assert_eq!(
            the_update(&actions).resolved().unwrap(),
            r#"SET email_lower = "kurt.gödel@ias.edu", schema_version = 2"#
        );
    }

    #[test]
    fn user_without_email_is_an_error() {
        let error = UsersV2::migrate(Item::new().with("id", "u1")).unwrap_err();
        assert_eq!(error, "user has no `email` attribute");
        let error = UsersV2::migrate(Item::new().with("id", "u1").with("email", 3)).unwrap_err();
        assert_eq!(error, "user's `email` is of type N, expected a string (S)");
        let error = UsersV2::migrate(Item::new().with("email", "a@b")).unwrap_err();
        assert_eq!(error, "item has no key attribute `id`");
    }

    #[test]
    fn version_two_users_are_left_alone_and_rolled_back() {
        let user = Item::new()
            .with("id", "u1")
            .with("email", "a@b")
            .with("email_lower", "a@b")
            .with("schema_version", 2)
            .with("full_name", "A");
        assert!(UsersV2::migrate(user.clone()).unwrap().is_empty());
        let actions = UsersV2::rollback(user).unwrap();
        let update = the_update(&actions);
        assert_eq!(
            update.resolved().unwrap(),
            r#"SET name = "A" REMOVE email_lower, schema_version, full_name"#
        );
        assert_eq!(
            update.update_expression().unwrap(),
            "SET #drift2 = :drift0 REMOVE #drift0, #drift1, #drift3"
        );
    }
}
