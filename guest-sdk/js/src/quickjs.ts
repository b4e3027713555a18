// The QuickJS engine glue (npm `componentize-qjs --sync`): the only module that knows how that
// engine binds the WIT world. Import it only from the component's entry file:
//
//   import * as migration from "./migration.js";
//   import { exportMigration } from "@drift/sdk-js/quickjs";
//   export const { info, migrate, rollback } = exportMigration(migration);
//
// What it knows about componentize-qjs 0.4 (sync runtime):
// - the world's `log` import is a global function `log(level, message)`; interfaces are ES
//   modules named by their WIT name (`drift:migration/dynamodb@0.1.0`);
// - a failing import throws an Error whose `payload` is the WIT error (`{ tag, val }`);
// - a `u64` is a plain JS number (a bigint traps);
// - an export returning `result<_, string>` fails when it throws a string;
// - there is no `console`: this module routes one to the host's log.

import { installWitHost } from "./wit-host.js";
import { engineExports, EngineExports, Migration } from "./migration.js";
import type { Level, WitInfo } from "./wit.js";

/** The world's `log` import: a global in componentize-qjs. */
declare const log: (level: Level, message: string) => void;

installWitHost((level, message) => log(level, message));

const g = globalThis as { console?: unknown };
if (g.console === undefined) {
  const text = (args: unknown[]) => args.map((a) => (typeof a === "string" ? a : safeJson(a))).join(" ");
  g.console = {
    log: (...args: unknown[]) => log("info", text(args)),
    info: (...args: unknown[]) => log("info", text(args)),
    debug: (...args: unknown[]) => log("debug", text(args)),
    warn: (...args: unknown[]) => log("warn", text(args)),
    error: (...args: unknown[]) => log("error", text(args)),
  };
}

function safeJson(x: unknown): string {
  try {
    return x instanceof Error ? String(x) : JSON.stringify(x) ?? String(x);
  } catch {
    return String(x);
  }
}

/** The component's exports, as componentize-qjs calls them (`info().number` a JS number). */
export type QuickJsExports = EngineExports<WitInfo>;

/** Wraps a migration (a module namespace or an object with info, migrate, rollback) into the component's exports. */
export function exportMigration(migration: Migration): QuickJsExports {
  return engineExports(migration, (info) => {
    if (info.number > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(`info().number ${info.number} is above 2^53 - 1, which componentize-qjs cannot pass`);
    }
    return { ...info, number: Number(info.number) };
  });
}
