// Deferred writes a migration returns: `put`, `update` and `deleteItem` builders.
//
// An update built with set/remove/add/deleteFromSet gets its update expression and
// placeholders generated exactly as the Rust SDK's `UpdateBuilder` does (`#drift<N>` for
// names, `:drift<N>` for values, `N` being the number of placeholders of that kind already
// defined, a repeated name reusing its placeholder, values never shared, clauses in the order
// SET, REMOVE, ADD, DELETE and actions in call order), so one migration gives byte-identical
// actions in Rust, AssemblyScript and here. Do not spell your own placeholders `#drift..`.

import { Path } from "./path.js";
import { compareNames } from "./text.js";
import { Item, Value, ValueLike } from "./value.js";

/** What every action carries besides its kind: target table, condition and placeholders. */
export class Common {
  /** Target table; undefined means the migration's table. */
  table: string | undefined = undefined;
  /** Condition expression, if any. */
  condition: string | undefined = undefined;
  /** `#placeholder` → attribute name. */
  readonly names: Map<string, string> = new Map();
  /** `:placeholder` → value. */
  readonly values: Item = new Item();
}

/** The builder methods every kind of action has. */
abstract class ActionBuilder {
  /** Table, condition and placeholders. */
  readonly common: Common = new Common();
  /** @internal Whether a `#drift..` placeholder was defined by hand (see `Update.namePlaceholder`). */
  handWrittenDrift = false;

  /** Writes to `table` instead of the migration's table (it must be declared in `info().otherTables`). */
  table(table: string): this {
    this.common.table = table;
    return this;
  }

  /** Applies the write only if `expression` holds (DynamoDB `ConditionExpression`). */
  condition(expression: string): this {
    this.common.condition = expression;
    return this;
  }

  /** Defines the placeholder `#placeholder` as the attribute name `name`. */
  name(placeholder: string, name: string): this {
    this.common.names.set(placeholder, name);
    if (placeholder.startsWith("#drift")) this.handWrittenDrift = true;
    return this;
  }

  /** Defines the placeholder `:placeholder` as `value`. */
  value(placeholder: string, value: ValueLike): this {
    this.common.values.map.set(placeholder, Value.from(value));
    return this;
  }
}

/** Write a whole item, replacing any item with the same key. */
export class Put extends ActionBuilder {
  readonly kind = "put" as const;
  /** The item to write, key included. */
  readonly item: Item;

  constructor(item: Item) {
    super();
    this.item = item;
  }
}

/** Change attributes of an existing item (or create it, with {@link Update.upsert}). */
export class Update extends ActionBuilder {
  readonly kind = "update" as const;
  /** The item's primary key. */
  readonly key: Item;
  /** Whether the update may create a missing item (see {@link Update.upsert}). */
  upsertAllowed = false;
  private setParts: string[] | undefined = undefined;
  private removeParts: string[] | undefined = undefined;
  private addParts: string[] | undefined = undefined;
  private deleteParts: string[] | undefined = undefined;
  private raw: string | undefined = undefined;
  private error: string | undefined = undefined;
  /** Attribute name → its generated `#drift<N>` placeholder (a shortcut for Rust's search). */
  private generated: Map<string, string> | undefined = undefined;

  constructor(key: Item) {
    super();
    this.key = key;
  }

  /** `SET path = value`. `path` is a document path such as `address.city` or `tags[0]`. */
  set(path: string, value: ValueLike): this {
    const p = this.placeholderPath(path);
    if (p !== undefined) (this.setParts ??= []).push(p + " = " + this.placeholderValue(value));
    return this;
  }

  /** `REMOVE path`. */
  remove(path: string): this {
    const p = this.placeholderPath(path);
    if (p !== undefined) (this.removeParts ??= []).push(p);
    return this;
  }

  /** `ADD path value`: adds to a number, or adds elements to a set. */
  add(path: string, value: ValueLike): this {
    const p = this.placeholderPath(path);
    if (p !== undefined) (this.addParts ??= []).push(p + " " + this.placeholderValue(value));
    return this;
  }

  /** `DELETE path value`: removes the elements of the set `value` from a set attribute. */
  deleteFromSet(path: string, value: ValueLike): this {
    const p = this.placeholderPath(path);
    if (p !== undefined) (this.deleteParts ??= []).push(p + " " + this.placeholderValue(value));
    return this;
  }

  /**
   * Uses `expression` as the whole update expression, with placeholders defined through
   * {@link Update.name} and {@link Update.value}. Cannot be mixed with set/remove/add/deleteFromSet.
   */
  expression(expression: string): this {
    this.raw = expression;
    return this;
  }

  /** Allows the update to create the item when it does not exist. */
  upsert(allow = true): this {
    this.upsertAllowed = allow;
    return this;
  }

  /** The update expression; throws an Error saying why there is none (bad path, nothing to do, mixed styles). */
  updateExpression(): string {
    if (this.error !== undefined) throw new Error(this.error);
    let built = "";
    if (this.setParts !== undefined) built = "SET " + this.setParts.join(", ");
    if (this.removeParts !== undefined) built += (built.length > 0 ? " REMOVE " : "REMOVE ") + this.removeParts.join(", ");
    if (this.addParts !== undefined) built += (built.length > 0 ? " ADD " : "ADD ") + this.addParts.join(", ");
    if (this.deleteParts !== undefined) built += (built.length > 0 ? " DELETE " : "DELETE ") + this.deleteParts.join(", ");
    if (this.raw !== undefined) {
      if (built.length > 0) throw new Error("an update cannot mix expression() with set/remove/add/delete");
      return this.raw;
    }
    if (built.length === 0) throw new Error("an update needs at least one set/remove/add/delete");
    return built;
  }

  /**
   * What the update does, placeholders spelled out: `SET email_lower = "ada@example.com",
   * schema_version = 2 REMOVE name`, as Rust's `Update::resolved` gives it for built updates.
   * Names other than letters, digits and `_` are quoted with backticks; values read as
   * {@link Value.toString}. Throws as {@link Update.updateExpression} does, or on a placeholder
   * that is not defined. A raw {@link Update.expression} keeps its own spelling.
   */
  resolved(): string {
    return resolvePlaceholders(this.updateExpression(), this.common.names, this.common.values);
  }

  private placeholderPath(text: string): string | undefined {
    // The usual case, a plain top-level name: no path to parse.
    if (text.length > 0 && text.indexOf(".") < 0 && text.indexOf("[") < 0) return this.namePlaceholder(text);
    let path: Path;
    try {
      path = Path.cached(text);
    } catch (error) {
      if (this.error === undefined) this.error = (error as Error).message;
      return undefined;
    }
    const segments = path.segments;
    let out = "";
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      if (segment.kind === "index") {
        out += "[" + segment.index + "]";
      } else {
        if (i > 0) out += ".";
        out += this.namePlaceholder(segment.name);
      }
    }
    return out;
  }

  /** The generated placeholder of `name`: the one it already has, or the next number. */
  private namePlaceholder(name: string): string {
    const names = this.common.names;
    if (!this.handWrittenDrift) {
      const known = this.generated?.get(name);
      if (known !== undefined) return known;
    } else {
      // As Rust: the first `#drift..` placeholder, in name order, that stands for `name`.
      let found: string | undefined;
      for (const [placeholder, n] of names) {
        if (n === name && placeholder.startsWith("#drift") && (found === undefined || compareNames(placeholder, found) < 0)) {
          found = placeholder;
        }
      }
      if (found !== undefined) return found;
    }
    const placeholder = "#drift" + names.size;
    names.set(placeholder, name);
    (this.generated ??= new Map()).set(name, placeholder);
    return placeholder;
  }

  private placeholderValue(value: ValueLike): string {
    const values = this.common.values.map;
    const placeholder = ":drift" + values.size;
    values.set(placeholder, value instanceof Value ? value : Value.from(value));
    return placeholder;
  }
}

/** Remove an item. */
export class Delete extends ActionBuilder {
  readonly kind = "delete" as const;
  /** The item's primary key. */
  readonly key: Item;

  constructor(key: Item) {
    super();
    this.key = key;
  }
}

/** One deferred write. */
export type Action = Put | Update | Delete;

/** Writes `item` (a whole item, key included). */
export function put(item: Item): Put {
  return new Put(item);
}

/**
 * Changes the item with primary key `key`; chain {@link Update.set}, {@link Update.remove}, ...
 * Unless {@link Update.upsert} is called, the update only applies if the item still exists.
 */
export function update(key: Item): Update {
  return new Update(key);
}

/** Deletes the item with primary key `key` (`delete` is a reserved word in JS). */
export function deleteItem(key: Item): Delete {
  return new Delete(key);
}

/** `expression` with `#name` and `:value` placeholders replaced by what they stand for. */
export function resolvePlaceholders(expression: string, names: ReadonlyMap<string, string>, values: Item): string {
  return expression.replace(/[#:][A-Za-z0-9_]+/g, (placeholder) => {
    if (placeholder.startsWith("#")) {
      const name = names.get(placeholder);
      if (name === undefined) throw new Error(`undefined name placeholder \`${placeholder}\``);
      return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `\`${name}\``;
    }
    const value = values.get(placeholder);
    if (value === undefined) throw new Error(`undefined value placeholder \`${placeholder}\``);
    return value.toString();
  });
}
