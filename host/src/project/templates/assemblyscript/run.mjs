// Runs the migration's tests without drift-host: compiles tests/migration.test.ts with asc,
// instantiates it in Node and calls every export named test_*.
import asc from "assemblyscript/asc";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { readFileSync, mkdirSync } from "node:fs";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "build", "migration.test.wasm");
mkdirSync(dirname(out), { recursive: true });
// Not the module's asconfig.json (its `use` wires the guest ABI): a test build of its own.
const { error, stderr } = await asc.main([
  join(here, "migration.test.ts"), "--config", join(here, "asconfig.json"),
  "--outFile", out, "--runtime", "incremental", "--debug",
]);
if (error) {
  console.error(stderr.toString());
  process.exit(1);
}
let memory;
const text = (ptr) => {
  if (!ptr) return "";
  const bytes = new Uint32Array(memory.buffer, ptr - 4, 1)[0];
  return Buffer.from(new Uint8Array(memory.buffer, ptr, bytes)).toString("utf16le");
};
const { instance } = await WebAssembly.instantiate(readFileSync(out), {
  env: {
    abort(message, file, line, column) {
      throw new Error(`${text(message)} at ${text(file)}:${line}:${column}`);
    },
  },
});
memory = instance.exports.memory;
let passed = 0;
let failed = 0;
for (const [name, test] of Object.entries(instance.exports)) {
  if (!name.startsWith("test_")) continue;
  try {
    test();
    passed++;
    console.log(`ok      ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAILED  ${name}: ${e.message}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
