// log and db through the host: refused natively, and a fake host installed by a test.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";

import { arena, db, DbError, Item, log, nativeHost, setHost, type Level, type WitItem, type WitQueryInput } from "../src/index.js";

afterEach(() => {
  setHost(nativeHost);
});

describe("db", () => {
  it("refuses every call natively, as the Rust SDK does", () => {
    assert.throws(() => db.getItem("t", { id: "x" }), (error: unknown) => {
      assert.ok(error instanceof DbError);
      assert.equal(error.kind, "refused");
      assert.equal(error.message, "refused: immediate DynamoDB operations need the drift-host runtime");
      return true;
    });
    assert.throws(() => db.queryAll({ table: "t", keyCondition: "#k = :k" }), DbError);
    assert.equal(new DbError("conditional-check-failed").message, "condition check failed");
    assert.equal(new DbError("failed", "x").message, "DynamoDB failed: x");
  });

  it("goes through an installed host, arenas both ways", () => {
    const table = new Map<string, Item>([["u1", new Item().with("id", "u1").with("n", 1)]]);
    const calls: unknown[] = [];
    setHost({
      getItem(_table: string, key: WitItem) {
        const id = arena.decodeItem(key).getString("id")!;
        const found = table.get(id);
        return found && arena.encodeItem(found);
      },
      putItem(name, item, condition, attributes) {
        calls.push({ name, item: arena.decodeItem(item).toJSON(), condition, names: attributes.names });
        if (condition === "attribute_not_exists(id)") throw new DbError("conditional-check-failed");
      },
      query(input: WitQueryInput) {
        const start = input.exclusiveStartKey === undefined ? 0 : 1;
        calls.push({ names: input.attributes.names, values: arena.decodeItem(input.attributes.values).toJSON() });
        return {
          items: [arena.encodeItem(new Item().with("id", `q${start}`))],
          lastEvaluatedKey: start === 0 ? arena.encodeItem(new Item().with("id", "q0")) : undefined,
        };
      },
    });
    assert.equal(db.getItem("users", { id: "u1" })!.getInt("n"), 1);
    assert.equal(db.getItem("users", { id: "nobody" }), undefined);
    db.putItem("users", new Item().with("id", "u2"), { condition: "attribute_exists(#i)", names: { "#i": "id" } });
    assert.throws(() => db.putItem("users", { id: "u1" }, { condition: "attribute_not_exists(id)" }), {
      message: "condition check failed",
    });
    assert.deepEqual(calls[0], {
      name: "users",
      item: { id: { S: "u2" } },
      condition: "attribute_exists(#i)",
      names: [["#i", "id"]],
    });
    const items = db.queryAll({ table: "users", keyCondition: "#p = :p", names: { "#p": "id" }, values: { ":p": "q" } });
    assert.deepEqual(
      items.map((i) => i.getString("id")),
      ["q0", "q1"],
    );
    assert.deepEqual(calls[2], { names: [["#p", "id"]], values: { ":p": { S: "q" } } });
    assert.throws(() => db.deleteItem("users", { id: "u1" }), { message: /^refused: / }, "missing methods stay native");
  });
});

describe("log", () => {
  it("reaches the host with its level", () => {
    const seen: [Level, string][] = [];
    setHost({ log: (level, message) => seen.push([level, message]) });
    log.trace("t");
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    assert.deepEqual(seen, [
      ["trace", "t"],
      ["debug", "d"],
      ["info", "i"],
      ["warn", "w"],
      ["error", "e"],
    ]);
  });

  it("writes to standard error natively", (t) => {
    const lines: unknown[] = [];
    t.mock.method(console, "error", (line: unknown) => lines.push(line));
    log.info("hello");
    assert.deepEqual(lines, ["[Info] hello"]);
  });
});
