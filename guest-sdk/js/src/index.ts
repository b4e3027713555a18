// Write DynamoDB data migrations for drift-host in TypeScript or JavaScript.
//
//   import { Info, Item, update } from "@drift/sdk-js";
//
//   export function info(): Info {
//     return { number: 7, name: "add_flag", table: "users", description: "Mark every user as active." };
//   }
//
//   export function migrate(user: Item) {
//     return [update(user.key(["id"])).set("active", true)];
//   }
//
// The migration is a plain module: unit-test it with node. The component's entry file wraps it
// with the engine glue (`@drift/sdk-js/quickjs`), the only module that needs the engine.

export { Path, PathError } from "./path.js";
export type { Segment } from "./path.js";
export { compareNames } from "./text.js";
export { Item, Value } from "./value.js";
export type { DynamoJson, ItemLike, ValueLike, ValueType } from "./value.js";
export { Common, Delete, Put, Update, deleteItem, put, resolvePlaceholders, update } from "./action.js";
export type { Action } from "./action.js";
export { errorMessage, exportsOf } from "./migration.js";
export type { Actions, Exports, Info, Migration, Outcome } from "./migration.js";
export { DbError, nativeHost, setHost } from "./host.js";
export type { Host } from "./host.js";
export * as log from "./log.js";
export * as db from "./db.js";
export * as arena from "./arena.js";
export type * from "./wit.js";
