//! The shared user code of `lwt-patterns` (retry, rate limiter, coalescer,
//! fan-out), the same on every engine.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use lwt::{Error, Promise};
use lwt_patterns::{fan_out, retry, Backoff, Coalescer, RateLimiter};

use crate::log::ms;
use crate::Outcome;

/// `retry` tries again after failures, waiting longer each time, and stops
/// at the first success.
pub async fn retry_until_success() -> Outcome {
    let tries = Rc::new(Cell::new(0));
    let t = tries.clone();
    let start = lwt::now()?;
    let v = retry(
        Backoff::new(ms(2)).jitter(0.0),
        |_| true,
        move || {
            t.set(t.get() + 1);
            if t.get() < 3 {
                Promise::rejected(Error::msg("busy"))
            } else {
                Promise::resolved(t.get())
            }
        },
    )
    .await?;
    assert_eq!(v, 3);
    // Waited 2 ms, then 4 ms: never less.
    assert!(lwt::now()? - start >= ms(6));
    Ok(())
}

/// `retry` gives up after its attempts, with the last error.
pub async fn retry_gives_up() -> Outcome {
    let tries = Rc::new(Cell::new(0));
    let t = tries.clone();
    let e = retry(
        Backoff::new(ms(1)).attempts(3),
        |_| true,
        move || {
            t.set(t.get() + 1);
            Promise::<()>::rejected(Error::msg("down"))
        },
    )
    .await
    .unwrap_err();
    assert_eq!(tries.get(), 3);
    assert!(e.to_string().contains("gave up after 3 attempts"), "{e}");
    Ok(())
}

/// An error that is not retryable ends `retry` at once.
pub async fn retry_stops_on_fatal_errors() -> Outcome {
    let tries = Rc::new(Cell::new(0));
    let t = tries.clone();
    let e = retry(
        Backoff::new(ms(1)),
        |e| !e.is_invalid_argument(),
        move || {
            t.set(t.get() + 1);
            Promise::<()>::rejected(Error::invalid_argument("bad request"))
        },
    )
    .await
    .unwrap_err();
    assert!(e.is_invalid_argument());
    assert_eq!(tries.get(), 1);
    Ok(())
}

/// Canceling a retry cancels its wait, and no attempt follows.
pub async fn retry_cancel() -> Outcome {
    let tries = Rc::new(Cell::new(0));
    let t = tries.clone();
    let p = retry(
        Backoff::new(Duration::from_secs(3600)),
        |_| true,
        move || {
            t.set(t.get() + 1);
            Promise::<()>::rejected(Error::msg("down"))
        },
    );
    assert_eq!(tries.get(), 1);
    p.cancel();
    assert!(p.await.unwrap_err().is_canceled());
    lwt::sleep(ms(2)).await?;
    assert_eq!(tries.get(), 1);
    Ok(())
}

/// Jittered waits stay within their bounds, and the same seed gives the
/// same waits.
pub async fn backoff_bounds_and_determinism() -> Outcome {
    let b = Backoff::new(ms(100)).max(ms(1000)).jitter(0.5);
    // Numbered by failures so far: the wait after the first failure is 1.
    for failures in 1..=8 {
        for r in [0.0, 0.3, 0.999] {
            let d = b.delay(failures, r);
            let cap = ms(100 * 2u64.pow(failures - 1)).min(ms(1000));
            assert!(
                d <= cap && d >= cap / 2,
                "after {failures} failures: {d:?} outside [{:?}, {cap:?}]",
                cap / 2
            );
        }
    }
    Ok(())
}

/// The rate limiter lets a burst through, then one per interval, in order.
pub async fn rate_limiter_spaces_callers() -> Outcome {
    let limiter = RateLimiter::new(ms(3), 2);
    let start = lwt::now()?;
    let order = crate::log::Log::default();
    let mut all = Vec::new();
    for i in 0..5 {
        let o = order.clone();
        all.push(limiter.acquire().map(move |()| o.push(i.to_string())));
    }
    assert!(all[0].is_fulfilled() && all[1].is_fulfilled() && all[2].is_pending());
    lwt::join(all).await?;
    assert_eq!(order.take(), ["0", "1", "2", "3", "4"]);
    // Five through, two at once: at least three intervals.
    assert!(lwt::now()? - start >= ms(9));
    Ok(())
}

/// A canceled wait gives its slot back: the next caller gets the canceled
/// one's turn (one interval away), not the turn after it (two intervals).
pub async fn rate_limiter_cancel_gives_back() -> Outcome {
    let limiter = RateLimiter::new(ms(20), 1);
    limiter.acquire().await?;
    let waiting = limiter.acquire();
    assert!(waiting.is_pending());
    waiting.cancel();
    let again = limiter.acquire();
    assert!(again.is_pending());
    let first = lwt::pick([again.map(|()| "slot"), lwt::sleep(ms(30)).map(|()| "late")]);
    assert_eq!(first.await?, "slot");
    Ok(())
}

/// A wait canceled in the middle of the line leaves a gap: the turns after
/// it stay taken, so a newcomer goes after the last in line, not with it.
pub async fn rate_limiter_cancel_in_the_middle_keeps_later_turns() -> Outcome {
    let limiter = RateLimiter::new(ms(20), 1);
    let start = lwt::now()?;
    limiter.acquire().await?; // now
    let second = limiter.acquire(); // in one interval
    let third = limiter.acquire(); // in two
    second.cancel();
    let fourth = limiter.acquire(); // in three: the third keeps its turn
    third.await?;
    fourth.await?;
    // Never early: the fourth's turn was three intervals after the start.
    assert!(lwt::now()? - start >= ms(60));
    Ok(())
}

/// Callers asking for the same key share one request.
pub async fn coalescer_shares_one_request() -> Outcome {
    let c = Coalescer::<u32, String>::new();
    let started = Rc::new(Cell::new(0));
    let request = |s: Rc<Cell<u32>>| {
        move || {
            s.set(s.get() + 1);
            lwt::sleep(ms(2)).map(|()| "value".to_string())
        }
    };
    let a = c.get(1, request(started.clone()));
    let b = c.get(1, request(started.clone()));
    let other = c.get(2, request(started.clone()));
    assert_eq!(c.in_flight(), 2);
    assert_eq!(lwt::all(vec![a, b, other]).await?.len(), 3);
    assert_eq!(started.get(), 2);
    assert_eq!(c.in_flight(), 0, "resolved requests are forgotten");
    c.get(1, request(started.clone())).await?;
    assert_eq!(started.get(), 3, "a later call starts a new request");
    Ok(())
}

/// One caller canceling leaves the others served; the last one cancels the
/// request.
pub async fn coalescer_cancel() -> Outcome {
    let c = Coalescer::<u8, u8>::new();
    let (shared, _r) = lwt::task::<u8>();
    let s = shared.clone();
    let a = c.get(0, move || s);
    let b = c.get(0, || unreachable!("joins the request in flight"));
    a.cancel();
    assert!(a.peek().unwrap().unwrap_err().is_canceled());
    assert!(b.is_pending() && shared.is_pending());
    b.cancel();
    assert!(shared.peek().unwrap().unwrap_err().is_canceled());
    assert_eq!(c.in_flight(), 0);
    Ok(())
}

/// A fan-out gives every outcome in order; the slow one times out and is
/// canceled.
pub async fn fan_out_with_deadline() -> Outcome {
    let slow: Rc<Cell<Option<Promise<u64>>>> = Rc::new(Cell::new(None));
    let s = slow.clone();
    let out = fan_out([1u64, 10_000, 2], ms(20), move |n| {
        let p = lwt::sleep(ms(n)).map(move |()| n);
        if n > 100 {
            s.set(Some(p.clone()));
        }
        p
    })
    .await?;
    assert_eq!(out[0].as_ref().ok(), Some(&1));
    assert!(out[1].as_ref().unwrap_err().is_timeout());
    assert_eq!(out[2].as_ref().ok(), Some(&2));
    let slow = slow.take().unwrap();
    assert!(slow.peek().unwrap().unwrap_err().is_canceled());
    Ok(())
}
