// Action builders: the Rust SDK's tests (drift_sdk::action), ported. The update expressions and
// placeholders must be exactly Rust's: the same migration gives byte-identical actions.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Action, deleteItem, Item, put, Update, update, Value } from "../src/index.js";

const key = () => new Item().with("id", "u1");

describe("actions", () => {
  it("update builds its expression with placeholders", () => {
    const u = update(key())
      .set("email_lower", "a@b.c")
      .set("address.city", "Oslo")
      .remove("name")
      .add("visits", 1)
      .deleteFromSet("tags", Value.SS(["old"]));
    assert.equal(
      u.updateExpression(),
      "SET #drift0 = :drift0, #drift1.#drift2 = :drift1 REMOVE #drift3 ADD #drift4 :drift2 DELETE #drift5 :drift3",
    );
    assert.equal(u.common.names.get("#drift1"), "address");
    assert.equal(u.common.names.get("#drift2"), "city");
    assert.ok(u.common.values.get(":drift1")!.equals(Value.S("Oslo")));
    assert.equal(u.upsertAllowed, false);
    assert.equal(
      u.resolved(),
      'SET email_lower = "a@b.c", address.city = "Oslo" REMOVE name ADD visits 1 DELETE tags {"SS": ["old"]}',
    );
  });

  it("repeated names share a placeholder and indices stay literal", () => {
    const u = update(key()).set("a.b", 1).set("a.c[3]", 2);
    assert.equal(u.updateExpression(), "SET #drift0.#drift1 = :drift0, #drift0.#drift2[3] = :drift1");
  });

  it("generated placeholders are numbered after the user's", () => {
    const u = update(key())
      .condition("attribute_exists(#e)")
      .name("#e", "email")
      .set("email", "x")
      .value(":v", 1)
      .add("n", 1);
    assert.equal(u.updateExpression(), "SET #drift1 = :drift0 ADD #drift2 :drift2");
  });

  it("a hand-written #drift placeholder is reused as Rust's search does", () => {
    const u = update(key()).name("#drift5", "a").set("a", 1).set("b", 2);
    assert.equal(u.updateExpression(), "SET #drift5 = :drift0, #drift1 = :drift1");
  });

  it("eleven names and more sort as Rust's BTreeMap", () => {
    const u = update(key());
    for (let i = 0; i < 11; i++) u.set(`a${i}`, i);
    assert.equal(u.common.names.get("#drift10"), "a10");
    assert.ok(u.updateExpression().endsWith("#drift10 = :drift10"));
  });

  it("an update without clauses, or with a bad path, is an error", () => {
    assert.throws(() => update(key()).updateExpression(), {
      message: "an update needs at least one set/remove/add/delete",
    });
    assert.throws(() => update(key()).set("a..b", 1).updateExpression(), {
      message: "invalid document path `a..b`: empty name",
    });
    assert.throws(() => update(key()).set("a..b", 1).set("c[", 1).set("d", 1).updateExpression(), {
      message: "invalid document path `a..b`: empty name",
    });
    assert.throws(() => update(key()).expression("SET x = :x").set("y", 1).updateExpression(), {
      message: "an update cannot mix expression() with set/remove/add/delete",
    });
  });

  it("a raw expression uses the user's placeholders", () => {
    const u = update(key())
      .expression("SET #n = :v")
      .name("#n", "name")
      .value(":v", "x")
      .condition("attribute_exists(#n)")
      .table("other")
      .upsert();
    assert.equal(u.updateExpression(), "SET #n = :v");
    assert.equal(u.resolved(), 'SET name = "x"');
    assert.equal(u.common.table, "other");
    assert.equal(u.common.condition, "attribute_exists(#n)");
    assert.equal(u.upsertAllowed, true);
    u.expression("SET #n = :w");
    assert.throws(() => u.resolved(), { message: "undefined value placeholder `:w`" });
    assert.equal(update(key()).set("first name", 1).resolved(), "SET `first name` = 1");
  });

  it("put and delete carry table and condition", () => {
    const p = put(key().with("x", 1)).table("copy").condition("attribute_not_exists(id)");
    assert.equal(p.kind, "put");
    assert.equal(p.common.table, "copy");
    assert.equal(p.item.getInt("x"), 1);
    const d = deleteItem(key()).value(":v", 1);
    assert.ok(d.common.values.get(":v")!.equals(Value.from(1)));
    assert.equal(d.kind, "delete");
  });

  it("chains end in an action", () => {
    const actions: Action[] = [update(key()).set("a", 1).upsert(), deleteItem(key()).condition("attribute_exists(id)")];
    const first = actions[0]!;
    assert.ok(first instanceof Update);
    assert.equal(first.upsertAllowed, true);
    assert.equal(first.resolved(), "SET a = 1");
  });
});
