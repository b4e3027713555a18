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

    fn migrate(user: Item) -> Result<Vec<Action>, String> {
        if user.get_i64("schema_version") == Some(2) {
            return Ok(vec![]);
        }
        let email = match user.get("email") {
            Some(Value::S(email)) => email,
            Some(other) => {
                return Err(format!(
                    "user's `email` is of type {}, expected a string (S)",
                    other.type_name()
                ))
            }
            None => return Err("user has no `email` attribute".into()),
        };
        let mut change = update(user.key(&["id"])?)
            .set("email_lower", email.to_lowercase())
            .set("schema_version", 2);
        if let Some(name) = user.get("name") {
            change = change.set("full_name", name.clone()).remove("name");
        }
        Ok(vec![change.into()])
    }

    fn rollback(user: Item) -> Result<Vec<Action>, String> {
        if user.get_i64("schema_version") != Some(2) {
            return Ok(vec![]);
        }
        let mut change = update(user.key(&["id"])?)
            .remove("email_lower")
            .remove("schema_version");
        if let Some(full_name) = user.get("full_name") {
            change = change.set("name", full_name.clone()).remove("full_name");
        }
        Ok(vec![change.into()])
    }
}

drift_sdk::export_migration!(UsersV2);

#[cfg(test)]
mod tests {
    use super::*;

    fn expression(action: &Action) -> String {
        match action {
            Action::Update(update) => update.update_expression().unwrap(),
            other => panic!("expected an update, got {other:?}"),
        }
    }

    #[test]
    fn migrates_a_version_one_user() {
        let user = Item::new()
            .with("id", "u1")
            .with("email", "Ada@Example.COM")
            .with("name", "Ada Lovelace");
        let actions = UsersV2::migrate(user).unwrap();
        assert_eq!(actions.len(), 1);
        assert_eq!(
            expression(&actions[0]),
            "SET #drift0 = :drift0, #drift1 = :drift1, #drift2 = :drift2 REMOVE #drift3"
        );
        let Action::Update(update) = &actions[0] else {
            unreachable!()
        };
        assert_eq!(
            update.common.values[":drift0"],
            Value::from("ada@example.com")
        );
        assert_eq!(update.common.names["#drift3"], "name");
    }

    #[test]
    fn user_without_email_is_an_error() {
        let error = UsersV2::migrate(Item::new().with("id", "u1")).unwrap_err();
        assert_eq!(error, "user has no `email` attribute");
        let error = UsersV2::migrate(Item::new().with("id", "u1").with("email", 3)).unwrap_err();
        assert_eq!(error, "user's `email` is of type N, expected a string (S)");
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
        assert_eq!(
            expression(&actions[0]),
            "SET #drift2 = :drift0 REMOVE #drift0, #drift1, #drift3"
        );
    }
}
