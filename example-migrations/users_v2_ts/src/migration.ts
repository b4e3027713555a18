// Example migration `users_v2` over the `users` table (partition key `id`), in TypeScript:
// exactly what example-migrations/users_v2 does in Rust, action for action.
//
// - `email_lower` = lowercase(`email`): lets the application look users up by email without
//   caring about case;
// - `schema_version` = 2;
// - `name` is renamed to `full_name`.
//
// A user without an `email` is an error: the whole migration then applies nothing. Users
// already at schema version 2 are left alone, so the migration can be run over a partially
// migrated table. `rollback` restores version-1 users exactly.

import { Action, Info, Item, update } from "@drift/sdk-js";

export function info(): Info {
  return {
    number: 2,
    name: "users_v2",
    table: "users",
    description: "Add email_lower and schema_version 2; rename name to full_name.",
  };
}

export function migrate(user: Item): Action[] {
  if (user.getInt("schema_version") === 2) return [];
  const email = user.get("email");
  if (email === undefined) throw new Error("user has no `email` attribute");
  const text = email.asString();
  if (text === undefined) throw new Error(`user's \`email\` is of type ${email.type}, expected a string (S)`);
  const change = update(user.key(["id"]))
    .set("email_lower", text.toLowerCase())
    .set("schema_version", 2);
  const name = user.get("name");
  if (name !== undefined) change.set("full_name", name).remove("name");
  return [change];
}

export function rollback(user: Item): Action[] {
  if (user.getInt("schema_version") !== 2) return [];
  const change = update(user.key(["id"])).remove("email_lower").remove("schema_version");
  const fullName = user.get("full_name");
  if (fullName !== undefined) change.set("name", fullName).remove("full_name");
  return [change];
}
