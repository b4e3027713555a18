// DynamoDB values and items as a plain tree: what a migration reads and builds.
//
// Pure AssemblyScript (no imports), so the SDK's tests run without drift-host.

import { Path, Segment } from "./path";

/** DynamoDB's value types. */
export enum Kind { S, N, B, BOOL, NULL, SS, NS, BS, L, M }

const KIND_NAMES: string[] = ["S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"];

/** One DynamoDB attribute value. Build with the static constructors; read with the `as*` accessors. */
export class Value {
  kind: Kind = Kind.NULL;
  /** S or N (decimal text). */
  text: string = "";
  /** B. */
  bytes: Uint8Array = new Uint8Array(0);
  /** BOOL. */
  flag: bool = false;
  /** SS or NS. */
  texts: string[] = [];
  /** BS. */
  binaries: Uint8Array[] = [];
  /** L. */
  list: Value[] = [];
  /** M (in insertion order). */
  map: Map<string, Value> = new Map<string, Value>();

  /** A string (S). */
  static S(text: string): Value { const v = new Value(); v.kind = Kind.S; v.text = text; return v; }
  /** A number (N) from its decimal text, e.g. "12345678901234567890123456789012345678". */
  static N(text: string): Value { const v = new Value(); v.kind = Kind.N; v.text = text; return v; }
  /** A number (N) from an integer. */
  static int(n: i64): Value { return Value.N(n.toString()); }
  /** Binary (B). */
  static B(bytes: Uint8Array): Value { const v = new Value(); v.kind = Kind.B; v.bytes = bytes; return v; }
  /** A boolean (BOOL). */
  static bool(flag: bool): Value { const v = new Value(); v.kind = Kind.BOOL; v.flag = flag; return v; }
  /** NULL. */
  static null(): Value { return new Value(); }
  /** A string set (SS). */
  static SS(texts: string[]): Value { const v = new Value(); v.kind = Kind.SS; v.texts = texts; return v; }
  /** A number set (NS), as decimal texts. */
  static NS(texts: string[]): Value { const v = new Value(); v.kind = Kind.NS; v.texts = texts; return v; }
  /** A binary set (BS). */
  static BS(binaries: Uint8Array[]): Value { const v = new Value(); v.kind = Kind.BS; v.binaries = binaries; return v; }
  /** A list (L). */
  static L(list: Value[]): Value { const v = new Value(); v.kind = Kind.L; v.list = list; return v; }
  /** A map (M). */
  static M(item: Item): Value { const v = new Value(); v.kind = Kind.M; v.map = item.entries; return v; }

  /** DynamoDB's name for the type: S, N, B, BOOL, NULL, SS, NS, BS, L, M. */
  get typeName(): string { return KIND_NAMES[<i32>this.kind]; }
  /** The string, if this is an S. */
  asString(): string | null { return this.kind == Kind.S ? this.text : null; }
  /** The decimal text, if this is an N. */
  asNumber(): string | null { return this.kind == Kind.N ? this.text : null; }
  /** Whether this is an N holding a whole number that fits an i64 (read it with `asI64`). */
  isI64(): bool {
    if (this.kind != Kind.N) return false;
    const t = this.text;
    const start = t.startsWith("-") ? 1 : 0;
    if (t.length <= start || t.length - start > 18) return false;
    for (let i = start; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c < 48 || c > 57) return false;
    }
    return true;
  }
  /** The number as an i64 (check `isI64` first; 0 otherwise). */
  asI64(): i64 { return this.isI64() ? I64.parseInt(this.text) : 0; }
  /** The bytes, if this is a B. */
  asBytes(): Uint8Array | null { return this.kind == Kind.B ? this.bytes : null; }
  /** Whether this is BOOL true. */
  isTrue(): bool { return this.kind == Kind.BOOL && this.flag; }
  /** Whether this is NULL. */
  isNull(): bool { return this.kind == Kind.NULL; }
  /** The elements, if this is an L. */
  asList(): Value[] | null { return this.kind == Kind.L ? this.list : null; }
  /** The entries, if this is an M. */
  asMap(): Item | null { return this.kind == Kind.M ? Item.from(this.map) : null; }

  /** The value at `path` below this one, or null. */
  at(path: Path, from: i32 = 0): Value | null {
    let value: Value = this;
    for (let i = from; i < path.segments.length; i++) {
      const segment = path.segments[i];
      if (segment.isIndex) {
        if (value.kind != Kind.L || segment.index >= <u32>value.list.length) return null;
        value = value.list[<i32>segment.index];
      } else {
        if (value.kind != Kind.M || !value.map.has(segment.name)) return null;
        value = value.map.get(segment.name);
      }
    }
    return value;
  }

  /** A deep copy. */
  clone(): Value {
    const v = new Value();
    v.kind = this.kind;
    v.text = this.text;
    v.bytes = this.bytes.slice(0);
    v.flag = this.flag;
    v.texts = this.texts.slice(0);
    v.binaries = this.binaries.map<Uint8Array>((b: Uint8Array) => b.slice(0));
    v.list = this.list.map<Value>((x: Value) => x.clone());
    const keys = this.map.keys();
    for (let i = 0; i < keys.length; i++) v.map.set(keys[i], this.map.get(keys[i]).clone());
    return v;
  }
}

/** A DynamoDB item (or key): attribute names mapped to values. */
export class Item {
  entries: Map<string, Value> = new Map<string, Value>();

  /** An item over an existing map. */
  static from(entries: Map<string, Value>): Item { const item = new Item(); item.entries = entries; return item; }

  /** The top-level attribute `name`, or null. */
  get(name: string): Value | null { return this.entries.has(name) ? this.entries.get(name) : null; }
  /** The value at a document path such as `address.city` or `tags[0]`, or null. */
  path(text: string): Value | null {
    const path = Path.parse(text);
    if (path == null || path.segments.length == 0 || path.segments[0].isIndex) return null;
    const first = this.get(path.segments[0].name);
    return first == null ? null : first.at(path, 1);
  }
  /** The top-level attribute `name` if it is a string (S). */
  getString(name: string): string | null { const v = this.get(name); return v == null ? null : v.asString(); }
  /** Whether the top-level attribute `name` exists. */
  has(name: string): bool { return this.entries.has(name); }
  /** Sets the top-level attribute `name`. */
  set(name: string, value: Value): Item { this.entries.set(name, value); return this; }
  /** Removes the top-level attribute `name`; returns whether it was there. */
  remove(name: string): bool { return this.entries.delete(name); }
  /** The attribute names, in insertion order. */
  names(): string[] { return this.entries.keys(); }
  /** How many attributes. */
  get size(): i32 { return this.entries.size; }
  /** The item's key: the named attributes, or null (see `missingKey`) if one is missing. */
  key(names: string[]): Item | null {
    const key = new Item();
    for (let i = 0; i < names.length; i++) {
      const v = this.get(names[i]);
      if (v == null) return null;
      key.set(names[i], v);
    }
    return key;
  }
  /** A deep copy (the attributes keep their order). */
  clone(): Item {
    const copy = new Item();
    const names = this.entries.keys();
    for (let i = 0; i < names.length; i++) copy.set(names[i], this.entries.get(names[i]).clone());
    return copy;
  }
  /** The first of `names` the item lacks, or null. */
  missingKey(names: string[]): string | null {
    for (let i = 0; i < names.length; i++) if (!this.has(names[i])) return names[i];
    return null;
  }
}

export { Segment };
