// The package built by `wasm-pack build --target nodejs` (in ../pkg-node),
// used from Node as any npm package is: required by its folder, through the
// `main` of the package.json wasm-pack wrote.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const pkgDir = new URL("../pkg-node/", import.meta.url);
const { SumJob } = require(pkgDir.pathname);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test("wasm-pack wrote an npm package", () => {
  const manifest = JSON.parse(readFileSync(new URL("package.json", pkgDir)));
  assert.equal(manifest.name, "lwt-wasm-pack-example");
  assert.equal(manifest.version, "0.1.0");
  assert.ok(manifest.files.some((f) => f.endsWith(".wasm")), JSON.stringify(manifest.files));
});

test("the sum wins the race when the limit is far", async () => {
  const job = new SumJob(100_000, 1_000, 10_000);
  assert.equal(await job.result(), 5_000_050_000);
  assert.equal(job.chunks, 100);
  assert.equal(SumJob.liveTimers(), 0, "the losing timer was canceled");
});

test("the time limit wins, and the sum stops", async () => {
  const job = new SumJob(4_000_000_000, 1_000, 30);
  assert.equal(await job.result(), null);
  const chunks = job.chunks;
  assert.ok(chunks > 0 && chunks < 4_000_000, `chunks: ${chunks}`);
  await sleep(50);
  assert.equal(job.chunks, chunks, "the canceled sum went on");
  assert.equal(SumJob.liveTimers(), 0);
});

test("cancel() rejects with an AbortError and stops both", async () => {
  const job = new SumJob(4_000_000_000, 1_000, 60_000);
  setTimeout(() => job.cancel(), 20);
  await assert.rejects(job.result(), (e) => e.name === "AbortError");
  const chunks = job.chunks;
  await sleep(50);
  assert.equal(job.chunks, chunks, "the canceled sum went on");
  assert.equal(SumJob.liveTimers(), 0, "the time limit's timer was released");
});
