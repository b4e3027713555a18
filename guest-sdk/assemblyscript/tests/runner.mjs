// Runs AssemblyScript tests without drift-host: compiles a test file with asc, instantiates it
// in Node (its only import is `env.abort`, which assertion failures call) and calls every
// export named test_*. Prints one line per test and a closing "N passed, N failed". Shared by
// the SDK's own tests and the projects `drift-host new` writes (which pass their `asc`: it is
// resolved from their node_modules).
import { dirname } from "node:path";
import { readFileSync, mkdirSync } from "node:fs";

/** AssemblyScript's class id of `String`, which `__new` takes. */
const STRING_ID = 2;

/** Compiles `testFile` to `outFile` with `asc` (plus `extraArgs`), runs its tests, and
 *  returns the number that failed (compile errors exit the process with 1). `more`, if given,
 *  runs after them with the exports and `call(name, ...texts)` (which calls an export taking
 *  and returning strings: the module needs `--exportRuntime`) and returns how many of its
 *  checks failed. */
export async function runTests(asc, testFile, outFile, extraArgs = [], more = undefined) {
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
  if (more) {
    const { __new, __pin, __unpin } = instance.exports;
    const string = (value) => {
      const bytes = Buffer.from(value, "utf16le");
      const ptr = __pin(__new(bytes.length, STRING_ID));
      new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes);
      return ptr;
    };
    const call = (name, ...texts) => {
      const ptrs = texts.map(string);
      try {
        return text(instance.exports[name](...ptrs));
      } finally {
        ptrs.forEach(__unpin);
      }
    };
    const failures = await more(instance.exports, call);
    failures === 0 ? passed++ : failed++;
    console.log(`${failures === 0 ? "ok     " : "FAILED "} the checks after the tests (${failures} failed)`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed;
}
