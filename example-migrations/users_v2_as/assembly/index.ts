// Example migration users_v2 over the `users` table (partition key `id`), in AssemblyScript:
// exactly what example-migrations/users_v2 does in Rust.
//
// - `email_lower` = lowercase(`email`); `schema_version` = 2; `name` is renamed to `full_name`;
// - a user without an `email` is an error: the whole migration then applies nothing;
// - users already at schema version 2 are left alone; `rollback` restores version-1 users.

import { Info, Item, Result, Value, err, ok, register, toLowerCase, update } from "@drift/sdk/assembly/index";
export * from "@drift/sdk/assembly/exports";

function info(): Info {
  return new Info(2, "users_v2", "users").withDescription(
    "Add email_lower and schema_version 2; rename name to full_name.",
  );
}

function isVersion2(user: Item): bool {
  const version = user.get("schema_version");
  return version != null && version.isI64() && version.asI64() == 2;
}

function migrate(user: Item): Result {
  if (isVersion2(user)) return ok([]);
  const email = user.get("email");
  if (email == null) return err("user has no `email` attribute");
  if (email.asString() == null) {
    return err("user's `email` is of type " + email.typeName + ", expected a string (S)");
  }
  const key = user.key(["id"]);
  if (key == null) return err("item has no key attribute `id`");
  const change = update(key)
    .set("email_lower", Value.S(toLowerCase(email.asString()!)))
    .set("schema_version", Value.int(2));
  const name = user.get("name");
  if (name != null) change.set("full_name", name.clone()).remove("name");
  return ok([change]);
}

function rollback(user: Item): Result {
  if (!isVersion2(user)) return ok([]);
  const key = user.key(["id"]);
  if (key == null) return err("item has no key attribute `id`");
  const change = update(key).remove("email_lower").remove("schema_version");
  const fullName = user.get("full_name");
  if (fullName != null) change.set("name", fullName.clone()).remove("full_name");
  return ok([change]);
}

register(info, migrate, rollback);
