// Runs the SDK's tests without drift-host (see runner.mjs), then holds the SDK to the shared
// vectors (guest-sdk/vectors/sdk.json, generated from the Rust SDK) it has the logic for:
// document paths and lowercasing (it has no floats or item sizes).
import asc from "assemblyscript/asc";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { readFileSync } from "node:fs";
import { runTests } from "./runner.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const vectors = JSON.parse(readFileSync(join(here, "..", "..", "vectors", "sdk.json"), "utf8"));

/** A path vector's segments as `vector_path` in sdk.test.ts spells them. */
function spelled(vector) {
  if (vector.error !== undefined) return "!" + vector.error;
  return vector.segments.map((s) => ("index" in s ? `[${s.index}]` : `.${s.name}`)).join("\n");
}

function againstVectors(exports, call) {
  let failures = 0;
  const check = (got, expected, what) => {
    if (got === expected) return;
    if (failures++ < 10) console.log(`  ${what}: got ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
  };
  for (const vector of vectors.paths) check(call("vector_path", vector.text), spelled(vector), `path ${vector.text}`);
  for (const vector of vectors.lowercase) {
    check(call("vector_lowercase", vector.text), vector.lower, `lowercase ${vector.text}`);
  }
  return failures;
}

const failed = await runTests(
  asc,
  join(here, "sdk.test.ts"),
  join(here, "..", "build", "sdk.test.wasm"),
  ["--exportRuntime"],
  againstVectors,
);
process.exit(failed ? 1 : 0);
