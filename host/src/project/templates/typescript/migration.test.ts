// The migration's logic, natively with node (`npm test`); `drift-host test` runs cases/ on
// the built component.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Item, Update } from "@drift/sdk-js";
import { info, migrate, rollback } from "../src/migration.js";

describe("{{name}}", () => {
  it("says what it is", () => {
    assert.equal(info().number, {{number}});
    assert.equal(info().table, "{{table}}");
  });

  it("stamps an item, and rollback takes the stamp away", () => {
    const item = Item.from({ {{key_sample}}, name: "Ada" });
    const [stamp] = migrate(item);
    assert.ok(stamp instanceof Update);
    assert.equal(stamp.resolved(), 'SET migrated_by = "{{name}}"');
    const stamped = Item.from({ {{key_sample}}, name: "Ada", migrated_by: "{{name}}" });
    const [unstamp] = rollback(stamped);
    assert.ok(unstamp instanceof Update);
    assert.equal(unstamp.resolved(), "REMOVE migrated_by");
    assert.deepEqual(rollback(item), []);
  });
});
