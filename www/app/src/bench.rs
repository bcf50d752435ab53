//! Promise chains, timed in the page (bench.html) against JS promises and
//! wasm-bindgen-futures.

use lwt::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

fn now() -> f64 {
    lwt_wasm::now().since_epoch().as_secs_f64() * 1000.0
}

/// Builds `n` dependent `bind`s on a pending promise, resolves it, checks
/// the end; returns the milliseconds taken.
#[wasm_bindgen]
pub fn bench_lwt_chain(n: u32) -> f64 {
    let t0 = now();
    let (first, r) = lwt::wait::<u32>();
    let mut p = first;
    for _ in 0..n {
        p = p.bind(|x| Promise::resolved(x + 1));
    }
    let _ = r.resolve(0);
    assert_eq!(p.peek().and_then(Result::ok), Some(n));
    now() - t0
}

/// `n` dependent `.await`s of lwt promises in one `lwt::spawn` task, each
/// on a promise resolved after the task waits; returns the milliseconds.
#[wasm_bindgen]
pub fn bench_lwt_async_chain(n: u32) -> f64 {
    let t0 = now();
    let (start, go) = lwt::wait::<u32>();
    let task = lwt::spawn(async move {
        let mut v = start.await?;
        for _ in 0..n {
            v = Promise::resolved(v + 1).await?;
        }
        Ok(v)
    });
    let _ = go.resolve(0);
    assert_eq!(task.peek().and_then(Result::ok), Some(n));
    now() - t0
}

/// `n` dependent `JsFuture` awaits in one wasm-bindgen-futures task; a JS
/// promise of the milliseconds.
#[wasm_bindgen]
pub fn bench_wbf_chain(n: u32) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(async move {
        let t0 = now();
        let mut v = 0u32;
        for _ in 0..n {
            let p = js_sys::Promise::resolve(&JsValue::from(v));
            v = JsFuture::from(p).await?.as_f64().unwrap_or(0.0) as u32 + 1;
        }
        Ok(JsValue::from(now() - t0))
    })
}
