// The canonical-ABI glue of the drift:migration world, written once for every AssemblyScript
// migration: lifting the item arena into Item/Value trees, lowering actions back, the
// allocator the host calls (cabi_realloc), and the post-return functions.
//
// Memory discipline, so that memory does not grow across calls:
// - every block the host asks for through cabi_realloc (arguments of an export, results of
//   an import) is freed as soon as it has been lifted;
// - every block written for a result is freed in cabi_post_<export>, which also runs a full
//   collection of the managed heap (the `minimal` runtime collects only when asked).
// Blocks come from AssemblyScript's TLSF allocator, whose blocks are 16-byte aligned: enough for
// every alignment the canonical ABI asks (at most 8).
//
// Layouts (bytes): value 12 (tag u8 @0, payload @4); item 16; option<string> 12;
// expression-attributes 24; put/delete-action 64; update-action 76; action 80;
// result<list<action>, string> 12; info 40 (align 8).

import { Item, Kind, Value } from "./value";
import { Action, ActionKind } from "./action";
import { handlers, Result } from "./migration";
import { error as logError } from "./log";

const inbound: usize[] = [];
const outbound: usize[] = [];

/** Allocation for the host: arguments of our exports, results of our imports. */
export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  if (oldPtr != 0) {
    const ptr = heap.realloc(oldPtr, newSize);
    const i = inbound.indexOf(oldPtr);
    if (i >= 0) inbound[i] = ptr;
    else inbound.push(ptr);
    return ptr;
  }
  const ptr = heap.alloc(newSize);
  inbound.push(ptr);
  return ptr;
}

function freeInbound(): void {
  for (let i = 0; i < inbound.length; i++) heap.free(inbound[i]);
  inbound.length = 0;
}

/** A block for arguments of an import call; freed when the export call ends. */
export function alloc_for_import(size: usize): usize { return alloc(size); }

/** A block for a value we hand to the host; freed after the call. */
function alloc(size: usize): usize {
  const ptr = heap.alloc(size);
  outbound.push(ptr);
  return ptr;
}

function finishCall(): void {
  for (let i = 0; i < outbound.length; i++) heap.free(outbound[i]);
  outbound.length = 0;
  __collect();
}

// ---------------------------------------------------------------------------- lifting

function liftString(ptr: usize, len: usize): string {
  return String.UTF8.decodeUnsafe(ptr, len);
}

function liftBytes(ptr: usize, len: usize): Uint8Array {
  const out = new Uint8Array(<i32>len);
  memory.copy(out.dataStart, ptr, len);
  return out;
}

function liftStrings(ptr: usize, len: usize): string[] {
  const out = new Array<string>(<i32>len);
  for (let i: usize = 0; i < len; i++) {
    out[<i32>i] = liftString(load<u32>(ptr + 8 * i), load<u32>(ptr + 8 * i, 4));
  }
  return out;
}

/** Rebuilds an item from its arena (the host guarantees a valid one; depth is still bounded). */
export function liftItem(attrs: usize, attrsLen: usize, nodes: usize, nodesLen: usize): Item {
  const item = new Item();
  for (let i: usize = 0; i < attrsLen; i++) {
    const at = attrs + 12 * i;
    const name = liftString(load<u32>(at), load<u32>(at, 4));
    item.set(name, liftNode(nodes, nodesLen, load<u32>(at, 8), 0));
  }
  return item;
}

function liftNode(nodes: usize, nodesLen: usize, index: u32, depth: i32): Value {
  if (<usize>index >= nodesLen || depth > 64) throw new Error("drift-sdk: malformed item arena");
  const at = nodes + 12 * <usize>index;
  const a = <usize>load<u32>(at, 4);
  const b = <usize>load<u32>(at, 8);
  switch (<i32>load<u8>(at)) {
    case Kind.S: return Value.S(liftString(a, b));
    case Kind.N: return Value.N(liftString(a, b));
    case Kind.B: return Value.B(liftBytes(a, b));
    case Kind.BOOL: return Value.bool(load<u8>(at, 4) != 0);
    case Kind.NULL: return Value.null();
    case Kind.SS: return Value.SS(liftStrings(a, b));
    case Kind.NS: return Value.NS(liftStrings(a, b));
    case Kind.BS: {
      const out = new Array<Uint8Array>(<i32>b);
      for (let i: usize = 0; i < b; i++) out[<i32>i] = liftBytes(load<u32>(a + 8 * i), load<u32>(a + 8 * i, 4));
      return Value.BS(out);
    }
    case Kind.L: {
      const out = new Array<Value>(<i32>b);
      for (let i: usize = 0; i < b; i++) out[<i32>i] = liftNode(nodes, nodesLen, load<u32>(a + 4 * i), depth + 1);
      return Value.L(out);
    }
    case Kind.M: {
      const out = new Item();
      for (let i: usize = 0; i < b; i++) {
        const e = a + 12 * i;
        out.set(liftString(load<u32>(e), load<u32>(e, 4)), liftNode(nodes, nodesLen, load<u32>(e, 8), depth + 1));
      }
      return Value.M(out);
    }
  }
  throw new Error("drift-sdk: unknown value tag");
}

// ---------------------------------------------------------------------------- lowering

/** Writes `s` as a (pointer, length) pair of UTF-8 at `at`. */
export function storeString(at: usize, s: string): void {
  const len = <usize>String.UTF8.byteLength(s);
  const ptr = alloc(len);
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, ptr, false, String.UTF8.ErrorMode.REPLACE);
  store<u32>(at, <u32>ptr);
  store<u32>(at, <u32>len, 4);
}

function storeBytes(at: usize, bytes: Uint8Array): void {
  const len = <usize>bytes.length;
  const ptr = alloc(len);
  memory.copy(ptr, bytes.dataStart, len);
  store<u32>(at, <u32>ptr);
  store<u32>(at, <u32>len, 4);
}

function storeStrings(at: usize, list: string[]): void {
  const ptr = alloc(8 * <usize>list.length);
  for (let i = 0; i < list.length; i++) storeString(ptr + 8 * <usize>i, list[i]);
  store<u32>(at, <u32>ptr);
  store<u32>(at, <u32>list.length, 4);
}

function storeOptionalString(at: usize, s: string | null): void {
  if (s == null) {
    store<u8>(at, 0);
  } else {
    store<u8>(at, 1);
    storeString(at + 4, s);
  }
}

function countNodes(value: Value): u32 {
  let count: u32 = 1;
  if (value.kind == Kind.L) {
    for (let i = 0; i < value.list.length; i++) count += countNodes(value.list[i]);
  } else if (value.kind == Kind.M) {
    const values = value.map.values();
    for (let i = 0; i < values.length; i++) count += countNodes(values[i]);
  }
  return count;
}

let nextNode: u32 = 0;

/** Writes an item arena (attributes, nodes) at `at`. */
export function storeItem(at: usize, entries: Map<string, Value>): void {
  const names = entries.keys();
  let total: u32 = 0;
  for (let i = 0; i < names.length; i++) total += countNodes(entries.get(names[i]));
  const attrs = alloc(12 * <usize>names.length);
  const nodes = alloc(12 * <usize>total);
  nextNode = 0;
  for (let i = 0; i < names.length; i++) {
    const e = attrs + 12 * <usize>i;
    storeString(e, names[i]);
    store<u32>(e, writeNode(nodes, entries.get(names[i])), 8);
  }
  store<u32>(at, <u32>attrs);
  store<u32>(at, <u32>names.length, 4);
  store<u32>(at, <u32>nodes, 8);
  store<u32>(at, total, 12);
}

/** Writes `value` at the next node slot (children after it); returns its index. */
function writeNode(nodes: usize, value: Value): u32 {
  const index = nextNode++;
  const at = nodes + 12 * <usize>index;
  store<u8>(at, <u8>value.kind);
  switch (value.kind) {
    case Kind.S:
    case Kind.N: storeString(at + 4, value.text); break;
    case Kind.B: storeBytes(at + 4, value.bytes); break;
    case Kind.BOOL: store<u8>(at, value.flag ? 1 : 0, 4); break;
    case Kind.NULL: break;
    case Kind.SS:
    case Kind.NS: storeStrings(at + 4, value.texts); break;
    case Kind.BS: {
      const list = alloc(8 * <usize>value.binaries.length);
      for (let i = 0; i < value.binaries.length; i++) storeBytes(list + 8 * <usize>i, value.binaries[i]);
      store<u32>(at, <u32>list, 4);
      store<u32>(at, <u32>value.binaries.length, 8);
      break;
    }
    case Kind.L: {
      const list = alloc(4 * <usize>value.list.length);
      for (let i = 0; i < value.list.length; i++) store<u32>(list + 4 * <usize>i, writeNode(nodes, value.list[i]));
      store<u32>(at, <u32>list, 4);
      store<u32>(at, <u32>value.list.length, 8);
      break;
    }
    case Kind.M: {
      const keys = value.map.keys();
      const list = alloc(12 * <usize>keys.length);
      for (let i = 0; i < keys.length; i++) {
        const e = list + 12 * <usize>i;
        storeString(e, keys[i]);
        store<u32>(e, writeNode(nodes, value.map.get(keys[i])), 8);
      }
      store<u32>(at, <u32>list, 4);
      store<u32>(at, <u32>keys.length, 8);
      break;
    }
  }
  return index;
}

/** Writes expression-attributes (names, values) at `at`. */
export function storeAttributes(at: usize, names: Map<string, string>, values: Map<string, Value>): void {
  const keys = names.keys();
  const list = alloc(16 * <usize>keys.length);
  for (let i = 0; i < keys.length; i++) {
    storeString(list + 16 * <usize>i, keys[i]);
    storeString(list + 16 * <usize>i + 8, names.get(keys[i]));
  }
  store<u32>(at, <u32>list);
  store<u32>(at, <u32>keys.length, 4);
  storeItem(at + 8, values);
}

function storeAction(at: usize, action: Action): void {
  store<u8>(at, <u8>action.kind);
  const p = at + 4;
  storeOptionalString(p, action.table);
  storeItem(p + 12, action.item.entries);
  if (action.kind == ActionKind.UPDATE) {
    storeString(p + 28, <string>action.updateExpression());
    storeOptionalString(p + 36, action.condition);
    storeAttributes(p + 48, action.names, action.values);
    store<u8>(p + 72, action.upsertAllowed ? 1 : 0);
  } else {
    storeOptionalString(p + 28, action.condition);
    storeAttributes(p + 40, action.names, action.values);
  }
}

function storeResult(result: Result): usize {
  const at = alloc(12);
  let error = result.error;
  for (let i = 0; error == null && i < result.actions.length; i++) error = result.actions[i].problem();
  if (error != null) {
    store<u8>(at, 1);
    storeString(at + 4, error);
    return at;
  }
  const actions = result.actions;
  const list = alloc(80 * <usize>actions.length);
  for (let i = 0; i < actions.length; i++) storeAction(list + 80 * <usize>i, actions[i]);
  store<u8>(at, 0);
  store<u32>(at, <u32>list, 4);
  store<u32>(at, <u32>actions.length, 8);
  return at;
}

// ---------------------------------------------------------------------------- exports

/** `info: func() -> info`. */
export function info(): usize {
  const i = handlers().info();
  const at = alloc(40);
  store<u64>(at, i.number);
  storeString(at + 8, i.name);
  storeString(at + 16, i.description);
  storeString(at + 24, i.table);
  storeStrings(at + 32, i.otherTables);
  return at;
}

/** `migrate: func(item: item) -> result<list<action>, string>`. */
export function migrate(attrs: usize, attrsLen: usize, nodes: usize, nodesLen: usize): usize {
  const item = liftItem(attrs, attrsLen, nodes, nodesLen);
  freeInbound();
  return storeResult(handlers().migrate(item));
}

/** `rollback: func(item: item) -> result<list<action>, string>`. */
export function rollback(attrs: usize, attrsLen: usize, nodes: usize, nodesLen: usize): usize {
  const item = liftItem(attrs, attrsLen, nodes, nodesLen);
  freeInbound();
  return storeResult(handlers().rollback(item));
}

export function cabi_post_info(ret: usize): void { finishCall(); }
export function cabi_post_migrate(ret: usize): void { finishCall(); }
export function cabi_post_rollback(ret: usize): void { finishCall(); }

/** Takes the place of AssemblyScript's `abort` (build with `--use abort=...driftAbort`):
 *  logs the message at error level, then traps; drift-host reports it with the item's key. */
export function driftAbort(message: string | null, file: string | null, line: u32, column: u32): void {
  logError("abort: " + (message != null ? message : "(no message)") + " at " +
    (file != null ? file : "?") + ":" + line.toString() + ":" + column.toString());
  unreachable();
}

/** Frees what the host wrote for an import's result, once it has been lifted. */
export function releaseInbound(): void { freeInbound(); }
