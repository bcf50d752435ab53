//! DOM events as promises (js_of_ocaml-lwt's `Lwt_js_events`): one-shot
//! waits, typed helpers, loops, and an event stream.
//!
//! # Ground rules
//!
//! 1. **A listener lives exactly as long as someone waits.** Each wait adds
//!    one listener whose JS closure is owned by a [`Listener`] value; the
//!    listener is removed, and the closure dropped, when the event fires or
//!    the wait is canceled (or the loop / stream is canceled or dropped).
//!    [`crate::stats`] counts live listeners, so tests check that none leaks.
//! 2. **Continuations run inside the dispatch.** The promise is resolved from
//!    the listener itself, and lwt callbacks are eager, so code after
//!    `event(..)` (a `bind`, a `map`, a task's `.await`) runs before
//!    `dispatchEvent` returns: `preventDefault` and `stopPropagation` work.
//!    (The [`futures_core::Stream`] side of [`EventStream`] is the exception:
//!    a `Waker` is polled on a later turn; use [`EventStream::next`] there.)
//! 3. **No borrow across JS.** A listener is taken out of its slot before it
//!    is removed (which calls `removeEventListener`), and before a promise is
//!    resolved; loop handlers are taken out of their cell while they run.
//! 4. **Typed helpers** ([`click`], [`keydown`], ...) give the event as the
//!    interface browsers dispatch for that name, without a run-time check
//!    (`JsCast::unchecked_into`): dispatch synthetic events of the right
//!    interface.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use lwt::{Error, Promise, Resolver};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Event, EventTarget};

use crate::engine::LISTENERS;

/// How a listener is added (`addEventListener`'s options).
///
/// ```no_run
/// let opts = lwt_wasm::ListenOptions { capture: true, passive: false };
/// let target = web_sys::EventTarget::new().unwrap();
/// let p = lwt_wasm::event_with(&target, "click", opts);
/// # drop(p);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListenOptions {
    /// Listen in the capture phase.
    pub capture: bool,
    /// Promise not to call `preventDefault` (lets the browser scroll at once).
    pub passive: bool,
}

type Handler = Closure<dyn FnMut(Event)>;

/// One `addEventListener` registration; dropping it removes the listener and
/// drops its closure.
struct Listener {
    target: EventTarget,
    kind: String,
    capture: bool,
    closure: Handler,
}

impl Listener {
    fn add(target: &EventTarget, kind: &str, options: ListenOptions, closure: Handler) -> Listener {
        let opts = web_sys::AddEventListenerOptions::new();
        opts.set_capture(options.capture);
        opts.set_passive(options.passive);
        let _ = target.add_event_listener_with_callback_and_add_event_listener_options(
            kind,
            closure.as_ref().unchecked_ref(),
            &opts,
        );
        LISTENERS.with(|n| n.set(n.get() + 1));
        Listener {
            target: target.clone(),
            kind: kind.to_owned(),
            capture: options.capture,
            closure,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback_and_bool(
            &self.kind,
            self.closure.as_ref().unchecked_ref(),
            self.capture,
        );
        LISTENERS.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

type Slot = Rc<RefCell<Option<Listener>>>;

/// Removes the listener in `slot`, if any, without holding the borrow.
fn release(slot: &RefCell<Option<Listener>>) {
    let listener = slot.borrow_mut().take();
    drop(listener);
}

/// A listener calling `f` for each event, in a slot that owns it.
fn persistent(
    target: &EventTarget,
    kind: &str,
    options: ListenOptions,
    mut f: impl FnMut(Event) + 'static,
) -> Slot {
    let slot: Slot = Rc::new(RefCell::new(None));
    let closure = Closure::<dyn FnMut(Event)>::new(move |ev: Event| f(ev));
    *slot.borrow_mut() = Some(Listener::add(target, kind, options, closure));
    slot
}

/// The next `kind` event on `target`, with `options`; see [`event`].
///
/// ```no_run
/// let target = web_sys::EventTarget::new().unwrap();
/// let opts = lwt_wasm::ListenOptions { capture: false, passive: true };
/// let p = lwt_wasm::event_with(&target, "touchstart", opts);
/// # drop(p);
/// ```
pub fn event_with(target: &EventTarget, kind: &str, options: ListenOptions) -> Promise<Event> {
    crate::install();
    let (p, r) = lwt::task::<Event>();
    let slot: Slot = Rc::new(RefCell::new(None));
    let s = slot.clone();
    let closure = Closure::<dyn FnMut(Event)>::new(move |ev: Event| {
        // Remove first (wasm-bindgen defers freeing this closure until it
        // returns), then resolve: continuations run inside the dispatch.
        release(&s);
        let _ = r.resolve(ev);
    });
    *slot.borrow_mut() = Some(Listener::add(target, kind, options, closure));
    p.on_cancel(move || release(&slot));
    p
}

/// The next `kind` event on `target` (js_of_ocaml-lwt's `make_event`): one
/// listener, removed when the event fires or the promise is canceled.
/// Continuations run inside the dispatch, so `preventDefault` works.
///
/// ```no_run
/// let target = web_sys::EventTarget::new().unwrap();
/// lwt_wasm::event(&target, "submit").on_success(|e| e.prevent_default());
/// ```
pub fn event(target: &EventTarget, kind: &str) -> Promise<Event> {
    event_with(target, kind, ListenOptions::default())
}

/// [`event`], with the event seen as `E` (unchecked).
///
/// ```no_run
/// let target = web_sys::EventTarget::new().unwrap();
/// let p = lwt_wasm::event_as::<web_sys::MouseEvent>(&target, "auxclick");
/// p.on_success(|e| assert_eq!(e.button(), 1));
/// ```
pub fn event_as<E: JsCast + Clone + 'static>(target: &EventTarget, kind: &str) -> Promise<E> {
    event(target, kind).map(|e| e.unchecked_into::<E>())
}

/// Runs `handler` on each `kind` event, one at a time: waits for an event,
/// runs the handler, waits for its promise, then listens again; events that
/// fire while the handler runs are not seen (js_of_ocaml-lwt's `seq_loop`).
/// Cancel the result to stop; a rejected handler stops the loop with its
/// error.
///
/// ```no_run
/// let target = web_sys::EventTarget::new().unwrap();
/// let looping = lwt_wasm::seq_loop::<web_sys::Event>(&target, "input", |_e| {
///     lwt_wasm::sleep(std::time::Duration::from_millis(10))
/// });
/// looping.cancel(); // the listener is removed
/// ```
pub fn seq_loop<E: JsCast + Clone + 'static>(
    target: &EventTarget,
    kind: &str,
    handler: impl FnMut(E) -> Promise<()> + 'static,
) -> Promise<()> {
    fn step<E: JsCast + Clone + 'static, F: FnMut(E) -> Promise<()> + 'static>(
        target: EventTarget,
        kind: Rc<str>,
        handler: Rc<RefCell<Option<F>>>,
    ) -> Promise<()> {
        event_as::<E>(&target, &kind).bind(move |e| {
            let taken = handler.borrow_mut().take();
            let Some(mut f) = taken else {
                return Promise::rejected(Error::msg("seq_loop: the handler is already running"));
            };
            let done = f(e);
            *handler.borrow_mut() = Some(f);
            done.bind(move |()| step(target, kind, handler))
        })
    }
    step(
        target.clone(),
        Rc::from(kind),
        Rc::new(RefCell::new(Some(handler))),
    )
}

/// Runs `handler` on every `kind` event at once, without waiting for earlier
/// handlers (js_of_ocaml-lwt's `async_loop`). A rejected handler is reported
/// (`lwt::report_unhandled`) and the loop goes on. Canceling the result
/// removes the listener and cancels the handlers still running.
///
/// ```no_run
/// let target = web_sys::EventTarget::new().unwrap();
/// let looping = lwt_wasm::async_loop::<web_sys::Event>(&target, "message", |_e| lwt::Promise::resolved(()));
/// looping.cancel();
/// ```
pub fn async_loop<E: JsCast + Clone + 'static>(
    target: &EventTarget,
    kind: &str,
    handler: impl FnMut(E) -> Promise<()> + 'static,
) -> Promise<()> {
    crate::install();
    let (p, _r) = lwt::task::<()>();
    let running: Rc<RefCell<Vec<Promise<()>>>> = Rc::default();
    let handler = Rc::new(RefCell::new(Some(handler)));
    let run = running.clone();
    let slot = persistent(target, kind, ListenOptions::default(), move |ev| {
        let taken = handler.borrow_mut().take();
        let Some(mut f) = taken else { return };
        let done = f(ev.unchecked_into::<E>());
        *handler.borrow_mut() = Some(f);
        done.on_failure(|e| {
            if !e.is_canceled() {
                lwt::report_unhandled(&e)
            }
        });
        if done.is_pending() {
            let mut r = run.borrow_mut();
            r.retain(Promise::is_pending);
            r.push(done);
        }
    });
    p.on_cancel(move || {
        release(&slot);
        let handlers = std::mem::take(&mut *running.borrow_mut());
        for h in handlers {
            h.cancel();
        }
    });
    p
}

/// State shared by the listener and the worker of [`buffered_loop`].
struct Buffered<E, F> {
    queue: RefCell<VecDeque<E>>,
    handler: RefCell<Option<F>>,
    current: RefCell<Option<Promise<()>>>,
    done: Resolver<()>,
}

impl<E: 'static, F: FnMut(E) -> Promise<()> + 'static> Buffered<E, F> {
    /// Runs queued events through the handler, one at a time.
    fn work(self: &Rc<Self>) {
        loop {
            if self.current.borrow().is_some() || !self.done.is_pending() {
                return;
            }
            let next = self.queue.borrow_mut().pop_front();
            let Some(ev) = next else { return };
            let taken = self.handler.borrow_mut().take();
            let Some(mut f) = taken else { return };
            let p = f(ev);
            *self.handler.borrow_mut() = Some(f);
            match p.peek() {
                Some(Ok(())) => continue,
                Some(Err(e)) => {
                    let _ = self.done.reject(e);
                    return;
                }
                None => {
                    *self.current.borrow_mut() = Some(p.clone());
                    let me = self.clone();
                    p.on_result(move |r| {
                        let finished = me.current.borrow_mut().take();
                        drop(finished);
                        match r {
                            Ok(()) => me.work(),
                            Err(e) => {
                                let _ = me.done.reject(e.clone());
                            }
                        }
                    });
                    return;
                }
            }
        }
    }
}

/// Runs `handler` on every `kind` event, one at a time, in order: events that
/// fire while a handler runs are queued, not lost (js_of_ocaml-lwt's
/// `buffered_loop`). Canceling the result removes the listener, drops the
/// queue and cancels the running handler; a rejected handler stops the loop
/// with its error.
///
/// ```no_run
/// let target = web_sys::EventTarget::new().unwrap();
/// let looping = lwt_wasm::buffered_loop::<web_sys::KeyboardEvent>(&target, "keydown", |e| {
///     assert!(!e.key().is_empty());
///     lwt_wasm::sleep(std::time::Duration::from_millis(5))
/// });
/// # drop(looping);
/// ```
pub fn buffered_loop<E: JsCast + Clone + 'static>(
    target: &EventTarget,
    kind: &str,
    handler: impl FnMut(E) -> Promise<()> + 'static,
) -> Promise<()> {
    crate::install();
    let (p, done) = lwt::task::<()>();
    let state = Rc::new(Buffered {
        queue: RefCell::new(VecDeque::new()),
        handler: RefCell::new(Some(handler)),
        current: RefCell::new(None),
        done,
    });
    let weak = Rc::downgrade(&state);
    let slot = persistent(target, kind, ListenOptions::default(), move |ev| {
        if let Some(s) = weak.upgrade() {
            s.queue.borrow_mut().push_back(ev.unchecked_into::<E>());
            s.work();
        }
    });
    // Ended by cancel or by a rejected handler: one cleanup for both.
    p.on_result(move |_| {
        release(&slot);
        let current = state.current.borrow_mut().take();
        state.queue.borrow_mut().clear();
        if let Some(c) = current {
            c.cancel();
        }
    });
    p
}

/// State of [`debounced_loop`].
struct Debounced<E, F> {
    latest: RefCell<Option<E>>,
    timer: RefCell<Option<Promise<()>>>,
    handler: RefCell<Option<F>>,
    current: RefCell<Option<Promise<()>>>,
    /// The quiet period ended while a handler ran: run again when it is done.
    owed: Cell<bool>,
    quiet: Duration,
    done: Resolver<()>,
}

impl<E: 'static, F: FnMut(E) -> Promise<()> + 'static> Debounced<E, F> {
    fn on_event(self: &Rc<Self>, ev: E) {
        *self.latest.borrow_mut() = Some(ev);
        let old = self.timer.borrow_mut().take();
        if let Some(t) = old {
            t.cancel();
        }
        let me = Rc::downgrade(self);
        let timer = crate::sleep(self.quiet);
        timer.on_success(move |()| {
            if let Some(me) = me.upgrade() {
                let fired = me.timer.borrow_mut().take();
                drop(fired);
                me.fire();
            }
        });
        if timer.is_pending() {
            *self.timer.borrow_mut() = Some(timer);
        }
    }

    fn fire(self: &Rc<Self>) {
        if self.current.borrow().is_some() {
            self.owed.set(true);
            return;
        }
        let latest = self.latest.borrow_mut().take();
        let Some(ev) = latest else { return };
        let taken = self.handler.borrow_mut().take();
        let Some(mut f) = taken else { return };
        let p = f(ev);
        *self.handler.borrow_mut() = Some(f);
        if p.is_pending() {
            *self.current.borrow_mut() = Some(p.clone());
        }
        let me = self.clone();
        p.on_result(move |r| {
            let finished = me.current.borrow_mut().take();
            drop(finished);
            match r {
                Err(e) => {
                    let _ = me.done.reject(e.clone());
                }
                Ok(()) if me.owed.replace(false) => me.fire(),
                Ok(()) => {}
            }
        });
    }
}

/// Runs `handler` once the `kind` events on `target` have paused for `quiet`,
/// with the last of them (a debounce: each event restarts the wait). Handler
/// runs never overlap: if the wait ends while one runs, the next starts when
/// it is done. Canceling the result removes the listener, disarms the timer
/// and cancels the running handler. (js_of_ocaml-lwt's `limited_loop` runs
/// at most once per period instead; a debounce is what input fields want.)
///
/// ```no_run
/// use std::time::Duration;
/// let search_box = web_sys::EventTarget::new().unwrap();
/// let looping = lwt_wasm::debounced_loop::<web_sys::Event>(&search_box, "input", Duration::from_millis(300), |_e| {
///     lwt::Promise::resolved(()) // search with the latest text
/// });
/// # drop(looping);
/// ```
pub fn debounced_loop<E: JsCast + Clone + 'static>(
    target: &EventTarget,
    kind: &str,
    quiet: Duration,
    handler: impl FnMut(E) -> Promise<()> + 'static,
) -> Promise<()> {
    crate::install();
    let (p, done) = lwt::task::<()>();
    let state = Rc::new(Debounced {
        latest: RefCell::new(None),
        timer: RefCell::new(None),
        handler: RefCell::new(Some(handler)),
        current: RefCell::new(None),
        owed: Cell::new(false),
        quiet,
        done,
    });
    let weak = Rc::downgrade(&state);
    let slot = persistent(target, kind, ListenOptions::default(), move |ev| {
        if let Some(s) = weak.upgrade() {
            s.on_event(ev.unchecked_into::<E>());
        }
    });
    // Ended by cancel or by a rejected handler: one cleanup for both.
    p.on_result(move |_| {
        release(&slot);
        let timer = state.timer.borrow_mut().take();
        let current = state.current.borrow_mut().take();
        state.latest.borrow_mut().take();
        if let Some(t) = timer {
            t.cancel();
        }
        if let Some(c) = current {
            c.cancel();
        }
    });
    p
}

/// Shared state of an [`EventStream`].
struct StreamInner<E: 'static> {
    queue: RefCell<VecDeque<E>>,
    waiters: RefCell<VecDeque<Resolver<E>>>,
    waker: RefCell<Option<Waker>>,
    listener: RefCell<Option<Listener>>,
}

impl<E: Clone + 'static> StreamInner<E> {
    fn push(&self, ev: E) {
        loop {
            let waiter = self.waiters.borrow_mut().pop_front();
            match waiter {
                Some(r) if r.is_pending() => {
                    let _ = r.resolve(ev);
                    return;
                }
                Some(_) => continue,
                None => break,
            }
        }
        self.queue.borrow_mut().push_back(ev);
        let waker = self.waker.borrow_mut().take();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// The `kind` events of `target`, as a stream (js_of_ocaml-lwt's event
/// streams): one listener, events queued until taken with
/// [`EventStream::next`] or as a [`futures_core::Stream`]. The queue is
/// unbounded. Dropping the stream, or [`EventStream::close`], removes the
/// listener.
///
/// ```no_run
/// let target = web_sys::EventTarget::new().unwrap();
/// let keys = lwt_wasm::events::<web_sys::KeyboardEvent>(&target, "keydown");
/// let first = keys.next();
/// first.on_success(|e| assert!(!e.key().is_empty()));
/// ```
pub struct EventStream<E: 'static = Event> {
    inner: Rc<StreamInner<E>>,
}

impl<E: 'static> std::fmt::Debug for EventStream<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("queued", &self.inner.queue.borrow().len())
            .field("open", &self.inner.listener.borrow().is_some())
            .finish()
    }
}

/// A stream of the `kind` events of `target`; see [`EventStream`].
///
/// ```no_run
/// let target = web_sys::EventTarget::new().unwrap();
/// let clicks = lwt_wasm::events::<web_sys::MouseEvent>(&target, "click");
/// # drop(clicks);
/// ```
pub fn events<E: JsCast + Clone + 'static>(target: &EventTarget, kind: &str) -> EventStream<E> {
    crate::install();
    let inner = Rc::new(StreamInner {
        queue: RefCell::new(VecDeque::new()),
        waiters: RefCell::new(VecDeque::new()),
        waker: RefCell::new(None),
        listener: RefCell::new(None),
    });
    let weak: Weak<StreamInner<E>> = Rc::downgrade(&inner);
    let closure = Closure::<dyn FnMut(Event)>::new(move |ev: Event| {
        if let Some(s) = weak.upgrade() {
            s.push(ev.unchecked_into::<E>());
        }
    });
    let listener = Listener::add(target, kind, ListenOptions::default(), closure);
    *inner.listener.borrow_mut() = Some(listener);
    EventStream { inner }
}

impl<E: Clone + 'static> EventStream<E> {
    /// The next event: at once if one is queued. Resolved inside the dispatch
    /// when it is waiting, so `preventDefault` works. After [`close`], a
    /// rejected promise ([`Error::is_closed`]) once the queue is empty.
    ///
    /// [`close`]: EventStream::close
    ///
    /// ```no_run
    /// let target = web_sys::EventTarget::new().unwrap();
    /// let s = lwt_wasm::events::<web_sys::Event>(&target, "ping");
    /// let p = s.next();
    /// target.dispatch_event(&web_sys::Event::new("ping").unwrap()).unwrap();
    /// assert!(p.is_fulfilled());
    /// ```
    pub fn next(&self) -> Promise<E> {
        let queued = self.inner.queue.borrow_mut().pop_front();
        if let Some(ev) = queued {
            return Promise::resolved(ev);
        }
        if self.inner.listener.borrow().is_none() {
            return Promise::rejected(Error::closed("the event stream is closed"));
        }
        let (p, r) = lwt::task::<E>();
        let mut waiters = self.inner.waiters.borrow_mut();
        // Canceled waiters would otherwise pile up until the next event.
        waiters.retain(Resolver::is_pending);
        waiters.push_back(r);
        p
    }

    /// How many events are queued.
    ///
    /// ```no_run
    /// let target = web_sys::EventTarget::new().unwrap();
    /// let s = lwt_wasm::events::<web_sys::Event>(&target, "ping");
    /// assert_eq!(s.queued(), 0);
    /// ```
    pub fn queued(&self) -> usize {
        self.inner.queue.borrow().len()
    }

    /// Removes the listener; waiting [`next`](EventStream::next) promises are
    /// rejected as closed; queued events can still be taken.
    ///
    /// ```no_run
    /// let target = web_sys::EventTarget::new().unwrap();
    /// let s = lwt_wasm::events::<web_sys::Event>(&target, "ping");
    /// s.close();
    /// assert!(s.next().is_rejected());
    /// ```
    pub fn close(&self) {
        release(&self.inner.listener);
        let waiters = std::mem::take(&mut *self.inner.waiters.borrow_mut());
        for r in waiters {
            let _ = r.reject(Error::closed("the event stream is closed"));
        }
        let waker = self.inner.waker.borrow_mut().take();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<E: Clone + 'static> futures_core::Stream for EventStream<E> {
    type Item = E;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<E>> {
        let queued = self.inner.queue.borrow_mut().pop_front();
        if let Some(ev) = queued {
            return Poll::Ready(Some(ev));
        }
        if self.inner.listener.borrow().is_none() {
            return Poll::Ready(None);
        }
        *self.inner.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

macro_rules! typed_events {
    ($($name:ident, $plural:ident, $kind:literal, $ty:ident;)*) => {$(
        #[doc = concat!("The next `", $kind, "` event on `target`, as a `web_sys::", stringify!($ty), "` (see [`event`]).")]
        ///
        /// ```no_run
        /// let target = web_sys::EventTarget::new().unwrap();
        #[doc = concat!("let p = lwt_wasm::", stringify!($name), "(&target);")]
        /// p.cancel(); // removes the listener
        /// ```
        pub fn $name(target: &EventTarget) -> Promise<web_sys::$ty> {
            event_as(target, $kind)
        }

        #[doc = concat!("Runs `handler` on each `", $kind, "` event on `target`, one at a time (see [`seq_loop`]).")]
        ///
        /// ```no_run
        /// let target = web_sys::EventTarget::new().unwrap();
        #[doc = concat!("let looping = lwt_wasm::", stringify!($plural), "(&target, |_e| lwt::Promise::resolved(()));")]
        /// looping.cancel(); // stops the loop
        /// ```
        pub fn $plural(
            target: &EventTarget,
            handler: impl FnMut(web_sys::$ty) -> Promise<()> + 'static,
        ) -> Promise<()> {
            seq_loop(target, $kind, handler)
        }
    )*};
}

typed_events! {
    click, clicks, "click", MouseEvent;
    dblclick, dblclicks, "dblclick", MouseEvent;
    mousedown, mousedowns, "mousedown", MouseEvent;
    mouseup, mouseups, "mouseup", MouseEvent;
    mousemove, mousemoves, "mousemove", MouseEvent;
    mouseover, mouseovers, "mouseover", MouseEvent;
    mouseout, mouseouts, "mouseout", MouseEvent;
    contextmenu, contextmenus, "contextmenu", MouseEvent;
    wheel, wheels, "wheel", WheelEvent;
    keydown, keydowns, "keydown", KeyboardEvent;
    keyup, keyups, "keyup", KeyboardEvent;
    keypress, keypresses, "keypress", KeyboardEvent;
    input, inputs, "input", Event;
    change, changes, "change", Event;
    submit, submits, "submit", Event;
    focus, focuses, "focus", FocusEvent;
    blur, blurs, "blur", FocusEvent;
    focusin, focusins, "focusin", FocusEvent;
    focusout, focusouts, "focusout", FocusEvent;
    scroll, scrolls, "scroll", Event;
    resize, resizes, "resize", UiEvent;
    pointerdown, pointerdowns, "pointerdown", PointerEvent;
    pointerup, pointerups, "pointerup", PointerEvent;
    pointermove, pointermoves, "pointermove", PointerEvent;
    pointerover, pointerovers, "pointerover", PointerEvent;
    pointerout, pointerouts, "pointerout", PointerEvent;
    pointerenter, pointerenters, "pointerenter", PointerEvent;
    pointerleave, pointerleaves, "pointerleave", PointerEvent;
    pointercancel, pointercancels, "pointercancel", PointerEvent;
    touchstart, touchstarts, "touchstart", TouchEvent;
    touchmove, touchmoves, "touchmove", TouchEvent;
    touchend, touchends, "touchend", TouchEvent;
    touchcancel, touchcancels, "touchcancel", TouchEvent;
    dragstart, dragstarts, "dragstart", DragEvent;
    dragover, dragovers, "dragover", DragEvent;
    drop_event, drop_events, "drop", DragEvent;
    load, loads, "load", Event;
    error, errors, "error", Event;
    transitionend, transitionends, "transitionend", TransitionEvent;
    animationend, animationends, "animationend", AnimationEvent;
}
