// The SDK's logic, tested without the host: values, paths and action builders.

import { Item, Kind, Value } from "../assembly/value";
import { Path } from "../assembly/path";
import { deleteItem, put, update } from "../assembly/action";
import { Info, err, ok } from "../assembly/migration";
import { toLowerCase } from "../assembly/text";

function user(): Item {
  const address = new Item().set("city", Value.S("Oslo")).set("zip", Value.int(150));
  return new Item()
    .set("id", Value.S("u1"))
    .set("age", Value.int(42))
    .set("active", Value.bool(true))
    .set("address", Value.M(address))
    .set("tags", Value.L([Value.S("a"), Value.S("b")]));
}

export function test_typed_accessors_match_only_their_type(): void {
  const u = user();
  assert(u.getString("id") == "u1");
  assert(u.get("age")!.asI64() == 42);
  assert(u.getString("age") == null);
  assert(u.get("active")!.isTrue());
  assert(u.get("age")!.typeName == "N");
  assert(u.get("missing") == null);
  const big = "12345678901234567890123456789012345678";
  assert(Value.N(big).asNumber() == big);
  assert(!Value.N(big).isI64());
}

export function test_paths_reach_nested_maps_and_lists(): void {
  const u = user();
  assert(u.path("address.city")!.asString() == "Oslo");
  assert(u.path("tags[1]")!.asString() == "b");
  assert(u.path("tags[2]") == null);
  assert(u.path("address.city.x") == null);
  assert(u.path("id[0]") == null);
  assert(u.path("a..b") == null);
}

export function test_paths_parse_like_the_rust_sdk(): void {
  const p = Path.parse("a.b[2][0].c")!;
  assert(p.segments.length == 5);
  assert(p.segments[2].isIndex && p.segments[2].index == 2);
  assert(p.segments[4].name == "c");
  const bad = ["", ".a", "a.", "a..b", "[0]", "a[", "a[x]", "a[0]b", "a[-1]"];
  for (let i = 0; i < bad.length; i++) assert(Path.parse(bad[i]) == null, bad[i]);
  Path.parse("a[");
  assert(Path.lastError == "invalid document path `a[`: unclosed `[`");
}

export function test_key_picks_attributes_or_names_the_missing_one(): void {
  const u = user();
  assert(u.key(["id"])!.getString("id") == "u1");
  assert(u.key(["id", "sk"]) == null);
  assert(u.missingKey(["id", "sk"]) == "sk");
}

export function test_update_builds_the_same_expression_as_rust(): void {
  const key = new Item().set("id", Value.S("u1"));
  const a = update(key)
    .set("email_lower", Value.S("a@b.c"))
    .set("address.city", Value.S("Oslo"))
    .remove("name")
    .add("visits", Value.int(1))
    .deleteFromSet("tags", Value.SS(["old"]));
  assert(
    a.updateExpression() ==
      "SET #drift0 = :drift0, #drift1.#drift2 = :drift1 REMOVE #drift3 ADD #drift4 :drift2 DELETE #drift5 :drift3",
  );
  assert(a.names.get("#drift1") == "address");
  assert(a.values.get(":drift1").asString() == "Oslo");
  assert(!a.upsertAllowed);
  const b = update(key).set("a.b", Value.int(1)).set("a.c[3]", Value.int(2));
  assert(b.updateExpression() == "SET #drift0.#drift1 = :drift0, #drift0.#drift2[3] = :drift1");
}

export function test_update_without_clauses_or_with_bad_path_is_a_problem(): void {
  const key = new Item().set("id", Value.S("u1"));
  assert(update(key).problem() == "an update needs at least one set/remove/add/delete");
  assert(update(key).set("a..b", Value.int(1)).problem() == "invalid document path `a..b`: empty name");
  assert(update(key).expression("SET x = :x").set("y", Value.int(1)).problem() != null);
  assert(put(key).set("x", Value.int(1)).problem() != null);
  assert(update(key).expression("SET #n = :v").name("#n", "n").value(":v", Value.S("x")).problem() == null);
}

export function test_put_and_delete_carry_table_and_condition(): void {
  const key = new Item().set("id", Value.S("u1"));
  const p = put(key).to("copy").when("attribute_not_exists(id)");
  assert(p.table == "copy" && p.condition == "attribute_not_exists(id)");
  assert(p.problem() == null);
  const d = deleteItem(key).value(":v", Value.int(1));
  assert(d.values.get(":v").asNumber() == "1");
}

export function test_clone_is_deep(): void {
  const original = Value.M(user());
  const copy = original.clone();
  copy.map.get("address").map.set("city", Value.S("Bergen"));
  assert(original.map.get("address").map.get("city").asString() == "Oslo");
  assert(copy.kind == Kind.M);
}

export function test_item_clone_is_deep_and_keeps_the_order(): void {
  const original = user();
  const copy = original.clone().set("copied_from", Value.S("users"));
  copy.get("address")!.map.set("city", Value.S("Bergen"));
  assert(!original.has("copied_from"));
  assert(original.path("address.city")!.asString() == "Oslo");
  assert(copy.names().join(",") == "id,age,active,address,tags,copied_from");
}

export function test_results_and_info(): void {
  assert(ok([]).error == null);
  assert(err("no").error == "no");
  const info = new Info(2, "users_v2", "users").withDescription("d").withOtherTable("audit");
  assert(info.number == 2 && info.otherTables.length == 1);
}

export function test_lowercase_applies_the_final_sigma_rule_as_rust_does(): void {
  // What Rust's str::to_lowercase gives (the AssemblyScript standard library gives σ at the end).
  assert(toLowerCase("AΣ") == "aς");
  assert(toLowerCase("K ΣΣ") == "k σς");
  assert(toLowerCase("@ AΣΣ\u0345") == "@ aσς\u0345");
  assert(toLowerCase("ΟΔΥΣΣΕΥΣ@Ithaca.GR") == "οδυσσευς@ithaca.gr");
  assert(toLowerCase("Σ") == "σ");
  assert(toLowerCase("") == "");
  assert(toLowerCase("İ") == "i\u0307");
}

// What run.mjs compares with the shared vectors (guest-sdk/vectors/sdk.json).

/** The segments of `text`, one a line (`.name` or `[index]`), or `!` and the parse error. */
export function vector_path(text: string): string {
  const path = Path.parse(text);
  if (path == null) return "!" + Path.lastError;
  const lines = new Array<string>();
  for (let i = 0; i < path.segments.length; i++) {
    const segment = path.segments[i];
    lines.push(segment.isIndex ? "[" + segment.index.toString() + "]" : "." + segment.name);
  }
  return lines.join("\n");
}

/** `text` lowercased by the SDK. */
export function vector_lowercase(text: string): string {
  return toLowerCase(text);
}
