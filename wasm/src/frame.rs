//! Animation frames and idle callbacks as promises.
//!
//! # Ground rules
//!
//! * One JS callback per request, owned by a slot; it is dropped when it runs
//!   or when the promise is canceled, which also calls
//!   `cancelAnimationFrame` / `cancelIdleCallback`. [`crate::stats`] counts
//!   the live ones.
//! * Where the host has no `requestAnimationFrame` (Node, some workers), a
//!   frame is a 16 ms sleep; where it has no `requestIdleCallback` (Node,
//!   Safari), an idle callback is the next turn. Both stay cancelable.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use js_sys::Function;
use lwt::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::engine::FRAME_CALLBACKS;
use crate::sys::{
    self, cancel_animation_frame, cancel_idle_callback, has_global, now_ms,
    request_animation_frame, request_idle_callback,
};

/// A requested callback: its id, its closure, and how to cancel it.
struct Requested {
    id: f64,
    cancel: fn(f64),
    _closure: Closure<dyn FnMut(JsValue)>,
}

impl Drop for Requested {
    fn drop(&mut self) {
        FRAME_CALLBACKS.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

/// Requests a callback with `request`, resolving the promise with `convert`
/// of its argument.
fn requested<T: 'static>(
    request: impl FnOnce(&Function) -> f64,
    cancel: fn(f64),
    convert: impl Fn(JsValue) -> T + 'static,
) -> Promise<T> {
    let (p, r) = lwt::task::<T>();
    let slot: Rc<RefCell<Option<Requested>>> = Rc::new(RefCell::new(None));
    let s = slot.clone();
    let closure = Closure::<dyn FnMut(JsValue)>::new(move |arg: JsValue| {
        // Ran: nothing to cancel; dropping is deferred until we return.
        let done = s.borrow_mut().take();
        drop(done);
        let _ = r.resolve(convert(arg));
    });
    let id = request(closure.as_ref().unchecked_ref());
    FRAME_CALLBACKS.with(|n| n.set(n.get() + 1));
    *slot.borrow_mut() = Some(Requested {
        id,
        cancel,
        _closure: closure,
    });
    p.on_cancel(move || {
        let pending = slot.borrow_mut().take();
        if let Some(req) = pending {
            (req.cancel)(req.id);
        }
    });
    p
}

/// The next animation frame's timestamp in milliseconds
/// (`requestAnimationFrame`; js_of_ocaml-lwt's `request_animation_frame`).
/// Canceling it calls `cancelAnimationFrame`. Without `requestAnimationFrame`
/// (Node), a 16 ms sleep, then `performance.now()`.
///
/// ```no_run
/// fn animate(frames: u32) -> lwt::Promise<()> {
///     if frames == 0 {
///         return lwt::Promise::resolved(());
///     }
///     lwt_wasm::animation_frame().bind(move |_t| animate(frames - 1))
/// }
/// # drop(animate(60));
/// ```
pub fn animation_frame() -> Promise<f64> {
    crate::install();
    if !has_global("requestAnimationFrame") {
        return crate::sleep(Duration::from_millis(16)).map(|()| now_ms());
    }
    requested(request_animation_frame, cancel_animation_frame, |t| {
        t.as_f64().unwrap_or_default()
    })
}

/// Resolved when the host is idle (`requestIdleCallback`), with the idle time
/// left; `timeout` bounds the wait. Canceling it calls `cancelIdleCallback`.
/// Without `requestIdleCallback` (Node, Safari), resolved on the next turn
/// with the turn budget as the time left.
///
/// ```no_run
/// let p = lwt_wasm::idle(Some(std::time::Duration::from_secs(1)));
/// p.on_success(|left| assert!(left.as_secs() < 1));
/// ```
pub fn idle(timeout: Option<Duration>) -> Promise<Duration> {
    crate::install();
    if !has_global("requestIdleCallback") {
        return crate::pause().map(|()| crate::turn_budget());
    }
    let options = js_sys::Object::new();
    if let Some(t) = timeout {
        sys::set(&options, "timeout", &(t.as_millis() as f64).into());
    }
    requested(
        move |f| request_idle_callback(f, &options),
        cancel_idle_callback,
        |deadline| {
            let left = sys::get(&deadline, "timeRemaining")
                .and_then(|f| f.dyn_into::<Function>().ok())
                .and_then(|f| f.call0(&deadline).ok())
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0);
            Duration::from_secs_f64(left.max(0.0) / 1000.0)
        },
    )
}
