// The package built by `wasm-pack build --target web` (in ../www/pkg),
// imported by a plain page (../www/index.html, no bundler), in headless
// Chromium. A small static server on 127.0.0.1 serves ../www.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, normalize, extname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = fileURLToPath(new URL("../www/", import.meta.url));
const types = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

let server, browser, page, profile;

before(async () => {
  server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    const file = join(root, path.endsWith("/") ? `${path}index.html` : path);
    if (!file.startsWith(root)) return res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  profile = await mkdtemp(join(tmpdir(), "lwt-example-chromium-"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu"],
  });
  page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForSelector("body[data-ready=yes]", { timeout: 30_000 }).catch((e) => {
    throw new Error(`the page did not start: ${errors.join("; ") || e}`);
  });
});

after(async () => {
  await browser?.close();
  server?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

const run = (...args) => page.evaluate((a) => window.lwtExample.run(...a), args);

test("page: the sum wins the race when the limit is far", async () => {
  const out = await run(100_000, 1_000, 10_000);
  assert.deepEqual([out.end, out.sum, out.chunks, out.liveTimers], ["sum", 5_000_050_000, 100, 0]);
});

test("page: the time limit wins, and the sum stops", async () => {
  const out = await run(4_000_000_000, 1_000, 30);
  assert.equal(out.end, "timeout", JSON.stringify(out));
  assert.ok(out.chunks > 0, JSON.stringify(out));
  assert.equal(out.chunksLater, out.chunks, "the canceled sum went on");
  assert.equal(out.liveTimers, 0);
});

test("page: cancel() rejects with an AbortError and stops both", async () => {
  const out = await run(4_000_000_000, 1_000, 60_000, 20);
  assert.equal(out.end, "canceled", JSON.stringify(out));
  assert.equal(out.chunksLater, out.chunks, "the canceled sum went on");
  assert.equal(out.liveTimers, 0);
});

test("page: the form runs a job and shows its outcome", async () => {
  await page.evaluate(() => (document.getElementById("out").textContent = ""));
  await page.fill("#n", "5000");
  await page.fill("#chunk", "100");
  await page.click("#start");
  await page.waitForFunction(() => document.getElementById("out").textContent.includes('"end"'));
  const out = JSON.parse(await page.textContent("#out"));
  assert.deepEqual([out.end, out.sum, out.chunks], ["sum", 12_502_500, 50]);
});
