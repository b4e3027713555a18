//! Example migration `users_by_email` (number 3), run after `users_v2` (number 2): copies each
//! user of `users` into the table `users_by_email` (partition key `email_lower`, sort key
//! `id`), which the project declares in its `drift.toml`, so `drift-host run DIR` creates it
//! first on a fresh account.
//!
//! Only users at schema version 2 have `email_lower`; any other user is an error, as it means
//! `users_v2` did not run. `rollback` deletes the copies.

use drift_sdk::prelude::*;

/// The `users_by_email` migration.
pub struct UsersByEmail;

/// The table the copies go to.
pub const COPIES: &str = "users_by_email";

fn email_lower(user: &Item) -> Result<&str, Error> {
    match user.get("email_lower") {
        Some(Value::S(email)) => Ok(email),
        _ => Err("user has no string `email_lower`: run users_v2 (migration 2) first".into()),
    }
}

impl Migration for UsersByEmail {
    fn info() -> Info {
        Info::new(3, "users_by_email", "users")
            .description("Copy every user into users_by_email, keyed by lower-cased email.")
            .other_table(COPIES)
    }

    fn migrate(user: Item) -> Result<Vec<Action>, Error> {
        let mut copy = Item::new()
            .with("email_lower", email_lower(&user)?)
            .with("id", user.get("id").cloned().ok_or("user has no `id`")?);
        if let Some(name) = user.get("full_name") {
            copy = copy.with("full_name", name.clone());
        }
        Ok(vec![put(copy).table(COPIES).into()])
    }

    fn rollback(user: Item) -> Result<Vec<Action>, Error> {
        let key = Item::new()
            .with("email_lower", email_lower(&user)?)
            .with("id", user.get("id").cloned().ok_or("user has no `id`")?);
        Ok(vec![delete(key).table(COPIES).into()])
    }
}

drift_sdk::export_migration!(UsersByEmail);

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Item {
        Item::new()
            .with("id", "u1")
            .with("email_lower", "ada@example.com")
            .with("full_name", "Ada Lovelace")
            .with("schema_version", 2)
    }

    #[test]
    fn copies_a_migrated_user() {
        let actions = UsersByEmail::migrate(user()).unwrap();
        let [Action::Put(copy)] = actions.as_slice() else {
            panic!("expected one put, got {actions:?}");
        };
        assert_eq!(copy.common.table.as_deref(), Some(COPIES));
        assert_eq!(
            copy.item.get("email_lower"),
            Some(&Value::S("ada@example.com".into()))
        );
        assert_eq!(
            copy.item.get("full_name"),
            Some(&Value::S("Ada Lovelace".into()))
        );
        assert_eq!(copy.item.len(), 3);
    }

    #[test]
    fn a_user_not_migrated_by_users_v2_is_an_error() {
        let user = Item::new().with("id", "u1").with("email", "A@B");
        let error = format!("{:?}", UsersByEmail::migrate(user).unwrap_err());
        assert!(error.contains("users_v2"), "{error}");
    }

    #[test]
    fn rollback_deletes_the_copy() {
        let actions = UsersByEmail::rollback(user()).unwrap();
        let [Action::Delete(copy)] = actions.as_slice() else {
            panic!("expected one delete, got {actions:?}");
        };
        assert_eq!(copy.common.table.as_deref(), Some(COPIES));
        assert_eq!(copy.key.len(), 2);
    }
}
