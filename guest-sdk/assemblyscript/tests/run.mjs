// Runs the SDK's tests without drift-host (see runner.mjs).
import asc from "assemblyscript/asc";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { runTests } from "./runner.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const failed = await runTests(asc, join(here, "sdk.test.ts"), join(here, "..", "build", "sdk.test.wasm"));
process.exit(failed ? 1 : 0);
