// DynamoDB values and items as a plain tree: what a migration reads and builds.
//
// The same model as the Rust SDK's `drift_value::{Value, Item}`: ten value types, numbers as
// decimal text (DynamoDB numbers have up to 38 significant digits, which no JS number holds),
// items as maps of attribute names that iterate in name order (UTF-8 byte order, as Rust's
// BTreeMap), so that arenas and placeholders come out byte for byte as Rust's.

import { Path } from "./path.js";
import {
  arraysEqual, base64Decode, base64Encode, bytesEqual, floatOf, floatText, isInteger, jsonString, numberSize, sortNames,
  utf8Length,
} from "./text.js";
import type { WitValue } from "./wit.js";

/** DynamoDB's name for a value's type. */
export type ValueType = "S" | "N" | "B" | "BOOL" | "NULL" | "SS" | "NS" | "BS" | "L" | "M";

/** Anything that converts to a {@link Value} with {@link Value.from}. */
export type ValueLike =
  | Value
  | string
  | number
  | bigint
  | boolean
  | null
  | Uint8Array
  | Item
  | ReadonlyMap<string, ValueLike>
  | readonly ValueLike[];

/** What an {@link Item} can be built from: an item, a map, a plain object, or `[name, value]` pairs. */
export type ItemLike =
  | Item
  | ReadonlyMap<string, ValueLike>
  | Iterable<readonly [string, ValueLike]>
  | { readonly [name: string]: ValueLike };

/** A number as DynamoDB decimal text; throws on NaN and infinities, which DynamoDB has no form for. */
export function numberText(n: number | bigint | string): string {
  if (typeof n !== "number") return String(n);
  if (!Number.isFinite(n)) throw new RangeError(`${n} is not a DynamoDB number`);
  return floatText(n);
}

/**
 * One DynamoDB attribute value. Immutable (a map's {@link Item} aside).
 *
 * Build one with the static constructors (`Value.S("x")`, `Value.number(2)`, `Value.SS([..])`)
 * or convert a plain JS value with {@link Value.from} (string → S, number/bigint → N,
 * boolean → BOOL, null → NULL, Uint8Array → B, array → L, Item/Map → M). Builders such as
 * `update(key).set(path, value)` accept any {@link ValueLike} and convert it.
 */
export class Value {
  /** DynamoDB's name for the type: `S`, `N`, `B`, `BOOL`, `NULL`, `SS`, `NS`, `BS`, `L` or `M`. */
  readonly type: ValueType;
  /** @internal The payload: string (S, N), Uint8Array (B), boolean, null, string[] (SS, NS), Uint8Array[] (BS), Value[] (L), Item (M). */
  readonly data: unknown;

  /**
   * A value from a payload of the right shape for `type`, unchecked (for the SDK's codec): use
   * the static constructors instead.
   */
  constructor(type: ValueType, data: unknown) {
    this.type = type;
    this.data = data;
  }

  /** NULL. */
  static readonly NULL: Value = new Value("NULL", null);
  /** BOOL true. */
  static readonly TRUE: Value = new Value("BOOL", true);
  /** BOOL false. */
  static readonly FALSE: Value = new Value("BOOL", false);

  /** A string (S). */
  static S(text: string): Value {
    return new Value("S", String(text));
  }

  /** A number (N) from its decimal text, e.g. `"12345678901234567890123456789012345678"`. */
  static N(text: string): Value {
    return new Value("N", String(text));
  }

  /** A number (N) from a JS number, a bigint, or decimal text. */
  static number(n: number | bigint | string): Value {
    return new Value("N", numberText(n));
  }

  /** Binary (B). */
  static B(bytes: Uint8Array | ArrayLike<number>): Value {
    return new Value("B", bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
  }

  /** A boolean (BOOL). */
  static bool(flag: boolean): Value {
    return flag ? Value.TRUE : Value.FALSE;
  }

  /** NULL. */
  static null(): Value {
    return Value.NULL;
  }

  /** A string set (SS). */
  static SS(texts: Iterable<string>): Value {
    return new Value("SS", Array.from(texts, String));
  }

  /** A number set (NS), from decimal texts, numbers or bigints. */
  static NS(numbers: Iterable<number | bigint | string>): Value {
    return new Value("NS", Array.from(numbers, numberText));
  }

  /** A binary set (BS). */
  static BS(binaries: Iterable<Uint8Array | ArrayLike<number>>): Value {
    return new Value(
      "BS",
      Array.from(binaries, (b) => (b instanceof Uint8Array ? b : Uint8Array.from(b))),
    );
  }

  /** A list (L); elements are converted with {@link Value.from}. */
  static L(values: Iterable<ValueLike>): Value {
    return new Value("L", Array.from(values, Value.from));
  }

  /** A map (M). */
  static M(map: ItemLike): Value {
    return new Value("M", map instanceof Item ? map : Item.from(map));
  }

  /** Converts a plain JS value (see the class's documentation); throws a TypeError on anything else. */
  static from(this: void, value: ValueLike): Value {
    switch (typeof value) {
      case "string":
        return new Value("S", value);
      case "number":
      case "bigint":
        return new Value("N", numberText(value));
      case "boolean":
        return value ? Value.TRUE : Value.FALSE;
      case "object":
        if (value === null) return Value.NULL;
        if (value instanceof Value) return value;
        if (value instanceof Uint8Array) return new Value("B", value);
        if (value instanceof Item) return new Value("M", value);
        if (Array.isArray(value)) return new Value("L", value.map((v: ValueLike) => Value.from(v)));
        if (value instanceof Map) return new Value("M", Item.from(value as ReadonlyMap<string, ValueLike>));
    }
    throw new TypeError(
      `${describe(value)} is not a DynamoDB value: use a string, number, bigint, boolean, null, ` +
        "Uint8Array, array, Item, or a Value constructor (Value.M({..}) for a map)",
    );
  }

  /** The string, if this is an S. */
  asString(): string | undefined {
    return this.type === "S" ? (this.data as string) : undefined;
  }

  /** The decimal text, if this is an N. */
  asNumber(): string | undefined {
    return this.type === "N" ? (this.data as string) : undefined;
  }

  /**
   * The number as a JS integer, if this is an N holding a whole number written without a
   * fraction or exponent (as Rust's `as_i64` reads it) that JS holds exactly (|n| ≤ 2^53 - 1).
   */
  asInt(): number | undefined {
    if (this.type !== "N" || !isInteger(this.data as string)) return undefined;
    const n = Number(this.data);
    return Number.isSafeInteger(n) ? n : undefined;
  }

  /** The number as a bigint, if this is an N holding a whole number (no fraction or exponent). */
  asBigInt(): bigint | undefined {
    return this.type === "N" && isInteger(this.data as string) ? BigInt(this.data as string) : undefined;
  }

  /** The number as a JS float (possibly rounded), if this is an N. */
  asFloat(): number | undefined {
    if (this.type !== "N") return undefined;
    return floatOf(this.data as string);
  }

  /** The bytes, if this is a B. */
  asBytes(): Uint8Array | undefined {
    return this.type === "B" ? (this.data as Uint8Array) : undefined;
  }

  /** The boolean, if this is a BOOL. */
  asBool(): boolean | undefined {
    return this.type === "BOOL" ? (this.data as boolean) : undefined;
  }

  /** Whether this is NULL. */
  isNull(): boolean {
    return this.type === "NULL";
  }

  /** The elements, if this is an L. */
  asList(): readonly Value[] | undefined {
    return this.type === "L" ? (this.data as Value[]) : undefined;
  }

  /** The entries, if this is an M. */
  asMap(): Item | undefined {
    return this.type === "M" ? (this.data as Item) : undefined;
  }

  /** The strings, if this is an SS. */
  asStringSet(): readonly string[] | undefined {
    return this.type === "SS" ? (this.data as string[]) : undefined;
  }

  /** The decimal texts, if this is an NS. */
  asNumberSet(): readonly string[] | undefined {
    return this.type === "NS" ? (this.data as string[]) : undefined;
  }

  /** The byte strings, if this is a BS. */
  asBinarySet(): readonly Uint8Array[] | undefined {
    return this.type === "BS" ? (this.data as Uint8Array[]) : undefined;
  }

  /** The value at `path` below this one (`b[0].c`), if every step exists. */
  at(path: Path | string): Value | undefined {
    const segments = (typeof path === "string" ? Path.parse(path) : path).segments;
    let value: Value = this;
    for (let i = 0; i < segments.length; i++) {
      const next = step(value, segments[i]!);
      if (next === undefined) return undefined;
      value = next;
    }
    return value;
  }

  /** The size DynamoDB counts for this value, by its documented sizing rules (the 400 KB item limit). */
  size(): number {
    switch (this.type) {
      case "S":
        return utf8Length(this.data as string);
      case "N":
        return numberSize(this.data as string);
      case "B":
        return (this.data as Uint8Array).length;
      case "BOOL":
      case "NULL":
        return 1;
      case "SS":
        return (this.data as string[]).reduce((n, s) => n + utf8Length(s), 0);
      case "NS":
        return (this.data as string[]).reduce((n, s) => n + numberSize(s), 0);
      case "BS":
        return (this.data as Uint8Array[]).reduce((n, b) => n + b.length, 0);
      case "L":
        return 3 + (this.data as Value[]).reduce((n, v) => n + 1 + v.size(), 0);
      case "M": {
        let n = 3;
        for (const [name, v] of (this.data as Item).entries()) n += utf8Length(name) + 1 + v.size();
        return n;
      }
    }
  }

  /** Deep equality (sets compare in order, as Rust's does). */
  equals(other: Value): boolean {
    if (this === other) return true;
    if (this.type !== other.type) return false;
    const a = this.data;
    const b = other.data;
    switch (this.type) {
      case "B":
        return bytesEqual(a as Uint8Array, b as Uint8Array);
      case "SS":
      case "NS":
        return arraysEqual(a as string[], b as string[], (x, y) => x === y);
      case "BS":
        return arraysEqual(a as Uint8Array[], b as Uint8Array[], bytesEqual);
      case "L":
        return arraysEqual(a as Value[], b as Value[], (x, y) => x.equals(y));
      case "M":
        return (a as Item).equals(b as Item);
      default:
        return a === b;
    }
  }

  /**
   * The value as a test reads it (Rust's `readable`): S as a JSON string, N as its text, BOOL
   * and NULL as `true`/`false`/`null`, lists as `[..]`, maps as `{"name": ..}`, and
   * `{"B": "<base64>"}`, `{"SS": [..]}`, `{"NS": [..]}`, `{"BS": [..]}`.
   */
  toString(): string {
    switch (this.type) {
      case "S":
        return jsonString(this.data as string);
      case "N":
        return this.data as string;
      case "BOOL":
        return this.data ? "true" : "false";
      case "NULL":
        return "null";
      case "B":
        return `{"B": ${jsonString(base64Encode(this.data as Uint8Array))}}`;
      case "SS":
        return `{"SS": [${(this.data as string[]).map(jsonString).join(", ")}]}`;
      case "NS":
        return `{"NS": [${(this.data as string[]).map(jsonString).join(", ")}]}`;
      case "BS":
        return `{"BS": [${(this.data as Uint8Array[]).map((b) => jsonString(base64Encode(b))).join(", ")}]}`;
      case "L":
        return `[${(this.data as Value[]).map((v) => v.toString()).join(", ")}]`;
      case "M":
        return (this.data as Item).toString();
    }
  }

  /** The value in DynamoDB JSON: `{"S": "x"}`, `{"N": "1"}`, `{"B": "<base64>"}`, `{"M": {..}}`, ... */
  toJSON(): DynamoJson {
    switch (this.type) {
      case "S":
        return { S: this.data as string };
      case "N":
        return { N: this.data as string };
      case "B":
        return { B: base64Encode(this.data as Uint8Array) };
      case "BOOL":
        return { BOOL: this.data as boolean };
      case "NULL":
        return { NULL: true };
      case "SS":
        return { SS: (this.data as string[]).slice() };
      case "NS":
        return { NS: (this.data as string[]).slice() };
      case "BS":
        return { BS: (this.data as Uint8Array[]).map(base64Encode) };
      case "L":
        return { L: (this.data as Value[]).map((v) => v.toJSON()) };
      case "M":
        return { M: (this.data as Item).toJSON() };
    }
  }

  /** Reads a value in DynamoDB JSON (`{"S": "x"}`, `{"N": "12"}`, `{"B": "<base64>"}`, ...). */
  static fromJSON(this: void, json: DynamoJson): Value {
    const keys = json !== null && typeof json === "object" ? Object.keys(json) : [];
    if (keys.length !== 1) throw new TypeError(`not a DynamoDB JSON value: ${JSON.stringify(json)}`);
    const j = json as Record<string, unknown>;
    const type = keys[0]!;
    const v = j[type];
    switch (type) {
      case "S":
        if (typeof v === "string") return new Value("S", v);
        break;
      case "N":
        if (typeof v === "string" || typeof v === "number") return new Value("N", String(v));
        break;
      case "B":
        if (typeof v === "string") return new Value("B", base64Decode(v));
        break;
      case "BOOL":
        if (typeof v === "boolean") return Value.bool(v);
        break;
      case "NULL":
        return Value.NULL;
      case "SS":
      case "NS":
        if (Array.isArray(v)) return new Value(type, v.map(String));
        break;
      case "BS":
        if (Array.isArray(v)) return new Value("BS", v.map((b) => base64Decode(String(b))));
        break;
      case "L":
        if (Array.isArray(v)) return new Value("L", v.map((x) => Value.fromJSON(x as DynamoJson)));
        break;
      case "M":
        if (v !== null && typeof v === "object") return new Value("M", Item.fromJSON(v as Record<string, DynamoJson>));
        break;
    }
    throw new TypeError(`not a DynamoDB JSON value: ${JSON.stringify(json)}`);
  }
}

/** A value in DynamoDB JSON, as `aws dynamodb` prints it. */
export type DynamoJson =
  | { S: string }
  | { N: string }
  | { B: string }
  | { BOOL: boolean }
  | { NULL: true }
  | { SS: string[] }
  | { NS: string[] }
  | { BS: string[] }
  | { L: DynamoJson[] }
  | { M: { [name: string]: DynamoJson } };

/**
 * A DynamoDB item: attribute names mapped to values (also used for keys and for the values of
 * expression placeholders). It iterates in name order (UTF-8 byte order), as Rust's does.
 *
 * An item that comes from the host is decoded lazily: each attribute (and each nested map)
 * becomes a {@link Value} the first time it is read, so a migration pays only for what it
 * touches.
 */
export class Item implements Iterable<[string, Value]> {
  /** @internal The attributes in insertion order; a lazily decoded item also holds raw arena nodes. */
  readonly map: Map<string, Value | WitValue>;
  /** @internal The arena that raw nodes of {@link Item.map} refer to. */
  nodes: ArrayLike<WitValue> | undefined = undefined;
  /** @internal How deep the attributes of this item sit (0 at the top). */
  depth = 0;

  /** An item, empty or with the given attributes (values converted with {@link Value.from}). */
  constructor(attributes?: ItemLike) {
    this.map = new Map();
    if (attributes !== undefined) {
      if (attributes instanceof Item) {
        for (const name of attributes.map.keys()) this.map.set(name, attributes.get(name)!);
      } else if (isIterable(attributes)) {
        for (const [name, value] of attributes) this.map.set(name, Value.from(value));
      } else {
        for (const name of Object.keys(attributes)) {
          this.map.set(name, Value.from((attributes as { [name: string]: ValueLike })[name]!));
        }
      }
    }
  }

  /** An item from attributes: `Item.from({ id: "u1", visits: 3 })`. */
  static from(this: void, attributes: ItemLike): Item {
    return new Item(attributes);
  }

  /** Reads an item in DynamoDB JSON: `{"id": {"S": "u1"}, "n": {"N": "3"}}`. */
  static fromJSON(this: void, json: { readonly [name: string]: DynamoJson }): Item {
    const item = new Item();
    for (const name of Object.keys(json)) item.map.set(name, Value.fromJSON(json[name]!));
    return item;
  }

  /**
   * @internal An item over entries of an arena (`[name, index]` pairs at `depth`), decoded
   * when read. Throws on an index out of range.
   */
  static lazy(nodes: ArrayLike<WitValue>, entries: ArrayLike<[string, number]>, depth: number): Item {
    const item = new Item();
    item.nodes = nodes;
    item.depth = depth;
    const map = item.map;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const node = nodes[entry[1]];
      if (node === undefined) throw new Error("item arena: node index " + entry[1] + " is out of range");
      map.set(entry[0], node);
    }
    return item;
  }

  /** The top-level attribute `name`. */
  get(name: string): Value | undefined {
    const v = this.map.get(name);
    if (v === undefined || v instanceof Value) return v;
    const value = fromNode(this.nodes!, v, this.depth);
    this.map.set(name, value);
    return value;
  }

  /**
   * The value at a document path such as `address.city` or `tags[0]`, or undefined (a path
   * that does not parse included). Use {@link Item.get} for a name that contains `.` or `[`.
   */
  path(path: string | Path): Value | undefined {
    let parsed: Path;
    try {
      parsed = typeof path === "string" ? Path.cached(path) : path;
    } catch {
      return undefined;
    }
    const segments = parsed.segments;
    const first = segments[0];
    if (first === undefined || first.kind !== "name") return undefined;
    let value = this.get(first.name);
    for (let i = 1; value !== undefined && i < segments.length; i++) value = step(value, segments[i]!);
    return value;
  }

  /** The top-level attribute `name` if it is a string (S). */
  getString(name: string): string | undefined {
    return this.get(name)?.asString();
  }

  /** The top-level attribute `name`'s decimal text if it is a number (N). */
  getNumber(name: string): string | undefined {
    return this.get(name)?.asNumber();
  }

  /** The top-level attribute `name` if it is a whole number (N) that JS holds exactly; see {@link Value.asInt}. */
  getInt(name: string): number | undefined {
    return this.get(name)?.asInt();
  }

  /** The top-level attribute `name` if it is a boolean (BOOL). */
  getBool(name: string): boolean | undefined {
    return this.get(name)?.asBool();
  }

  /** Whether the top-level attribute `name` exists. */
  has(name: string): boolean {
    return this.map.has(name);
  }

  /** Sets the top-level attribute `name`, returning the value it replaced. */
  set(name: string, value: ValueLike): Value | undefined {
    const previous = this.get(name);
    this.map.set(name, Value.from(value));
    return previous;
  }

  /** Sets the top-level attribute `name` and returns the item, for chains: `new Item().with("id", "u1").with("n", 3)`. */
  with(name: string, value: ValueLike): this {
    this.map.set(name, Value.from(value));
    return this;
  }

  /** Removes the top-level attribute `name`, returning its value. */
  remove(name: string): Value | undefined {
    const previous = this.get(name);
    this.map.delete(name);
    return previous;
  }

  /**
   * The item's primary key: the named attributes (partition key, then sort key if any).
   * Throws an Error naming the missing attribute: ``item has no key attribute `id` ``.
   */
  key(names: readonly string[] | string): Item {
    const key = new Item();
    if (typeof names === "string") names = [names];
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const value = this.get(name);
      if (value === undefined) throw new Error("item has no key attribute `" + name + "`");
      key.map.set(name, value);
    }
    return key;
  }

  /** The attributes, in name order. */
  entries(): [string, Value][] {
    const names = this.names();
    const out: [string, Value][] = [];
    for (let i = 0; i < names.length; i++) out.push([names[i]!, this.get(names[i]!)!]);
    return out;
  }

  /** The attribute names, in name order. */
  names(): string[] {
    return sortNames([...this.map.keys()]);
  }

  /** The attributes, in name order. */
  [Symbol.iterator](): Iterator<[string, Value]> {
    return this.entries()[Symbol.iterator]();
  }

  /** The number of top-level attributes. */
  len(): number {
    return this.map.size;
  }

  /** Whether the item has no attributes. */
  isEmpty(): boolean {
    return this.map.size === 0;
  }

  /** The size DynamoDB counts for the item: attribute names plus values. */
  size(): number {
    let n = 0;
    for (const name of this.map.keys()) n += utf8Length(name) + this.get(name)!.size();
    return n;
  }

  /** A copy of the item (values are shared: they are immutable, except maps' items). */
  clone(): Item {
    return new Item(this);
  }

  /** Whether both items have the same attributes with equal values. */
  equals(other: Item): boolean {
    if (this === other) return true;
    if (this.map.size !== other.map.size) return false;
    for (const name of this.map.keys()) {
      const theirs = other.get(name);
      if (theirs === undefined || !this.get(name)!.equals(theirs)) return false;
    }
    return true;
  }

  /** The item as a test reads it: `{"id": "u1", "n": 3}` (see {@link Value.toString}). */
  toString(): string {
    return `{${this.entries()
      .map(([name, value]) => `${jsonString(name)}: ${value.toString()}`)
      .join(", ")}}`;
  }

  /** The item in DynamoDB JSON, attributes in name order: `{"id": {"S": "u1"}}`. */
  toJSON(): { [name: string]: DynamoJson } {
    const out: { [name: string]: DynamoJson } = {};
    for (const [name, value] of this.entries()) out[name] = value.toJSON();
    return out;
  }
}

/** DynamoDB's deepest nesting of lists and maps. */
export const MAX_DEPTH = 32;

/**
 * A value from a node of an arena, `depth` levels down: scalars and lists at once, maps as
 * lazily decoded items. Throws on an index out of range, or on nesting deeper than DynamoDB
 * allows (which also stops cycles).
 */
function fromNode(nodes: ArrayLike<WitValue>, node: WitValue, depth: number): Value {
  if (depth > MAX_DEPTH) throw new Error("item arena nests deeper than DynamoDB's " + MAX_DEPTH + " levels");
  switch (node.tag) {
    case "s":
      return new Value("S", node.val);
    case "n":
      return new Value("N", node.val);
    case "b":
      return new Value("B", node.val instanceof Uint8Array ? node.val : Uint8Array.from(node.val));
    case "boolean":
      return node.val ? Value.TRUE : Value.FALSE;
    case "null":
      return Value.NULL;
    case "ss":
      return new Value("SS", Array.isArray(node.val) ? node.val : Array.from(node.val));
    case "ns":
      return new Value("NS", Array.isArray(node.val) ? node.val : Array.from(node.val));
    case "bs":
      return new Value(
        "BS",
        Array.from(node.val, (b) => (b instanceof Uint8Array ? b : Uint8Array.from(b))),
      );
    case "l": {
      const children = node.val;
      const list: Value[] = [];
      for (let i = 0; i < children.length; i++) {
        const child = nodes[children[i]!];
        if (child === undefined) throw new Error("item arena: node index " + children[i] + " is out of range");
        list.push(fromNode(nodes, child, depth + 1));
      }
      return new Value("L", list);
    }
    case "m":
      if (depth >= MAX_DEPTH && node.val.length > 0) {
        throw new Error("item arena nests deeper than DynamoDB's " + MAX_DEPTH + " levels");
      }
      return new Value("M", Item.lazy(nodes, node.val, depth + 1));
  }
  throw new Error("item arena: a node has an unknown type `" + (node as { tag: unknown }).tag + "`");
}


function step(value: Value, segment: import("./path.js").Segment): Value | undefined {
  if (segment.kind === "name") {
    return value.type === "M" ? (value.data as Item).get(segment.name) : undefined;
  }
  return value.type === "L" ? (value.data as Value[])[segment.index] : undefined;
}

function isIterable(x: unknown): x is Iterable<readonly [string, ValueLike]> {
  return x !== null && typeof x === "object" && typeof (x as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function";
}

function describe(x: unknown): string {
  if (x === undefined) return "undefined";
  if (typeof x === "object") return x === null ? "null" : `an object (${Object.prototype.toString.call(x)})`;
  return `a ${typeof x}`;
}
