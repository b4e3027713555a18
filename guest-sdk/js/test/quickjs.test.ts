// The QuickJS glue, run natively: a module hook stands in for componentize-qjs's
// `drift:migration/dynamodb@0.1.0`, and a global `log` for its log import.
import assert from "node:assert/strict";
import { register } from "node:module";
import { before, describe, it } from "node:test";

import { arena, db, DbError, Item, update, type Level, type WitItem } from "../src/index.js";

const hooks = `
export async function resolve(specifier, context, next) {
  if (specifier === "drift:migration/dynamodb@0.1.0") {
    const names = ["getItem", "putItem", "updateItem", "deleteItem", "query"];
    const source = names.map((n) => "export const " + n + " = (...a) => globalThis.fakeDynamodb." + n + "(...a);").join("\\n");
    return { url: "data:text/javascript," + encodeURIComponent(source), shortCircuit: true };
  }
  return next(specifier, context);
}`;

type Glue = typeof import("../src/quickjs.js");
let glue: Glue;
const logged: [Level, string][] = [];
const g = globalThis as Record<string, unknown>;

before(async () => {
  register("data:text/javascript," + encodeURIComponent(hooks));
  g.log = (level: Level, message: string) => logged.push([level, message]);
  glue = await import("../src/quickjs.js");
});

const migration = {
  info: () => ({ number: 2, name: "users_v2", table: "users", description: "d", otherTables: ["audit"] }),
  migrate: (user: Item) => {
    if (!user.has("email")) throw new Error("user has no `email` attribute");
    return [update(user.key(["id"])).set("email_lower", user.getString("email")!.toLowerCase())];
  },
};

describe("quickjs glue", () => {
  it("exports info with the u64 as a plain number", () => {
    const exports = glue.exportMigration(migration);
    assert.deepEqual(exports.info(), { number: 2, name: "users_v2", description: "d", table: "users", otherTables: ["audit"] });
    const big = glue.exportMigration({ ...migration, info: () => ({ number: 2n ** 60n, name: "n", table: "t" }) });
    assert.throws(() => big.info(), RangeError);
  });

  it("returns WIT actions, and throws the item's error as a string", () => {
    const exports = glue.exportMigration(migration);
    const ok = exports.migrate(arena.encodeItem(new Item().with("id", "u1").with("email", "A@B")));
    assert.equal(ok.length, 1);
    assert.equal(ok[0]!.tag, "update");
    let thrown: unknown;
    try {
      exports.migrate(arena.encodeItem(new Item().with("id", "u1")));
    } catch (error) {
      thrown = error;
    }
    assert.equal(thrown, "user has no `email` attribute");
    assert.throws(() => exports.rollback(arena.encodeItem(new Item())), (e: unknown) => e === "this migration has no rollback");
  });

  it("routes log to the global log import", async () => {
    const { log } = await import("../src/index.js");
    log.warn("careful");
    assert.deepEqual(logged.at(-1), ["warn", "careful"]);
  });

  it("calls the dynamodb import and turns its error payloads into DbError", () => {
    g.fakeDynamodb = {
      getItem: (table: string, key: WitItem) => {
        assert.equal(table, "users");
        return arena.decodeItem(key).getString("id") === "u1" ? arena.encodeItem(new Item().with("id", "u1").with("n", 5)) : null;
      },
      putItem: () => {
        throw Object.assign(new Error("[object Object] (see error.payload)"), { payload: { tag: "conditional-check-failed" } });
      },
      deleteItem: () => {
        throw Object.assign(new Error("x"), { payload: { tag: "refused", val: "not declared" } });
      },
      updateItem: () => {
        throw new TypeError("not a db error");
      },
      query: () => ({ items: [], lastEvaluatedKey: null }),
    };
    assert.equal(db.getItem("users", { id: "u1" })!.getInt("n"), 5);
    assert.equal(db.getItem("users", { id: "u2" }), undefined);
    assert.throws(() => db.putItem("users", { id: "u1" }), (e: unknown) => e instanceof DbError && e.kind === "conditional-check-failed");
    assert.throws(() => db.deleteItem("users", { id: "u1" }), { message: "refused: not declared" });
    assert.throws(() => db.updateItem("users", { id: "u1" }, "SET a = :a"), TypeError);
    assert.deepEqual(db.queryPage({ table: "users", keyCondition: "id = :id" }), { items: [], lastEvaluatedKey: undefined });
  });
});
