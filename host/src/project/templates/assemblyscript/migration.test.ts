// The migration's own tests, without drift-host: `npm test` compiles this file and calls
// every export named test_*.

import { Item, Value } from "@drift/sdk/assembly/index";
import { migrate, rollback } from "../assembly/migration";

function item(): Item {
  return new Item(){{sample_set}}.set("name", Value.S("Ada"));
}

export function test_migrate_stamps_the_item(): void {
  const result = migrate(item());
  assert(result.error == null);
  assert(result.actions.length == 1);
  const change = result.actions[0];
  assert(change.updateExpression() == "SET #drift0 = :drift0");
  assert(change.names.get("#drift0") == "migrated_by");
  assert(change.values.get(":drift0").asString() == "{{name}}");
}

export function test_rollback_removes_only_its_own_stamp(): void {
  const stamped = item().set("migrated_by", Value.S("{{name}}"));
  assert(rollback(stamped).actions.length == 1);
  const other = item().set("migrated_by", Value.S("someone else"));
  assert(rollback(other).actions.length == 0);
}
