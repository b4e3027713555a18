// Exercises every immediate DynamoDB operation of the AssemblyScript SDK, per item of table
// `asdb` (key `id`), with `asdb_side` as the declared other table:
// getItem of the item itself, putItem (conditional) + updateItem + query into/over the side
// table, deleteItem of the side item when the item says `drop`, and a refused getItem on an
// undeclared table. Any surprise fails the item with a message saying which step.

import { Info, Item, Result, Value, err, ok, register, update } from "@drift/sdk/assembly/index";
import { Expression, Query, deleteItem, getItem, putItem, queryPage, updateItem } from "@drift/sdk/assembly/db";
export * from "@drift/sdk/assembly/exports";

function info(): Info {
  return new Info(901, "db_probe", "asdb").withOtherTable("asdb_side");
}

function migrate(item: Item): Result {
  const key = item.key(["id"]);
  if (key == null) return err("no id");
  const self = getItem("asdb", key);
  if (self.error != null || self.item == null) return err("getItem of the item itself: " + (self.error != null ? self.error! : "not found"));

  const side = new Item().set("id", key.get("id")!).set("copied", Value.bool(true));
  const put = putItem("asdb_side", side, new Expression().when("attribute_not_exists(#id)").name("#id", "id"));
  if (put.error != null) return err("putItem: " + put.error!);
  const again = putItem("asdb_side", side, new Expression().when("attribute_not_exists(#id)").name("#id", "id"));
  if (!again.conditionFailed) return err("a second conditional putItem should fail its condition");

  const updated = updateItem("asdb_side", key, "SET #n = :n", new Expression().name("#n", "n").value(":n", Value.int(7)));
  if (updated.error != null) return err("updateItem: " + updated.error!);

  const q = new Query("asdb_side", "#id = :id");
  q.expression.name("#id", "id").value(":id", key.get("id")!);
  const page = queryPage(q);
  if (page.error != null) return err("query: " + page.error!);
  if (page.items.length != 1 || page.items[0].get("n") == null || page.items[0].get("n")!.asNumber() != "7") {
    return err("query did not see the updated side item");
  }

  const drop = item.get("drop");
  if (drop != null && drop.isTrue()) {
    const deleted = deleteItem("asdb_side", key);
    if (deleted.error != null) return err("deleteItem: " + deleted.error!);
  }

  const refused = getItem("not_declared", key);
  if (refused.error == null || !refused.error!.startsWith("refused: ")) return err("an undeclared table must be refused");

  return ok([update(key).set("probed", Value.bool(true))]);
}

function rollback(item: Item): Result {
  return ok([]);
}

register(info, migrate, rollback);
