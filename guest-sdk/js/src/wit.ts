// The types of `wit/migration.wit` (drift:migration@0.1.0) as JS bindings generators pass them:
// records as objects with camelCase fields, variants as `{ tag, val }`, tuples as arrays,
// `option<T>` as `T | undefined` (null is accepted where the engine gives it), `list<u8>` as
// Uint8Array. Only the arena codec and the engine glue use them; migrations never see them.

/** A node of an item arena (WIT `value`). */
export type WitValue =
  | { tag: "s"; val: string }
  | { tag: "n"; val: string }
  | { tag: "b"; val: Uint8Array | ArrayLike<number> }
  | { tag: "boolean"; val: boolean }
  | { tag: "null"; val?: undefined }
  | { tag: "ss"; val: ArrayLike<string> }
  | { tag: "ns"; val: ArrayLike<string> }
  | { tag: "bs"; val: ArrayLike<Uint8Array | ArrayLike<number>> }
  | { tag: "l"; val: ArrayLike<number> }
  | { tag: "m"; val: ArrayLike<[string, number]> };

/** An item as a flat arena (WIT `item`). */
export interface WitItem {
  attributes: ArrayLike<[string, number]>;
  nodes: ArrayLike<WitValue>;
}

/** WIT `expression-attributes`. */
export interface WitExpressionAttributes {
  names: [string, string][];
  values: WitItem;
}

/** WIT `put-action`. */
export interface WitPutAction {
  table: string | undefined;
  item: WitItem;
  condition: string | undefined;
  attributes: WitExpressionAttributes;
}

/** WIT `update-action`. */
export interface WitUpdateAction {
  table: string | undefined;
  key: WitItem;
  updateExpression: string;
  condition: string | undefined;
  attributes: WitExpressionAttributes;
  upsert: boolean;
}

/** WIT `delete-action`. */
export interface WitDeleteAction {
  table: string | undefined;
  key: WitItem;
  condition: string | undefined;
  attributes: WitExpressionAttributes;
}

/** WIT `action`. */
export type WitAction =
  | { tag: "put"; val: WitPutAction }
  | { tag: "update"; val: WitUpdateAction }
  | { tag: "delete"; val: WitDeleteAction };

/** WIT `info`; `number` is a u64, which engines want as a number (QuickJS) or a bigint (SpiderMonkey). */
export interface WitInfo {
  number: number | bigint;
  name: string;
  description: string;
  table: string;
  otherTables: string[];
}

/** WIT `level`. */
export type Level = "trace" | "debug" | "info" | "warn" | "error";

/** WIT `dynamodb.query-input`. */
export interface WitQueryInput {
  table: string;
  index: string | undefined;
  keyCondition: string;
  filter: string | undefined;
  attributes: WitExpressionAttributes;
  limit: number | undefined;
  exclusiveStartKey: WitItem | undefined;
  descending: boolean;
}

/** WIT `dynamodb.query-output`. */
export interface WitQueryOutput {
  items: ArrayLike<WitItem>;
  lastEvaluatedKey?: WitItem | null | undefined;
}

/** WIT `dynamodb.db-error`. */
export type WitDbError =
  | { tag: "conditional-check-failed"; val?: undefined }
  | { tag: "refused"; val: string }
  | { tag: "failed"; val: string };
