// The SpiderMonkey glue, run natively: module hooks stand in for componentize-js's `log` and
// `drift:migration/dynamodb@0.1.0` modules.
import assert from "node:assert/strict";
import { register } from "node:module";
import { before, describe, it } from "node:test";

import { arena, db, DbError, Item, log, update, type Level } from "../src/index.js";

const hooks = `
const modules = {
  "log": "export default (...a) => globalThis.fakeLog(...a);",
  "drift:migration/dynamodb@0.1.0": ["getItem", "putItem", "updateItem", "deleteItem", "query"]
    .map((n) => "export const " + n + " = (...a) => globalThis.fakeDynamodb." + n + "(...a);").join("\\n"),
};
export async function resolve(specifier, context, next) {
  if (specifier in modules) return { url: "data:text/javascript," + encodeURIComponent(modules[specifier]), shortCircuit: true };
  return next(specifier, context);
}`;

type Glue = typeof import("../src/spidermonkey.js");
let glue: Glue;
const logged: [Level, string][] = [];
const g = globalThis as Record<string, unknown>;

before(async () => {
  register("data:text/javascript," + encodeURIComponent(hooks));
  g.fakeLog = (level: Level, message: string) => logged.push([level, message]);
  glue = await import("../src/spidermonkey.js");
});

describe("spidermonkey glue", () => {
  const migration = {
    info: () => ({ number: 2, name: "users_v2", table: "users" }),
    migrate: (user: Item) => [update(user.key("id")).set("seen", true)],
  };

  it("exports info with the u64 as a bigint", () => {
    assert.deepEqual(glue.exportMigration(migration).info(), {
      number: 2n,
      name: "users_v2",
      description: "",
      table: "users",
      otherTables: [],
    });
  });

  it("takes list children as typed arrays and throws errors as strings", () => {
    const exports = glue.exportMigration(migration);
    const wit = { attributes: [["id", 0] as [string, number], ["l", 1] as [string, number]], nodes: [{ tag: "s" as const, val: "u1" }, { tag: "l" as const, val: new Uint32Array(0) }] };
    assert.equal(exports.migrate(wit)[0]!.tag, "update");
    assert.throws(() => exports.migrate(arena.encodeItem(new Item())), (e: unknown) => e === "item has no key attribute `id`");
  });

  it("routes log and dynamodb to the engine's modules", () => {
    log.error("bad");
    assert.deepEqual(logged.at(-1), ["error", "bad"]);
    g.fakeDynamodb = {
      getItem: () => {
        throw Object.assign(new Error("x"), { payload: { tag: "failed", val: "throttled" } });
      },
    };
    assert.throws(() => db.getItem("users", { id: "u1" }), (e: unknown) => e instanceof DbError && e.message === "DynamoDB failed: throttled");
  });
});
