// Helpers of the e2e tests: start the server on an ephemeral port, open
// pages in a headless browser (Chromium through playwright-core, Firefox ESR
// through WebDriver), collect console errors, save screenshots.
//
// The scenarios are written once against `Page` below; `browser()` says
// which browser this run drives (`E2E_BROWSER`: chromium, the default, or
// firefox), so `cargo xtask e2e` runs each test file once per browser.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { Builder } from "selenium-webdriver";
import firefox from "selenium-webdriver/firefox.js";
import LogInspector from "selenium-webdriver/bidi/logInspector.js";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, "../..");
const targetDir = process.env.CARGO_TARGET_DIR || path.join(repo, "target");
export const serverBin = path.join(targetDir, "release", "lwt-www-server");
export const clientBin = path.join(targetDir, "release", "lwt-www-client");
export const artifacts = path.join(here, "artifacts");
fs.mkdirSync(artifacts, { recursive: true });

/** The browser of this run: `E2E_BROWSER`, chromium unless it says firefox. */
export function browser() {
  const name = process.env.E2E_BROWSER || "chromium";
  if (name !== "chromium" && name !== "firefox") throw new Error(`E2E_BROWSER=${name}: chromium or firefox`);
  return name;
}

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

/**
 * The browser of this run, headless. `newPage(name, viewport)` opens a
 * `Page`; `close()` closes every page and the browser.
 */
export async function launch() {
  return browser() === "firefox" ? new Firefox() : new Chromium(await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--no-first-run"],
  }));
}

/**
 * What the scenarios do with a page, on either browser. Console errors and
 * uncaught exceptions are collected in `errors`, but those matching the
 * pattern set by `allow(re)` at the time they come. `evaluate(f, arg)` runs
 * `f` in the page (sent as source: it sees only `arg`) and resolves with
 * what it returns, awaited.
 */
class Page {
  constructor(name) {
    this.name = name;
    this.errors = [];
    this.allowed = null;
  }
  /** While `re` is set, console errors matching it are expected. */
  allow(re) { this.allowed = re; }
  consoleError(text) {
    if (this.allowed && this.allowed.test(text)) return;
    this.errors.push(`${this.name}: console.error: ${text}`);
  }
  // Firefox reports a failed WebSocket connection as a script error (BiDi's
  // "javascript" log entry), not a console one: `allow` covers both.
  uncaught(text) {
    if (this.allowed && this.allowed.test(text)) return;
    this.errors.push(`${this.name}: uncaught: ${text}`);
  }
  /** Polls `f(arg)` in the page until it returns a truthy value, which it resolves with. */
  waitFor(what, f, arg = null, timeout = 15000) {
    return until(what, () => this.evaluate(f, arg), timeout);
  }
  /** Waits until an element matches `selector`. */
  waitForSelector(selector, timeout = 15000) {
    return this.waitFor(selector, (s) => document.querySelector(s) !== null, selector, timeout);
  }
  /** The number of elements matching `selector`. */
  count(selector) {
    return this.evaluate((s) => document.querySelectorAll(s).length, selector);
  }
  /** Where the screenshot `file` of this browser goes. */
  shot(file) { return path.join(artifacts, `${browser()}-${file}.png`); }
}

class Chromium {
  constructor(b) { this.b = b; }
  async newPage(name, viewport) {
    return new ChromiumPage(name, await this.b.newPage({ viewport }));
  }
  close() { return this.b.close(); }
}

class ChromiumPage extends Page {
  constructor(name, page) {
    super(name);
    this.page = page;
    page.on("console", (m) => { if (m.type() === "error") this.consoleError(m.text()); });
    page.on("pageerror", (e) => this.uncaught(e.message));
  }
  goto(url) { return this.page.goto(url); }
  fill(selector, text) { return this.page.fill(selector, text); }
  click(selector) { return this.page.click(selector); }
  evaluate(f, arg = null) { return this.page.evaluate(f, arg); }
  screenshot(file) { return this.page.screenshot({ path: this.shot(file), fullPage: true }); }
}

/**
 * Firefox ESR through geckodriver, both given by path, so that Selenium
 * never looks for (or downloads) a driver or a browser; one WebDriver
 * session per page, with BiDi for the console.
 */
class Firefox {
  constructor() { this.pages = []; }
  async newPage(name, viewport) {
    process.env.SE_OFFLINE = "true";
    const options = new firefox.Options()
      .setBinary(process.env.FIREFOX || "/usr/bin/firefox-esr")
      .addArguments("-headless")
      .enableBidi();
    const gecko = process.env.GECKODRIVER || path.join(process.env.HOME, ".cargo/bin/geckodriver");
    const driver = await new Builder()
      .forBrowser("firefox")
      .setFirefoxOptions(options)
      .setFirefoxService(new firefox.ServiceBuilder(gecko))
      .build();
    await driver.manage().window().setRect({ width: viewport.width, height: viewport.height });
    const page = new FirefoxPage(name, driver);
    const logs = await LogInspector(driver);
    await logs.onConsoleEntry((e) => { if (e.level === "error") page.consoleError(e.text); });
    await logs.onJavascriptException((e) => page.uncaught(e.text));
    page.logs = logs;
    this.pages.push(page);
    return page;
  }
  async close() {
    for (const p of this.pages) {
      await p.logs.close().catch(() => {});
      await p.driver.quit();
    }
  }
}

class FirefoxPage extends Page {
  constructor(name, driver) {
    super(name);
    this.driver = driver;
  }
  goto(url) { return this.driver.get(url); }
  async fill(selector, text) {
    const el = await this.driver.findElement({ css: selector });
    await el.clear();
    await el.sendKeys(text);
  }
  // Like a playwright locator: waits for the element to be there (the lab's
  // table draws a new promise's row on its next render, after the
  // snapshot that named it), and finds it again if the page re-rendered it
  // between the find and the click; for at most about 5 s.
  async click(selector) {
    const retry = new Set(["StaleElementReferenceError", "NoSuchElementError"]);
    for (let attempt = 1; ; attempt++) {
      try {
        await (await this.driver.findElement({ css: selector })).click();
        return;
      } catch (e) {
        if (!retry.has(e.name) || attempt >= 100) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
  evaluate(f, arg = null) { return this.driver.executeScript(`return (${f})(arguments[0]);`, arg); }
  async screenshot(file) {
    fs.writeFileSync(this.shot(file), await this.driver.takeScreenshot(), "base64");
  }
}

/** Polls `f` until it returns a truthy value, which it resolves with. */
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
