// The migration's logic, natively with node (`npm test`): the Rust version's tests, ported.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

import { Action, Item, Update } from "@drift/sdk-js";
import { info, migrate, rollback } from "../src/migration.js";

function theUpdate(actions: Action[]): Update {
  assert.equal(actions.length, 1, "expected one action");
  const action = actions[0];
  assert.ok(action instanceof Update, "expected an update");
  return action;
}

describe("users_v2", () => {
  it("says what it is", () => {
    assert.deepEqual(info(), {
      number: 2,
      name: "users_v2",
      table: "users",
      description: "Add email_lower and schema_version 2; rename name to full_name.",
    });
  });

  it("migrates a version-one user", () => {
    const user = Item.from({ id: "u1", email: "Ada@Example.COM", name: "Ada Lovelace" });
    const update = theUpdate(migrate(user));
    assert.ok(update.key.equals(Item.from({ id: "u1" })));
    assert.equal(
      update.resolved(),
      'SET email_lower = "ada@example.com", schema_version = 2, full_name = "Ada Lovelace" REMOVE name',
    );
    // What tests/data/users_v2.migrate.jsonl and the Rust version expect, placeholder for placeholder.
    assert.equal(update.updateExpression(), "SET #drift0 = :drift0, #drift1 = :drift1, #drift2 = :drift2 REMOVE #drift3");
    assert.equal(update.upsertAllowed, false);
  });

  it("a user without a name only gains attributes", () => {
    const user = Item.from({ id: "u3", email: "Kurt.Gödel@IAS.edu" });
    assert.equal(theUpdate(migrate(user)).resolved(), 'SET email_lower = "kurt.gödel@ias.edu", schema_version = 2');
  });

  it("a user without an email is an error", () => {
    assert.throws(() => migrate(Item.from({ id: "u1" })), { message: "user has no `email` attribute" });
    assert.throws(() => migrate(Item.from({ id: "u1", email: 3 })), {
      message: "user's `email` is of type N, expected a string (S)",
    });
    assert.throws(() => migrate(Item.from({ email: "a@b" })), { message: "item has no key attribute `id`" });
  });

  it("leaves version-two users alone, and rolls them back", () => {
    const user = Item.from({ id: "u1", email: "a@b", email_lower: "a@b", schema_version: 2, full_name: "A" });
    assert.deepEqual(migrate(user), []);
    const update = theUpdate(rollback(user));
    assert.equal(update.resolved(), 'SET name = "A" REMOVE email_lower, schema_version, full_name');
    assert.equal(update.updateExpression(), "SET #drift2 = :drift0 REMOVE #drift0, #drift1, #drift3");
  });

  it("migrates the Rust version's sample table", () => {
    // Compiled to build/node/test/: four levels up is example-migrations/.
    const scan = JSON.parse(readFileSync(new URL("../../../../users_v2/sample/users.json", import.meta.url), "utf8"));
    const users: Item[] = scan.Items.map(Item.fromJSON);
    assert.ok(users.length > 0);
    for (const user of users) {
      const actions = migrate(user);
      if (user.getInt("schema_version") === 2) assert.deepEqual(actions, []);
      else assert.match(theUpdate(actions).resolved(), /^SET email_lower = /);
    }
  });
});
