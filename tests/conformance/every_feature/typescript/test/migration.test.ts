// The paths `drift-host exec` cannot reach (it refuses every immediate get-item), natively with
// node and a fake `things_index`: ../index.json, as the DynamoDB Local run loads it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { afterEach, describe, it } from "node:test";

import { Action, arena, Delete, DynamoJson, Item, nativeHost, Put, setHost, Update } from "@drift/sdk-js";
import { migrate, rollback } from "../src/migration.js";

type Json = { [name: string]: DynamoJson };
const data = (file: string) => new URL(`../../../../${file}`, import.meta.url); // from build/node/test/
const items = (JSON.parse(readFileSync(data("items.json"), "utf8")) as { Items: Json[] }).Items.map(Item.fromJSON);
const index = (JSON.parse(readFileSync(data("index.json"), "utf8")) as { Items: Json[] }).Items.map(Item.fromJSON);
const item = (pk: string) => items.find((i) => i.getString("pk") === pk)!;

function withIndex(): string[] {
  const logs: string[] = [];
  setHost({
    log: (level, message) => logs.push(`${level} ${message}`),
    getItem(table, key) {
      assert.equal(table, "things_index");
      const pk = arena.decodeItem(key).getString("pk");
      const found = index.find((entry) => entry.getString("pk") === pk);
      return found && arena.encodeItem(found);
    },
  });
  return logs;
}

afterEach(() => {
  setHost(nativeHost);
});

describe("every_feature with an index entry", () => {
  it("copies the entry into the item and deletes it from the index", () => {
    const logs = withIndex();
    const actions: Action[] = migrate(item("t-01"));
    assert.deepEqual(logs, ["info migrate t-01: 16 attributes"]);
    assert.equal(actions.length, 4);
    const [change, , , unindex] = actions;
    assert.ok(change instanceof Update);
    assert.equal(
      change.updateExpression(),
      "SET #drift0 = :drift0, #drift1 = :drift1, #drift2.#drift3 = :drift2, #drift4 = :drift3, #drift5 = :drift4, " +
        "#drift9 = :drift7 REMOVE #drift6 ADD #drift7 :drift5, #drift8 :drift6",
    );
    assert.equal(change.common.names.get("#drift9"), "index_entry");
    assert.ok(change.common.values.get(":drift7")!.asMap()!.equals(index[0]!));
    assert.ok(unindex instanceof Delete);
    assert.equal(unindex.common.table, "things_index");
    assert.ok(unindex.key.equals(Item.from({ pk: "t-01" })));
    assert.equal(unindex.common.condition, "#state = :state");
    assert.equal(unindex.common.values.getString(":state"), "active");
  });

  it("an item without an entry gets three actions and no warning", () => {
    const logs = withIndex();
    assert.equal(migrate(item("t-02")).length, 3);
    assert.deepEqual(logs, ["info migrate t-02: 1 attributes"]);
  });

  it("rollback puts the entry back", () => {
    const migrated = item("t-01").clone().with("summary", Item.from({})).with("index_entry", index[0]!);
    const actions = rollback(migrated);
    assert.equal(actions.length, 4);
    const reindex = actions[3];
    assert.ok(reindex instanceof Put);
    assert.equal(reindex.common.table, "things_index");
    assert.equal(reindex.common.condition, "attribute_not_exists(#pk)");
    assert.ok(reindex.item.equals(index[0]!));
  });
});
