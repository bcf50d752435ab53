// Serves this directory on 127.0.0.1, runs bench.html in headless Chromium,
// prints the figures as JSON. Usage: node bench.mjs
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = path.dirname(fileURLToPath(import.meta.url));
const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
const server = http.createServer((req, res) => {
  const file = path.join(root, decodeURIComponent(new URL(req.url, "http://x").pathname));
  if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { "content-type": types[path.extname(file)] || "application/octet-stream" });
  fs.createReadStream(file).pipe(res);
});
await new Promise(r => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${server.address().port}/bench.html`;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), "lwt-bench-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--js-flags=--expose-gc"],
});
try {
  const page = context.pages()[0] || await context.newPage();
  page.on("console", m => console.error("page:", m.text()));
  page.on("pageerror", e => console.error("page error:", e));
  await page.goto(url);
  await page.waitForFunction(() => window.benchReady === true, null, { timeout: 60000 });
  const results = {};
  results.chain = await page.evaluate(() => window.bench.chains());
  results.round_trip = await page.evaluate(() => window.bench.roundTrips());
  await page.evaluate(() => window.bench.startPauseLoop());
  for (let i = 0; i < 20; i++) {
    await page.mouse.click(10 + i, 10);
    if (!(await page.evaluate(() => window.loopRunning))) break;
  }
  results.pause_loop = await page.evaluate(() => window.bench.finishPauseLoop());
  const c = results.chain;
  results.chain.speedup_vs_js_then = c.js_then_chain_ms / c.lwt_chain_ms;
  results.chain.speedup_vs_wbf = c.wbf_chain_ms / c.lwt_chain_ms;
  console.log(JSON.stringify(results, null, 2));
} finally {
  await context.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
