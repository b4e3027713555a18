// Migration {{number}} `{{name}}` over the table `{{table}}` (key: {{key_list}}).
//
// As written by `drift-host new`, it stamps every item with `migrated_by = "{{name}}"`, and
// `rollback` takes the stamp away again: replace both with what this migration changes.

import { Info, Item, Result, Value, err, ok, update } from "@drift/sdk/assembly/index";

const KEY: string[] = [{{key_literals}}];

export function info(): Info {
  return new Info({{number}}, "{{name}}", "{{table}}").withDescription(
    "Stamps every item with migrated_by = {{name}}.",
  );
}

export function migrate(item: Item): Result {
  const key = item.key(KEY);
  if (key == null) return err("item has no key attribute `" + item.missingKey(KEY)! + "`");
  return ok([update(key).set("migrated_by", Value.S("{{name}}"))]);
}

export function rollback(item: Item): Result {
  if (item.getString("migrated_by") != "{{name}}") return ok([]);
  const key = item.key(KEY);
  if (key == null) return err("item has no key attribute `" + item.missingKey(KEY)! + "`");
  return ok([update(key).remove("migrated_by")]);
}
