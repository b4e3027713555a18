// Immediate DynamoDB operations while an item is migrated, on the tables the migration
// declared: getItem, query (reads), putItem, updateItem, deleteItem (writes, not deferred and
// not undone if the migration fails: prefer actions).
//
// Layouts (bytes): update-item's arguments exceed 16 flat values, so they go through memory as
// a record of 68 (table 0, key 8, expression 24, condition 32, attributes 44); query-input
// likewise, 96 (table 0, index 8, key-condition 20, filter 28, attributes 40, limit 64,
// exclusive-start-key 72, descending 92).

import { Item, Value } from "./value";
import { alloc_for_import, liftItem, releaseInbound, storeAttributes, storeItem, storeString } from "./abi";


@external("drift:migration/dynamodb@0.1.0", "get-item")
declare function hostGetItem(table: usize, tableLen: usize, attrs: usize, attrsLen: usize, nodes: usize, nodesLen: usize, ret: usize): void;

@external("drift:migration/dynamodb@0.1.0", "put-item")
declare function hostPutItem(
  table: usize, tableLen: usize,
  attrs: usize, attrsLen: usize, nodes: usize, nodesLen: usize,
  hasCondition: i32, condition: usize, conditionLen: usize,
  names: usize, namesLen: usize, vAttrs: usize, vAttrsLen: usize, vNodes: usize, vNodesLen: usize,
  ret: usize,
): void;

@external("drift:migration/dynamodb@0.1.0", "delete-item")
declare function hostDeleteItem(
  table: usize, tableLen: usize,
  attrs: usize, attrsLen: usize, nodes: usize, nodesLen: usize,
  hasCondition: i32, condition: usize, conditionLen: usize,
  names: usize, namesLen: usize, vAttrs: usize, vAttrsLen: usize, vNodes: usize, vNodesLen: usize,
  ret: usize,
): void;

@external("drift:migration/dynamodb@0.1.0", "update-item")
declare function hostUpdateItem(args: usize, ret: usize): void;

@external("drift:migration/dynamodb@0.1.0", "query")
declare function hostQuery(args: usize, ret: usize): void;

/** Condition and placeholders of an immediate operation. */
export class Expression {
  condition: string | null = null;
  names: Map<string, string> = new Map<string, string>();
  values: Map<string, Value> = new Map<string, Value>();
  /** Sets the condition expression. */
  when(condition: string): Expression { this.condition = condition; return this; }
  /** Defines `#placeholder` as attribute `name`. */
  name(placeholder: string, name: string): Expression { this.names.set(placeholder, name); return this; }
  /** Defines `:placeholder` as `value`. */
  value(placeholder: string, value: Value): Expression { this.values.set(placeholder, value); return this; }
}

/** The outcome of an immediate operation. */
export class Outcome {
  /** getItem: the item, or null if there is none. */
  item: Item | null = null;
  /** query: the page's items. */
  items: Item[] = [];
  /** query: where the next page starts, or null after the last. */
  lastEvaluatedKey: Item | null = null;
  /** Why the call failed, or null. */
  error: string | null = null;
  /** Whether it failed because its condition did not hold (nothing was written). */
  conditionFailed: bool = false;
}

const DB_ERRORS: string[] = ["condition check failed", "refused: ", "DynamoDB failed: "];

/** Reads a db-error variant at `at` into `out`. */
function readError(at: usize, out: Outcome): void {
  const tag = load<u8>(at);
  out.conditionFailed = tag == 0;
  out.error = DB_ERRORS[tag] + (tag == 0 ? "" : String.UTF8.decodeUnsafe(load<u32>(at, 4), load<u32>(at, 8)));
}

/** Reads `result<_, db-error>` at `ret`. */
function unitResult(ret: usize): Outcome {
  const out = new Outcome();
  if (load<u8>(ret) != 0) readError(ret + 4, out);
  releaseInbound();
  return out;
}

/** Writes option<string> at `at`. */
function storeOption(at: usize, s: string | null): void {
  if (s == null) {
    store<u8>(at, 0);
  } else {
    store<u8>(at, 1);
    storeString(at + 4, s);
  }
}

/** Reads the item with primary key `key` from `table` (strongly consistent). */
export function getItem(table: string, key: Item): Outcome {
  const args = alloc_for_import(24);
  storeString(args, table);
  storeItem(args + 8, key.entries);
  const ret = alloc_for_import(24);
  hostGetItem(load<u32>(args), load<u32>(args, 4), load<u32>(args, 8), load<u32>(args, 12), load<u32>(args, 16), load<u32>(args, 20), ret);
  const out = new Outcome();
  if (load<u8>(ret) == 0) {
    if (load<u8>(ret, 4) == 1) out.item = liftItem(load<u32>(ret, 8), load<u32>(ret, 12), load<u32>(ret, 16), load<u32>(ret, 20));
  } else {
    readError(ret + 4, out);
  }
  releaseInbound();
  return out;
}

/** Lays out (table, item, condition, attributes) for put-item / delete-item: 68 bytes. */
function storeWriteArgs(table: string, item: Item, expression: Expression): usize {
  const args = alloc_for_import(68);
  storeString(args, table);
  storeItem(args + 8, item.entries);
  storeOption(args + 24, expression.condition);
  storeAttributes(args + 36, expression.names, expression.values);
  return args;
}

/** The signature put-item and delete-item share (their arguments and result are alike). */
type WriteImport = (
  table: usize, tableLen: usize,
  attrs: usize, attrsLen: usize, nodes: usize, nodesLen: usize,
  hasCondition: i32, condition: usize, conditionLen: usize,
  names: usize, namesLen: usize, vAttrs: usize, vAttrsLen: usize, vNodes: usize, vNodesLen: usize,
  ret: usize,
) => void;

/** Calls put-item or delete-item with (table, item or key, condition, attributes). */
function write(host: WriteImport, table: string, item: Item, expression: Expression): Outcome {
  const a = storeWriteArgs(table, item, expression);
  const ret = alloc_for_import(16);
  host(
    load<u32>(a), load<u32>(a, 4), load<u32>(a, 8), load<u32>(a, 12), load<u32>(a, 16), load<u32>(a, 20),
    load<u8>(a, 24), load<u32>(a, 28), load<u32>(a, 32),
    load<u32>(a, 36), load<u32>(a, 40), load<u32>(a, 44), load<u32>(a, 48), load<u32>(a, 52), load<u32>(a, 56),
    ret,
  );
  return unitResult(ret);
}

/** Writes `item` to `table` now. */
export function putItem(table: string, item: Item, expression: Expression = new Expression()): Outcome {
  return write(hostPutItem, table, item, expression);
}

/** Deletes the item with primary key `key` from `table` now. */
export function deleteItem(table: string, key: Item, expression: Expression = new Expression()): Outcome {
  return write(hostDeleteItem, table, key, expression);
}

/** Updates the item with primary key `key` in `table` now, with a raw update expression. */
export function updateItem(table: string, key: Item, updateExpression: string, expression: Expression = new Expression()): Outcome {
  const args = alloc_for_import(68);
  storeString(args, table);
  storeItem(args + 8, key.entries);
  storeString(args + 24, updateExpression);
  storeOption(args + 32, expression.condition);
  storeAttributes(args + 44, expression.names, expression.values);
  const ret = alloc_for_import(16);
  hostUpdateItem(args, ret);
  return unitResult(ret);
}

/** A query on a table or an index. */
export class Query {
  index: string | null = null;
  filter: string | null = null;
  limit: u32 = 0;
  descending: bool = false;
  expression: Expression = new Expression();
  constructor(public table: string, public keyCondition: string) {}
}

/** Reads one page of `query`, after `start` (the previous page's lastEvaluatedKey). */
export function queryPage(query: Query, start: Item | null = null): Outcome {
  const args = alloc_for_import(96);
  storeString(args, query.table);
  storeOption(args + 8, query.index);
  storeString(args + 20, query.keyCondition);
  storeOption(args + 28, query.filter);
  storeAttributes(args + 40, query.expression.names, query.expression.values);
  if (query.limit > 0) {
    store<u8>(args + 64, 1);
    store<u32>(args + 68, query.limit);
  } else {
    store<u8>(args + 64, 0);
  }
  if (start != null) {
    store<u8>(args + 72, 1);
    storeItem(args + 76, start.entries);
  } else {
    store<u8>(args + 72, 0);
  }
  store<u8>(args + 92, query.descending ? 1 : 0);
  const ret = alloc_for_import(32);
  hostQuery(args, ret);
  const out = new Outcome();
  if (load<u8>(ret) == 0) {
    const list = <usize>load<u32>(ret, 4);
    const count = <usize>load<u32>(ret, 8);
    for (let i: usize = 0; i < count; i++) {
      const at = list + 16 * i;
      out.items.push(liftItem(load<u32>(at), load<u32>(at, 4), load<u32>(at, 8), load<u32>(at, 12)));
    }
    if (load<u8>(ret, 12) == 1) {
      out.lastEvaluatedKey = liftItem(load<u32>(ret, 16), load<u32>(ret, 20), load<u32>(ret, 24), load<u32>(ret, 28));
    }
  } else {
    readError(ret + 4, out);
  }
  releaseInbound();
  return out;
}

