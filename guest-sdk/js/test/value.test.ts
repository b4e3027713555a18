// Values, items and paths: the Rust SDK's tests (drift_value::{value, path}), ported.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { compareNames, Item, Path, PathError, Value } from "../src/index.js";

function user(): Item {
  const address = Item.from({ city: "Oslo", zip: 150 });
  return new Item()
    .with("id", "u1")
    .with("age", 42)
    .with("active", true)
    .with("address", address)
    .with("tags", ["a", "b"]);
}

describe("Item and Value", () => {
  it("typed accessors match only their type", () => {
    const u = user();
    assert.equal(u.getString("id"), "u1");
    assert.equal(u.getInt("age"), 42);
    assert.equal(u.getString("age"), undefined);
    assert.equal(u.getBool("active"), true);
    assert.equal(u.get("age")!.asFloat(), 42);
    assert.equal(u.get("age")!.type, "N");
    assert.equal(u.getNumber("age"), "42");
    assert.equal(u.get("missing"), undefined);
  });

  it("paths reach nested maps and lists", () => {
    const u = user();
    assert.equal(u.path("address.city")?.asString(), "Oslo");
    assert.equal(u.path("tags[1]")?.asString(), "b");
    assert.equal(u.path("tags[2]"), undefined);
    assert.equal(u.path("address.city.x"), undefined);
    assert.equal(u.path("id[0]"), undefined);
    assert.equal(u.path("a..b"), undefined);
    assert.equal(u.get("address")!.at("zip")?.asInt(), 150);
  });

  it("key picks attributes or names the missing one", () => {
    const u = user();
    assert.ok(u.key(["id"]).equals(new Item().with("id", "u1")));
    assert.ok(u.key("id").equals(new Item().with("id", "u1")));
    assert.throws(() => u.key(["id", "sk"]), { message: "item has no key attribute `sk`" });
  });

  it("set and remove change top-level attributes", () => {
    const u = user();
    assert.ok(u.set("age", 43)!.equals(Value.from(42)));
    assert.ok(u.remove("active")!.equals(Value.TRUE));
    assert.equal(u.has("active"), false);
    assert.equal(u.len(), 4);
    assert.equal(new Item().isEmpty(), true);
  });

  it("numbers keep their decimal text", () => {
    assert.equal(Value.from(1.5).asNumber(), "1.5");
    assert.equal(Value.from(2n ** 128n - 1n).asNumber(), (2n ** 128n - 1n).toString());
    const big = "12345678901234567890123456789012345678";
    assert.equal(Value.number(big).asNumber(), big);
    assert.equal(Value.number(big).asInt(), undefined);
    assert.equal(Value.number(big).asBigInt(), BigInt(big));
    assert.equal(Value.N("-7").asInt(), -7);
    assert.equal(Value.N("2.0").asInt(), undefined, "as Rust's i64 parse: no fraction");
    assert.equal(Value.N("1e3").asInt(), undefined);
    assert.equal(Value.N("1e3").asFloat(), 1000);
    assert.throws(() => Value.from(Number.NaN), RangeError);
    assert.throws(() => Value.number(Infinity), RangeError);
  });

  it("sizes follow DynamoDB's rules", () => {
    const item = Item.from({ id: "abc", n: Value.number("1234") });
    assert.equal(item.size(), 2 + 3 + 1 + 3);
    assert.equal(Value.number("-1.5E+10").size(), 2 + 1);
    const nested = Value.L([null, Value.M(item)]);
    assert.equal(nested.size(), 3 + (1 + 1) + (1 + 3 + (2 + 1 + 3) + (1 + 1 + 3)));
    assert.equal(Value.S("é🦀").size(), 2 + 4);
  });

  it("an item iterates in name order, UTF-8 byte order included", () => {
    const item = new Item().with("b", null).with("a", 1);
    assert.deepEqual(item.names(), ["a", "b"]);
    assert.deepEqual(
      [...item].map(([name]) => name),
      ["a", "b"],
    );
    // U+FF01 is below U+1F980 in code points (and UTF-8), above it in UTF-16 code units.
    const mixed = new Item().with("🦀", 1).with("！", 2).with("z", 3);
    assert.deepEqual(mixed.names(), ["z", "！", "🦀"]);
    assert.equal(compareNames("！", "🦀"), -1);
    assert.equal(compareNames("🦀", "！"), 1);
    assert.equal(compareNames("a", "ab"), -1);
    assert.equal(compareNames("x", "x"), 0);
  });

  it("values read like JSON (Rust's readable)", () => {
    const map = new Item().with("k", Value.NS(["1"])).with("b", new Uint8Array([1, 2]));
    const cases: [Value, string][] = [
      [Value.from('a "q"\n\u0001é'), String.raw`"a \"q\"\n\u0001é"`],
      [Value.number("-1.5E3"), "-1.5E3"],
      [Value.bool(false), "false"],
      [Value.NULL, "null"],
      [Value.SS(["x", "y"]), '{"SS": ["x", "y"]}'],
      [Value.BS([new Uint8Array([0xff])]), '{"BS": ["/w=="]}'],
      [Value.L([1, map]), '[1, {"b": {"B": "AQI="}, "k": {"NS": ["1"]}}]'],
    ];
    for (const [value, expected] of cases) assert.equal(value.toString(), expected);
  });

  it("DynamoDB JSON round-trips", () => {
    const json = {
      id: { S: "u1" },
      n: { N: "12345678901234567890123456789012345678" },
      b: { B: "iVBORw0KGgo=" },
      ok: { BOOL: true },
      none: { NULL: true as const },
      ss: { SS: ["a", "b"] },
      ns: { NS: ["1", "2.5"] },
      bs: { BS: ["AQ==", ""] },
      l: { L: [{ S: "x" }, { M: { deep: { L: [] } } }] },
      m: { M: { city: { S: "Oslo" } } },
    };
    const item = Item.fromJSON(json);
    assert.deepEqual(item.get("b")!.asBytes(), new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]));
    const sorted = Object.fromEntries(Object.entries(json).sort(([a], [b]) => compareNames(a, b)));
    assert.deepEqual(item.toJSON(), sorted);
    assert.equal(JSON.stringify(item), JSON.stringify(sorted));
    assert.ok(Item.fromJSON(item.toJSON()).equals(item));
    assert.throws(() => Value.fromJSON({ X: 1 } as never), TypeError);
  });

  it("converts plain JS values and refuses the rest", () => {
    assert.equal(Value.from("s").type, "S");
    assert.equal(Value.from(3n).type, "N");
    assert.equal(Value.from(true).type, "BOOL");
    assert.equal(Value.from(null).type, "NULL");
    assert.equal(Value.from(new Uint8Array(1)).type, "B");
    assert.equal(Value.from([1, "a"]).type, "L");
    assert.equal(Value.from(new Map([["a", 1]])).type, "M");
    assert.equal(Value.M({ a: 1 }).asMap()!.getInt("a"), 1);
    assert.throws(() => Value.from(undefined as never), { message: /^undefined is not a DynamoDB value/ });
    assert.throws(() => Value.from({ a: 1 } as never), TypeError);
  });

  it("equality is deep", () => {
    assert.ok(user().equals(user()));
    assert.ok(!user().with("x", 1).equals(user()));
    assert.ok(!Value.SS(["a", "b"]).equals(Value.SS(["b", "a"])), "sets compare in order, as Rust's");
    assert.ok(Value.B([1, 2]).equals(Value.B(new Uint8Array([1, 2]))));
  });
});

describe("Path", () => {
  it("parses names and indices", () => {
    assert.deepEqual(Path.parse("a").segments, [{ kind: "name", name: "a" }]);
    assert.deepEqual(Path.parse("a.b[2][0].c").segments, [
      { kind: "name", name: "a" },
      { kind: "name", name: "b" },
      { kind: "index", index: 2 },
      { kind: "index", index: 0 },
      { kind: "name", name: "c" },
    ]);
    assert.deepEqual(Path.parse("名前.ключ").segments, [
      { kind: "name", name: "名前" },
      { kind: "name", name: "ключ" },
    ]);
    assert.equal(Path.parse("a[+01].b").toString(), "a[1].b", "as Rust's usize parse");
    assert.equal(Path.attribute("a.b").segments.length, 1);
    assert.deepEqual(Path.parse("a.b").splitFirst()?.[0], "a");
  });

  it("rejects malformed paths", () => {
    for (const bad of ["", ".a", "a.", "a..b", "[0]", "a[", "a[x]", "a[0]b", "a[-1]", "a[]", "a[4294967296]"]) {
      assert.throws(() => Path.parse(bad), PathError, bad);
    }
    assert.throws(() => Path.parse("a["), { message: "invalid document path `a[`: unclosed `[`" });
    assert.throws(() => Path.parse("[0]"), { message: "invalid document path `[0]`: a path starts with an attribute name" });
    assert.throws(() => Path.parse("a[0]b"), { message: "invalid document path `a[0]b`: expected `.` or `[` after an index" });
    assert.throws(() => Path.parse(""), { message: "invalid document path ``: empty path" });
  });
});
