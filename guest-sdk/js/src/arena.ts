// The WIT world's item arena and the lowering of actions: the same codec as the Rust SDK's
// (`drift_value::arena`), so that arenas come out byte for byte as Rust's.
//
// WIT types cannot be recursive, so `wit/migration.wit` passes an item as a flat arena: a list
// of nodes, in which a list or map refers to its children by index, and the top-level
// attributes as `[name, index]` pairs. Encoding numbers nodes in preorder (a parent before its
// children), attributes and map entries in name order. Decoding checks what Rust's does:
// indices in range, each node used once (no sharing, no cycles), no duplicate names, nesting
// within DynamoDB's 32 levels.

import { Action, Common } from "./action.js";
import { sortNames } from "./text.js";
import { Item, MAX_DEPTH, Value } from "./value.js";
export { MAX_DEPTH };
import type { WitAction, WitExpressionAttributes, WitInfo, WitItem, WitValue } from "./wit.js";

/**
 * Rebuilds an item from its arena, lazily: each attribute (and each nested map) is decoded when
 * the migration first reads it, so untouched attributes cost next to nothing. An index out of
 * range or nesting deeper than DynamoDB allows (which also stops cycles) throws an Error, at
 * once for the top level and when read below it. What Rust's decoder also rejects, a node
 * referenced twice or a name used twice, is not looked for: the host's arenas have neither,
 * and here they would only copy a value or keep the last one.
 */
export function decodeItem(arena: WitItem): Item {
  return Item.lazy(arena.nodes, arena.attributes, 0);
}

/** Flattens an item into an arena: attributes in name order, nodes in preorder. */
export function encodeItem(item: Item): WitItem {
  const nodes: WitValue[] = [];
  const names = item.names();
  const attributes: [string, number][] = [];
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    attributes.push([name, push(nodes, item.get(name)!)]);
  }
  return { attributes, nodes };
}

const PLACEHOLDER: WitValue = { tag: "null" };

function push(nodes: WitValue[], value: Value): number {
  const index = nodes.length;
  // Reserve the parent's slot first: its children are numbered after it.
  nodes.push(PLACEHOLDER);
  let node: WitValue;
  const data = value.data;
  switch (value.type) {
    case "S":
      node = { tag: "s", val: data as string };
      break;
    case "N":
      node = { tag: "n", val: data as string };
      break;
    case "B":
      node = { tag: "b", val: data as Uint8Array };
      break;
    case "BOOL":
      node = { tag: "boolean", val: data as boolean };
      break;
    case "NULL":
      node = { tag: "null" };
      break;
    case "SS":
      node = { tag: "ss", val: data as string[] };
      break;
    case "NS":
      node = { tag: "ns", val: data as string[] };
      break;
    case "BS":
      node = { tag: "bs", val: data as Uint8Array[] };
      break;
    case "L": {
      const list = data as Value[];
      const children: number[] = [];
      for (let i = 0; i < list.length; i++) children.push(push(nodes, list[i]!));
      node = { tag: "l", val: children };
      break;
    }
    case "M": {
      const item = data as Item;
      const names = item.names();
      const entries: [string, number][] = [];
      for (let i = 0; i < names.length; i++) entries.push([names[i]!, push(nodes, item.get(names[i]!)!)]);
      node = { tag: "m", val: entries };
      break;
    }
  }
  nodes[index] = node;
  return index;
}

/** Lowers an action's placeholders: names in name order, values as an arena. */
export function encodeAttributes(common: Common): WitExpressionAttributes {
  return encodeExpression(common.names, common.values);
}

/** Lowers placeholders: names in name order, values as an arena. */
export function encodeExpression(names: ReadonlyMap<string, string>, values: Item): WitExpressionAttributes {
  const placeholders = sortNames([...names.keys()]);
  const list: [string, string][] = [];
  for (let i = 0; i < placeholders.length; i++) list.push([placeholders[i]!, names.get(placeholders[i]!)!]);
  return { names: list, values: encodeItem(values) };
}

/** Lowers one action; throws on an update that has no valid expression, or on what is no action. */
export function encodeAction(action: Action): WitAction {
  const common = action.common;
  switch (action.kind) {
    case "put":
      return {
        tag: "put",
        val: { table: common.table, item: encodeItem(action.item), condition: common.condition, attributes: encodeAttributes(common) },
      };
    case "update":
      return {
        tag: "update",
        val: {
          table: common.table,
          key: encodeItem(action.key),
          updateExpression: action.updateExpression(),
          condition: common.condition,
          attributes: encodeAttributes(common),
          upsert: action.upsertAllowed,
        },
      };
    case "delete":
      return {
        tag: "delete",
        val: { table: common.table, key: encodeItem(action.key), condition: common.condition, attributes: encodeAttributes(common) },
      };
  }
}

/** What a migration says it is (see {@link WitInfo}); lowered by {@link encodeInfo}. */
export interface Info {
  /** Position in the project's sequence of migrations (a whole number ≥ 0). */
  number: number | bigint;
  /** Short name, e.g. `users_v2`. */
  name: string;
  /** The table that is scanned; every item of it is passed to `migrate`. */
  table: string;
  /** What it changes and why. */
  description?: string;
  /** Other tables that actions (and immediate operations) may touch. */
  otherTables?: readonly string[];
}

/** Lowers an {@link Info}, checking its fields; `number` comes out as a bigint (the glue converts). */
export function encodeInfo(info: Info): WitInfo & { number: bigint } {
  if (info === null || typeof info !== "object") throw new TypeError("info() must return { number, name, table, description? }");
  const n = info.number;
  if (!(typeof n === "bigint" ? n >= 0n : Number.isSafeInteger(n) && n >= 0)) {
    throw new TypeError(`info().number must be a whole number ≥ 0, not ${String(n)}`);
  }
  for (const field of ["name", "table"] as const) {
    if (typeof info[field] !== "string" || info[field].length === 0) {
      throw new TypeError(`info().${field} must be a non-empty string`);
    }
  }
  return {
    number: BigInt(n),
    name: info.name,
    description: info.description ?? "",
    table: info.table,
    otherTables: Array.from(info.otherTables ?? []),
  };
}
