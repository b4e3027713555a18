// What a migration is, and the engine-neutral half of exporting one.
//
// A migration is a plain module (or object) with `info`, `migrate` and optionally `rollback`:
//
//   export function info(): Info { return { number: 7, name: "add_flag", table: "users" }; }
//   export function migrate(user: Item): Action[] { return [update(user.key(["id"])).set("active", true)]; }
//
// The engine glue (`@drift/sdk-js/quickjs`) turns it into the component's exports with
// `exportMigration`; tests import the module and call its functions directly.

import { Action, Delete, Put, Update } from "./action.js";
import { decodeItem, encodeAction, encodeInfo, Info } from "./arena.js";
import { Item } from "./value.js";
import type { WitAction, WitInfo, WitItem } from "./wit.js";

export type { Info };

/** What `migrate` and `rollback` return: actions, one action, or nothing (the item is left as it is). */
export type Actions = readonly Action[] | Action | undefined | null | void;

/**
 * A data migration. `migrate` is called once per item of `info().table`; a thrown Error (or
 * string) fails the item with its message, and the host then applies nothing.
 */
export interface Migration {
  /** Describes the migration. */
  info(): Info;
  /** The actions for one item. */
  migrate(item: Item): Actions;
  /** The actions that undo `migrate` for one item of the migrated table. */
  rollback?(item: Item): Actions;
}

/** The message of anything thrown: an Error's message, a string as it is. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "string") return error;
  if (error !== null && typeof error === "object" && typeof (error as { message?: unknown }).message === "string") {
    return (error as { message: string }).message;
  }
  return String(error);
}

/** The outcome of one call: the lowered actions, or the item's error message. */
export type Outcome = { ok: WitAction[]; error?: undefined } | { ok?: undefined; error: string };

/** Decodes `arena`, calls `f`, and lowers its actions; whatever is thrown becomes the error. */
export function call(f: (item: Item) => Actions, arena: WitItem): Outcome {
  try {
    const result = f(decodeItem(arena));
    return { ok: lowerActions(result) };
  } catch (error) {
    return { error: errorMessage(error) };
  }
}

/** Lowers what `migrate` returned; throws a TypeError on anything that is not an action. */
export function lowerActions(result: Actions): WitAction[] {
  if (result === undefined || result === null) return [];
  if (isAction(result)) return [encodeAction(result)];
  if (!Array.isArray(result)) throw new TypeError(notAction(result));
  const out: WitAction[] = [];
  for (let i = 0; i < result.length; i++) {
    const action: unknown = result[i];
    if (!isAction(action)) throw new TypeError(notAction(action));
    out.push(encodeAction(action));
  }
  return out;
}

function isAction(x: unknown): x is Action {
  return x instanceof Update || x instanceof Put || x instanceof Delete;
}

function notAction(x: unknown): string {
  const what = x === null ? "null" : typeof x === "object" ? Object.prototype.toString.call(x) : typeof x;
  return `migrate/rollback must return actions (put, update, deleteItem), an array of them, or nothing; got ${what}`;
}

/** The component's three exports, before the engine's conventions (u64 form, how errors leave). */
export interface Exports {
  info(): WitInfo & { number: bigint };
  migrate(item: WitItem): Outcome;
  rollback(item: WitItem): Outcome;
}

/** Checks `migration` and wraps it into {@link Exports}. */
export function exportsOf(migration: Migration): Exports {
  if (migration === null || typeof migration !== "object" && typeof migration !== "function") {
    throw new TypeError("exportMigration needs the migration: an object or module with info, migrate and rollback");
  }
  for (const name of ["info", "migrate"] as const) {
    if (typeof migration[name] !== "function") throw new TypeError(`the migration has no \`${name}\` function`);
  }
  const migrate = (item: Item) => migration.migrate(item);
  const rollback =
    typeof migration.rollback === "function"
      ? (item: Item) => migration.rollback!(item)
      : () => {
          throw new Error("this migration has no rollback");
        };
  return {
    info: () => encodeInfo(migration.info()),
    migrate: (item) => call(migrate, item),
    rollback: (item) => call(rollback, item),
  };
}

/** The component's exports as both JS engines call them: a failed item throws its message,
 * which they pass on as the `result`'s error; `info` comes in the engine's u64 form. */
export interface EngineExports<I> {
  info(): I;
  migrate(item: WitItem): WitAction[];
  rollback(item: WitItem): WitAction[];
}

/** Wraps `migration` into {@link EngineExports}, its info converted by `info`. */
export function engineExports<I>(migration: Migration, info: (info: WitInfo & { number: bigint }) => I): EngineExports<I> {
  const exports = exportsOf(migration);
  const actions = (outcome: Outcome): WitAction[] => {
    if (outcome.error !== undefined) throw outcome.error;
    return outcome.ok;
  };
  return {
    info: () => info(exports.info()),
    migrate: (item) => actions(exports.migrate(item)),
    rollback: (item) => actions(exports.rollback(item)),
  };
}
