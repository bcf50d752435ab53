//! The same app on wasm-bindgen-futures alone.
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(f: &js_sys::Function, ms: f64) -> JsValue;
}

/// Awaits `p`, sleeps 10 ms, returns its value doubled.
#[wasm_bindgen]
pub fn run(p: js_sys::Promise) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(async move {
        let v = JsFuture::from(p).await?;
        let sleep = js_sys::Promise::new(&mut |resolve, _| {
            set_timeout(&resolve, 10.0);
        });
        JsFuture::from(sleep).await?;
        Ok(JsValue::from(v.as_f64().unwrap_or(0.0) * 2.0))
    })
}
