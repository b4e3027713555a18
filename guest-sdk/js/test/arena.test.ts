// The item arena and the lowering of actions and info: Rust's codec tests, ported, and the WIT
// shapes that componentize-qjs passes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { arena, exportsOf, Item, update, Value, type WitItem, type WitValue } from "../src/index.js";

describe("arena", () => {
  it("round-trips nested values in preorder", () => {
    const inner = new Item().with("k", Value.SS(["x", "ÿ🦀"]));
    const item = new Item()
      .with("id", "u1")
      .with("bs", Value.BS([[1], []]))
      .with("list", [inner, [], false])
      .with("map", inner);
    const record = arena.encodeItem(item);
    assert.deepEqual(record.attributes, [
      ["bs", 0],
      ["id", 1],
      ["list", 2],
      ["map", 7],
    ]);
    assert.deepEqual(record.nodes[2], { tag: "l", val: [3, 5, 6] });
    assert.deepEqual(record.nodes[3], { tag: "m", val: [["k", 4]] });
    assert.deepEqual(record.nodes[6], { tag: "boolean", val: false });
    assert.ok(arena.decodeItem(record).equals(item));
  });

  it("round-trips every type", () => {
    const item = Item.fromJSON({
      s: { S: "é" },
      n: { N: "-1.5E+3" },
      b: { B: "AAEC" },
      t: { BOOL: true },
      z: { NULL: true },
      ss: { SS: ["a"] },
      ns: { NS: ["1"] },
      bs: { BS: ["AA=="] },
      l: { L: [{ L: [{ M: {} }] }] },
    });
    assert.ok(arena.decodeItem(arena.encodeItem(item)).equals(item));
  });

  it("decodes what engines pass: typed arrays and plain arrays", () => {
    const wit: WitItem = {
      attributes: [
        ["l", 0],
        ["b", 2],
      ],
      nodes: [{ tag: "l", val: Uint32Array.from([1]) }, { tag: "bs", val: [[1, 2], new Uint8Array([3])] }, { tag: "b", val: [9] }],
    };
    const item = arena.decodeItem(wit);
    assert.deepEqual(item.get("l")!.asList()![0]!.asBinarySet(), [new Uint8Array([1, 2]), new Uint8Array([3])]);
    assert.deepEqual(item.get("b")!.asBytes(), new Uint8Array([9]));
  });

  it("rejects bad arenas: the top level at once, the rest when read", () => {
    const decode = (attributes: [string, number][], nodes: WitValue[]) => arena.decodeItem({ attributes, nodes });
    assert.throws(() => decode([["a", 3]], [{ tag: "null" }]), { message: "item arena: node index 3 is out of range" });
    const unknown = decode([["a", 0]], [{ tag: "x" } as unknown as WitValue]);
    assert.throws(() => unknown.get("a"), { message: "item arena: a node has an unknown type `x`" });
    const cyclic = decode([["a", 0]], [{ tag: "l", val: [0] }]);
    assert.equal(cyclic.has("a"), true);
    assert.throws(() => cyclic.get("a"), { message: "item arena nests deeper than DynamoDB's 32 levels" });
    const cyclicMap = decode([["a", 0]], [{ tag: "m", val: [["again", 0]] }]);
    assert.throws(() => cyclicMap.toJSON(), { message: "item arena nests deeper than DynamoDB's 32 levels" });
    const outOfRange = decode([["a", 0]], [{ tag: "m", val: [["x", 9]] }]);
    assert.throws(() => outOfRange.get("a"), { message: "item arena: node index 9 is out of range" });
  });

  it("accepts nesting up to DynamoDB's limit", () => {
    for (const tag of ["l", "m"] as const) {
      const nested = (depth: number) => {
        const nodes: WitValue[] = [];
        for (let i = 0; i < depth; i++) nodes.push(tag === "l" ? { tag, val: [i + 1] } : { tag, val: [["k", i + 1]] });
        nodes.push({ tag: "null" });
        return arena.decodeItem({ attributes: [["a", 0]], nodes });
      };
      assert.doesNotThrow(() => nested(32).toJSON(), tag);
      assert.throws(() => nested(33).toJSON(), /deeper than DynamoDB's 32 levels/, tag);
    }
  });

  it("decodes lazily: what is never read is never built", () => {
    const nodes: WitValue[] = [{ tag: "s", val: "u1" }, { tag: "x" } as unknown as WitValue];
    const item = arena.decodeItem({ attributes: [["id", 0], ["broken", 1]], nodes });
    assert.equal(item.getString("id"), "u1");
    assert.deepEqual(item.names(), ["broken", "id"]);
    assert.ok(arena.encodeItem(item.key("id")));
  });

  it("lowers an update as Rust does", () => {
    const action = update(new Item().with("id", "u-001"))
      .set("email_lower", "ada@example.com")
      .set("schema_version", 2)
      .set("full_name", "Ada")
      .remove("name");
    assert.deepEqual(arena.encodeAction(action), {
      tag: "update",
      val: {
        table: undefined,
        key: { attributes: [["id", 0]], nodes: [{ tag: "s", val: "u-001" }] },
        updateExpression: "SET #drift0 = :drift0, #drift1 = :drift1, #drift2 = :drift2 REMOVE #drift3",
        condition: undefined,
        attributes: {
          names: [
            ["#drift0", "email_lower"],
            ["#drift1", "schema_version"],
            ["#drift2", "full_name"],
            ["#drift3", "name"],
          ],
          values: {
            attributes: [
              [":drift0", 0],
              [":drift1", 1],
              [":drift2", 2],
            ],
            nodes: [
              { tag: "s", val: "ada@example.com" },
              { tag: "n", val: "2" },
              { tag: "s", val: "Ada" },
            ],
          },
        },
        upsert: false,
      },
    });
  });

  it("lowers placeholder names in Rust's order past #drift9", () => {
    const u = update(new Item().with("id", "x"));
    for (let i = 0; i < 11; i++) u.set(`a${i}`, i);
    const lowered = arena.encodeAction(u);
    assert.equal(lowered.tag, "update");
    const names = lowered.val.attributes.names.map(([p]) => p);
    assert.deepEqual(names.slice(0, 3), ["#drift0", "#drift1", "#drift10"]);
    const values = lowered.val.attributes.values.attributes;
    assert.deepEqual(Array.from(values, ([p]) => p).slice(0, 3), [":drift0", ":drift1", ":drift10"]);
  });
});

describe("exports", () => {
  const wit = (item: Item) => arena.encodeItem(item);

  it("lowers info, with the number as a bigint and defaults", () => {
    const exports = exportsOf({ info: () => ({ number: 7, name: "n", table: "t" }), migrate: () => [] });
    assert.deepEqual(exports.info(), { number: 7n, name: "n", description: "", table: "t", otherTables: [] });
    assert.throws(() => exportsOf({ info: () => ({ number: -1, name: "n", table: "t" }), migrate: () => [] }).info(), TypeError);
    assert.throws(() => exportsOf({ info: () => ({ number: 1.5, name: "n", table: "t" }), migrate: () => [] }).info(), TypeError);
    assert.throws(() => exportsOf({ info: () => ({ number: 1, name: "", table: "t" }), migrate: () => [] }).info(), {
      message: "info().name must be a non-empty string",
    });
    assert.throws(() => exportsOf({ info: () => ({ number: 1, name: "n", table: "t" }) } as never), {
      message: "the migration has no `migrate` function",
    });
  });

  it("turns what is thrown into the item's error", () => {
    const item = wit(new Item().with("id", "u1"));
    const run = (migrate: (item: Item) => never) =>
      exportsOf({ info: () => ({ number: 1, name: "n", table: "t" }), migrate }).migrate(item);
    assert.deepEqual(run(() => { throw new Error("boom"); }), { error: "boom" });
    assert.deepEqual(run(() => { throw "plain text"; }), { error: "plain text" });
    assert.deepEqual(run((u) => u.key(["sk"]) as never), { error: "item has no key attribute `sk`" });
    assert.deepEqual(run(() => [update(new Item().with("id", "x")).set("a..b", 1)] as never), {
      error: "invalid document path `a..b`: empty name",
    });
    assert.match(run(() => [{ tag: "update" }] as never).error!, /^migrate\/rollback must return actions/);
  });

  it("accepts an array, one action or nothing", () => {
    const item = wit(new Item().with("id", "u1"));
    const exports = (migrate: (item: Item) => unknown) =>
      exportsOf({ info: () => ({ number: 1, name: "n", table: "t" }), migrate: migrate as never });
    assert.equal(exports((u) => update(u.key("id")).set("a", 1)).migrate(item).ok!.length, 1);
    assert.deepEqual(exports(() => undefined).migrate(item), { ok: [] });
    assert.deepEqual(exports(() => []).migrate(item), { ok: [] });
  });

  it("has a default rollback that fails", () => {
    const exports = exportsOf({ info: () => ({ number: 1, name: "n", table: "t" }), migrate: () => [] });
    assert.deepEqual(exports.rollback(wit(new Item())), { error: "this migration has no rollback" });
  });
});
