// The SpiderMonkey engine glue (npm `@bytecodealliance/componentize-js`, built with
// `-d http -d fetch-event`): the only module that knows how that engine binds the WIT world.
// Import it only from the component's entry file, as `@drift/sdk-js/quickjs`:
//
//   import * as migration from "./migration.js";
//   import { exportMigration } from "@drift/sdk-js/spidermonkey";
//   export const { info, migrate, rollback } = exportMigration(migration);
//
// What it knows about componentize-js 0.23:
// - the world's `log` import is the default export of the module `log`; interfaces are ES
//   modules named by their WIT name (`drift:migration/dynamodb@0.1.0`);
// - a failing import throws an Error whose `payload` is the WIT error (`{ tag, val }`);
// - a `u64` is a bigint; lists of u32 may arrive as typed arrays (the arena codec takes both);
// - an export returning `result<_, string>` fails when it throws a string.

import log from "log";
import { installWitHost } from "./wit-host.js";
import { engineExports, EngineExports, Migration } from "./migration.js";
import type { WitInfo } from "./wit.js";

installWitHost((level, message) => log(level, message));

/** The component's exports, as componentize-js calls them (`info().number` a bigint). */
export type SpiderMonkeyExports = EngineExports<WitInfo>;

/** Wraps a migration (a module namespace or an object with info, migrate, rollback) into the component's exports. */
export function exportMigration(migration: Migration): SpiderMonkeyExports {
  return engineExports(migration, (info) => info);
}
