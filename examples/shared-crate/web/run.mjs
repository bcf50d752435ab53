// Prints the trace of the shared scenario, run by the wasm build on lwt-wasm
// in Node: `node run.mjs [DIR]`, DIR being wasm-bindgen's `--target nodejs`
// output (default: ./pkg).
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const dir = path.resolve(process.argv[2] ?? new URL("pkg", import.meta.url).pathname);
const { trace } = require(path.join(dir, "resilience_web.js"));

try {
  console.log(await trace());
} catch (e) {
  console.error("resilience-web:", e);
  process.exitCode = 1;
}
