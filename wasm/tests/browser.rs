//! The wasm tests, in headless Chromium, plus the browser-only ones.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

pub mod common;

/// Tests that need a DOM, `requestAnimationFrame` or the test server.
pub mod browser_only {
    use std::time::Duration;

    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    async fn click_helper_and_prevent_default() {
        let target = web_sys::EventTarget::new().unwrap();
        let p = lwt_wasm::click(&target).map(|e| {
            e.prevent_default();
            e.client_x()
        });
        let init = web_sys::MouseEventInit::new();
        init.set_cancelable(true);
        init.set_client_x(7);
        let ev = web_sys::MouseEvent::new_with_mouse_event_init_dict("click", &init).unwrap();
        let not_canceled = target.dispatch_event(&ev).unwrap();
        assert!(!not_canceled, "preventDefault ran inside the dispatch");
        assert_eq!(p.peek().unwrap().unwrap(), 7);
        assert_eq!(lwt_wasm::stats().listeners, 0);
    }

    #[wasm_bindgen_test]
    async fn animation_frame_resolves_and_cancels() {
        let t = lwt_wasm::animation_frame().await.unwrap();
        assert!(t > 0.0);
        let f = lwt_wasm::animation_frame();
        assert_eq!(lwt_wasm::stats().frame_callbacks, 1);
        f.cancel();
        assert_eq!(lwt_wasm::stats().frame_callbacks, 0);
        assert!(f.peek().unwrap().unwrap_err().is_canceled());
    }

    #[wasm_bindgen_test]
    async fn idle_resolves() {
        let left = lwt_wasm::idle(Some(Duration::from_millis(200)))
            .await
            .unwrap();
        assert!(left <= Duration::from_millis(50));
        assert_eq!(lwt_wasm::stats().frame_callbacks, 0);
    }

    #[wasm_bindgen_test]
    async fn fetch_404_from_the_test_server() {
        let r = lwt_wasm::fetch_with_init("/no-such-file-here", &web_sys::RequestInit::new())
            .await
            .unwrap();
        let e = r.error_for_status().unwrap_err();
        let http = e.downcast_ref::<lwt_wasm::HttpError>().unwrap();
        assert_eq!(http.status, 404);
        assert!(e.to_string().contains("404"));
    }

    #[wasm_bindgen_test]
    fn globals_not_window() {
        // The engine works from globalThis; in a window, that is the window.
        let g = js_sys::global();
        assert!(g.dyn_ref::<web_sys::EventTarget>().is_some());
    }
}
