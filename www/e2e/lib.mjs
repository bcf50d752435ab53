// Helpers of the e2e tests: start the server on an ephemeral port, launch
// headless Chromium, collect console errors, save screenshots.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, "../..");
const targetDir = process.env.CARGO_TARGET_DIR || path.join(repo, "target");
export const serverBin = path.join(targetDir, "release", "lwt-www-server");
export const clientBin = path.join(targetDir, "release", "lwt-www-client");
export const artifacts = path.join(here, "artifacts");
fs.mkdirSync(artifacts, { recursive: true });

/** Starts the server on 127.0.0.1:`port` (0: a free one); resolves once it listens. */
export function startServer(port = 0) {
  return new Promise((resolve, reject) => {
    const proc = spawn(serverBin, ["--addr", `127.0.0.1:${port}`, "--root", path.join(repo, "www/dist")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const log = fs.createWriteStream(path.join(artifacts, "server.log"), { flags: "a" });
    proc.stderr.pipe(log);
    let out = "";
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${out}`)), 15000);
    proc.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:(\d+)\/)/);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          port: Number(m[2]),
          proc,
          stop: () => new Promise((r) => { proc.once("exit", r); proc.kill("SIGTERM"); }),
        });
      }
    });
    proc.once("exit", (code) => { clearTimeout(timer); reject(new Error(`the server exited (${code}): ${out}`)); });
  });
}

/** Headless Chromium (the system's). */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--no-first-run"],
  });
}

/**
 * Collects the console errors and uncaught exceptions of `page`; messages
 * matching `allowed()` at the time they come are not counted.
 */
export function watchErrors(page, name) {
  const errors = [];
  const state = { allow: null };
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    if (state.allow && state.allow.test(m.text())) return;
    errors.push(`${name}: console.error: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`${name}: uncaught: ${e.message}`));
  return {
    errors,
    /** While `re` is set, console errors matching it are expected. */
    allow(re) { state.allow = re; },
  };
}

export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/** Polls `f` until it returns a truthy value. */
export async function until(what, f, timeout = 15000) {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() - t0 > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function stats(url) {
  const r = await fetch(new URL("/api/stats", url));
  return r.json();
}
