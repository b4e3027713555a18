// The world's imports as the SDK's host, the same for every engine: the dynamodb interface
// (a failing call throws an Error whose `payload` is the WIT error; it becomes a DbError) and
// the engine's own `log`.

import * as dynamodb from "drift:migration/dynamodb@0.1.0";
import { DbError, setHost } from "./host.js";
import type { Level, WitDbError, WitItem, WitQueryOutput } from "./wit.js";

function db<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    const payload = (error as { payload?: WitDbError } | null)?.payload;
    if (payload !== undefined && payload !== null && typeof payload.tag === "string") throw DbError.fromWit(payload);
    throw error;
  }
}

/** Routes the SDK's host calls to the world's imports, logging through the engine's `log`. */
export function installWitHost(log: (level: Level, message: string) => void): void {
  setHost({
    log,
    getItem: (table, key) => db(() => (dynamodb.getItem(table, key) as WitItem | null) ?? undefined),
    putItem: (table, item, condition, attributes) => db(() => dynamodb.putItem(table, item, condition, attributes)),
    updateItem: (table, key, expression, condition, attributes) =>
      db(() => dynamodb.updateItem(table, key, expression, condition, attributes)),
    deleteItem: (table, key, condition, attributes) => db(() => dynamodb.deleteItem(table, key, condition, attributes)),
    query: (input) => db(() => dynamodb.query(input) as WitQueryOutput),
  });
}
