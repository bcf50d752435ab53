//! A library of one's own on `lwt` and `lwt-wasm`, exported to JavaScript
//! with wasm-bindgen and packaged for npm with `wasm-pack build`.
//!
//! [`SumJob`] sums `1..=n` a chunk at a time, one chunk per turn of the JS
//! event loop, racing the sum against a time limit with [`lwt::pick`]: the
//! first to finish wins and the other is canceled. JavaScript gets a
//! `Promise` of the result and a `cancel()` that stops the work between two
//! chunks.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use wasm_bindgen::prelude::*;

/// A sum of `1..=n` under a time limit, started by `new SumJob(n, chunk,
/// limitMs)` in JavaScript.
#[wasm_bindgen]
pub struct SumJob {
    /// The sum, or `None` when the time limit came first.
    outcome: lwt::Promise<Option<f64>>,
    /// How many chunks have been added so far.
    chunks: Rc<Cell<u32>>,
}

#[wasm_bindgen]
impl SumJob {
    /// Starts summing `1..=n`, `chunk` numbers per turn, for at most
    /// `limit_ms` milliseconds.
    #[wasm_bindgen(constructor)]
    pub fn new(n: u32, chunk: u32, limit_ms: u32) -> SumJob {
        let chunks = Rc::new(Cell::new(0));
        let work = sum_in_chunks(u64::from(n), u64::from(chunk.max(1)), chunks.clone());
        let limit = lwt_wasm::sleep(Duration::from_millis(u64::from(limit_ms)));
        let outcome = lwt::pick(vec![work.map(Some), limit.map(|()| None)]);
        SumJob { outcome, chunks }
    }

    /// A JS Promise of the sum, or of `null` when the time limit came first;
    /// it rejects with an `AbortError` once the job is canceled.
    pub fn result(&self) -> js_sys::Promise {
        lwt_wasm::to_js(&self.outcome.clone().map(|sum| match sum {
            Some(sum) => JsValue::from_f64(sum),
            None => JsValue::NULL,
        }))
    }

    /// Cancels the job: the sum stops before its next chunk and the timer is
    /// released.
    pub fn cancel(&self) {
        self.outcome.cancel();
    }

    /// How many chunks have been added so far: it stops growing once the
    /// job is over, whichever way it ended.
    #[wasm_bindgen(getter)]
    pub fn chunks(&self) -> u32 {
        self.chunks.get()
    }

    /// How many lwt timers are armed: the job's time limit is released as
    /// soon as the job is over, whichever way it ended.
    #[wasm_bindgen(js_name = liveTimers)]
    pub fn live_timers() -> u32 {
        lwt_wasm::stats().timers as u32
    }
}

/// Sums `1..=n`, `chunk` numbers at a time, yielding to the event loop
/// after each chunk, so the page stays responsive and a cancellation is seen
/// at the next `pause`.
fn sum_in_chunks(n: u64, chunk: u64, chunks: Rc<Cell<u32>>) -> lwt::Promise<f64> {
    lwt::spawn(async move {
        let mut total: u64 = 0;
        let mut next = 1;
        while next <= n {
            let end = n.min(next + chunk - 1);
            total += (next..=end).sum::<u64>();
            next = end + 1;
            chunks.set(chunks.get() + 1);
            lwt_wasm::pause().await?;
        }
        Ok(total as f64)
    })
}
