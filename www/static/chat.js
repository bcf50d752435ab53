// The chat page: renders what the Rust client (ChatApp) reports.
import init, { ChatApp } from "./pkg/lwt_www_app.js";

await init();

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const name = params.get("name") || `guest-${Math.floor(Math.random() * 9000) + 1000}`;
const room = params.get("room") || "lobby";
const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;

$("room").textContent = room;
$("name").value = name;

function line(cls, from, text) {
  const li = document.createElement("li");
  if (cls) li.className = cls;
  if (from) {
    const b = document.createElement("b");
    b.textContent = from;
    li.append(b);
  }
  li.append(document.createTextNode(text));
  const list = $("messages");
  list.append(li);
  list.scrollTop = list.scrollHeight;
}

function userItem(u) {
  const li = document.createElement("li");
  li.textContent = u;
  return li;
}

// The welcome lists everyone; presence messages after it are deltas.
function users(list) {
  $("users").replaceChildren(...list.map(userItem));
}

function joined(u) {
  $("users").append(userItem(u));
}

function left(u) {
  for (const li of $("users").children) {
    if (li.textContent === u) {
      li.remove();
      return;
    }
  }
}

function onEvent(ev) {
  if (ev.kind === "status") {
    const s = $("status");
    s.dataset.status = ev.status;
    if (ev.status === "connected") {
      s.textContent = "connected";
      $("me").textContent = ev.you;
    } else if (ev.status === "waiting") {
      s.textContent = `reconnecting in ${(ev.delay_ms / 1000).toFixed(1)} s`;
      line("system", null, `disconnected: ${ev.reason}`);
    } else {
      s.textContent = ev.status;
    }
  } else if (ev.kind === "latency") {
    $("latency").textContent = `${ev.ms.toFixed(1)} ms`;
  } else if (ev.kind === "message") {
    const m = ev.msg;
    if (m.type === "welcome") {
      $("messages").replaceChildren();
      for (const c of m.history) line(null, c.from, c.text);
      line("system", null, `joined ${m.room} as ${m.you}`);
      users(m.users);
    } else if (m.type === "chat") {
      line(null, m.from, m.text);
    } else if (m.type === "presence") {
      if (m.joined) {
        joined(m.joined);
        line("system", null, `${m.joined} joined`);
      }
      if (m.left) {
        left(m.left);
        line("system", null, `${m.left} left`);
      }
    } else if (m.type === "error") {
      line("system", null, `server: ${m.code}: ${m.message}`);
    }
  }
}

// A name or room the server would refuse is refused here: the page stays,
// so the rename form can fix it.
let chat = null;
try {
  chat = new ChatApp(wsUrl, name, room, (json) => onEvent(JSON.parse(json)));
} catch (err) {
  $("status").dataset.status = "stopped";
  $("status").textContent = "stopped";
  line("system", null, `cannot join: ${err && err.message ? err.message : err}`);
}
window.chat = chat;

$("say-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("say").value;
  if (!chat || !text.trim()) return;
  try {
    chat.say(text);
    $("say").value = "";
  } catch (err) {
    line("system", null, err && err.message ? err.message : String(err));
  }
});

let delay = null;
$("delay-go").addEventListener("click", () => {
  if (!chat) return;
  const request = chat.delay(Number($("delay-ms").value) || 0);
  delay = request;
  $("delay-cancel").disabled = false;
  $("delay-result").textContent = "waiting for the server…";
  request.answer.then(
    (text) => { $("delay-result").textContent = text; },
    (err) => { $("delay-result").textContent = `failed: ${err && err.message ? err.message : err}`; },
  ).finally(() => {
    if (delay === request) {
      delay = null;
      $("delay-cancel").disabled = true;
    }
    request.free();
  });
});
$("delay-cancel").addEventListener("click", () => {
  if (delay) delay.cancel();
  delay = null;
});

$("rename").addEventListener("submit", (e) => {
  e.preventDefault();
  const p = new URLSearchParams(location.search);
  p.set("name", $("name").value.trim() || name);
  location.search = p.toString();
});
