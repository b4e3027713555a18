// `every_feature`, the conformance migration in TypeScript: see ../README.md, which every
// language's version follows to the letter.

import { Action, db, deleteItem, Info, Item, log, put, update, Update, Value } from "@drift/sdk-js";

const TABLE = "things";
const COPY = "things_copy";
const INDEX = "things_index";
const STATS = "things_stats";

export function info(): Info {
  return {
    number: 7,
    name: "every_feature",
    table: TABLE,
    description:
      "Conformance: every value type, every action kind, conditions, other tables, " +
      "an error, an immediate get-item and logs.",
    otherTables: [COPY, INDEX, STATS],
  };
}

/** The map every migrated item gets as `summary`: one value of each type. */
function summary(): Item {
  return new Item()
    .with("s", "")
    .with("n", Value.N("12345678901234567890123456789012345678"))
    .with("neg", Value.N("-0.000123"))
    .with("b", Uint8Array.of(0, 1, 2, 255))
    .with("empty_b", new Uint8Array())
    .with("t", true)
    .with("nil", null)
    .with("ss", Value.SS(["red", "green"]))
    .with("ns", Value.NS(["1", "2.5", "-3"]))
    .with("bs", Value.BS([[1], [2, 3]]))
    .with("l", ["one", Value.N("2"), new Item().with("deep", [false, null])])
    .with("m", new Item().with("empty", "").with("nested", new Item().with("x", 1)));
}

/** The item's `pk` and its key. */
function keyOf(item: Item): [string, Item] {
  const key = item.key(["pk"]);
  const pk = key.getString("pk");
  if (pk === undefined) throw new Error("item's `pk` is not a string");
  return [pk, key];
}

function statsUpdate(placeholder: string, by: number): Update {
  return update(new Item().with("pk", "total"))
    .table(STATS)
    .expression(`ADD #count ${placeholder}`)
    .name("#count", "count")
    .value(placeholder, by);
}

export function migrate(item: Item): Action[] {
  const [pk, key] = keyOf(item);
  if (item.has("poison")) {
    log.error(`poisoned item ${pk}`);
    throw new Error(`item ${pk} is poisoned`);
  }
  if (item.has("summary")) return [];
  log.info(`migrate ${pk}: ${item.len()} attributes`);
  let entry: Item | undefined;
  try {
    entry = db.getItem(INDEX, key);
  } catch {
    log.warn(`index lookup unavailable for ${pk}`);
  }

  const change = update(key)
    .set("summary", summary())
    .set(
      "types",
      item.entries().map(([, value]) => value.type),
    );
  const city = item.path("profile.city")?.asString();
  if (city !== undefined) change.set("profile.city_label", `city of ${city}`);
  const firstScore = item.path("scores[0]");
  if (firstScore !== undefined) change.set("first_score", firstScore);
  const note = item.get("note");
  if (note !== undefined) change.set("archive", new Item().with("note", note)).remove("note");
  if (item.getNumber("visits") !== undefined) change.add("visits", 1);
  change.add("labels", Value.SS(["v3"]));
  if (entry !== undefined) change.set("index_entry", entry);
  change.condition("attribute_not_exists(#summary)").name("#summary", "summary");

  const copy = put(item.clone().with("copied_from", TABLE))
    .table(COPY)
    .condition("attribute_not_exists(#pk)")
    .name("#pk", "pk");

  const stats = statsUpdate(":one", 1).upsert();

  const actions: Action[] = [change, copy, stats];
  if (entry !== undefined) {
    actions.push(
      deleteItem(key)
        .table(INDEX)
        .condition("#state = :state")
        .name("#state", "state")
        .value(":state", "active"),
    );
  }
  return actions;
}

export function rollback(item: Item): Action[] {
  if (!item.has("summary")) return [];
  const [pk, key] = keyOf(item);
  log.info(`rollback ${pk}`);

  const change = update(key).remove("summary").remove("types");
  if (item.path("profile.city_label") !== undefined) change.remove("profile.city_label");
  if (item.has("first_score")) change.remove("first_score");
  const note = item.path("archive.note");
  if (note !== undefined) change.set("note", note).remove("archive");
  if (item.getNumber("visits") !== undefined) change.add("visits", -1);
  change.deleteFromSet("labels", Value.SS(["v3"]));
  const entry = item.get("index_entry")?.asMap();
  if (entry !== undefined) change.remove("index_entry");
  change.condition("attribute_exists(#summary)").name("#summary", "summary");

  const uncopy = deleteItem(key).table(COPY).condition("attribute_exists(#pk)").name("#pk", "pk");

  const actions: Action[] = [change, uncopy, statsUpdate(":minus_one", -1)];
  if (entry !== undefined) {
    actions.push(put(entry).table(INDEX).condition("attribute_not_exists(#pk)").name("#pk", "pk"));
  }
  return actions;
}
