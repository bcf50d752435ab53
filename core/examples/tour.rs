//! A tour of lwt's promises on the virtual-time engine: composition,
//! cancellation, races against time, and async/await.
//!
//! Run with `cargo run -p lwt-core --example tour`.

use std::time::Duration;

use lwt::testing::VirtualEngine;
use lwt::{Error, Promise};

/// A pretend request: answers after `latency`, or fails if asked to.
fn request(name: &'static str, latency: Duration, fail: bool) -> Promise<String> {
    lwt::sleep(latency).bind(move |()| {
        if fail {
            Promise::rejected(Error::msg(format!("{name}: server error")))
        } else {
            Promise::resolved(format!("{name}: ok"))
        }
    })
}

fn main() {
    let engine = VirtualEngine::new();

    // 1. bind/map/catch, Lwt style.
    let p = request("profile", Duration::from_millis(30), true)
        .catch(|e| Promise::resolved(format!("fallback after '{e}'")));
    println!("1. {}", engine.run(&p).unwrap());

    // 2. join: wait for all of them.
    let all = lwt::all(vec![
        request("a", Duration::from_millis(10), false),
        request("b", Duration::from_millis(20), false),
    ]);
    println!(
        "2. {:?} at t={:?}",
        engine.run(&all).unwrap(),
        engine.now().since_epoch()
    );

    // 3. with_timeout: the slow request is canceled and its timer released.
    let slow = request("slow", Duration::from_secs(10), false);
    let bounded = lwt::with_timeout(Duration::from_millis(50), &slow);
    let outcome = engine.run(&bounded);
    println!(
        "3. timed out: {}, slow request canceled: {}, timers left: {}",
        outcome.unwrap_err().is_timeout(),
        slow.peek().unwrap().unwrap_err().is_canceled(),
        engine.timer_count()
    );

    // 4. async/await: a retry loop with backoff, canceled from outside.
    let worker = lwt::spawn(async {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match request("flaky", Duration::from_millis(5), attempt < 3).await {
                Ok(v) => return Ok(format!("{v} after {attempt} attempts")),
                Err(e) if e.is_canceled() => return Err(e),
                Err(_) => lwt::sleep(Duration::from_millis(10 * u64::from(attempt))).await?,
            }
        }
    });
    println!("4. {}", engine.run(&worker).unwrap());

    let stopped = lwt::spawn(async {
        lwt::sleep(Duration::from_secs(3600)).await?;
        Ok("never")
    });
    stopped.cancel();
    println!(
        "5. canceled task: {}",
        stopped.peek().unwrap().unwrap_err().is_canceled()
    );
}
