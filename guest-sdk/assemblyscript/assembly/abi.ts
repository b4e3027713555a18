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
// Sizes and offsets come from layout.ts, which a test checks against the WIT.

import { Item, Kind, Value } from "./value";
import * as L from "./layout";
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
    const at = ptr + L.SLICE_SIZE * i;
    out[<i32>i] = liftString(load<u32>(at), load<u32>(at + L.SLICE_LEN));
  }
  return out;
}

/** Rebuilds an item from its arena (the host guarantees a valid one; depth is still bounded). */
export function liftItem(attrs: usize, attrsLen: usize, nodes: usize, nodesLen: usize): Item {
  const item = new Item();
  for (let i: usize = 0; i < attrsLen; i++) {
    const at = attrs + L.ENTRY_SIZE * i;
    const name = liftString(load<u32>(at), load<u32>(at + L.SLICE_LEN));
    item.set(name, liftNode(nodes, nodesLen, load<u32>(at + L.ENTRY_NODE), 0));
  }
  return item;
}

function liftNode(nodes: usize, nodesLen: usize, index: u32, depth: i32): Value {
  if (<usize>index >= nodesLen || depth > 64) throw new Error("drift-sdk: malformed item arena");
  const at = nodes + L.VALUE_SIZE * <usize>index;
  // A payload of one or two words: (pointer, length), or a bool.
  const a = <usize>load<u32>(at + L.VALUE_PAYLOAD);
  const b = <usize>load<u32>(at + L.VALUE_PAYLOAD + L.SLICE_LEN);
  switch (<i32>load<u8>(at)) {
    case Kind.S: return Value.S(liftString(a, b));
    case Kind.N: return Value.N(liftString(a, b));
    case Kind.B: return Value.B(liftBytes(a, b));
    case Kind.BOOL: return Value.bool(load<u8>(at + L.VALUE_PAYLOAD) != 0);
    case Kind.NULL: return Value.null();
    case Kind.SS: return Value.SS(liftStrings(a, b));
    case Kind.NS: return Value.NS(liftStrings(a, b));
    case Kind.BS: {
      const out = new Array<Uint8Array>(<i32>b);
      for (let i: usize = 0; i < b; i++) {
        const e = a + L.SLICE_SIZE * i;
        out[<i32>i] = liftBytes(load<u32>(e), load<u32>(e + L.SLICE_LEN));
      }
      return Value.BS(out);
    }
    case Kind.L: {
      const out = new Array<Value>(<i32>b);
      for (let i: usize = 0; i < b; i++) out[<i32>i] = liftNode(nodes, nodesLen, load<u32>(a + L.INDEX_SIZE * i), depth + 1);
      return Value.L(out);
    }
    case Kind.M: {
      const out = new Item();
      for (let i: usize = 0; i < b; i++) {
        const e = a + L.ENTRY_SIZE * i;
        out.set(liftString(load<u32>(e), load<u32>(e + L.SLICE_LEN)), liftNode(nodes, nodesLen, load<u32>(e + L.ENTRY_NODE), depth + 1));
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
  store<u32>(at + L.SLICE_LEN, <u32>len);
}

function storeBytes(at: usize, bytes: Uint8Array): void {
  const len = <usize>bytes.length;
  const ptr = alloc(len);
  memory.copy(ptr, bytes.dataStart, len);
  store<u32>(at, <u32>ptr);
  store<u32>(at + L.SLICE_LEN, <u32>len);
}

function storeStrings(at: usize, list: string[]): void {
  const ptr = alloc(L.SLICE_SIZE * <usize>list.length);
  for (let i = 0; i < list.length; i++) storeString(ptr + L.SLICE_SIZE * <usize>i, list[i]);
  store<u32>(at, <u32>ptr);
  store<u32>(at + L.SLICE_LEN, <u32>list.length);
}

/** Writes `s` as an option<string> at `at`. */
export function storeOptionalString(at: usize, s: string | null): void {
  if (s == null) {
    store<u8>(at, 0);
  } else {
    store<u8>(at, 1);
    storeString(at + L.OPTION_STRING_PAYLOAD, s);
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
  const attrs = alloc(L.ENTRY_SIZE * <usize>names.length);
  const nodes = alloc(L.VALUE_SIZE * <usize>total);
  nextNode = 0;
  for (let i = 0; i < names.length; i++) {
    const e = attrs + L.ENTRY_SIZE * <usize>i;
    storeString(e, names[i]);
    store<u32>(e + L.ENTRY_NODE, writeNode(nodes, entries.get(names[i])));
  }
  store<u32>(at, <u32>attrs);
  store<u32>(at + L.SLICE_LEN, <u32>names.length);
  store<u32>(at + L.ITEM_NODES, <u32>nodes);
  store<u32>(at + L.ITEM_NODES + L.SLICE_LEN, total);
}

/** Writes `value` at the next node slot (children after it); returns its index. */
function writeNode(nodes: usize, value: Value): u32 {
  const index = nextNode++;
  const at = nodes + L.VALUE_SIZE * <usize>index;
  const payload = at + L.VALUE_PAYLOAD;
  store<u8>(at, <u8>value.kind);
  switch (value.kind) {
    case Kind.S:
    case Kind.N: storeString(payload, value.text); break;
    case Kind.B: storeBytes(payload, value.bytes); break;
    case Kind.BOOL: store<u8>(payload, value.flag ? 1 : 0); break;
    case Kind.NULL: break;
    case Kind.SS:
    case Kind.NS: storeStrings(payload, value.texts); break;
    case Kind.BS: {
      const list = alloc(L.SLICE_SIZE * <usize>value.binaries.length);
      for (let i = 0; i < value.binaries.length; i++) storeBytes(list + L.SLICE_SIZE * <usize>i, value.binaries[i]);
      store<u32>(payload, <u32>list);
      store<u32>(payload + L.SLICE_LEN, <u32>value.binaries.length);
      break;
    }
    case Kind.L: {
      const list = alloc(L.INDEX_SIZE * <usize>value.list.length);
      for (let i = 0; i < value.list.length; i++) store<u32>(list + L.INDEX_SIZE * <usize>i, writeNode(nodes, value.list[i]));
      store<u32>(payload, <u32>list);
      store<u32>(payload + L.SLICE_LEN, <u32>value.list.length);
      break;
    }
    case Kind.M: {
      const keys = value.map.keys();
      const list = alloc(L.ENTRY_SIZE * <usize>keys.length);
      for (let i = 0; i < keys.length; i++) {
        const e = list + L.ENTRY_SIZE * <usize>i;
        storeString(e, keys[i]);
        store<u32>(e + L.ENTRY_NODE, writeNode(nodes, value.map.get(keys[i])));
      }
      store<u32>(payload, <u32>list);
      store<u32>(payload + L.SLICE_LEN, <u32>keys.length);
      break;
    }
  }
  return index;
}

/** Writes expression-attributes (names, values) at `at`. */
export function storeAttributes(at: usize, names: Map<string, string>, values: Map<string, Value>): void {
  const keys = names.keys();
  const list = alloc(L.NAME_PAIR_SIZE * <usize>keys.length);
  for (let i = 0; i < keys.length; i++) {
    const pair = list + L.NAME_PAIR_SIZE * <usize>i;
    storeString(pair, keys[i]);
    storeString(pair + L.NAME_PAIR_SECOND, names.get(keys[i]));
  }
  store<u32>(at, <u32>list);
  store<u32>(at + L.SLICE_LEN, <u32>keys.length);
  storeItem(at + L.EXPRESSION_ATTRIBUTES_VALUES, values);
}

function storeAction(at: usize, action: Action): void {
  store<u8>(at, <u8>action.kind);
  // Every action starts with its table (at 0 of the payload).
  const p = at + L.ACTION_PAYLOAD;
  storeOptionalString(p, action.table);
  if (action.kind == ActionKind.UPDATE) {
    storeItem(p + L.UPDATE_ACTION_KEY, action.item.entries);
    storeString(p + L.UPDATE_ACTION_UPDATE_EXPRESSION, <string>action.updateExpression());
    storeOptionalString(p + L.UPDATE_ACTION_CONDITION, action.condition);
    storeAttributes(p + L.UPDATE_ACTION_ATTRIBUTES, action.names, action.values);
    store<u8>(p + L.UPDATE_ACTION_UPSERT, action.upsertAllowed ? 1 : 0);
  } else {
    storeItem(p + L.PUT_ACTION_ITEM, action.item.entries);
    storeOptionalString(p + L.PUT_ACTION_CONDITION, action.condition);
    storeAttributes(p + L.PUT_ACTION_ATTRIBUTES, action.names, action.values);
  }
}

function storeResult(result: Result): usize {
  const at = alloc(L.ACTIONS_RESULT_SIZE);
  let error = result.error;
  for (let i = 0; error == null && i < result.actions.length; i++) error = result.actions[i].problem();
  if (error != null) {
    store<u8>(at, 1);
    storeString(at + L.ACTIONS_RESULT_PAYLOAD, error);
    return at;
  }
  const actions = result.actions;
  const list = alloc(L.ACTION_SIZE * <usize>actions.length);
  for (let i = 0; i < actions.length; i++) storeAction(list + L.ACTION_SIZE * <usize>i, actions[i]);
  store<u8>(at, 0);
  store<u32>(at + L.ACTIONS_RESULT_PAYLOAD, <u32>list);
  store<u32>(at + L.ACTIONS_RESULT_PAYLOAD + L.SLICE_LEN, <u32>actions.length);
  return at;
}

// ---------------------------------------------------------------------------- exports

/** `info: func() -> info`. */
export function info(): usize {
  const i = handlers().info();
  const at = alloc(L.INFO_SIZE);
  store<u64>(at, i.number);
  storeString(at + L.INFO_NAME, i.name);
  storeString(at + L.INFO_DESCRIPTION, i.description);
  storeString(at + L.INFO_TABLE, i.table);
  storeStrings(at + L.INFO_OTHER_TABLES, i.otherTables);
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
