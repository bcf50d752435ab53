//! Benchmarks exported to the in-browser harness (bench.html).
use lwt::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn now() -> f64;
}

/// Builds a chain of `n` binds on a pending promise, resolves it; returns ms.
#[wasm_bindgen]
pub fn lwt_chain(n: u32) -> f64 {
    let t0 = now();
    let (first, r) = lwt::wait::<u32>();
    let mut p = first;
    for _ in 0..n {
        p = p.bind(|x| Promise::resolved(x + 1));
    }
    r.resolve(0).unwrap();
    assert_eq!(p.peek().unwrap().unwrap(), n);
    now() - t0
}

/// The same chain with wasm-bindgen-futures: `n` dependent `JsFuture` awaits in
/// one `spawn_local` task. Resolves with ms.
#[wasm_bindgen]
pub fn wbf_chain(n: u32) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(async move {
        let t0 = now();
        let mut v = 0u32;
        for _ in 0..n {
            let p = js_sys::Promise::resolve(&JsValue::from(v));
            v = JsFuture::from(p).await?.as_f64().unwrap() as u32 + 1;
        }
        assert_eq!(v, n);
        Ok(JsValue::from(now() - t0))
    })
}

/// Lwt's pending-bind loop: make a pending promise, bind the rest of the
/// loop on it, resolve it with `resolve_later` (callbacks only, no task).
fn pending_bind_loop(n: u32) -> Promise<u32> {
    if n == 0 {
        return Promise::resolved(0);
    }
    let (p, r) = lwt::wait::<u32>();
    let rest = p.bind(move |_| pending_bind_loop(n - 1));
    r.resolve_later(Ok(n)).unwrap();
    rest
}

/// `n` steps of [`pending_bind_loop`]; returns ms.
#[wasm_bindgen]
pub fn lwt_pending_bind(n: u32) -> f64 {
    let t0 = now();
    let p = pending_bind_loop(n);
    assert_eq!(p.peek().unwrap().unwrap(), 0);
    now() - t0
}

/// Lwt's recursion on resolved promises: `resolved(acc + 1).bind(loop)`.
fn resolved_recursion(acc: u32, n: u32) -> Promise<u32> {
    if acc == n {
        return Promise::resolved(acc);
    }
    Promise::resolved(acc + 1).bind(move |a| resolved_recursion(a, n))
}

/// `n` steps of `resolved(acc + 1).bind(loop)`, no task; returns ms.
#[wasm_bindgen]
pub fn lwt_resolved_binds(n: u32) -> f64 {
    let t0 = now();
    let p = resolved_recursion(0, n);
    assert_eq!(p.peek().unwrap().unwrap(), n);
    now() - t0
}

/// `n` awaits of `Promise::resolved(acc + 1)` in one spawned task;
/// resolves with ms.
#[wasm_bindgen]
pub fn lwt_resolved_awaits(n: u32) -> js_sys::Promise {
    lwt_wasm::install();
    let t0 = now();
    let done = lwt::spawn(async move {
        let mut acc = 0u32;
        for _ in 0..n {
            acc = Promise::resolved(acc + 1).await?;
        }
        assert_eq!(acc, n);
        Ok(JsValue::from(now() - t0))
    });
    lwt_wasm::to_js(&done)
}

fn pause_loop(n: u32) -> Promise<()> {
    if n == 0 {
        return Promise::resolved(());
    }
    lwt::pause().bind(move |()| pause_loop(n - 1))
}

/// `n` pauses in a loop; resolves with [ms, turns, longest turn ms].
#[wasm_bindgen]
pub fn lwt_pause_loop(n: u32) -> js_sys::Promise {
    lwt_wasm::install();
    lwt_wasm::reset_longest_turn();
    let before = lwt_wasm::stats();
    let t0 = now();
    let done = pause_loop(n).map(move |()| {
        let after = lwt_wasm::stats();
        let a = js_sys::Array::new();
        a.push(&JsValue::from(now() - t0));
        a.push(&JsValue::from((after.turns - before.turns) as f64));
        a.push(&JsValue::from(after.longest_turn_ms));
        JsValue::from(a)
    });
    lwt_wasm::to_js(&done)
}

/// JS → lwt → JS: awaits `p` as an lwt promise, returns it as a JS promise.
#[wasm_bindgen]
pub fn lwt_echo(p: js_sys::Promise) -> js_sys::Promise {
    lwt_wasm::to_js(&lwt_wasm::from_js(&p))
}

/// JS → JsFuture → JS, for comparison.
#[wasm_bindgen]
pub fn wbf_echo(p: js_sys::Promise) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(async move { JsFuture::from(p).await })
}

/// The engine's turn budget in ms (the pause loop's turns should end by it).
#[wasm_bindgen]
pub fn lwt_turn_budget_ms() -> f64 {
    lwt_wasm::turn_budget().as_secs_f64() * 1000.0
}
