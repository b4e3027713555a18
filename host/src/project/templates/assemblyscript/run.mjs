// Runs the migration's tests without drift-host: compiles tests/migration.test.ts with asc and
// calls every export named test_* (the runner comes with the SDK).
import asc from "assemblyscript/asc";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { runTests } from "@drift/sdk/tests/runner.mjs";

const here = dirname(fileURLToPath(import.meta.url));
// Not the module's asconfig.json (its `use` wires the guest ABI): a test build of its own.
const failed = await runTests(
  asc,
  join(here, "migration.test.ts"),
  join(here, "..", "build", "migration.test.wasm"),
  ["--config", join(here, "asconfig.json")],
);
process.exit(failed ? 1 : 0);
