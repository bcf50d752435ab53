//! The JS event-loop engine: turns, timers, yields, the clock.
//!
//! # Ground rules
//!
//! 1. **One engine per thread, installed once.** [`install`] makes the engine
//!    current on this thread (a window, a dedicated worker, Node) and it stays
//!    installed for the life of the thread. Every `lwt_wasm` function calls it
//!    for you, so it is also automatic on first use; call it yourself at
//!    start-up when your code uses only core functions (`lwt::sleep`,
//!    `lwt::pause`) before any `lwt_wasm` one.
//! 2. **Globals, never `window()`.** Every JS function is reached as a global
//!    (`globalThis.setTimeout`, `performance.now`, `queueMicrotask`, ...), and
//!    feature detection reads [`js_sys::global`], both through the bindings
//!    of `sys`, so the same code runs in a window, a worker and Node.
//! 3. **Turns are macrotasks that are never clamped**: `setImmediate` where it
//!    exists (Node), else a `MessageChannel` message (browsers, workers), never
//!    `setTimeout(0)` (clamped to 4 ms when nested). One message is posted per
//!    *turn*, not per pause: a turn calls [`lwt::engine::run_turn`] again and
//!    again (each call resolves one snapshot of the paused promises), firing
//!    due timers in between, until there is no work left or the *turn budget*
//!    ([`set_turn_budget`], 5 ms by default) would be passed by one more step
//!    as long as the longest so far. Then it hands back to the host, so
//!    rendering and input go on during a busy promise loop.
//! 4. **Yields are microtasks** (`queueMicrotask`): [`lwt::yield_now`] resolves
//!    before the host renders or fires timers.
//! 5. **One JS timer.** Engine timers live in a heap ordered by (deadline,
//!    arming order), so equal deadlines fire FIFO (see `timers`). A single `setTimeout` is
//!    armed for the earliest deadline (timers are coalesced). Its delay is
//!    capped at 2^31 − 1 ms (the largest `setTimeout` accepts); when it fires
//!    early, because of that cap or because the host rounds, nothing is due and
//!    it is re-armed: **no timer ever fires before `performance.now()` reads its
//!    deadline**. When no engine timer is left, the JS timer is cleared.
//! 6. **Never re-entered.** Timers and turns run from their own macrotasks, and
//!    [`lwt::engine::run_turn`] itself refuses to run inside a callback of the
//!    resolution loop. No `RefCell` borrow of the engine is held while a timer
//!    closure, a turn, or any JS function runs: state is taken out first.
//! 7. **Closures are owned.** The engine's three JS closures (turn, timer,
//!    yield) are created once and owned by the engine; a sleep's closure is a
//!    Rust box in the timer heap's slab, dropped when it fires or is canceled.
//!    `Closure::forget` is never used.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use js_sys::Function;
use lwt::engine::{Engine, Installed, TimerId, TimerTarget, WakeHandle};
use lwt::Instant;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The largest delay `setTimeout` takes without overflowing (2^31 − 1 ms).
const MAX_JS_DELAY_MS: f64 = 2_147_483_647.0;

use crate::sys::{
    clear_timeout, console_error, has_global, now_ms, queue_microtask, set_immediate, set_timeout,
};
use crate::timers::{Timer, Timers};

/// How the engine gets a macrotask for a turn.
enum TurnSource {
    /// Node: `setImmediate(turn)`.
    Immediate,
    /// Browsers and workers: a message to `port1`, whose `onmessage` is the turn.
    Channel {
        _receiver: web_sys::MessagePort,
        sender: web_sys::MessagePort,
    },
    /// Last resort: `setTimeout(turn, 0)` (clamped by hosts when nested).
    Timeout,
}

/// Counters, for leak checks and for the turn-budget test.
///
/// ```no_run
/// let s = lwt_wasm::stats();
/// assert_eq!(s.timers, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    /// Engine timers armed (sleeps, timeouts) and not yet fired or canceled.
    pub timers: usize,
    /// Whether the one JS timer (`setTimeout`) is armed.
    pub js_timer_armed: bool,
    /// DOM event listeners added by this crate and not yet removed.
    pub listeners: usize,
    /// Animation-frame and idle callbacks requested and not yet run or canceled.
    pub frame_callbacks: usize,
    /// Turns (macrotasks) run so far.
    pub turns: u64,
    /// Calls of [`lwt::engine::run_turn`] so far (several per turn).
    pub snapshots: u64,
    /// The longest a single turn macrotask ran, in milliseconds.
    pub longest_turn_ms: f64,
}

struct State {
    timers: RefCell<Timers>,
    /// The JS timer: the deadline it was armed for, and its handle.
    armed: RefCell<Option<(Instant, JsValue)>>,
    turn_scheduled: Cell<bool>,
    in_turn: Cell<bool>,
    asked_in_turn: Cell<bool>,
    yield_scheduled: Cell<bool>,
    budget_ms: Cell<f64>,
    turns: Cell<u64>,
    snapshots: Cell<u64>,
    longest_turn_ms: Cell<f64>,
    source: TurnSource,
    turn_fn: Function,
    timer_fn: Function,
    yield_fn: Function,
}

/// The engine as the core sees it: a handle on this thread's [`State`].
struct JsEngine(Rc<State>);

thread_local! {
    static ENGINE: RefCell<Option<(Rc<State>, Installed)>> = const { RefCell::new(None) };
    static CLOSURES: RefCell<Vec<Closure<dyn FnMut()>>> = const { RefCell::new(Vec::new()) };
    pub(crate) static LISTENERS: Cell<usize> = const { Cell::new(0) };
    pub(crate) static FRAME_CALLBACKS: Cell<usize> = const { Cell::new(0) };
}

fn ms_to_instant(ms: f64) -> Instant {
    Instant::from_epoch(Duration::from_nanos((ms.max(0.0) * 1_000_000.0) as u64))
}

fn instant_to_ms(t: Instant) -> f64 {
    // `as_nanos` in u64, not u128: the same number for 584 years, without
    // u128's arithmetic in the wasm.
    let d = t.since_epoch();
    let ns = d
        .as_secs()
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(d.subsec_nanos()));
    ns as f64 / 1_000_000.0
}

impl State {
    fn now(&self) -> Instant {
        ms_to_instant(now_ms())
    }

    /// Removes and returns the earliest timer due at `now`.
    fn pop_due(&self, now: Instant) -> Option<Timer> {
        self.timers.borrow_mut().pop_due(now)
    }

    /// Fires the timers due at `now`. Yields come first, before each timer
    /// (the engine contract's rule 5): a microtask would run them only after
    /// this whole macrotask, timers and turns included.
    fn fire_due(&self, now: Instant) {
        lwt::engine::run_yielded();
        while let Some(fire) = self.pop_due(now) {
            fire.run();
            lwt::engine::run_yielded();
        }
    }

    /// Queues a timer, re-arming the JS timer when it is now the earliest.
    fn arm(&self, deadline: Instant, fire: Timer) -> TimerId {
        let id = self.timers.borrow_mut().arm(deadline, fire);
        // Re-arm the JS timer only when this one is now the earliest; inside a
        // turn the end of the turn re-arms anyway.
        let earlier = self
            .armed
            .borrow()
            .as_ref()
            .is_none_or(|(armed_for, _)| deadline < *armed_for);
        if earlier && !self.in_turn.get() {
            self.rearm();
        }
        id
    }

    /// Arms (or clears) the one JS timer for the earliest engine timer.
    fn rearm(&self) {
        let earliest = self.timers.borrow_mut().earliest();
        let armed_for = self.armed.borrow().as_ref().map(|(d, _)| *d);
        if earliest == armed_for {
            return;
        }
        let old = self.armed.borrow_mut().take();
        if let Some((_, handle)) = old {
            clear_timeout(&handle);
        }
        if let Some(deadline) = earliest {
            let delay = (instant_to_ms(deadline) - now_ms())
                .ceil()
                .clamp(0.0, MAX_JS_DELAY_MS);
            let handle = set_timeout(&self.timer_fn, delay);
            *self.armed.borrow_mut() = Some((deadline, handle));
        }
    }

    fn post_turn(&self) {
        match &self.source {
            TurnSource::Immediate => {
                set_immediate(&self.turn_fn);
            }
            TurnSource::Channel { sender, .. } => {
                // A failed post leaves the turn unscheduled; fall back to a timer.
                if sender.post_message(&JsValue::UNDEFINED).is_err() {
                    set_timeout(&self.turn_fn, 0.0);
                }
            }
            TurnSource::Timeout => {
                set_timeout(&self.turn_fn, 0.0);
            }
        }
    }

    fn request_turn(&self) {
        if self.in_turn.get() {
            self.asked_in_turn.set(true);
        } else if !self.turn_scheduled.replace(true) {
            self.post_turn();
        }
    }

    /// The body of a turn macrotask (and of the JS timer's callback): fire due
    /// timers, then resolve snapshots, until idle or out of budget.
    fn run(&self) {
        if self.in_turn.replace(true) {
            return;
        }
        self.turns.set(self.turns.get() + 1);
        let start = now_ms();
        let end = start + self.budget_ms.get();
        let mut now = start;
        let mut snapshots = 0u64;
        // The longest step so far: the turn ends early rather than start a
        // step that would likely run past the budget.
        let mut longest_step = 0.0f64;
        loop {
            let step_start = now;
            self.fire_due(ms_to_instant(now));
            let asked = self.asked_in_turn.replace(false);
            if !asked && !lwt::engine::has_work() {
                break;
            }
            lwt::engine::run_turn();
            snapshots += 1;
            now = now_ms();
            longest_step = longest_step.max(now - step_start);
            if now + longest_step >= end {
                break;
            }
        }
        self.snapshots.set(self.snapshots.get() + snapshots);
        let took = now_ms() - start;
        if took > self.longest_turn_ms.get() {
            self.longest_turn_ms.set(took);
        }
        self.in_turn.set(false);
        if self.asked_in_turn.replace(false) || lwt::engine::has_work() {
            self.request_turn();
        }
        self.rearm();
    }

    fn on_turn(&self) {
        self.turn_scheduled.set(false);
        self.run();
    }

    fn on_timer(&self) {
        // The JS timer fired: it is no longer armed.
        let old = self.armed.borrow_mut().take();
        drop(old);
        self.run();
    }

    fn on_yield(&self) {
        self.yield_scheduled.set(false);
        lwt::engine::run_yielded();
    }
}

impl Engine for JsEngine {
    fn now(&self) -> Instant {
        self.0.now()
    }

    fn arm_timer(&self, deadline: Instant, fire: Box<dyn FnOnce()>) -> TimerId {
        self.0.arm(deadline, Timer::Call(fire))
    }

    fn arm_timer_target(&self, deadline: Instant, target: Rc<dyn TimerTarget>) -> TimerId {
        self.0.arm(deadline, Timer::Target(target))
    }

    fn cancel_timer(&self, timer: TimerId) {
        let s = &self.0;
        let fire = s.timers.borrow_mut().cancel(timer);
        if fire.is_some() {
            drop(fire);
            if s.timers.borrow().len() == 0 && !s.in_turn.get() {
                s.rearm();
            }
        }
    }

    fn request_turn(&self) {
        self.0.request_turn();
    }

    fn request_yield(&self) {
        let s = &self.0;
        if !s.yield_scheduled.replace(true) {
            queue_microtask(&s.yield_fn);
        }
    }

    fn wake_handle(&self) -> WakeHandle {
        // wasm32-unknown-unknown without the atomics feature has no other
        // thread that could hold this handle: waking is a no-op.
        WakeHandle::new(|| {})
    }
}

fn make_closure(f: impl FnMut() + 'static) -> Function {
    let closure = Closure::<dyn FnMut()>::new(f);
    let function: Function = closure.as_ref().unchecked_ref::<Function>().clone();
    CLOSURES.with(|c| c.borrow_mut().push(closure));
    function
}

fn report_to_console(e: &lwt::Error) {
    let value = e.local_payload::<JsValue>().unwrap_or(JsValue::UNDEFINED);
    console_error(&format!("lwt: unhandled rejection: {e}"), &value);
}

/// Installs the JS engine on this thread, if it is not installed yet; then
/// does nothing. The engine stays installed for the life of the thread.
///
/// Every function of this crate calls it, so it is automatic on first use;
/// call it yourself before using only core functions (`lwt::sleep`,
/// `lwt::pause`, `lwt::yield_now`), which need an installed engine. It also
/// sends unhandled rejections to `console.error`, unless an async exception
/// hook was already set.
///
/// ```no_run
/// use wasm_bindgen::prelude::*;
///
/// #[wasm_bindgen(start)]
/// pub fn main() {
///     lwt_wasm::install();
///     lwt::async_(|| lwt::sleep(std::time::Duration::from_secs(1)));
/// }
/// ```
pub fn install() {
    if ENGINE.with(|e| e.borrow().is_some()) {
        return;
    }
    let state = Rc::new_cyclic(|weak: &std::rc::Weak<State>| {
        let w = weak.clone();
        let turn_fn = make_closure(move || {
            if let Some(s) = w.upgrade() {
                s.on_turn();
            }
        });
        let w = weak.clone();
        let timer_fn = make_closure(move || {
            if let Some(s) = w.upgrade() {
                s.on_timer();
            }
        });
        let w = weak.clone();
        let yield_fn = make_closure(move || {
            if let Some(s) = w.upgrade() {
                s.on_yield();
            }
        });
        let source = if has_global("setImmediate") {
            TurnSource::Immediate
        } else {
            match web_sys::MessageChannel::new() {
                Ok(channel) => {
                    let receiver = channel.port1();
                    receiver.set_onmessage(Some(&turn_fn));
                    TurnSource::Channel {
                        _receiver: receiver,
                        sender: channel.port2(),
                    }
                }
                Err(_) => TurnSource::Timeout,
            }
        };
        State {
            timers: RefCell::new(Timers::default()),
            armed: RefCell::new(None),
            turn_scheduled: Cell::new(false),
            in_turn: Cell::new(false),
            asked_in_turn: Cell::new(false),
            yield_scheduled: Cell::new(false),
            budget_ms: Cell::new(5.0),
            turns: Cell::new(0),
            snapshots: Cell::new(0),
            longest_turn_ms: Cell::new(0.0),
            source,
            turn_fn,
            timer_fn,
            yield_fn,
        }
    });
    let installed = lwt::engine::install(Rc::new(JsEngine(state.clone())));
    ENGINE.with(|e| *e.borrow_mut() = Some((state.clone(), installed)));
    let previous = lwt::set_async_exception_hook(Some(Box::new(report_to_console)));
    if previous.is_some() {
        lwt::set_async_exception_hook(previous);
    }
    // Work queued before the engine existed (pauses, yields) gets its turn.
    if lwt::engine::has_work() {
        state.request_turn();
    }
}

fn with_state<R>(f: impl FnOnce(&State) -> R) -> R {
    install();
    let state = ENGINE.with(|e| e.borrow().as_ref().map(|(s, _)| s.clone()));
    let state = state.expect("install() installs the engine");
    f(&state)
}

/// Sets the turn budget: how long one turn macrotask may keep resolving
/// paused promises before it hands back to the host (5 ms by default). The
/// budget is checked between snapshots: a turn ends when one more snapshot,
/// taking as long as the longest of this turn so far, would pass it. A
/// single snapshot longer than the budget still runs to its end.
///
/// ```no_run
/// lwt_wasm::set_turn_budget(std::time::Duration::from_millis(8));
/// assert_eq!(lwt_wasm::turn_budget().as_millis(), 8);
/// ```
pub fn set_turn_budget(budget: Duration) {
    with_state(|s| s.budget_ms.set(budget.as_secs_f64() * 1000.0));
}

/// The turn budget (see [`set_turn_budget`]).
///
/// ```no_run
/// assert_eq!(lwt_wasm::turn_budget().as_millis(), 5);
/// ```
pub fn turn_budget() -> Duration {
    with_state(|s| Duration::from_secs_f64(s.budget_ms.get() / 1000.0))
}

/// The engine's counters: live timers, listeners and frame callbacks (all
/// zero when nothing is pending), turns run, the longest turn.
///
/// ```no_run
/// let p = lwt_wasm::sleep(std::time::Duration::from_secs(60));
/// assert_eq!(lwt_wasm::stats().timers, 1);
/// p.cancel();
/// assert_eq!(lwt_wasm::stats().timers, 0);
/// assert!(!lwt_wasm::stats().js_timer_armed);
/// ```
pub fn stats() -> Stats {
    with_state(|s| Stats {
        timers: s.timers.borrow().len(),
        js_timer_armed: s.armed.borrow().is_some(),
        listeners: LISTENERS.with(Cell::get),
        frame_callbacks: FRAME_CALLBACKS.with(Cell::get),
        turns: s.turns.get(),
        snapshots: s.snapshots.get(),
        longest_turn_ms: s.longest_turn_ms.get(),
    })
}

/// Resets [`Stats::longest_turn_ms`] to zero, to measure one stretch of work.
///
/// ```no_run
/// lwt_wasm::reset_longest_turn();
/// assert_eq!(lwt_wasm::stats().longest_turn_ms, 0.0);
/// ```
pub fn reset_longest_turn() {
    with_state(|s| s.longest_turn_ms.set(0.0));
}

/// The engine's clock: `performance.now()`, as an [`lwt::Instant`] (the time
/// since the page, worker or process started).
///
/// ```no_run
/// let a = lwt_wasm::now();
/// let b = lwt_wasm::now();
/// assert!(b >= a);
/// ```
pub fn now() -> Instant {
    install();
    ms_to_instant(now_ms())
}
