// Immediate DynamoDB operations while an item is migrated, on the tables the migration
// declared: getItem, query (reads), putItem, updateItem, deleteItem (writes, not deferred and
// not undone if the migration fails: prefer actions).
//
// Sizes and offsets come from layout.ts, which a test checks against the WIT. update-item's and
// query's arguments exceed 16 flat values, so they go through memory; get-item's, put-item's and
// delete-item's are laid out in memory too and then loaded flat.

import { Item, Value } from "./value";
import {
  alloc_for_import, liftItem, releaseInbound, storeAttributes, storeItem, storeOptionalString, storeString,
} from "./abi";
import * as L from "./layout";


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
  const text = at + L.DB_ERROR_PAYLOAD;
  out.error = DB_ERRORS[tag] + (tag == 0 ? "" : String.UTF8.decodeUnsafe(load<u32>(text), load<u32>(text + L.SLICE_LEN)));
}

/** Reads `result<_, db-error>` at `ret`. */
function unitResult(ret: usize): Outcome {
  const out = new Outcome();
  if (load<u8>(ret) != 0) readError(ret + L.UNIT_RESULT_PAYLOAD, out);
  releaseInbound();
  return out;
}

/** Reads the item with primary key `key` from `table` (strongly consistent). */
export function getItem(table: string, key: Item): Outcome {
  const args = alloc_for_import(L.GET_ITEM_ARGS_SIZE);
  storeString(args, table);
  storeItem(args + L.GET_ITEM_ARGS_KEY, key.entries);
  const ret = alloc_for_import(L.GET_ITEM_RESULT_SIZE);
  const keyAt = args + L.GET_ITEM_ARGS_KEY;
  const nodes = keyAt + L.ITEM_NODES;
  hostGetItem(
    load<u32>(args), load<u32>(args + L.SLICE_LEN),
    load<u32>(keyAt), load<u32>(keyAt + L.SLICE_LEN), load<u32>(nodes), load<u32>(nodes + L.SLICE_LEN),
    ret,
  );
  const out = new Outcome();
  if (load<u8>(ret) == 0) {
    if (load<u8>(ret + L.GET_ITEM_RESULT_PAYLOAD) == 1) out.item = loadItem(ret + L.GET_ITEM_RESULT_ITEM);
  } else {
    readError(ret + L.GET_ITEM_RESULT_PAYLOAD, out);
  }
  releaseInbound();
  return out;
}

/** Lifts the item stored (attributes, nodes) at `at`. */
function loadItem(at: usize): Item {
  const nodes = at + L.ITEM_NODES;
  return liftItem(load<u32>(at), load<u32>(at + L.SLICE_LEN), load<u32>(nodes), load<u32>(nodes + L.SLICE_LEN));
}

/** Lays out (table, item, condition, attributes) for put-item / delete-item. */
function storeWriteArgs(table: string, item: Item, expression: Expression): usize {
  const args = alloc_for_import(L.WRITE_ARGS_SIZE);
  storeString(args, table);
  storeItem(args + L.WRITE_ARGS_ITEM, item.entries);
  storeOptionalString(args + L.WRITE_ARGS_CONDITION, expression.condition);
  storeAttributes(args + L.WRITE_ARGS_ATTRIBUTES, expression.names, expression.values);
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
  // Laid out in memory, then loaded as the flat values they lower to.
  const a = storeWriteArgs(table, item, expression);
  const ret = alloc_for_import(L.UNIT_RESULT_SIZE);
  const itemAt = a + L.WRITE_ARGS_ITEM;
  const nodes = itemAt + L.ITEM_NODES;
  const condition = a + L.WRITE_ARGS_CONDITION;
  const text = condition + L.OPTION_STRING_PAYLOAD;
  const names = a + L.WRITE_ARGS_ATTRIBUTES;
  const values = names + L.EXPRESSION_ATTRIBUTES_VALUES;
  const valueNodes = values + L.ITEM_NODES;
  host(
    load<u32>(a), load<u32>(a + L.SLICE_LEN),
    load<u32>(itemAt), load<u32>(itemAt + L.SLICE_LEN), load<u32>(nodes), load<u32>(nodes + L.SLICE_LEN),
    load<u8>(condition), load<u32>(text), load<u32>(text + L.SLICE_LEN),
    load<u32>(names), load<u32>(names + L.SLICE_LEN),
    load<u32>(values), load<u32>(values + L.SLICE_LEN), load<u32>(valueNodes), load<u32>(valueNodes + L.SLICE_LEN),
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
  const args = alloc_for_import(L.UPDATE_ITEM_ARGS_SIZE);
  storeString(args, table);
  storeItem(args + L.UPDATE_ITEM_ARGS_KEY, key.entries);
  storeString(args + L.UPDATE_ITEM_ARGS_UPDATE_EXPRESSION, updateExpression);
  storeOptionalString(args + L.UPDATE_ITEM_ARGS_CONDITION, expression.condition);
  storeAttributes(args + L.UPDATE_ITEM_ARGS_ATTRIBUTES, expression.names, expression.values);
  const ret = alloc_for_import(L.UNIT_RESULT_SIZE);
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
  const args = alloc_for_import(L.QUERY_INPUT_SIZE);
  storeString(args, query.table);
  storeOptionalString(args + L.QUERY_INPUT_INDEX, query.index);
  storeString(args + L.QUERY_INPUT_KEY_CONDITION, query.keyCondition);
  storeOptionalString(args + L.QUERY_INPUT_FILTER, query.filter);
  storeAttributes(args + L.QUERY_INPUT_ATTRIBUTES, query.expression.names, query.expression.values);
  const limit = args + L.QUERY_INPUT_LIMIT;
  if (query.limit > 0) {
    store<u8>(limit, 1);
    store<u32>(limit + L.OPTION_U32_PAYLOAD, query.limit);
  } else {
    store<u8>(limit, 0);
  }
  const exclusiveStart = args + L.QUERY_INPUT_EXCLUSIVE_START_KEY;
  if (start != null) {
    store<u8>(exclusiveStart, 1);
    storeItem(exclusiveStart + L.OPTION_ITEM_PAYLOAD, start.entries);
  } else {
    store<u8>(exclusiveStart, 0);
  }
  store<u8>(args + L.QUERY_INPUT_DESCENDING, query.descending ? 1 : 0);
  const ret = alloc_for_import(L.QUERY_RESULT_SIZE);
  hostQuery(args, ret);
  const out = new Outcome();
  if (load<u8>(ret) == 0) {
    const output = ret + L.QUERY_RESULT_PAYLOAD;
    const list = <usize>load<u32>(output);
    const count = <usize>load<u32>(output + L.SLICE_LEN);
    for (let i: usize = 0; i < count; i++) out.items.push(loadItem(list + L.ITEM_SIZE * i));
    const last = output + L.QUERY_OUTPUT_LAST_EVALUATED_KEY;
    if (load<u8>(last) == 1) out.lastEvaluatedKey = loadItem(last + L.OPTION_ITEM_PAYLOAD);
  } else {
    readError(ret + L.QUERY_RESULT_PAYLOAD, out);
  }
  releaseInbound();
  return out;
}

