//! The JS Promise bridge: `js_sys::Promise` ⇄ [`lwt::Promise`], errors both
//! ways, and cancellation across it (`AbortController`, `AbortError`).
//!
//! # Ground rules
//!
//! 1. **JS values survive.** A JS rejection becomes an [`lwt::Error`] whose
//!    payload is the rejected `JsValue`, kept in this thread's table
//!    (`local_payload::<JsValue>()` gives it back), with its
//!    `name: message` as the Rust message. Converting that
//!    error back to JS ([`error_to_js`]) returns the very same JS value, even
//!    through `Error::context` layers.
//! 2. **lwt errors become JS `Error`s** with a `name` and a `message`: a
//!    canceled promise rejects with a `DOMException` named `AbortError` (what
//!    `fetch` and `AbortSignal` use), a time-out with `TimeoutError`, other
//!    errors with `Error`.
//! 3. **Cancellation crosses.** [`abortable`] hands an `AbortSignal` to the JS
//!    side; canceling the lwt promise aborts the controller. The other way,
//!    [`cancel_on_abort`] cancels an lwt promise when a JS `AbortSignal`
//!    fires.
//! 4. **Closures are released.** The two closures given to `then` are kept in
//!    one slot and dropped together as soon as either runs. A JS promise that
//!    never settles keeps them, as JS keeps any callback it may still call.
//!    No borrow is held while a resolver or a JS function runs.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use js_sys::Promise as JsPromise;
use lwt::{Error, Promise, Resolver};
use wasm_bindgen::prelude::*;

use crate::sys::{self, js_string};

type Then = Closure<dyn FnMut(JsValue)>;

/// Resolves `r` when `p` settles.
pub(crate) fn settle_into(p: &JsPromise, r: Resolver<JsValue>) {
    let slot: Rc<RefCell<Option<(Then, Then)>>> = Rc::new(RefCell::new(None));
    let (s, ok_r) = (slot.clone(), r.clone());
    let on_ok = Closure::<dyn FnMut(JsValue)>::new(move |v: JsValue| {
        let closures = s.borrow_mut().take();
        let _ = ok_r.resolve(v);
        // Dropping a closure while it runs is deferred by wasm-bindgen until
        // it returns.
        drop(closures);
    });
    let s = slot.clone();
    let on_err = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        let closures = s.borrow_mut().take();
        let _ = r.reject(js_to_error(e));
        drop(closures);
    });
    let _ = p.then2(&on_ok, &on_err);
    *slot.borrow_mut() = Some((on_ok, on_err));
}

/// A human-readable message for a JS value: `name: message` for errors.
pub(crate) fn describe(value: &JsValue) -> String {
    if value.is_object() {
        let get = |k: &str| sys::get(value, k).and_then(|v| v.as_string());
        if let Some(message) = get("message") {
            return match get("name") {
                Some(name) if !name.is_empty() => format!("{name}: {message}"),
                _ => message,
            };
        }
    }
    js_string(value).unwrap_or_else(|_| "a JS value".to_owned())
}

/// An [`lwt::Error`] holding a JS value: its message describes the value,
/// and `local_payload::<JsValue>()` gives the value back (the value stays on
/// this thread; the error itself is `Send`).
///
/// ```no_run
/// use wasm_bindgen::JsValue;
/// let e = lwt_wasm::js_to_error(JsValue::from_str("nope"));
/// assert_eq!(e.to_string(), "nope");
/// assert_eq!(e.local_payload::<JsValue>(), Some(JsValue::from_str("nope")));
/// ```
pub fn js_to_error(value: JsValue) -> Error {
    let message = describe(&value);
    Error::with_local_payload(message, value)
}

fn named_error(message: &str, name: &str) -> JsValue {
    let e = js_sys::Error::new(message);
    e.set_name(name);
    e.into()
}

/// A `DOMException` named `AbortError` (a JS `Error` of that name where the
/// host has no `DOMException`).
pub(crate) fn abort_error(message: &str) -> JsValue {
    match web_sys::DomException::new_with_message_and_name(message, "AbortError") {
        Ok(e) => e.into(),
        Err(_) => named_error(message, "AbortError"),
    }
}

/// The JS value for an [`lwt::Error`]: the original JS value if the error
/// came from JS, else a JS `Error` with a name and a message (`AbortError`
/// for a canceled promise, `TimeoutError` for a time-out, `Error` otherwise).
///
/// ```no_run
/// let js = lwt_wasm::error_to_js(&lwt::Error::canceled());
/// let name = js_sys::Reflect::get(&js, &"name".into()).unwrap();
/// assert_eq!(name.as_string().unwrap(), "AbortError");
/// ```
pub fn error_to_js(e: &Error) -> JsValue {
    if let Some(v) = e.local_payload::<JsValue>() {
        return v;
    }
    let message = e.to_string();
    if e.is_canceled() {
        abort_error(&message)
    } else if e.is_timeout() {
        named_error(&message, "TimeoutError")
    } else {
        named_error(&message, "Error")
    }
}

/// The lwt promise of a JS promise: fulfilled with its value, or rejected
/// with an error keeping the JS reason (see [`js_to_error`]).
///
/// Canceling the result rejects it with `Canceled` at once; the JS side goes
/// on (a plain JS promise cannot be stopped; see [`abortable`]).
///
/// ```no_run
/// let js = js_sys::Promise::resolve(&wasm_bindgen::JsValue::from(42));
/// lwt_wasm::from_js(&js).on_success(|v| assert_eq!(v.as_f64(), Some(42.0)));
/// ```
pub fn from_js(p: &JsPromise) -> Promise<JsValue> {
    crate::install();
    let (lp, r) = lwt::task();
    settle_into(p, r);
    lp
}

/// The JS promise of an lwt promise: resolved with the value converted by
/// `Into<JsValue>`, or rejected with [`error_to_js`] of the error.
///
/// ```no_run
/// let (p, r) = lwt::wait::<u32>();
/// let js: js_sys::Promise = lwt_wasm::to_js(&p);
/// r.resolve(7).unwrap(); // `js` resolves with 7
/// # drop(js);
/// ```
pub fn to_js<T: Into<JsValue> + Clone + 'static>(p: &Promise<T>) -> JsPromise {
    let mut functions = None;
    let js = JsPromise::new(&mut |resolve, reject| functions = Some((resolve, reject)));
    let Some((resolve, reject)) = functions else {
        return js;
    };
    p.on_any(
        move |v| {
            let _ = resolve.call1(&JsValue::UNDEFINED, &v.into());
        },
        move |e| {
            let _ = reject.call1(&JsValue::UNDEFINED, &error_to_js(&e));
        },
    );
    js
}

/// Spawns `future` as an lwt task and returns its JS promise: the body of an
/// async function exported with `#[wasm_bindgen]`.
///
/// ```no_run
/// use wasm_bindgen::prelude::*;
///
/// #[wasm_bindgen]
/// pub fn double_later(x: u32) -> js_sys::Promise {
///     lwt_wasm::spawn_js(async move {
///         lwt_wasm::pause().await?;
///         Ok(x * 2)
///     })
/// }
/// ```
pub fn spawn_js<T, F>(future: F) -> JsPromise
where
    T: Into<JsValue> + Clone + 'static,
    F: Future<Output = Result<T, Error>> + 'static,
{
    crate::install();
    to_js(&lwt::spawn(future))
}

/// A cancelable lwt promise of a JS operation that takes an `AbortSignal`:
/// `f` gets the signal of a new `AbortController` and starts the operation;
/// canceling the result aborts the controller (the fetch stops, the listener
/// goes away).
///
/// ```no_run
/// use wasm_bindgen::{JsCast, JsValue};
/// let fetch: js_sys::Function = js_sys::Reflect::get(&js_sys::global(), &"fetch".into())
///     .unwrap()
///     .unchecked_into();
/// let p = lwt_wasm::abortable(|signal| {
///     let init = web_sys::RequestInit::new();
///     init.set_signal(Some(signal));
///     fetch.call2(&JsValue::UNDEFINED, &"/slow".into(), &init).unwrap().unchecked_into()
/// });
/// p.cancel(); // the request is aborted
/// ```
pub fn abortable(f: impl FnOnce(&web_sys::AbortSignal) -> JsPromise) -> Promise<JsValue> {
    crate::install();
    let controller = match web_sys::AbortController::new() {
        Ok(c) => c,
        Err(e) => return Promise::rejected(js_to_error(e)),
    };
    let js = f(&controller.signal());
    let p = from_js(&js);
    p.on_cancel(move || controller.abort());
    p
}

/// `p`, canceled when `signal` aborts: a JS caller's `AbortSignal` reaches
/// lwt code. The `abort` listener is removed when `p` resolves.
///
/// ```no_run
/// let controller = web_sys::AbortController::new().unwrap();
/// let p = lwt_wasm::cancel_on_abort(&lwt_wasm::sleep(std::time::Duration::from_secs(9)), &controller.signal());
/// controller.abort();
/// assert!(p.peek().unwrap().unwrap_err().is_canceled());
/// ```
pub fn cancel_on_abort<T: 'static>(p: &Promise<T>, signal: &web_sys::AbortSignal) -> Promise<T> {
    crate::install();
    if signal.aborted() {
        p.cancel();
        return p.clone();
    }
    let aborted = crate::events::event(signal, "abort");
    let target = p.clone();
    aborted.on_success(move |_| target.cancel());
    let waiting = aborted.clone();
    p.on_result(move |_| waiting.cancel());
    p.clone()
}

/// `.to_js()` on lwt promises.
///
/// ```no_run
/// use lwt_wasm::PromiseExt;
/// let js: js_sys::Promise = lwt::Promise::resolved(1.5f64).to_js();
/// # drop(js);
/// ```
pub trait PromiseExt {
    /// See [`to_js`].
    fn to_js(&self) -> JsPromise;
}

impl<T: Into<JsValue> + Clone + 'static> PromiseExt for Promise<T> {
    fn to_js(&self) -> JsPromise {
        to_js(self)
    }
}

/// `.to_lwt()` on JS promises.
///
/// ```no_run
/// use lwt_wasm::JsPromiseExt;
/// let p: lwt::Promise<wasm_bindgen::JsValue> = js_sys::Promise::resolve(&wasm_bindgen::JsValue::from(1)).to_lwt();
/// # drop(p);
/// ```
pub trait JsPromiseExt {
    /// See [`from_js`].
    fn to_lwt(&self) -> Promise<JsValue>;
}

impl JsPromiseExt for JsPromise {
    fn to_lwt(&self) -> Promise<JsValue> {
        from_js(self)
    }
}
