//! The JS bindings: every host function the engine modules call, in one
//! place (the mirror of `lwt-native`'s `sys`).
//!
//! # Ground rules
//!
//! * **Globals, never `window()`.** Each binding is a global of
//!   `globalThis` (`setTimeout`, `performance.now`, `fetch`, ...), and
//!   [`has_global`] reads [`js_sys::global`], so the same code runs in a
//!   window, a dedicated worker and Node.
//! * **Detect, then call.** A host may lack `setImmediate`,
//!   `requestAnimationFrame` or `requestIdleCallback`: callers check
//!   [`has_global`] before using those bindings. Functions that may throw
//!   are bound with `catch` and return a `Result`.
//! * **No state here.** The closures handed to these functions, and the
//!   counters of what is live, are owned by the modules that make them.
//!
//! Off wasm32 every binding panics when called (wasm-bindgen's stubs).

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `performance.now()`: milliseconds since the page, worker or process
    /// started.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    pub(crate) fn now_ms() -> f64;

    /// `setTimeout(handler, ms)`; returns the handle for [`clear_timeout`].
    #[wasm_bindgen(js_name = setTimeout)]
    pub(crate) fn set_timeout(handler: &Function, ms: f64) -> JsValue;

    /// `clearTimeout(handle)`.
    #[wasm_bindgen(js_name = clearTimeout)]
    pub(crate) fn clear_timeout(handle: &JsValue);

    /// `queueMicrotask(f)`.
    #[wasm_bindgen(js_name = queueMicrotask)]
    pub(crate) fn queue_microtask(f: &Function);

    /// `setImmediate(f)` (Node only: check [`has_global`] first).
    #[wasm_bindgen(js_name = setImmediate)]
    pub(crate) fn set_immediate(f: &Function) -> JsValue;

    /// `console.error(message, value)`.
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    pub(crate) fn console_error(message: &str, value: &JsValue);

    /// `requestAnimationFrame(f)`; returns the id for
    /// [`cancel_animation_frame`].
    #[wasm_bindgen(js_name = requestAnimationFrame)]
    pub(crate) fn request_animation_frame(f: &Function) -> f64;

    /// `cancelAnimationFrame(id)`.
    #[wasm_bindgen(js_name = cancelAnimationFrame)]
    pub(crate) fn cancel_animation_frame(id: f64);

    /// `requestIdleCallback(f, options)`; returns the id for
    /// [`cancel_idle_callback`].
    #[wasm_bindgen(js_name = requestIdleCallback)]
    pub(crate) fn request_idle_callback(f: &Function, options: &JsValue) -> f64;

    /// `cancelIdleCallback(id)`.
    #[wasm_bindgen(js_name = cancelIdleCallback)]
    pub(crate) fn cancel_idle_callback(id: f64);

    /// `String(value)`, which throws for some values (a symbol, an object
    /// whose `toString` throws).
    #[wasm_bindgen(catch, js_name = String)]
    pub(crate) fn js_string(value: &JsValue) -> Result<String, JsValue>;

    /// The global `fetch(input, init)`, which throws for a bad request.
    #[wasm_bindgen(catch, js_name = fetch)]
    pub(crate) fn fetch(input: &JsValue, init: &web_sys::RequestInit) -> Result<Promise, JsValue>;
}

/// True if the JS global `name` is a function (feature detection).
pub(crate) fn has_global(name: &str) -> bool {
    get(&js_sys::global(), name).is_some_and(|v| v.is_function())
}

/// `target[key]`, or `None` if reading it throws.
pub(crate) fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    js_sys::Reflect::get(target, &JsValue::from_str(key)).ok()
}

/// `target[key] = value`, ignoring a failure (a frozen or non-object
/// target).
pub(crate) fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(target, &JsValue::from_str(key), value);
}
