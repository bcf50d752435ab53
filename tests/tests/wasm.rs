//! The conformance suite on the wasm engine (lwt-wasm), in Node, in
//! headless Chromium and in headless Firefox.
//!
//! One test binary, three runs (`cargo xtask conformance node chromium
//! firefox`): wasm-bindgen-test-runner runs it in Node by default, and in a
//! browser with `WASM_BINDGEN_USE_BROWSER=1`: Chromium with `CHROMEDRIVER`,
//! Firefox with `GECKODRIVER` (there is no `wasm_bindgen_test_configure!`
//! here, which would pin one environment).
//!
//! Each test spawns its body as an lwt task on the lwt-wasm engine and awaits
//! the task through the JS Promise bridge ([`lwt_wasm::to_js`] and
//! `wasm_bindgen_futures::JsFuture`), so the body runs on the JS event loop
//! exactly as application code does.
#![cfg(target_arch = "wasm32")]

use std::future::Future;

use wasm_bindgen::JsValue;

/// Runs `body` as an lwt task on the wasm engine and fails the test with the
/// task's error if it was rejected.
pub async fn on_wasm_engine(body: impl Future<Output = lwt_conformance::Outcome> + 'static) {
    lwt_wasm::install();
    let task = lwt::spawn(body);
    let js = lwt_wasm::to_js(&task.clone().map(|()| JsValue::TRUE));
    let settled = wasm_bindgen_futures::JsFuture::from(js).await;
    match task.peek() {
        Some(Ok(())) => assert!(settled.is_ok(), "the JS promise of the task was rejected"),
        Some(Err(e)) => panic!("body failed: {e:?}"),
        None => panic!("the JS promise settled while the task is pending"),
    }
}

macro_rules! on_wasm {
    ($($(#[$($attr:tt)*])* $name:ident => $body:path),* $(,)?) => {
        /// One test per body (a `pub` module: wasm-bindgen-test ignores
        /// private ones).
        pub mod conformance {
            $(
                #[doc = concat!("`", stringify!($body), "` on lwt-wasm.")]
                #[wasm_bindgen_test::wasm_bindgen_test]
                $(#[$($attr)*])*
                pub async fn $name() {
                    super::on_wasm_engine($body()).await;
                }
            )*
        }
    };
}

lwt_conformance::for_each_body!(on_wasm, wasm);

/// Tests of the wasm engine itself, beside the suite (not conformance bodies).
pub mod engine_specific {
    use wasm_bindgen::JsValue;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// A body's rejection reaches JS as a rejection of the bridged promise.
    #[wasm_bindgen_test]
    pub async fn rejected_body_rejects_the_js_promise() {
        lwt_wasm::install();
        let task = lwt::spawn(async { Err::<JsValue, _>(lwt::Error::msg("from a body")) });
        let settled = wasm_bindgen_futures::JsFuture::from(lwt_wasm::to_js(&task)).await;
        assert!(settled.is_err());
    }

    /// A JS promise awaited inside an lwt task resumes the task.
    #[wasm_bindgen_test]
    pub async fn js_promise_inside_a_task() {
        let js = js_sys::Promise::resolve(&JsValue::from(5));
        let task = lwt::spawn(async move { Ok(lwt_wasm::from_js(&js).await?.as_f64()) });
        let v = wasm_bindgen_futures::JsFuture::from(lwt_wasm::to_js(
            &task.map(|v| JsValue::from(v.unwrap_or_default())),
        ))
        .await
        .unwrap();
        assert_eq!(v.as_f64(), Some(5.0));
    }
}
