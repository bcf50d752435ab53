// Two pages chat; the CLI client joins the same room; the server restarts
// and every client reconnects on its own. No console errors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { startServer, launch, until, clientBin, browser } from "./lib.mjs";

let server, b;
before(async () => { server = await startServer(0); b = await launch(); });
after(async () => { await b?.close(); await server?.stop(); });

async function open(name, room) {
  const page = await b.newPage(name, { width: 1100, height: 760 });
  await page.goto(`${server.url}?name=${name}&room=${room}`);
  await page.waitForSelector('#status[data-status="connected"]');
  return page;
}

const say = async (page, text) => {
  await page.fill("#say", text);
  await page.click("#send");
};
const sees = (page, text) => page.waitFor(`"${text}" on ${page.name}'s page`,
  (t) => [...document.querySelectorAll("#messages li")].some((li) => li.textContent.includes(t)), text);
const users = (page) => page.evaluate(() => [...document.querySelectorAll("#users li")].map((li) => li.textContent));

test(`${browser()}: two pages exchange messages, the CLI joins, and all reconnect after a restart`, async () => {
  const a = await open("ada", "e2e");
  const bob = await open("bob", "e2e");
  await until("both present", async () => (await users(a)).length === 2);
  assert.deepEqual(await users(a), ["ada", "bob"]);

  await say(a, "hello from ada");
  await sees(bob, "hello from ada");
  await say(bob, "hi ada, bob here");
  await sees(a, "hi ada, bob here");
  await a.screenshot("chat-ada");
  await bob.screenshot("chat-bob");

  // The native CLI client, running the same client logic, joins the room.
  const cli = spawn(clientBin, ["--url", `ws://127.0.0.1:${server.port}/ws`, "--name", "cli", "--room", "e2e",
    "--say", "hello from the cli", "--wait-for", "hi cli", "--timeout", "30"], { stdio: ["pipe", "pipe", "pipe"] });
  let cliOut = "";
  cli.stdout.on("data", (d) => { cliOut += d; });
  const cliExit = new Promise((r) => cli.once("exit", r));
  await sees(a, "hello from the cli");
  await until("cli present", async () => (await users(bob)).includes("cli"));
  await say(bob, "hi cli");
  assert.equal(await cliExit, 0, cliOut);
  assert.match(cliOut, /<ada> hello from ada/);
  assert.match(cliOut, /<bob> hi cli/);

  // Restart the server on the same port: the pages reconnect by themselves.
  // (Chromium and Firefox word the failed connection differently.)
  for (const p of [a, bob]) p.allow(/WebSocket connection to .* failed|can.t establish a connection to the server at ws:/);
  const port = server.port;
  await server.stop();
  for (const p of [a, bob]) {
    await p.waitFor("disconnected", () => document.getElementById("status").dataset.status !== "connected");
  }
  await a.screenshot("chat-disconnected");
  await new Promise((r) => setTimeout(r, 500));
  server = await startServer(port);
  for (const p of [a, bob]) {
    await p.waitFor("reconnected", () => window.chat.status() === "connected" && window.chat.sessions() === 2, null, 20000);
    p.allow(null);
  }
  await say(a, "back after the restart");
  await sees(bob, "back after the restart");
  await bob.screenshot("chat-reconnected");

  assert.deepEqual([...a.errors, ...bob.errors], []);
});
