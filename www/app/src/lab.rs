//! The promise lab: promises the user makes, races, bounds and cancels,
//! with their states and the engine resources they hold.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use lwt::{Promise, State};
use lwt_www_shared::json::Object;
use wasm_bindgen::prelude::*;

struct Entry {
    id: u32,
    label: String,
    promise: Promise<String>,
    started: f64,
    settled: Rc<Cell<Option<f64>>>,
}

#[derive(Default)]
struct Inner {
    entries: RefCell<Vec<Entry>>,
    next: Cell<u32>,
    fetches: Rc<Cell<u32>>,
}

fn now_ms() -> f64 {
    lwt_wasm::now().since_epoch().as_secs_f64() * 1000.0
}

/// The lab's promises: see the [crate docs](crate).
#[wasm_bindgen]
#[derive(Default)]
pub struct Lab {
    inner: Rc<Inner>,
}

impl Drop for Lab {
    /// `free()` from JS: the pending promises are canceled, which releases
    /// their timers, listeners and fetches. The entries are taken out first,
    /// so no borrow is held while the cancellations run.
    fn drop(&mut self) {
        let entries = self.inner.entries.take();
        for e in &entries {
            e.promise.cancel();
        }
    }
}

#[wasm_bindgen]
impl Lab {
    /// An empty lab.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Lab {
        lwt_wasm::install();
        Lab::default()
    }

    fn add(&self, label: String, promise: Promise<String>) -> u32 {
        let id = self.inner.next.get() + 1;
        self.inner.next.set(id);
        let settled = Rc::new(Cell::new(None));
        let s = settled.clone();
        promise.on_result(move |_| s.set(Some(now_ms())));
        self.inner.entries.borrow_mut().push(Entry {
            id,
            label: format!("#{id} {label}"),
            promise,
            started: now_ms(),
            settled,
        });
        id
    }

    fn get(&self, id: u32) -> Option<Promise<String>> {
        self.inner
            .entries
            .borrow()
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.promise.clone())
    }

    fn many(&self, ids: &[u32]) -> Vec<Promise<String>> {
        ids.iter().filter_map(|&id| self.get(id)).collect()
    }

    /// `lwt_wasm::sleep(ms)`: holds an engine timer until it fires or is
    /// canceled. Returns its id.
    pub fn sleep(&self, ms: u32) -> u32 {
        let p = lwt_wasm::sleep(Duration::from_millis(u64::from(ms)))
            .map(move |()| format!("slept {ms} ms"));
        self.add(format!("sleep {ms} ms"), p)
    }

    /// `lwt_wasm::fetch` of the server's `/api/slow?ms=ms`: holds a fetch
    /// (and its `AbortController`) until answered or canceled.
    pub fn fetch_slow(&self, ms: u32) -> u32 {
        let url = format!("/api/slow?ms={ms}");
        let fetches = self.inner.fetches.clone();
        fetches.set(fetches.get() + 1);
        let init = web_sys::RequestInit::new();
        let p = lwt_wasm::fetch_with_init(&url, &init)
            .bind(|r| lwt::from_result(r.error_for_status()))
            .bind(|r| r.text());
        p.on_result(move |_| fetches.set(fetches.get().saturating_sub(1)));
        self.add(format!("fetch {url}"), p)
    }

    /// Waits for a click on `target`: holds a DOM listener.
    pub fn click(&self, target: &web_sys::EventTarget) -> u32 {
        let p = lwt_wasm::click(target)
            .map(|e| format!("clicked at ({}, {})", e.client_x(), e.client_y()));
        self.add("click on the target".into(), p)
    }

    /// `lwt::pick` of `ids`: the first to resolve wins, the others are
    /// canceled.
    pub fn pick(&self, ids: Vec<u32>) -> u32 {
        let p = lwt::pick(self.many(&ids));
        self.add(format!("pick {ids:?}"), p)
    }

    /// `lwt::choose` of `ids`: the first to resolve wins, the others go on.
    pub fn choose(&self, ids: Vec<u32>) -> u32 {
        let p = lwt::choose(self.many(&ids));
        self.add(format!("choose {ids:?}"), p)
    }

    /// `lwt::with_timeout(ms, #id)`: rejected as timed out (and `#id`
    /// canceled) if `#id` is not resolved within `ms`.
    pub fn timeout(&self, id: u32, ms: u32) -> u32 {
        let Some(p) = self.get(id) else { return 0 };
        let t = lwt::with_timeout(Duration::from_millis(u64::from(ms)), &p);
        self.add(format!("with_timeout {ms} ms (#{id})"), t)
    }

    /// Cancels `#id` (Lwt's `cancel`: walks back to what it waits on).
    pub fn cancel(&self, id: u32) {
        if let Some(p) = self.get(id) {
            p.cancel();
        }
    }

    /// Forgets the resolved promises.
    pub fn clear(&self) {
        self.inner
            .entries
            .borrow_mut()
            .retain(|e| e.promise.is_pending());
    }

    /// The promises and the engine's resources, as JSON: `{"promises":
    /// [{id, label, state, detail, ms}], "engine": {timers, listeners,
    /// frame_callbacks, js_timer_armed, turns}, "fetches": n}`; a state is
    /// `pending`, `fulfilled`, `rejected` or `canceled`.
    pub fn snapshot(&self) -> String {
        let now = now_ms();
        let promises: Vec<_> = self
            .inner
            .entries
            .borrow()
            .iter()
            .map(|e| {
                let (state, detail) = match e.promise.state() {
                    State::Pending => ("pending", String::new()),
                    State::Fulfilled(v) => ("fulfilled", v),
                    State::Rejected(err) if err.is_canceled() => ("canceled", err.to_string()),
                    State::Rejected(err) => ("rejected", err.to_string()),
                };
                let ms = e.settled.get().unwrap_or(now) - e.started;
                Object::new()
                    .uint("id", e.id.into())
                    .str("label", &e.label)
                    .str("state", state)
                    .str("detail", &detail)
                    // A float to integer `as` saturates (and NaN is 0): no
                    // float formatting code in the wasm.
                    .int("ms", ms.round() as i64)
                    .finish()
            })
            .collect();
        let s = lwt_wasm::stats();
        let engine = Object::new()
            .uint("timers", s.timers as u64)
            .uint("listeners", s.listeners as u64)
            .uint("frame_callbacks", s.frame_callbacks as u64)
            .bool("js_timer_armed", s.js_timer_armed)
            .uint("turns", s.turns)
            .finish();
        Object::new()
            .raws("promises", promises)
            .raw("engine", &engine)
            .uint("fetches", self.inner.fetches.get().into())
            .finish()
    }
}
