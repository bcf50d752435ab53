//! A minimal app on lwt-wasm: await a JS promise, sleep, answer.
use wasm_bindgen::prelude::*;

/// Awaits `p`, sleeps 10 ms, returns its value doubled.
#[wasm_bindgen]
pub fn run(p: js_sys::Promise) -> js_sys::Promise {
    lwt_wasm::spawn_js(async move {
        let v = lwt_wasm::from_js(&p).await?;
        lwt_wasm::sleep(std::time::Duration::from_millis(10)).await?;
        Ok(v.as_f64().unwrap_or(0.0) * 2.0)
    })
}
