// Serves this directory on 127.0.0.1, runs bench.html in a headless browser,
// prints the figures as JSON. Usage: node bench.mjs [chromium|firefox]
// (Chromium through playwright-core; Firefox ESR through selenium-webdriver
// and geckodriver, both given by path, so Selenium downloads nothing).
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { Builder } from "selenium-webdriver";
import firefox from "selenium-webdriver/firefox.js";

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

const browser = process.argv[2] || "chromium";

/** Headless Chromium with `gc` exposed to the page (bench.html collects between runs). */
async function openChromium() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "lwt-bench-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run",
           "--js-flags=--expose-gc"],
  });
  const page = context.pages()[0] || await context.newPage();
  page.on("console", m => console.error("page:", m.text()));
  page.on("pageerror", e => console.error("page error:", e));
  return {
    goto: (u) => page.goto(u),
    evaluate: (f) => page.evaluate(f),
    click: (x, y) => page.mouse.click(x, y),
    close: async () => { await context.close(); fs.rmSync(profile, { recursive: true, force: true }); },
  };
}

/** Headless Firefox ESR (no `gc` for pages: bench.html runs without it). */
async function openFirefox() {
  process.env.SE_OFFLINE = "true";
  const gecko = process.env.GECKODRIVER || path.join(os.homedir(), ".cargo/bin/geckodriver");
  const options = new firefox.Options()
    .setBinary(process.env.FIREFOX || "/usr/bin/firefox-esr")
    .addArguments("-headless");
  const driver = await new Builder().forBrowser("firefox").setFirefoxOptions(options)
    .setFirefoxService(new firefox.ServiceBuilder(gecko)).build();
  // A million wasm-bindgen-futures steps, seven times, outlast the default 30 s.
  await driver.manage().setTimeouts({ script: 600000 });
  return {
    goto: (u) => driver.get(u),
    evaluate: (f) => driver.executeScript(`return (${f})();`),
    click: (x, y) => driver.actions().move({ x, y }).click().perform(),
    close: () => driver.quit(),
  };
}

if (browser !== "chromium" && browser !== "firefox") throw new Error(`${browser}: chromium or firefox`);
const page = await (browser === "firefox" ? openFirefox() : openChromium());
try {
  await page.goto(url);
  const t0 = Date.now();
  while (!(await page.evaluate(() => window.benchReady === true))) {
    if (Date.now() - t0 > 60000) throw new Error("bench.html did not get ready");
    await new Promise(r => setTimeout(r, 50));
  }
  const results = { browser };
  results.chain = await page.evaluate(() => window.bench.chains());
  results.resolved = await page.evaluate(() => window.bench.resolved());
  results.round_trip = await page.evaluate(() => window.bench.roundTrips());
  await page.evaluate(() => window.bench.startPauseLoop());
  for (let i = 0; i < 20; i++) {
    await page.click(10 + i, 10);
    if (!(await page.evaluate(() => window.loopRunning))) break;
  }
  results.pause_loop = await page.evaluate(() => window.bench.finishPauseLoop());
  results.pause_loop_runs = await page.evaluate(() => window.bench.pauseLoopRuns());
  const c = results.chain;
  results.chain.speedup_vs_js_then = c.js_then_chain_ms / c.lwt_chain_ms;
  results.chain.speedup_vs_wbf = c.wbf_chain_ms / c.lwt_chain_ms;
  results.chain.pending_bind_vs_js_then = c.js_pending_bind_ms / c.lwt_pending_bind_ms;
  const r = results.resolved;
  results.resolved.bind_recursion_vs_js_await = r.js_await_ms / r.lwt_bind_recursion_ms;
  results.resolved.await_vs_js_await = r.js_await_ms / r.lwt_await_ms;
  console.log(JSON.stringify(results, null, 2));
} finally {
  await page.close();
  server.close();
}
