// Two pages chat; the CLI client joins the same room; the server restarts
// and every client reconnects on its own. No console errors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { startServer, launch, watchErrors, screenshot, until, clientBin } from "./lib.mjs";

let server, browser;
before(async () => { server = await startServer(0); browser = await launch(); });
after(async () => { await browser?.close(); await server?.stop(); });

async function open(name, room) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  const watch = watchErrors(page, name);
  await page.goto(`${server.url}?name=${name}&room=${room}`);
  await page.waitForSelector('#status[data-status="connected"]', { timeout: 15000 });
  return { page, watch };
}

const say = async (page, text) => {
  await page.fill("#say", text);
  await page.click("#send");
};
const sees = (page, text) => page.waitForFunction(
  (t) => [...document.querySelectorAll("#messages li")].some((li) => li.textContent.includes(t)),
  text, { timeout: 15000 });
const users = (page) => page.$$eval("#users li", (lis) => lis.map((li) => li.textContent));

test("two pages exchange messages, the CLI joins, and all reconnect after a restart", async () => {
  const a = await open("ada", "e2e");
  const b = await open("bob", "e2e");
  await until("both present", async () => (await users(a.page)).length === 2);
  assert.deepEqual(await users(a.page), ["ada", "bob"]);

  await say(a.page, "hello from ada");
  await sees(b.page, "hello from ada");
  await say(b.page, "hi ada, bob here");
  await sees(a.page, "hi ada, bob here");
  await screenshot(a.page, "chat-ada");
  await screenshot(b.page, "chat-bob");

  // The native CLI client, running the same client logic, joins the room.
  const cli = spawn(clientBin, ["--url", `ws://127.0.0.1:${server.port}/ws`, "--name", "cli", "--room", "e2e",
    "--say", "hello from the cli", "--wait-for", "hi cli", "--timeout", "30"], { stdio: ["pipe", "pipe", "pipe"] });
  let cliOut = "";
  cli.stdout.on("data", (d) => { cliOut += d; });
  const cliExit = new Promise((r) => cli.once("exit", r));
  await sees(a.page, "hello from the cli");
  await until("cli present", async () => (await users(b.page)).includes("cli"));
  await say(b.page, "hi cli");
  assert.equal(await cliExit, 0, cliOut);
  assert.match(cliOut, /<ada> hello from ada/);
  assert.match(cliOut, /<bob> hi cli/);

  // Restart the server on the same port: the pages reconnect by themselves.
  for (const p of [a, b]) p.watch.allow(/WebSocket connection to .* failed/);
  const port = server.port;
  await server.stop();
  for (const p of [a, b]) {
    await p.page.waitForFunction(() => document.getElementById("status").dataset.status !== "connected", null, { timeout: 15000 });
  }
  await screenshot(a.page, "chat-disconnected");
  await new Promise((r) => setTimeout(r, 500));
  server = await startServer(port);
  for (const p of [a, b]) {
    await p.page.waitForFunction(() => window.chat.status() === "connected" && window.chat.sessions() === 2, null, { timeout: 20000 });
    p.watch.allow(null);
  }
  await say(a.page, "back after the restart");
  await sees(b.page, "back after the restart");
  await screenshot(b.page, "chat-reconnected");

  const errors = [...a.watch.errors, ...b.watch.errors];
  assert.deepEqual(errors, []);
});
