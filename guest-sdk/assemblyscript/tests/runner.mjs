// Runs AssemblyScript tests without drift-host: compiles a test file with asc, instantiates it
// in Node (its only import is `env.abort`, which assertion failures call) and calls every
// export named test_*. Prints one line per test and a closing "N passed, N failed". Shared by
// the SDK's own tests and the projects `drift-host new` writes (which pass their `asc`: it is
// resolved from their node_modules).
import { dirname } from "node:path";
import { readFileSync, mkdirSync } from "node:fs";

/** Compiles `testFile` to `outFile` with `asc` (plus `extraArgs`), runs its tests, and
 *  returns the number that failed (compile errors exit the process with 1). */
export async function runTests(asc, testFile, outFile, extraArgs = []) {
  mkdirSync(dirname(outFile), { recursive: true });
  const { error, stderr } = await asc.main([
    testFile, "--outFile", outFile, "--runtime", "incremental", "--debug", ...extraArgs,
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
  const { instance } = await WebAssembly.instantiate(readFileSync(outFile), {
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
  return failed;
}
