// What a migration is (Info), what it answers per item (Result), and how it is registered.

import { Action } from "./action";
import { Item } from "./value";

/** What a migration is: number, name, table, and the other tables its actions may touch. */
export class Info {
  description: string = "";
  otherTables: string[] = [];
  constructor(public number: u64, public name: string, public table: string) {}
  /** Sets the description. */
  withDescription(description: string): Info { this.description = description; return this; }
  /** Declares another table that actions may write to. */
  withOtherTable(table: string): Info { this.otherTables.push(table); return this; }
}

/** The answer for one item: actions, or an error that fails the item (and so the run). */
export class Result {
  actions: Action[] = [];
  error: string | null = null;
}

/** The actions for an item (none is fine: the item is left as it is). */
export function ok(actions: Action[]): Result { const r = new Result(); r.actions = actions; return r; }
/** Fails the item with `message`; drift-host then applies nothing of the migration. */
export function err(message: string): Result { const r = new Result(); r.error = message; return r; }

/** A migration's three functions. */
export class Handlers {
  constructor(
    public info: () => Info,
    public migrate: (item: Item) => Result,
    public rollback: (item: Item) => Result,
  ) {}
}

let registered: Handlers | null = null;

/** Registers the migration; call once, at the top level of the entry file. */
export function register(info: () => Info, migrate: (item: Item) => Result, rollback: (item: Item) => Result): void {
  registered = new Handlers(info, migrate, rollback);
}

/** The registered migration (aborts if `register` was never called). */
export function handlers(): Handlers {
  const h = registered;
  if (h == null) throw new Error("drift-sdk: register(info, migrate, rollback) was never called");
  return h;
}
