// The promise lab: a pending fetch is canceled and the server sees the
// connection go; races and timeouts release what the losers held.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launch, until, stats, browser } from "./lib.mjs";

let server, b;
before(async () => { server = await startServer(0); b = await launch(); });
after(async () => { await b?.close(); await server?.stop(); });

const snap = (page) => page.evaluate(() => JSON.parse(window.lab.snapshot()));
const entry = async (page, id) => (await snap(page)).promises.find((p) => p.id === id);

test(`${browser()}: promise lab: cancel a fetch, race, time out, listeners`, async () => {
  const page = await b.newPage("lab", { width: 1100, height: 900 });
  await page.goto(new URL("/lab.html", server.url).href);
  await page.waitFor("the lab", () => window.lab !== undefined);

  // A slow fetch, canceled from the page: aborted, and the server sees it.
  await page.fill("#ms", "30000");
  await page.click("#mk-fetch");
  await until("fetch in flight", async () => (await snap(page)).fetches === 1);
  await until("server started", async () => (await stats(server.url)).slow_started === 1);
  const fetchId = (await snap(page)).promises[0].id;
  assert.equal((await entry(page, fetchId)).state, "pending");
  await page.screenshot("lab-fetch-pending");
  await page.click(`tr[data-id="${fetchId}"] button.cancel`);
  await until("canceled", async () => (await entry(page, fetchId)).state === "canceled");
  assert.equal((await snap(page)).fetches, 0);
  await until("server saw the abort", async () => (await stats(server.url)).slow_aborted === 1);

  // pick: the fast sleep wins, the slow one is canceled and its timer freed.
  const fast = await page.evaluate(() => window.lab.sleep(200));
  const slow = await page.evaluate(() => window.lab.sleep(60000));
  assert.equal((await snap(page)).engine.timers, 2);
  const race = await page.evaluate(([a, b]) => window.lab.pick(Uint32Array.from([a, b])), [fast, slow]);
  await until("pick resolved", async () => (await entry(page, race)).state === "fulfilled");
  assert.equal((await entry(page, slow)).state, "canceled");
  assert.equal((await snap(page)).engine.timers, 0);

  // with_timeout: the sleep is canceled when the time is up.
  const long = await page.evaluate(() => window.lab.sleep(60000));
  const bounded = await page.evaluate((id) => window.lab.timeout(id, 100), long);
  await until("timed out", async () => (await entry(page, bounded)).state === "rejected");
  assert.match((await entry(page, bounded)).detail, /timed out/);
  assert.equal((await entry(page, long)).state, "canceled");

  // A click listener, held then released by cancel; then a real click.
  await page.click("#mk-click");
  await until("listening", async () => (await snap(page)).engine.listeners >= 1);
  const before = (await snap(page)).engine.listeners;
  const clickId = Math.max(...(await snap(page)).promises.map((p) => p.id));
  await page.click(`tr[data-id="${clickId}"] button.cancel`);
  await until("listener removed", async () => (await snap(page)).engine.listeners === before - 1);
  await page.click("#mk-click");
  const clicked = Math.max(...(await snap(page)).promises.map((p) => p.id));
  await page.click("#target");
  await until("clicked", async () => (await entry(page, clicked)).state === "fulfilled");
  await new Promise((r) => setTimeout(r, 200));
  await page.screenshot("lab");
  assert.equal((await snap(page)).engine.timers, 0);
  assert.deepEqual(page.errors, []);
});
