// The page's own script: a plain ES module using the package that
// `wasm-pack build --target web` made in ./pkg (no bundler).
import init, { SumJob } from "./pkg/lwt_wasm_pack_example.js";

await init();

const $ = (id) => document.getElementById(id);
let job = null;

// Runs one job to its end and says how it ended: "sum", "timeout" or
// "canceled", with the sum and the number of chunks added.
export async function run(n, chunk, limitMs, cancelAfterMs) {
  job = new SumJob(n, chunk, limitMs);
  const started = performance.now();
  if (cancelAfterMs !== undefined) setTimeout(() => job.cancel(), cancelAfterMs);
  let outcome;
  try {
    const sum = await job.result();
    outcome = sum === null ? { end: "timeout" } : { end: "sum", sum };
  } catch (e) {
    outcome = { end: e.name === "AbortError" ? "canceled" : "error", error: String(e) };
  }
  outcome.chunks = job.chunks;
  outcome.ms = Math.round(performance.now() - started);
  // A canceled sum stops: wait a little and count again.
  await new Promise((resolve) => setTimeout(resolve, 50));
  outcome.chunksLater = job.chunks;
  outcome.liveTimers = SumJob.liveTimers();
  $("out").textContent = JSON.stringify(outcome);
  return outcome;
}

$("form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(Number($("n").value), Number($("chunk").value), Number($("limit").value));
});
$("cancel").addEventListener("click", () => job?.cancel());

window.lwtExample = { run };
document.body.dataset.ready = "yes";
