//! The chat page: the shared client over the browser's `WebSocket`.

use std::rc::Rc;

use lwt::{Error, Promise};
use lwt_www_shared::json::Object;
use lwt_www_shared::protocol::{Op, Reply};
use lwt_www_shared::{Client, Config, Connection, Connector, Event, Status};
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, WebSocket};

/// Opens browser WebSockets to one URL.
struct BrowserConnector {
    url: String,
}

impl Connector for BrowserConnector {
    fn connect(&self) -> Promise<Rc<dyn Connection>> {
        let ws = match WebSocket::new(&self.url) {
            Ok(ws) => ws,
            Err(e) => return Promise::rejected(lwt_wasm::js_to_error(e)),
        };
        let conn = BrowserConnection::start(ws.clone());
        let url = self.url.clone();
        let opening = lwt::spawn(async move {
            // The first event's type tells which it was. (Mapping each to a
            // `bool` would make a promise of one more type, and each type
            // has its own copy of lwt's resolution code in the wasm.)
            let first = lwt::pick(vec![
                lwt_wasm::event(&ws, "open"),
                lwt_wasm::event(&ws, "close"),
            ])
            .await?;
            if first.type_() == "open" {
                Ok(conn)
            } else {
                conn.close();
                Err(Error::msg(format!("cannot connect to {url}")))
            }
        });
        opening
    }
}

/// One open browser WebSocket: its frames are pumped into an lwt stream.
struct BrowserConnection {
    ws: WebSocket,
    incoming: lwt::Stream<String>,
    pump: Promise<()>,
    on_close: Promise<()>,
}

impl BrowserConnection {
    fn start(ws: WebSocket) -> Rc<dyn Connection> {
        let messages = lwt_wasm::events::<MessageEvent>(&ws, "message");
        let (incoming, push) = lwt::Stream::create();
        let p = push.clone();
        let pump = lwt::spawn(async move {
            loop {
                let ev = messages.next().await?;
                if let Some(text) = ev.data().as_string() {
                    let _ = p.push(text);
                }
            }
        });
        let on_close = lwt_wasm::event(&ws, "close").map(move |_| push.close());
        Rc::new(BrowserConnection {
            ws,
            incoming,
            pump,
            on_close,
        })
    }
}

impl Connection for BrowserConnection {
    fn send(&self, text: String) -> Promise<()> {
        if self.ws.ready_state() != WebSocket::OPEN {
            return Promise::rejected(Error::closed("the WebSocket is not open"));
        }
        lwt::from_result(self.ws.send_with_str(&text).map_err(lwt_wasm::js_to_error))
    }

    fn recv(&self) -> Promise<Option<String>> {
        self.incoming.next()
    }

    fn close(&self) {
        let _ = self.ws.close();
        self.pump.cancel();
        self.on_close.cancel();
    }
}

impl Drop for BrowserConnection {
    fn drop(&mut self) {
        self.close();
    }
}

fn event_json(event: &Event) -> String {
    match event {
        Event::Status(s) => {
            let o = Object::new().str("kind", "status").str("status", s.name());
            match s {
                Status::Connecting { attempt } => o.uint("attempt", (*attempt).into()),
                Status::Connected { you } => o.str("you", you),
                Status::Waiting {
                    attempt,
                    delay,
                    reason,
                } => o
                    .uint("attempt", (*attempt).into())
                    .uint(
                        "delay_ms",
                        delay.as_secs().saturating_mul(1000) + u64::from(delay.subsec_millis()),
                    )
                    .str("reason", reason),
                Status::Stopped => o,
            }
        }
        Event::Message(m) => Object::new().str("kind", "message").raw("msg", &m.encode()),
        Event::Latency(d) => Object::new().str("kind", "latency").millis("ms", *d),
    }
    .finish()
}

/// The chat room's client, for the page: see the [crate docs](crate).
#[wasm_bindgen]
pub struct ChatApp {
    client: Client,
}

impl Drop for ChatApp {
    /// `free()` from JS: the connection, its listeners and timers go too.
    fn drop(&mut self) {
        self.client.stop();
    }
}

#[wasm_bindgen]
impl ChatApp {
    /// Connects to `url` (`ws://host/ws`) as `name` in `room`; `on_event`
    /// gets each event as a JSON string (`{"kind":"status"|"message"|"latency",...}`).
    /// Throws a JS `Error` when the name or the room is one the server would
    /// refuse.
    #[wasm_bindgen(constructor)]
    pub fn new(
        url: String,
        name: String,
        room: String,
        on_event: js_sys::Function,
    ) -> Result<ChatApp, JsValue> {
        lwt_wasm::install();
        let mut config = Config::new(name, room);
        config.seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
        let client = Client::start(Rc::new(BrowserConnector { url }), config, move |event| {
            let _ = on_event.call1(&JsValue::NULL, &JsValue::from_str(&event_json(event)));
        })
        .map_err(|e| lwt_wasm::error_to_js(&e))?;
        Ok(ChatApp { client })
    }

    /// Says `text` in the room (queued while disconnected).
    pub fn say(&self, text: &str) -> Result<(), JsValue> {
        self.client.say(text).map_err(|e| lwt_wasm::error_to_js(&e))
    }

    /// The status: `connecting`, `connected`, `waiting` or `stopped`.
    pub fn status(&self) -> String {
        self.client.status().name().to_owned()
    }

    /// How many sessions reached `welcome`.
    pub fn sessions(&self) -> f64 {
        self.client.sessions() as f64
    }

    /// Asks the server to answer after `ms` ms: the request, with the JS
    /// promise of the answer (a string) and a method that cancels it.
    pub fn delay(&self, ms: u32) -> DelayRequest {
        let reply = self.client.request(Op::Delay { ms: u64::from(ms) });
        let text = reply.clone().map(|r| match r {
            Reply::Delayed { ms } => format!("the server waited {ms} ms"),
            Reply::Echo { .. } | Reply::Users { .. } => {
                "the server answered with another kind of reply".into()
            }
        });
        DelayRequest {
            answer: lwt_wasm::to_js(&text),
            reply,
        }
    }

    /// Leaves for good.
    pub fn stop(&self) {
        self.client.stop();
    }
}

/// A pending [`ChatApp::delay`] request; freed by `free()` or the garbage
/// collector, like [`ChatApp`].
#[wasm_bindgen]
pub struct DelayRequest {
    answer: js_sys::Promise,
    reply: Promise<Reply>,
}

#[wasm_bindgen]
impl DelayRequest {
    /// The JS promise of the answer (a string).
    #[wasm_bindgen(getter)]
    pub fn answer(&self) -> js_sys::Promise {
        self.answer.clone()
    }

    /// Cancels the request (no effect once it is answered).
    pub fn cancel(&self) {
        self.reply.cancel();
    }
}
