// The benchmark page prints its table; the server refuses bad paths.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startServer, launch, watchErrors, screenshot } from "./lib.mjs";

let server, browser;
before(async () => { server = await startServer(0); browser = await launch(); });
after(async () => { await browser?.close(); await server?.stop(); });

test("benchmark page prints a table", async () => {
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  const watch = watchErrors(page, "bench");
  await page.goto(new URL("/bench.html?auto", server.url).href);
  const r = await page.waitForFunction(() => window.benchResults, null, { timeout: 120000 });
  const results = await r.jsonValue();
  assert.equal(results.results.length, 4);
  assert.equal(await page.locator("#results tr").count(), 4);
  for (const row of results.results) assert.ok(row.ms > 0 && Number.isFinite(row.ms), JSON.stringify(row));
  await screenshot(page, "bench");
  console.log(JSON.stringify(results));
  assert.deepEqual(watch.errors, []);
});

/** Sends raw bytes; resolves with the status code of the answer. */
function raw(port, request) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => s.write(request));
    let out = "";
    s.on("data", (d) => {
      out += d;
      const m = out.match(/^HTTP\/1\.1 (\d+)/);
      if (m && out.includes("\r\n\r\n")) { resolve(Number(m[1])); s.destroy(); }
    });
    s.on("error", reject);
  });
}

test("content types, unknown paths and path traversal", async () => {
  const wasm = await fetch(new URL("/pkg/lwt_www_app_bg.wasm", server.url));
  assert.equal(wasm.headers.get("content-type"), "application/wasm");
  const js = await fetch(new URL("/pkg/lwt_www_app.js", server.url));
  assert.match(js.headers.get("content-type"), /^text\/javascript/);
  assert.equal((await fetch(new URL("/no/such/file", server.url))).status, 404);
  assert.equal(await raw(server.port, "GET /../Cargo.toml HTTP/1.1\r\n\r\n"), 400);
  assert.equal(await raw(server.port, "GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\n\r\n"), 400);
  assert.equal(await raw(server.port, "BREW / HTTP/1.1\r\n\r\n"), 405);
  assert.equal((await fetch(new URL("/", server.url))).status, 200);
});
