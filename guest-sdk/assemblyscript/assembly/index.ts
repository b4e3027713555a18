// Write DynamoDB migrations for drift-host in AssemblyScript.
//
//   import { Info, Item, Result, Value, ok, err, update, register } from "@drift/sdk/assembly/index";
//   export * from "@drift/sdk/assembly/exports";
//   function info(): Info { return new Info(7, "add_flag", "users"); }
//   function migrate(user: Item): Result { ... return ok([update(key).set("active", Value.bool(true))]); }
//   function rollback(user: Item): Result { ... }
//   register(info, migrate, rollback);

export { Item, Kind, Value } from "./value";
export { Path, Segment } from "./path";
export { Action, ActionKind, deleteItem, put, update } from "./action";
export { Info, Result, err, ok, register } from "./migration";
export { toLowerCase } from "./text";
// Logging and immediate reads are their own modules:
//   import * as log from "@drift/sdk/assembly/log";
//   import { getItem } from "@drift/sdk/assembly/db";
