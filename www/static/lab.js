// The promise lab: buttons make lwt promises (in Rust, class Lab); a table
// shows their states and the engine's resources, refreshed ten times a second.
import init, { Lab } from "./pkg/lwt_www_app.js";

await init();

const $ = (id) => document.getElementById(id);
const lab = new Lab();
window.lab = lab;
const selected = new Set();
const ms = () => Number($("ms").value) || 0;

$("mk-sleep").addEventListener("click", () => lab.sleep(ms()));
$("mk-fetch").addEventListener("click", () => lab.fetch_slow(ms()));
$("mk-click").addEventListener("click", () => lab.click($("target")));
const chosen = () => Uint32Array.from([...selected].sort((a, b) => a - b));
$("do-pick").addEventListener("click", () => { if (selected.size) lab.pick(chosen()); selected.clear(); });
$("do-choose").addEventListener("click", () => { if (selected.size) lab.choose(chosen()); selected.clear(); });
$("do-timeout").addEventListener("click", () => {
  for (const id of chosen()) lab.timeout(id, Number($("timeout-ms").value) || 0);
  selected.clear();
});
$("do-clear").addEventListener("click", () => lab.clear());

let last = "";
function render() {
  const snap = lab.snapshot();
  if (snap === last) return;
  last = snap;
  const s = JSON.parse(snap);
  window.labSnapshot = s;
  $("st-timers").textContent = s.engine.timers;
  $("st-listeners").textContent = s.engine.listeners;
  $("st-fetches").textContent = s.fetches;
  $("st-armed").textContent = s.engine.js_timer_armed ? "yes" : "no";
  $("st-turns").textContent = s.engine.turns;
  $("empty").hidden = s.promises.length > 0;
  $("promises").replaceChildren(...s.promises.map((p) => {
    const tr = document.createElement("tr");
    tr.dataset.id = p.id;
    const pick = document.createElement("input");
    pick.type = "checkbox";
    pick.checked = selected.has(p.id);
    pick.addEventListener("change", () => { pick.checked ? selected.add(p.id) : selected.delete(p.id); });
    const cells = [pick, p.label, p.state, p.detail, String(p.ms)];
    cells.forEach((c, i) => {
      const td = document.createElement("td");
      if (i === 2) { const span = document.createElement("span"); span.className = `badge state-${p.state}`; span.textContent = c; td.append(span); }
      else if (typeof c === "string") td.textContent = c; else td.append(c);
      if (i === 4) td.className = "num";
      tr.append(td);
    });
    const td = document.createElement("td");
    if (p.state === "pending") {
      const b = document.createElement("button");
      b.type = "button"; b.className = "secondary cancel"; b.textContent = "cancel";
      b.addEventListener("click", () => lab.cancel(p.id));
      td.append(b);
    }
    tr.append(td);
    return tr;
  }));
}
render();
setInterval(render, 100);
