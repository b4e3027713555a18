// Immediate DynamoDB operations: they run at once, while the item is being migrated.
//
// Use them to look things up (`getItem`, `queryPage`, `queryAll`). Writes made here are not
// deferred and are not undone if the migration fails later: prefer returning actions. Only
// the tables declared in `info()` may be used. Outside a component (native unit tests) and in
// `drift-host exec`, every call throws a DbError of kind `refused`, unless a test installed a
// fake with `setHost`.

import { decodeItem, encodeExpression, encodeItem } from "./arena.js";
import { DbError, host } from "./host.js";
import { Item, ItemLike } from "./value.js";
import type { WitItem } from "./wit.js";

export { DbError };

/** A condition expression and the placeholders it (or an update expression) uses. */
export interface Expression {
  /** Condition expression (DynamoDB `ConditionExpression`). */
  condition?: string | undefined;
  /** `#placeholder` → attribute name. */
  names?: ReadonlyMap<string, string> | { readonly [placeholder: string]: string };
  /** `:placeholder` → value. */
  values?: ItemLike;
}

/** A query on a table or an index (DynamoDB `Query`). */
export interface Query {
  /** Table to query (declared in `info()`). */
  table: string;
  /** Secondary index, if any. */
  index?: string;
  /** Key condition expression, e.g. `#pk = :pk`. */
  keyCondition: string;
  /** Filter expression, applied after the key condition. */
  filter?: string;
  /** `#placeholder` → attribute name, for both expressions. */
  names?: ReadonlyMap<string, string> | { readonly [placeholder: string]: string };
  /** `:placeholder` → value, for both expressions. */
  values?: ItemLike;
  /** Items per page (the host caps it at 1000). */
  limit?: number;
  /** Read in descending key order. */
  descending?: boolean;
}

/** One page of a query. */
export interface Page {
  /** The items. */
  items: Item[];
  /** Pass this to the next {@link queryPage} to read the next page; undefined after the last. */
  lastEvaluatedKey: Item | undefined;
}

function attributes(expression: Expression | undefined) {
  const names = expression?.names;
  const map =
    names === undefined ? new Map<string, string>() : names instanceof Map ? names : new Map(Object.entries(names));
  const values = expression?.values;
  return encodeExpression(map, values === undefined ? new Item() : values instanceof Item ? values : Item.from(values));
}

function asItem(x: ItemLike): Item {
  return x instanceof Item ? x : Item.from(x);
}

function lift(arena: WitItem): Item {
  try {
    return decodeItem(arena);
  } catch (error) {
    throw new DbError("failed", (error as Error).message);
  }
}

/** Reads the item with primary key `key` from `table` (strongly consistent); undefined if there is none. */
export function getItem(table: string, key: ItemLike): Item | undefined {
  const found = host().getItem(table, encodeItem(asItem(key)));
  return found === undefined || found === null ? undefined : lift(found);
}

/** Writes `item` to `table` now; `expression` may hold a condition and its placeholders. */
export function putItem(table: string, item: ItemLike, expression?: Expression): void {
  host().putItem(table, encodeItem(asItem(item)), expression?.condition, attributes(expression));
}

/** Updates the item with key `key` in `table` now, with a raw update expression (it creates the item unless the condition says otherwise). */
export function updateItem(table: string, key: ItemLike, updateExpression: string, expression?: Expression): void {
  host().updateItem(table, encodeItem(asItem(key)), updateExpression, expression?.condition, attributes(expression));
}

/** Deletes the item with key `key` from `table` now. */
export function deleteItem(table: string, key: ItemLike, expression?: Expression): void {
  host().deleteItem(table, encodeItem(asItem(key)), expression?.condition, attributes(expression));
}

/** Reads one page of `query`, starting after `start` (the previous page's `lastEvaluatedKey`). */
export function queryPage(query: Query, start?: Item): Page {
  const output = host().query({
    table: query.table,
    index: query.index,
    keyCondition: query.keyCondition,
    filter: query.filter,
    attributes: attributes(query),
    limit: query.limit,
    exclusiveStartKey: start === undefined ? undefined : encodeItem(start),
    descending: query.descending ?? false,
  });
  const last = output.lastEvaluatedKey;
  return {
    items: Array.from(output.items, lift),
    lastEvaluatedKey: last === undefined || last === null ? undefined : lift(last),
  };
}

/** Reads every page of `query`. */
export function queryAll(query: Query): Item[] {
  const items: Item[] = [];
  let start: Item | undefined;
  for (;;) {
    const page = queryPage(query, start);
    items.push(...page.items);
    if (page.lastEvaluatedKey === undefined) return items;
    start = page.lastEvaluatedKey;
  }
}
