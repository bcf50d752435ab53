//! Time on the running engine: sleep, timeout, with_timeout, pause, yield.

use std::time::Duration;

use lwt::Promise;

use crate::log::{ms, Log};
use crate::Outcome;

/// Sleeps fire in deadline order, FIFO among equal deadlines, never early.
pub async fn sleeps_in_order() -> Outcome {
    let log = Log::default();
    let start = lwt::now()?;
    let mut all = Vec::new();
    for (name, d) in [("c", 6), ("a", 2), ("b", 4), ("a2", 2)] {
        let l = log.clone();
        all.push(lwt::sleep(ms(d)).map(move |()| {
            assert!(lwt::now().unwrap() - start >= ms(d), "{name} fired early");
            l.push(name);
        }));
    }
    lwt::join(all).await?;
    assert_eq!(log.take(), ["a", "a2", "b", "c"]);
    Ok(())
}

/// `timeout` rejects with a time-out error.
pub async fn timeout_rejects() -> Outcome {
    let e = lwt::timeout::<()>(ms(1)).await.unwrap_err();
    assert!(e.is_timeout());
    Ok(())
}

/// `with_timeout` cancels the slow promise.
pub async fn with_timeout_cancels_the_loser() -> Outcome {
    let (slow, _r) = lwt::task::<u8>();
    let e = lwt::with_timeout(ms(2), &slow).await.unwrap_err();
    assert!(e.is_timeout());
    assert!(slow.peek().unwrap().unwrap_err().is_canceled());
    let fast = lwt::with_timeout(Duration::from_secs(60), &Promise::resolved(1));
    assert_eq!(fast.await?, 1);
    Ok(())
}

/// Canceling a sleep rejects it at once.
pub async fn cancel_sleep() -> Outcome {
    let s = lwt::sleep(Duration::from_secs(3600));
    s.cancel();
    assert!(s.await.unwrap_err().is_canceled());
    Ok(())
}

/// Sleeps too long to represent never fire and never panic.
pub async fn huge_sleep() -> Outcome {
    let s = lwt::sleep(Duration::MAX);
    lwt::sleep(ms(2)).await?;
    assert!(s.is_pending());
    s.cancel();
    Ok(())
}

/// `yield_now` resolves before `pause` does.
pub async fn yield_before_pause() -> Outcome {
    let log = Log::default();
    let l = log.clone();
    let p = lwt::pause().map(move |()| l.push("pause"));
    let l = log.clone();
    let y = lwt::yield_now().map(move |()| l.push("yield"));
    lwt::join(vec![p, y]).await?;
    assert_eq!(log.take(), ["yield", "pause"]);
    Ok(())
}

/// Pauses resolve in FIFO order, one snapshot per turn.
pub async fn pauses_fifo() -> Outcome {
    let log = Log::default();
    let mut all = Vec::new();
    for i in 0..5 {
        let l = log.clone();
        all.push(lwt::pause().map(move |()| l.push(i.to_string())));
    }
    lwt::join(all).await?;
    assert_eq!(log.take(), ["0", "1", "2", "3", "4"]);
    Ok(())
}

/// A loop of 10,000 pauses completes.
pub async fn pause_loop() -> Outcome {
    for _ in 0..10_000 {
        lwt::pause().await?;
    }
    Ok(())
}

/// A canceled pause leaves the queue.
pub async fn cancel_pause() -> Outcome {
    let p = lwt::pause();
    p.cancel();
    assert!(p.await.unwrap_err().is_canceled());
    lwt::pause().await?;
    Ok(())
}

/// `interval` ticks without drift.
pub async fn interval_without_drift() -> Outcome {
    use futures::StreamExt;
    let start = lwt::now()?;
    let mut ticks = lwt::interval(ms(3));
    for n in 1..=3u32 {
        let t = ticks.next().await.unwrap()?;
        assert_eq!(t - start, ms(3) * n);
    }
    Ok(())
}

/// The clock is monotonic.
pub async fn monotonic_clock() -> Outcome {
    let a = lwt::now()?;
    lwt::sleep(ms(1)).await?;
    let b = lwt::now()?;
    assert!(b - a >= ms(1));
    Ok(())
}
