// The in-browser benchmark: lwt chains (Rust, on lwt-wasm) against native JS
// promises and wasm-bindgen-futures, printed as a table.
import init, { bench_lwt_chain, bench_lwt_async_chain, bench_wbf_chain } from "./pkg/lwt_www_app.js";

await init();

const $ = (id) => document.getElementById(id);

async function jsChain(n) {
  const t0 = performance.now();
  let res;
  let p = new Promise((r) => { res = r; });
  for (let i = 0; i < n; i++) p = p.then((x) => x + 1);
  res(0);
  const v = await p;
  if (v !== n) throw new Error("bad chain");
  return performance.now() - t0;
}

// Milliseconds per call of `f`, timed over as many calls as fill 20 ms:
// a row that finishes under the clock's step (1 ms in Firefox) would read 0.
async function perCall(f) {
  const t0 = performance.now();
  let calls = 0;
  let t;
  do {
    await f();
    calls++;
    t = performance.now() - t0;
  } while (t < 20);
  return t / calls;
}

async function best(k, f) {
  let m = Infinity;
  for (let i = 0; i < k; i++) m = Math.min(m, await perCall(f));
  return m;
}

async function run() {
  const n = Math.max(1000, Number($("n").value) || 100000);
  $("run").disabled = true;
  $("bench-status").textContent = "running…";
  const rows = [
    ["lwt bind chain", () => bench_lwt_chain(n)],
    ["lwt async/await (steps already resolved)", () => bench_lwt_async_chain(n)],
    ["JS Promise.then chain", () => jsChain(n)],
    ["wasm-bindgen-futures chain", () => bench_wbf_chain(n)],
  ];
  const results = [];
  for (const [label, f] of rows) {
    results.push({ label, ms: await best(3, f) });
    await new Promise((r) => setTimeout(r, 0));
  }
  const js = results[2].ms;
  $("results").replaceChildren(...results.map((r) => {
    const tr = document.createElement("tr");
    for (const [text, num] of [[r.label, false], [r.ms.toFixed(2), true], [(r.ms * 1e6 / n).toFixed(1), true], [`${(js / r.ms).toFixed(2)}×`, true]]) {
      const td = document.createElement("td");
      td.textContent = text;
      if (num) td.className = "num";
      tr.append(td);
    }
    return tr;
  }));
  $("bench-status").textContent = `N = ${n}`;
  $("run").disabled = false;
  window.benchResults = { n, results };
}

$("run").addEventListener("click", run);
if (new URLSearchParams(location.search).has("auto")) run();
