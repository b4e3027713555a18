// Migration {{number}} `{{name}}` over the table `{{table}}` (key: {{key_list}}).
//
// As written by `drift-host new`, it stamps every item with `migrated_by = "{{name}}"`, and
// `rollback` takes the stamp away again: replace both with what this migration changes.
// A thrown error fails the item (and then the run applies nothing).

import { Action, Info, Item, update } from "@drift/sdk-js";

const KEY = [{{key_literals}}];

export function info(): Info {
  return {
    number: {{number}},
    name: "{{name}}",
    table: "{{table}}",
    description: "Stamps every item with migrated_by = {{name}}.",
  };
}

export function migrate(item: Item): Action[] {
  return [update(item.key(KEY)).set("migrated_by", "{{name}}")];
}

export function rollback(item: Item): Action[] {
  if (item.getString("migrated_by") !== "{{name}}") return [];
  return [update(item.key(KEY)).remove("migrated_by")];
}
