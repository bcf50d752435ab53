//! `lwt-wasm`: the JS event-loop engine for lwt (js_of_ocaml-lwt's
//! `Lwt_js`, `Lwt_js_events`, `Lwt_xmlHttpRequest`).
//!
//! # Ground rules
//!
//! A reading guide, in the order of the design. Read [`engine`](crate::install)
//! first.
//!
//! 1. **The engine** ([`install`]) implements [`lwt::Engine`] on the JS event
//!    loop: turns on an unclamped macrotask, yields on a microtask, one
//!    coalesced `setTimeout` for all timers, `performance.now()` as the clock.
//!    It is installed automatically by every function of this crate.
//! 2. **Time** ([`sleep`], [`timeout`], [`with_timeout`], [`pause`],
//!    [`yield_now`]) is the core's, on this engine.
//! 3. **The JS Promise bridge** ([`from_js`], [`to_js`], [`abortable`]) keeps
//!    JS values: a JS rejection stays inside [`lwt::Error`] and comes back
//!    unchanged; a canceled lwt promise rejects on the JS side with an
//!    `AbortError`; canceling an [`abortable`] promise aborts its
//!    `AbortController`.
//! 4. **DOM events** ([`event`], [`click`], [`clicks`], [`seq_loop`],
//!    [`EventStream`], ...) are promises; each listener is removed when it
//!    fires or is canceled, and continuations run inside the event dispatch,
//!    so `preventDefault` works.
//! 5. **fetch** ([`fetch`], [`Response`]) is a cancelable request.
//! 6. **Frames** ([`animation_frame`], [`idle`]).
//!
//! New to lwt in the browser? [`getting_started`] walks through a first
//! app: the crates, exported functions, JS promises, errors both ways,
//! cancellation with an `AbortSignal`, timers, and two runnable examples.
//!
//! Everything reaches JS through globals (`globalThis`), never `window()`, so
//! it works in a window, a dedicated worker and Node (where DOM-only features
//! degrade as each function documents). The bindings the modules share
//! (`setTimeout`, `performance.now`, `fetch`, feature detection, ...) are all
//! in `sys.rs`, which uses no other module of the crate. Nothing leaks:
//! every JS closure is dropped when its timer, listener or callback fires or
//! is canceled ([`stats`] counts what is live). The crate builds on every
//! target so host builds of a workspace stay green; calling into JS off
//! wasm32 panics.
//!
//! ```no_run
//! use std::time::Duration;
//! use wasm_bindgen::prelude::*;
//!
//! /// Exported to JS: returns a JS Promise of a number.
//! #[wasm_bindgen]
//! pub fn answer_later() -> js_sys::Promise {
//!     lwt_wasm::spawn_js(async {
//!         lwt_wasm::sleep(Duration::from_millis(10)).await?;
//!         Ok(42)
//!     })
//! }
//! ```

#![doc(test(attr(deny(warnings))))]

mod bridge;
mod engine;
mod events;
mod fetch;
mod frame;
#[doc = include_str!("../docs/getting-started.md")]
pub mod getting_started {}
mod sys;
mod time;
mod timers;

pub use bridge::{
    abortable, cancel_on_abort, error_to_js, from_js, js_to_error, spawn_js, to_js, JsPromiseExt,
    PromiseExt,
};
pub use engine::{install, now, reset_longest_turn, set_turn_budget, stats, turn_budget, Stats};
pub use events::*;
pub use fetch::{fetch, fetch_with_init, HttpError, Response};
pub use frame::{animation_frame, idle};
pub use time::{pause, sleep, timeout, with_timeout, yield_now};
