// `every_feature`, the conformance migration in AssemblyScript: see ../README.md (the folder's
// parent: tests/conformance/every_feature/README.md), which every language's version follows
// to the letter.

import { Action, Info, Item, Result, Value, deleteItem, err, ok, put, register, update } from "@drift/sdk/assembly/index";
import { getItem } from "@drift/sdk/assembly/db";
import * as log from "@drift/sdk/assembly/log";
export * from "@drift/sdk/assembly/exports";

const TABLE = "things";
const COPY = "things_copy";
const INDEX = "things_index";
const STATS = "things_stats";

function info(): Info {
  return new Info(7, "every_feature", TABLE)
    .withDescription(
      "Conformance: every value type, every action kind, conditions, other tables, " +
        "an error, an immediate get-item and logs.",
    )
    .withOtherTable(COPY)
    .withOtherTable(INDEX)
    .withOtherTable(STATS);
}

/** The map every migrated item gets as `summary`: one value of each type. */
function summary(): Value {
  const deep = new Item().set("deep", Value.L([Value.bool(false), Value.null()]));
  const b = new Uint8Array(4);
  b[0] = 0x00; b[1] = 0x01; b[2] = 0x02; b[3] = 0xff;
  const bs1 = new Uint8Array(1);
  bs1[0] = 0x01;
  const bs2 = new Uint8Array(2);
  bs2[0] = 0x02; bs2[1] = 0x03;
  return Value.M(
    new Item()
      .set("s", Value.S(""))
      .set("n", Value.N("12345678901234567890123456789012345678"))
      .set("neg", Value.N("-0.000123"))
      .set("b", Value.B(b))
      .set("empty_b", Value.B(new Uint8Array(0)))
      .set("t", Value.bool(true))
      .set("nil", Value.null())
      .set("ss", Value.SS(["red", "green"]))
      .set("ns", Value.NS(["1", "2.5", "-3"]))
      .set("bs", Value.BS([bs1, bs2]))
      .set("l", Value.L([Value.S("one"), Value.N("2"), Value.M(deep)]))
      .set("m", Value.M(new Item().set("empty", Value.S("")).set("nested", Value.M(new Item().set("x", Value.int(1)))))),
  );
}

/** The DynamoDB type name of each top-level attribute, attributes in the order of their names. */
function typeNames(item: Item): Value {
  const names = item.names();
  names.sort();
  const types: Value[] = [];
  for (let i = 0; i < names.length; i++) types.push(Value.S(item.get(names[i])!.typeName));
  return Value.L(types);
}

function isNumber(value: Value | null): bool {
  return value != null && value.asNumber() != null;
}

/** `ADD #count <placeholder>` on the running total in the stats table. */
function statsUpdate(placeholder: string, by: i64): Action {
  return update(new Item().set("pk", Value.S("total")))
    .to(STATS)
    .expression("ADD #count " + placeholder)
    .name("#count", "count")
    .value(placeholder, Value.int(by));
}

function migrate(item: Item): Result {
  const pk = item.getString("pk");
  if (pk == null) return err("item's `pk` is not a string");
  const key = item.key(["pk"])!;
  if (item.has("poison")) {
    log.error("poisoned item " + pk);
    return err("item " + pk + " is poisoned");
  }
  if (item.has("summary")) return ok([]);
  log.info("migrate " + pk + ": " + item.size.toString() + " attributes");

  const lookup = getItem(INDEX, key);
  if (lookup.error != null) log.warn("index lookup unavailable for " + pk);
  const entry = lookup.item;

  const change = update(key).set("summary", summary()).set("types", typeNames(item));
  const city = item.path("profile.city");
  if (city != null && city.asString() != null) {
    change.set("profile.city_label", Value.S("city of " + city.asString()!));
  }
  const first = item.path("scores[0]");
  if (first != null) change.set("first_score", first.clone());
  const note = item.get("note");
  if (note != null) {
    change.set("archive", Value.M(new Item().set("note", note.clone()))).remove("note");
  }
  if (isNumber(item.get("visits"))) change.add("visits", Value.int(1));
  change.add("labels", Value.SS(["v3"]));
  if (entry != null) change.set("index_entry", Value.M(entry));
  change.when("attribute_not_exists(#summary)").name("#summary", "summary");

  const copy = put(item.clone().set("copied_from", Value.S(TABLE)))
    .to(COPY)
    .when("attribute_not_exists(#pk)")
    .name("#pk", "pk");

  const actions = [change, copy, statsUpdate(":one", 1).upsert()];
  if (entry != null) {
    actions.push(
      deleteItem(key)
        .to(INDEX)
        .when("#state = :state")
        .name("#state", "state")
        .value(":state", Value.S("active")),
    );
  }
  return ok(actions);
}

function rollback(item: Item): Result {
  if (!item.has("summary")) return ok([]);
  const pk = item.getString("pk");
  if (pk == null) return err("item's `pk` is not a string");
  const key = item.key(["pk"])!;
  log.info("rollback " + pk);

  const change = update(key).remove("summary").remove("types");
  if (item.path("profile.city_label") != null) change.remove("profile.city_label");
  if (item.has("first_score")) change.remove("first_score");
  const note = item.path("archive.note");
  if (note != null) change.set("note", note.clone()).remove("archive");
  if (isNumber(item.get("visits"))) change.add("visits", Value.int(-1));
  change.deleteFromSet("labels", Value.SS(["v3"]));
  const indexEntry = item.get("index_entry");
  const entry = indexEntry != null ? indexEntry.asMap() : null;
  if (entry != null) change.remove("index_entry");
  change.when("attribute_exists(#summary)").name("#summary", "summary");

  const uncopy = deleteItem(key)
    .to(COPY)
    .when("attribute_exists(#pk)")
    .name("#pk", "pk");

  const actions = [change, uncopy, statsUpdate(":minus_one", -1)];
  if (entry != null) {
    actions.push(
      put(entry)
        .to(INDEX)
        .when("attribute_not_exists(#pk)")
        .name("#pk", "pk"),
    );
  }
  return ok(actions);
}

register(info, migrate, rollback);
