//! Test bodies shared by the Node and the Chromium runs.
//!
//! Ordering tests spell out the expected sequence in a comment.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use lwt::testing::Log;
use lwt::{Error, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

fn js_fn(args: &str, body: &str) -> js_sys::Function {
    js_sys::Function::new_with_args(args, body)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ---------------------------------------------------------------- engine

#[wasm_bindgen_test]
async fn sleeps_fire_in_deadline_order_never_early() {
    let seen = Log::<u32>::default();
    let start = lwt_wasm::now();
    let mut all = Vec::new();
    for d in [30u32, 10, 20] {
        let s = seen.clone();
        all.push(lwt_wasm::sleep(ms(d.into())).map(move |()| {
            let elapsed = lwt_wasm::now() - start;
            assert!(
                elapsed >= ms(d.into()),
                "{d} ms sleep fired after {elapsed:?}"
            );
            s.push(d)
        }));
    }
    lwt::join(all).await.unwrap();
    // 10, then 20, then 30.
    assert_eq!(seen.get(), [10, 20, 30]);
    assert_eq!(lwt_wasm::stats().timers, 0);
}

#[wasm_bindgen_test]
async fn equal_deadlines_fire_fifo() {
    let seen = Log::<u32>::default();
    let at = lwt_wasm::now() + ms(5);
    let all: Vec<_> = (0..5u32)
        .map(|i| {
            let s = seen.clone();
            lwt::sleep_until(at).map(move |()| s.push(i))
        })
        .collect();
    lwt::join(all).await.unwrap();
    // In arming order: 0, 1, 2, 3, 4.
    assert_eq!(seen.get(), [0, 1, 2, 3, 4]);
}

#[wasm_bindgen_test]
async fn timer_churn_and_stale_ids() {
    lwt_wasm::install();
    let engine = lwt::engine::current().expect("installed");
    // A timer that fires, then one armed right after it, which reuses its
    // slot: canceling the first one's id again must not touch the second.
    let fired = Rc::new(Cell::new(0u32));
    let (first_fired, done) = lwt::wait::<()>();
    let f = fired.clone();
    let first = engine.arm_timer(
        lwt_wasm::now(),
        Box::new(move || {
            f.set(f.get() + 1);
            done.resolve(()).unwrap();
        }),
    );
    // Resumed inside the first timer's closure: its slot is the last freed.
    first_fired.await.unwrap();
    assert_eq!(fired.get(), 1);
    let f = fired.clone();
    let second = engine.arm_timer(
        lwt_wasm::now() + ms(5),
        Box::new(move || f.set(f.get() + 10)),
    );
    assert_eq!(first.0 as u32, second.0 as u32, "the slot is reused");
    engine.cancel_timer(first); // stale: does nothing
    assert_eq!(lwt_wasm::stats().timers, 1);
    // Arming and canceling far-off sleeps over and over leaves nothing behind,
    // and the near timer still fires on time.
    for _ in 0..50 {
        let far: Vec<_> = (0..200)
            .map(|_| lwt_wasm::sleep(Duration::from_secs(3600)))
            .collect();
        far.iter().for_each(Promise::cancel);
    }
    assert_eq!(lwt_wasm::stats().timers, 1);
    lwt_wasm::sleep(ms(10)).await.unwrap();
    assert_eq!(fired.get(), 11);
    let s = lwt_wasm::stats();
    assert_eq!(s.timers, 0);
    assert!(!s.js_timer_armed);
}

#[wasm_bindgen_test]
async fn yield_is_a_microtask_pause_a_macrotask() {
    let y = lwt_wasm::yield_now();
    let p = lwt_wasm::pause();
    // A JS microtask queued after the yield's: the yield ran, the pause did not.
    JsFuture::from(js_sys::Promise::resolve(&JsValue::NULL))
        .await
        .unwrap();
    assert!(y.is_fulfilled());
    assert!(p.is_pending());
    p.await.unwrap();
}

#[wasm_bindgen_test]
async fn timeout_and_with_timeout() {
    let t = lwt_wasm::timeout::<u8>(ms(5)).await;
    assert!(t.unwrap_err().is_timeout());
    let (slow, _r) = lwt::task::<u8>();
    let e = lwt_wasm::with_timeout(ms(5), &slow).await.unwrap_err();
    assert!(e.is_timeout());
    assert!(slow.peek().unwrap().unwrap_err().is_canceled());
    let fast = lwt_wasm::with_timeout(ms(1000), &lwt_wasm::sleep(ms(1)).map(|()| 3u8));
    assert_eq!(fast.await.unwrap(), 3);
    assert_eq!(lwt_wasm::stats().timers, 0);
}

#[wasm_bindgen_test]
async fn sleeps_longer_than_2_pow_31_ms() {
    let long = lwt_wasm::sleep(Duration::from_millis(1 << 32));
    lwt_wasm::sleep(ms(30)).await.unwrap();
    assert!(
        long.is_pending(),
        "setTimeout overflow would have fired it at once"
    );
    assert_eq!(lwt_wasm::stats().timers, 1);
    long.cancel();
    let s = lwt_wasm::stats();
    assert_eq!(s.timers, 0);
    assert!(!s.js_timer_armed);
    let forever = lwt_wasm::sleep(Duration::MAX);
    assert!(forever.is_pending());
    forever.cancel();
}

fn pause_loop(n: u32) -> Promise<()> {
    if n == 0 {
        return Promise::resolved(());
    }
    lwt::pause().bind(move |()| pause_loop(n - 1))
}

#[wasm_bindgen_test]
async fn pause_loop_runs_many_pauses_per_turn_within_budget() {
    lwt_wasm::install();
    // A JS timer chain that counts how often the host got control back.
    js_fn(
        "",
        "globalThis.__ticks = 0; globalThis.__stop = false; \
         const tick = () => { globalThis.__ticks++; if (!globalThis.__stop) setTimeout(tick, 0); }; \
         setTimeout(tick, 0);",
    )
    .call0(&JsValue::NULL)
    .unwrap();
    lwt_wasm::reset_longest_turn();
    let before = lwt_wasm::stats();
    let n = 200_000;
    pause_loop(n).await.unwrap();
    let after = lwt_wasm::stats();
    let ticks = js_sys::Reflect::get(&js_sys::global(), &"__ticks".into())
        .unwrap()
        .as_f64()
        .unwrap();
    js_sys::Reflect::set(&js_sys::global(), &"__stop".into(), &true.into()).unwrap();
    let turns = after.turns - before.turns;
    assert!(
        turns < u64::from(n) / 10,
        "one macrotask per turn, not per pause: {turns} turns"
    );
    let budget = lwt_wasm::turn_budget().as_secs_f64() * 1000.0;
    // Generous: on a loaded machine the process itself can be preempted
    // inside a step; the bench harness reports the real distribution.
    assert!(
        after.longest_turn_ms < budget + 150.0,
        "longest turn {} ms",
        after.longest_turn_ms
    );
    if turns > 2 {
        assert!(ticks >= 1.0, "the host's timers ran during the loop");
    }
}

#[wasm_bindgen_test]
async fn a_user_pause_notifier_leaves_the_engine_connected() {
    lwt_wasm::install();
    let seen = Rc::new(Cell::new(0));
    let s = seen.clone();
    lwt::register_pause_notifier(Some(Box::new(move |n| s.set(n))));
    lwt::pause().await.unwrap();
    assert_eq!(seen.get(), 1);
    // Removing it must not leave pauses waiting for some other turn (here, a
    // timer's): the pause still gets a turn of its own, well before 500 ms.
    lwt::register_pause_notifier(None);
    let paused = lwt::pause().map(|()| "pause");
    let timer = lwt::sleep(ms(500)).map(|()| "timer");
    assert_eq!(lwt::pick(vec![paused, timer]).await.unwrap(), "pause");
    assert_eq!(seen.get(), 1);
}

#[wasm_bindgen_test]
async fn core_functions_work_once_installed() {
    lwt_wasm::install();
    lwt::sleep(ms(1)).await.unwrap();
    lwt::pause().await.unwrap();
    assert!(lwt::now().is_ok());
}

// ---------------------------------------------------------------- stack

#[wasm_bindgen_test]
async fn a_million_dependent_binds_do_not_exhaust_the_stack() {
    let (first, r) = lwt::wait::<u64>();
    let mut p = first;
    for _ in 0..1_000_000 {
        p = p.bind(|x| Promise::resolved(x + 1));
    }
    r.resolve(0).unwrap();
    assert_eq!(p.peek().unwrap().unwrap(), 1_000_000);
}

fn chain(first: Promise<u64>, n: u64) -> Promise<u64> {
    let mut p = first;
    for _ in 0..n {
        p = p.bind(|x| lwt::Promise::resolved(x + 1));
    }
    p
}

#[wasm_bindgen_test]
async fn a_million_step_pending_chain_resolved_from_a_timer() {
    let (first, r) = lwt::wait::<u64>();
    let last = chain(first, 1_000_000);
    let _timer = lwt_wasm::sleep(ms(1)).map(move |()| r.resolve(0).unwrap());
    assert_eq!(last.await.unwrap(), 1_000_000);
}

// ---------------------------------------------------------------- bridge

#[wasm_bindgen_test]
async fn js_to_lwt_value() {
    let v = lwt_wasm::from_js(&js_sys::Promise::resolve(&JsValue::from(42)))
        .await
        .unwrap();
    assert_eq!(v.as_f64(), Some(42.0));
}

#[wasm_bindgen_test]
async fn js_rejection_keeps_the_original_value_both_ways() {
    let original = js_fn(
        "",
        "const e = new RangeError('bad'); e.extra = 7; return e;",
    )
    .call0(&JsValue::NULL)
    .unwrap();
    let e = lwt_wasm::from_js(&js_sys::Promise::reject(&original))
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "RangeError: bad");
    let kept = e.local_payload::<JsValue>().unwrap();
    assert!(js_sys::Object::is(&kept, &original));
    // Back to JS, through a context layer: the very same object.
    let back = Promise::<u8>::rejected(e.context("loading"));
    let got = JsFuture::from(lwt_wasm::to_js(&back)).await.unwrap_err();
    assert!(js_sys::Object::is(&got, &original));
    // A non-Error value too.
    let e = lwt_wasm::from_js(&js_sys::Promise::reject(&"plain".into()))
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "plain");
}

#[wasm_bindgen_test]
async fn lwt_to_js_values_and_errors() {
    let (p, r) = lwt::wait::<u32>();
    let js = lwt_wasm::to_js(&p);
    r.resolve(7).unwrap();
    assert_eq!(JsFuture::from(js).await.unwrap().as_f64(), Some(7.0));

    let name_message = |v: &JsValue| {
        let get = |k: &str| {
            js_sys::Reflect::get(v, &k.into())
                .unwrap()
                .as_string()
                .unwrap()
        };
        (get("name"), get("message"))
    };
    let failed = JsFuture::from(lwt_wasm::to_js(&Promise::<u32>::rejected(Error::msg(
        "boom",
    ))))
    .await
    .unwrap_err();
    assert!(failed.is_instance_of::<js_sys::Error>());
    assert_eq!(name_message(&failed), ("Error".into(), "boom".into()));
    let timed_out = JsFuture::from(lwt_wasm::to_js(&lwt_wasm::timeout::<u32>(ms(1))))
        .await
        .unwrap_err();
    assert_eq!(name_message(&timed_out).0, "TimeoutError");

    let (c, _r) = lwt::task::<u32>();
    let js = lwt_wasm::to_js(&c);
    c.cancel();
    let aborted = JsFuture::from(js).await.unwrap_err();
    assert_eq!(name_message(&aborted).0, "AbortError");
}

/// An async function exported to JS.
#[wasm_bindgen]
pub fn exported_double_later(x: u32) -> js_sys::Promise {
    lwt_wasm::spawn_js(async move {
        lwt_wasm::pause().await?;
        lwt_wasm::sleep(Duration::from_millis(1)).await?;
        Ok(x * 2)
    })
}

#[wasm_bindgen_test]
async fn exported_async_function_returns_a_js_promise() {
    let v = JsFuture::from(exported_double_later(21)).await.unwrap();
    assert_eq!(v.as_f64(), Some(42.0));
    // Awaited from JS code too.
    let then = js_fn("p", "return p.then(v => v + 1);");
    let js = then
        .call1(&JsValue::NULL, &exported_double_later(1))
        .unwrap();
    let v = JsFuture::from(js.unchecked_into::<js_sys::Promise>())
        .await
        .unwrap();
    assert_eq!(v.as_f64(), Some(3.0));
}

#[wasm_bindgen_test]
async fn cancel_aborts_the_controller() {
    let seen_signal: Rc<RefCell<Option<web_sys::AbortSignal>>> = Rc::default();
    let s = seen_signal.clone();
    let wait_abort = js_fn(
        "signal",
        "return new Promise((resolve, reject) => \
           signal.addEventListener('abort', () => reject(signal.reason), { once: true }));",
    );
    let p = lwt_wasm::abortable(move |signal| {
        *s.borrow_mut() = Some(signal.clone());
        wait_abort
            .call1(&JsValue::NULL, signal)
            .unwrap()
            .unchecked_into()
    });
    let signal = seen_signal.borrow().clone().unwrap();
    assert!(!signal.aborted());
    p.cancel();
    assert!(signal.aborted());
    assert!(p.peek().unwrap().unwrap_err().is_canceled());
    // Through with_timeout as well.
    let q = lwt_wasm::abortable(|_signal| js_sys::Promise::new(&mut |_, _| {}));
    let e = lwt_wasm::with_timeout(ms(2), &q).await.unwrap_err();
    assert!(e.is_timeout());
    assert!(q.peek().unwrap().unwrap_err().is_canceled());
}

#[wasm_bindgen_test]
async fn abort_signal_cancels_lwt() {
    let controller = web_sys::AbortController::new().unwrap();
    let p = lwt_wasm::cancel_on_abort(
        &lwt_wasm::sleep(Duration::from_secs(60)),
        &controller.signal(),
    );
    assert_eq!(lwt_wasm::stats().listeners, 1);
    controller.abort();
    assert!(p.peek().unwrap().unwrap_err().is_canceled());
    let s = lwt_wasm::stats();
    assert_eq!((s.listeners, s.timers), (0, 0));
}

// ---------------------------------------------------------------- events

fn dispatch(target: &web_sys::EventTarget, kind: &str) -> bool {
    let init = web_sys::EventInit::new();
    init.set_cancelable(true);
    let ev = web_sys::Event::new_with_event_init_dict(kind, &init).unwrap();
    target.dispatch_event(&ev).unwrap()
}

#[wasm_bindgen_test]
async fn one_shot_event_runs_continuations_inside_the_dispatch() {
    let target = web_sys::EventTarget::new().unwrap();
    let p = lwt_wasm::event(&target, "go").map(|e| {
        e.prevent_default();
        e.type_()
    });
    assert_eq!(lwt_wasm::stats().listeners, 1);
    let not_prevented = dispatch(&target, "go");
    assert!(!not_prevented, "preventDefault worked");
    assert_eq!(p.peek().unwrap().unwrap(), "go");
    assert_eq!(lwt_wasm::stats().listeners, 0);
    // A second dispatch reaches nobody.
    assert!(dispatch(&target, "go"));
}

#[wasm_bindgen_test]
async fn canceled_event_removes_its_listener() {
    let target = web_sys::EventTarget::new().unwrap();
    let p = lwt_wasm::event(&target, "go");
    p.cancel();
    assert_eq!(lwt_wasm::stats().listeners, 0);
    assert!(p.peek().unwrap().unwrap_err().is_canceled());
    dispatch(&target, "go");
}

#[wasm_bindgen_test]
async fn seq_loop_handles_one_at_a_time() {
    let target = web_sys::EventTarget::new().unwrap();
    let count = Rc::new(Cell::new(0u32));
    let c = count.clone();
    let looping = lwt_wasm::seq_loop::<web_sys::Event>(&target, "tick", move |_| {
        c.set(c.get() + 1);
        lwt_wasm::sleep(ms(5))
    });
    dispatch(&target, "tick"); // handled
    dispatch(&target, "tick"); // lost: the handler is running
    assert_eq!(count.get(), 1);
    lwt_wasm::sleep(ms(20)).await.unwrap();
    dispatch(&target, "tick"); // handled
    assert_eq!(count.get(), 2);
    looping.cancel();
    let s = lwt_wasm::stats();
    assert_eq!((s.listeners, s.timers), (0, 0));
}

#[wasm_bindgen_test]
async fn buffered_loop_queues_async_loop_overlaps() {
    let target = web_sys::EventTarget::new().unwrap();
    let seen = Log::<u32>::default();
    let s = seen.clone();
    let n = Rc::new(Cell::new(0u32));
    let buffered = lwt_wasm::buffered_loop::<web_sys::Event>(&target, "b", move |_| {
        n.set(n.get() + 1);
        let s = s.clone();
        let i = n.get();
        lwt_wasm::sleep(ms(2)).map(move |()| s.push(i))
    });
    for _ in 0..3 {
        dispatch(&target, "b");
    }
    lwt_wasm::sleep(ms(40)).await.unwrap();
    // All three, in order, none lost.
    assert_eq!(seen.get(), [1, 2, 3]);
    buffered.cancel();

    let running = Rc::new(Cell::new(0u32));
    let r = running.clone();
    let concurrent = lwt_wasm::async_loop::<web_sys::Event>(&target, "a", move |_| {
        r.set(r.get() + 1);
        lwt_wasm::sleep(Duration::from_secs(60))
    });
    for _ in 0..3 {
        dispatch(&target, "a");
    }
    assert_eq!(running.get(), 3);
    assert_eq!(lwt_wasm::stats().timers, 3);
    concurrent.cancel();
    let s = lwt_wasm::stats();
    assert_eq!((s.listeners, s.timers), (0, 0));
}

#[wasm_bindgen_test]
async fn debounced_loop_runs_once_after_quiet() {
    let target = web_sys::EventTarget::new().unwrap();
    let count = Rc::new(Cell::new(0u32));
    let c = count.clone();
    let looping = lwt_wasm::debounced_loop::<web_sys::Event>(&target, "k", ms(10), move |_| {
        c.set(c.get() + 1);
        Promise::resolved(())
    });
    for _ in 0..5 {
        dispatch(&target, "k");
        lwt_wasm::sleep(ms(2)).await.unwrap();
    }
    assert_eq!(count.get(), 0);
    lwt_wasm::sleep(ms(30)).await.unwrap();
    assert_eq!(count.get(), 1);
    looping.cancel();
    let s = lwt_wasm::stats();
    assert_eq!((s.listeners, s.timers), (0, 0));
}

#[wasm_bindgen_test]
async fn event_stream_next_and_stream() {
    use futures_core::Stream;
    let target = web_sys::EventTarget::new().unwrap();
    let stream = lwt_wasm::events::<web_sys::Event>(&target, "s");
    let first = stream.next();
    dispatch(&target, "s");
    assert!(first.is_fulfilled());
    dispatch(&target, "s");
    dispatch(&target, "s");
    assert_eq!(stream.queued(), 2);
    let mut stream = Box::pin(stream);
    let got = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await;
    assert!(got.is_some());
    stream.close();
    assert_eq!(lwt_wasm::stats().listeners, 0);
    let got = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await;
    assert!(got.is_some()); // still queued
    let got = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await;
    assert!(got.is_none());
    // Dropping a stream removes its listener.
    let other = lwt_wasm::events::<web_sys::Event>(&target, "t");
    assert_eq!(lwt_wasm::stats().listeners, 1);
    drop(other);
    assert_eq!(lwt_wasm::stats().listeners, 0);
}

#[wasm_bindgen_test]
async fn ten_thousand_waits_and_sleeps_leave_nothing_behind() {
    let target = web_sys::EventTarget::new().unwrap();
    let mut waits = Vec::new();
    for i in 0..10_000u64 {
        waits.push(lwt_wasm::event(&target, "never").ignore());
        waits.push(lwt_wasm::sleep(ms(1_000 + i)));
    }
    let s = lwt_wasm::stats();
    assert_eq!((s.listeners, s.timers), (10_000, 10_000));
    assert!(s.js_timer_armed);
    for w in &waits {
        w.cancel();
    }
    let s = lwt_wasm::stats();
    assert_eq!((s.listeners, s.timers), (0, 0));
    assert!(!s.js_timer_armed);
    // Fired ones release too.
    let fired: Vec<_> = (0..10_000)
        .map(|_| lwt_wasm::event(&target, "once"))
        .collect();
    dispatch(&target, "once");
    assert!(fired.iter().all(Promise::is_fulfilled));
    let slept: Vec<_> = (0..10_000).map(|_| lwt_wasm::sleep(ms(1))).collect();
    lwt::join(slept).await.unwrap();
    let s = lwt_wasm::stats();
    assert_eq!((s.listeners, s.timers, s.frame_callbacks), (0, 0, 0));
    assert!(!s.js_timer_armed);
}

// ---------------------------------------------------------------- fetch

#[wasm_bindgen_test]
async fn fetch_bodies_from_data_urls() {
    let text = lwt_wasm::fetch_with_init("data:text/plain,hello", &web_sys::RequestInit::new())
        .bind(|r| lwt::from_result(r.error_for_status()))
        .bind(|r| r.text())
        .await
        .unwrap();
    assert_eq!(text, "hello");
    let json = lwt_wasm::fetch_with_init(
        "data:application/json,[1,2,3]",
        &web_sys::RequestInit::new(),
    )
    .bind(|r| r.json())
    .await
    .unwrap();
    assert_eq!(js_sys::Array::from(&json).length(), 3);
    let req = web_sys::Request::new_with_str("data:application/octet-stream,abc").unwrap();
    let bytes = lwt_wasm::fetch(&req).bind(|r| r.bytes()).await.unwrap();
    assert_eq!(bytes, b"abc");
}

#[wasm_bindgen_test]
async fn fetch_errors_carry_status_and_message() {
    let init = web_sys::ResponseInit::new();
    init.set_status(404);
    init.set_status_text("Not Found");
    let raw = web_sys::Response::new_with_opt_str_and_init(Some("nope"), &init).unwrap();
    let e = lwt_wasm::Response::from_raw(raw)
        .error_for_status()
        .unwrap_err();
    let http = e.downcast_ref::<lwt_wasm::HttpError>().unwrap();
    assert_eq!((http.status, http.status_text.as_str()), (404, "Not Found"));
    assert!(e.to_string().starts_with("HTTP 404 Not Found"));
    // A network failure keeps the JS error and names the URL.
    let e = lwt_wasm::fetch_with_init("http://127.0.0.1:9/nothing", &web_sys::RequestInit::new())
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("fetch http://127.0.0.1:9/nothing"),
        "{e}"
    );
    assert!(e.local_payload::<JsValue>().is_some());
}

#[wasm_bindgen_test]
async fn fetch_cancel_aborts() {
    let p = lwt_wasm::fetch_with_init("data:text/plain,x", &web_sys::RequestInit::new());
    p.cancel();
    assert!(p.peek().unwrap().unwrap_err().is_canceled());
    // The aborted JS promise settles later without disturbing anything.
    lwt_wasm::sleep(ms(5)).await.unwrap();
}

// ------------------------------------------------ tasks owned by their wakers

/// A JS promise fulfilled with `v` by a `setTimeout` of `ms`.
fn js_later(ms: u32, v: u32) -> js_sys::Promise {
    js_sys::Promise::new(&mut |resolve, _reject| {
        js_fn("f, ms, v", "setTimeout(() => f(v), ms)")
            .call3(&JsValue::UNDEFINED, &resolve, &ms.into(), &v.into())
            .unwrap();
    })
}

/// Awaits a `JsFuture` (a foreign future: wasm-bindgen-futures' waker, not
/// an lwt promise) of `js_later(ms, v)`.
async fn js_value_later(ms: u32, v: u32) -> Result<u32, Error> {
    let value = JsFuture::from(js_later(ms, v))
        .await
        .map_err(lwt_wasm::js_to_error)?;
    Ok(value.as_f64().unwrap_or(-1.0) as u32)
}

/// Tasks awaiting `JsFuture`s whose promises nobody keeps (dropped,
/// `async_`, `dont_wait`, `spawn_js`'s JS promise dropped) complete: their
/// wakers own them.
#[wasm_bindgen_test]
async fn dropped_tasks_awaiting_js_futures_complete() {
    lwt_wasm::install();
    let (d1, r1) = lwt::wait::<u32>();
    drop(lwt::spawn(async move {
        r1.resolve(js_value_later(5, 1).await?)
    }));
    let (d2, r2) = lwt::wait::<u32>();
    lwt::async_(move || lwt::spawn(async move { r2.resolve(js_value_later(3, 2).await?) }));
    let (d3, r3) = lwt::wait::<u32>();
    lwt::dont_wait(
        move || lwt::spawn(async move { r3.resolve(js_value_later(1, 3).await?) }),
        |e| panic!("dont_wait: {e}"),
    );
    let (d4, r4) = lwt::wait::<u32>();
    drop(lwt_wasm::spawn_js(async move {
        let v = js_value_later(2, 4).await?;
        r4.resolve(v)?;
        Ok(v)
    }));
    assert_eq!(lwt::all(vec![d1, d2, d3, d4]).await.unwrap(), [1, 2, 3, 4]);
}

/// A dropped task awaiting a `futures` oneshot sent from a JS timer's
/// callback completes.
#[wasm_bindgen_test]
async fn dropped_task_awaiting_a_channel_fed_by_a_js_timer() {
    lwt_wasm::install();
    let (tx, rx) = futures::channel::oneshot::channel::<u32>();
    let (done, r) = lwt::wait::<u32>();
    drop(lwt::spawn(async move {
        r.resolve(rx.await.map_err(Error::new)?)
    }));
    let tx = RefCell::new(Some(tx));
    let send = Closure::<dyn FnMut()>::new(move || {
        if let Some(tx) = tx.borrow_mut().take() {
            tx.send(8).expect("the receiver was dropped with its task");
        }
    });
    js_fn("f", "setTimeout(f, 3)")
        .call1(&JsValue::UNDEFINED, send.as_ref())
        .unwrap();
    assert_eq!(done.await.unwrap(), 8);
    drop(send);
}

/// An aborted task awaiting a `JsFuture` is freed at once (its future is
/// dropped); the JS promise settling later wakes nothing.
#[wasm_bindgen_test]
async fn aborted_task_awaiting_a_js_future_is_freed() {
    struct Flag(Rc<Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    lwt_wasm::install();
    let dropped = Rc::new(Cell::new(false));
    let flag = Flag(dropped.clone());
    let t = lwt::spawn(async move {
        let _flag = flag;
        js_value_later(2, 5).await
    });
    lwt::pause().await.unwrap();
    assert!(!dropped.get());
    t.abort();
    assert!(dropped.get());
    lwt_wasm::sleep(ms(10)).await.unwrap();
    assert!(t.peek().unwrap().unwrap_err().is_canceled());
}
