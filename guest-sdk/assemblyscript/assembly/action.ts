// Deferred writes a migration returns: put, update and deleteItem builders.
//
// An update built with set/remove/add/deleteFromSet gets its update expression and
// placeholders generated (`#drift<N>`, `:drift<N>`) exactly as the Rust SDK does, so the same
// migration gives the same actions in either language.

import { Item, Value } from "./value";
import { Path } from "./path";

/** put, update or delete. */
export enum ActionKind { PUT, UPDATE, DELETE }

/** One deferred write. */
export class Action {
  kind: ActionKind = ActionKind.PUT;
  /** Target table; null means the migration's table. */
  table: string | null = null;
  /** PUT: the item. UPDATE / DELETE: the key. */
  item: Item = new Item();
  /** Condition expression, if any. */
  condition: string | null = null;
  /** `#placeholder` → attribute name. */
  names: Map<string, string> = new Map<string, string>();
  /** `:placeholder` → value. */
  values: Map<string, Value> = new Map<string, Value>();
  /** UPDATE: whether the update may create a missing item. */
  upsertAllowed: bool = false;
  private setParts: string[] = [];
  private removeParts: string[] = [];
  private addParts: string[] = [];
  private deleteParts: string[] = [];
  private raw: string | null = null;
  private error: string | null = null;

  /** Writes to `table` instead of the migration's table (it must be declared in the info). */
  to(table: string): Action { this.table = table; return this; }
  /** Applies the write only if `expression` holds. */
  when(expression: string): Action { this.condition = expression; return this; }
  /** Defines the placeholder `#placeholder` as the attribute name `name`. */
  name(placeholder: string, name: string): Action { this.names.set(placeholder, name); return this; }
  /** Defines the placeholder `:placeholder` as `value`. */
  value(placeholder: string, value: Value): Action { this.values.set(placeholder, value); return this; }

  /** UPDATE: `SET path = value`. */
  set(path: string, value: Value): Action {
    const p = this.placeholderPath(path);
    if (p != null) this.setParts.push(p + " = " + this.placeholderValue(value));
    return this;
  }
  /** UPDATE: `REMOVE path`. */
  remove(path: string): Action {
    const p = this.placeholderPath(path);
    if (p != null) this.removeParts.push(p);
    return this;
  }
  /** UPDATE: `ADD path value` (numbers and sets). */
  add(path: string, value: Value): Action {
    const p = this.placeholderPath(path);
    if (p != null) this.addParts.push(p + " " + this.placeholderValue(value));
    return this;
  }
  /** UPDATE: `DELETE path value` (removes the elements of a set). */
  deleteFromSet(path: string, value: Value): Action {
    const p = this.placeholderPath(path);
    if (p != null) this.deleteParts.push(p + " " + this.placeholderValue(value));
    return this;
  }
  /** UPDATE: the whole update expression, written by hand (not mixed with set/remove/...). */
  expression(expression: string): Action { this.raw = expression; return this; }
  /** UPDATE: allows creating the item when it does not exist. */
  upsert(): Action { this.upsertAllowed = true; return this; }

  /** The update expression; null with `problem()` set when there is none. */
  updateExpression(): string | null {
    if (this.error != null) return null;
    const clauses: string[] = [];
    if (this.setParts.length) clauses.push("SET " + this.setParts.join(", "));
    if (this.removeParts.length) clauses.push("REMOVE " + this.removeParts.join(", "));
    if (this.addParts.length) clauses.push("ADD " + this.addParts.join(", "));
    if (this.deleteParts.length) clauses.push("DELETE " + this.deleteParts.join(", "));
    const built = clauses.join(" ");
    const raw = this.raw;
    if (raw != null) {
      if (built.length) { this.error = "an update cannot mix expression() with set/remove/add/delete"; return null; }
      return raw;
    }
    if (!built.length) { this.error = "an update needs at least one set/remove/add/delete"; return null; }
    return built;
  }

  /** Why the action cannot be sent (bad path, empty update), or null. */
  problem(): string | null {
    if (this.kind == ActionKind.UPDATE) this.updateExpression();
    return this.error;
  }

  private placeholderPath(text: string): string | null {
    if (this.kind != ActionKind.UPDATE) { this.error = "set/remove/add/deleteFromSet only apply to an update"; return null; }
    const path = Path.parse(text);
    if (path == null) { if (this.error == null) this.error = Path.lastError; return null; }
    let out = "";
    for (let i = 0; i < path.segments.length; i++) {
      const s = path.segments[i];
      if (s.isIndex) {
        out += "[" + s.index.toString() + "]";
      } else {
        if (out.length) out += ".";
        out += this.namePlaceholder(s.name);
      }
    }
    return out;
  }

  private namePlaceholder(name: string): string {
    const keys = this.names.keys();
    for (let i = 0; i < keys.length; i++) {
      if (keys[i].startsWith("#drift") && this.names.get(keys[i]) == name) return keys[i];
    }
    const placeholder = "#drift" + this.names.size.toString();
    this.names.set(placeholder, name);
    return placeholder;
  }

  private placeholderValue(value: Value): string {
    const placeholder = ":drift" + this.values.size.toString();
    this.values.set(placeholder, value);
    return placeholder;
  }
}

/** Writes `item` (a whole item, key included). */
export function put(item: Item): Action {
  const a = new Action();
  a.kind = ActionKind.PUT;
  a.item = item;
  return a;
}

/** Changes the item with primary key `key`; chain set/remove/add/deleteFromSet. Unless
 *  `upsert()` is called, the update only applies if the item still exists. */
export function update(key: Item): Action {
  const a = new Action();
  a.kind = ActionKind.UPDATE;
  a.item = key;
  return a;
}

/** Deletes the item with primary key `key`. */
export function deleteItem(key: Item): Action {
  const a = new Action();
  a.kind = ActionKind.DELETE;
  a.item = key;
  return a;
}
