//! The shared scenario of `resilience` on the JS event loop, exported to JS
//! with wasm-bindgen: `trace()` gives a JS Promise of its trace, the same
//! lines `resilience-native` prints. `run.mjs` prints it in Node.

use wasm_bindgen::prelude::*;

/// The scenario's trace, one line per event, joined by newlines. Rejects
/// with an `Error` if the core's no-engine error is not the one documented,
/// or if the scenario fails.
#[wasm_bindgen]
pub fn trace() -> js_sys::Promise {
    // Before any lwt_wasm function (each installs the engine): the error the
    // core gives without an engine names the call that installs it here.
    let first = match resilience::check_no_engine(&["lwt_wasm::install()"]) {
        Ok(line) => line,
        Err(e) => return js_sys::Promise::reject(&js_sys::Error::new(&e).into()),
    };
    lwt_wasm::install();
    lwt_wasm::spawn_js(async move {
        let mut lines = vec![first];
        lines.extend(resilience::scenario().await?);
        lines.push(resilience::timers_left(lwt_wasm::stats().timers));
        Ok(lines.join("\n"))
    })
}
