// The SDKs' shared vectors (guest-sdk/vectors/sdk.json, generated from the Rust SDK): document
// paths, update placeholders, item sizes, numbers from floats, lowercasing and item arenas must
// come out exactly as Rust's.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

import { arena, Item, update, Value, type DynamoJson } from "../src/index.js";
import { Path } from "../src/path.js";

type Json = { [name: string]: DynamoJson };
type Op = [string, string, DynamoJson?];

interface Vectors {
  paths: { text: string; segments?: ({ name: string } | { index: number })[]; error?: string }[];
  updates: { ops: Op[]; expression?: string; names?: Record<string, string>; values?: Json; error?: string }[];
  sizes: { item: Json; size: number }[];
  numbers: { bits: string; text: string }[];
  parses: { text: string; bits: string | null }[];
  lowercase: { text: string; lower: string }[];
  arenas: { item: Json; attributes: [string, number][]; nodes: { tag: string; val?: unknown }[] }[];
}

// Tests run from build/test/: the vectors are three folders up, beside the SDKs.
const vectors = JSON.parse(
  readFileSync(new URL("../../../vectors/sdk.json", import.meta.url), "utf8"),
) as Vectors;

const plain = (x: unknown): unknown =>
  ArrayBuffer.isView(x) ? Array.from(x as Uint8Array) : Array.isArray(x) ? x.map(plain) : x;

describe("the shared vectors", () => {
  it("parse document paths as Rust does", () => {
    for (const vector of vectors.paths) {
      if (vector.error !== undefined) {
        assert.throws(() => Path.parse(vector.text), { message: vector.error }, vector.text);
        continue;
      }
      const segments = Path.parse(vector.text).segments.map((s) =>
        s.kind === "name" ? { name: s.name } : { index: s.index },
      );
      assert.deepEqual(segments, vector.segments, vector.text);
    }
  });

  it("build updates with Rust's placeholders", () => {
    for (const vector of vectors.updates) {
      const change = update(new Item().with("id", "k"));
      for (const [op, path, value] of vector.ops) {
        const v = value === undefined ? undefined : Value.fromJSON(value);
        if (op === "set") change.set(path, v!);
        else if (op === "remove") change.remove(path);
        else if (op === "add") change.add(path, v!);
        else change.deleteFromSet(path, v!);
      }
      const what = JSON.stringify(vector.ops);
      if (vector.error !== undefined) {
        assert.throws(() => change.updateExpression(), { message: vector.error }, what);
        continue;
      }
      assert.equal(change.updateExpression(), vector.expression, what);
      assert.deepEqual(Object.fromEntries(change.common.names), vector.names, what);
      const values: Json = {};
      for (const [name, value] of change.common.values) values[name] = value.toJSON();
      assert.deepEqual(values, vector.values, what);
    }
  });

  it("size items by DynamoDB's rules as Rust does", () => {
    for (const vector of vectors.sizes) {
      assert.equal(Item.fromJSON(vector.item).size(), vector.size, JSON.stringify(vector.item));
    }
  });

  it("write floats as Rust's numbers", () => {
    const bits = new DataView(new ArrayBuffer(8));
    for (const vector of vectors.numbers) {
      bits.setBigUint64(0, BigInt("0x" + vector.bits));
      const float = bits.getFloat64(0);
      assert.equal(Value.from(float).asNumber(), vector.text, `${vector.bits} (${float})`);
    }
  });

  it("read number texts as Rust's floats", () => {
    const bits = new DataView(new ArrayBuffer(8));
    for (const vector of vectors.parses) {
      const float = Value.N(vector.text).asFloat();
      if (float !== undefined) bits.setFloat64(0, float);
      const got = float === undefined ? null : bits.getBigUint64(0).toString(16).padStart(16, "0");
      assert.equal(got, vector.bits, vector.text);
    }
  });

  it("lowercase as Rust's str::to_lowercase", () => {
    for (const vector of vectors.lowercase) {
      assert.equal(vector.text.toLowerCase(), vector.lower, vector.text);
    }
  });

  it("lay items out in arenas as Rust does", () => {
    for (const vector of vectors.arenas) {
      const record = arena.encodeItem(Item.fromJSON(vector.item));
      assert.deepEqual(plain(record.attributes), vector.attributes, JSON.stringify(vector.item));
      const nodes = Array.from(record.nodes, (node) =>
        node.tag === "null" ? { tag: "null" } : { tag: node.tag, val: plain(node.val) },
      );
      assert.deepEqual(nodes, plain(vector.nodes), JSON.stringify(vector.item));
    }
  });
});
