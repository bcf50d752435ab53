// The benchmark page prints its table; the server refuses bad paths.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startServer, launch, browser } from "./lib.mjs";

let server, b;
before(async () => { server = await startServer(0); b = await launch(); });
after(async () => { await b?.close(); await server?.stop(); });

test(`${browser()}: benchmark page prints a table`, async () => {
  const page = await b.newPage("bench", { width: 1100, height: 700 });
  await page.goto(new URL("/bench.html?auto", server.url).href);
  const results = await page.waitFor("the results", () => window.benchResults, null, 120000);
  assert.equal(results.results.length, 4);
  assert.equal(await page.count("#results tr"), 4);
  for (const row of results.results) assert.ok(row.ms > 0 && Number.isFinite(row.ms), JSON.stringify(row));
  await page.screenshot("bench");
  console.log(JSON.stringify(results));
  assert.deepEqual(page.errors, []);
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

test(`${browser()}: content types, unknown paths and path traversal`, async () => {
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
