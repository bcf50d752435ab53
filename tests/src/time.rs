//! Time on the running engine: sleep, timeout, with_timeout, pause, yield.

use std::time::Duration;

use lwt::Promise;

use crate::counting::TimerCount;
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

/// Canceling a sleep rejects it at once and releases its engine timer.
pub async fn cancel_sleep() -> Outcome {
    let timers = TimerCount::new()?;
    let s = timers.track(|| lwt::sleep(Duration::from_secs(3600)));
    assert_eq!(timers.live(), 1);
    s.cancel();
    assert_eq!(timers.live(), 0, "the canceled sleep's timer was released");
    assert!(s.await.unwrap_err().is_canceled());
    Ok(())
}

/// Sleeps too long to represent never fire, never panic, and hold no timer
/// while they wait (not only once canceled): `Duration::MAX` from now, from
/// a later instant (the addition overflows), as a timeout, and the last
/// instant there is.
pub async fn huge_sleep() -> Outcome {
    let timers = TimerCount::new()?;
    let forever = timers.track(|| {
        [
            lwt::sleep(Duration::MAX),
            lwt::timeout::<()>(Duration::MAX),
            lwt::sleep_until(lwt::Instant::from_epoch(Duration::MAX)),
        ]
    });
    assert_eq!(
        timers.armed(),
        0,
        "a deadline that never comes arms no timer"
    );
    lwt::sleep(ms(2)).await?;
    let late = timers.track(|| lwt::sleep(Duration::MAX)); // later: overflows
    assert_eq!(timers.armed(), 0);
    assert!(late.is_pending() && forever.iter().all(Promise::is_pending));
    late.cancel();
    assert!(late.peek().unwrap().unwrap_err().is_canceled());
    for s in &forever {
        s.cancel();
        assert!(s.peek().unwrap().unwrap_err().is_canceled());
    }
    Ok(())
}

/// Where `yield_now` and `pause` fall against timers: a yield resolves
/// before the engine fires due timers (and polls I/O), a pause after them.
/// The timer is already due when the three are made.
pub async fn yield_before_timers_pause_after() -> Outcome {
    let log = Log::default();
    let l = log.clone();
    let due = lwt::sleep_until(lwt::now()?).map(move |()| l.push("timer"));
    let l = log.clone();
    let p = lwt::pause().map(move |()| l.push("pause"));
    let l = log.clone();
    let y = lwt::yield_now().map(move |()| l.push("yield"));
    lwt::join(vec![due, p, y]).await?;
    assert_eq!(log.take(), ["yield", "timer", "pause"]);
    Ok(())
}

/// A yield asked for by a timer's callback resolves before the next due
/// timer fires.
pub async fn yield_from_a_timer_before_the_next_timer() -> Outcome {
    let log = Log::default();
    let at = lwt::now()? + ms(1);
    let (l, l2) = (log.clone(), log.clone());
    let first = lwt::sleep_until(at).bind(move |()| {
        l.push("first");
        let l = l.clone();
        lwt::yield_now().map(move |()| l.push("yield"))
    });
    let second = lwt::sleep_until(at).map(move |()| l2.push("second"));
    lwt::join(vec![first, second]).await?;
    assert_eq!(log.take(), ["first", "yield", "second"]);
    Ok(())
}

/// The pause notifier is called with the new count at each pause, and
/// removing it does not keep pauses from being resolved (the engine is asked
/// for its turn by `pause` itself).
pub async fn pause_notifier_sees_each_pause() -> Outcome {
    use std::cell::RefCell;
    use std::rc::Rc;
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    // Registered, used and removed with no other code in between, so bodies
    // running beside this one neither see it nor disturb the counts.
    lwt::register_pause_notifier(Some(Box::new(move |n| s.borrow_mut().push(n))));
    let before = lwt::paused_count();
    let a = lwt::pause();
    let b = lwt::pause();
    lwt::register_pause_notifier(None);
    let c = lwt::pause();
    assert_eq!(*seen.borrow(), [before + 1, before + 2]);
    lwt::join(vec![a, b, c]).await?;
    assert_eq!(seen.borrow().len(), 2);
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

/// A canceled pause is rejected at once, and, as in Lwt, still counts in
/// `paused_count` until the next wake-up, which skips it (it stays canceled)
/// and releases it. The count is read right after the calls, with no other
/// code in between, so bodies running beside this one do not disturb it.
pub async fn cancel_pause() -> Outcome {
    let before = lwt::paused_count();
    let p = lwt::pause();
    p.cancel();
    assert!(p.peek().unwrap().unwrap_err().is_canceled());
    assert_eq!(lwt::paused_count(), before + 1, "counted until the wake-up");
    // The wake-up comes (the pause asked for it) and leaves `p` canceled.
    let q = lwt::pause();
    q.await?;
    assert!(p.await.unwrap_err().is_canceled());
    Ok(())
}

/// `interval` ticks without drift: each tick is one period after the
/// previous one exactly (deadlines, not wake-up times), never before its time.
pub async fn interval_without_drift() -> Outcome {
    use futures::StreamExt;
    let start = lwt::now()?;
    let mut ticks = lwt::interval(ms(3));
    let mut previous = None;
    for n in 1..=3u32 {
        let t = ticks.next().await.unwrap()?;
        assert!(lwt::now()? >= t, "tick {n} fired early");
        assert!(t - start >= ms(3) * n, "tick {n} is before its time");
        if let Some(p) = previous {
            assert_eq!(t - p, ms(3), "tick {n} drifted");
        }
        previous = Some(t);
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

/// A sleep of zero resolves later, not inside `sleep`.
pub async fn zero_sleep_is_not_immediate() -> Outcome {
    let s = lwt::sleep(Duration::ZERO);
    assert!(s.is_pending());
    s.await?;
    Ok(())
}

/// `sleep_until` a past instant resolves soon; a future one not before it.
pub async fn sleep_until_deadlines() -> Outcome {
    let start = lwt::now()?;
    lwt::sleep_until(start).await?;
    let at = lwt::now()? + ms(2);
    lwt::sleep_until(at).await?;
    assert!(lwt::now()? >= at);
    Ok(())
}

/// Sleeps in sequence add up: never before the sum of their durations.
pub async fn sequential_sleeps_add_up() -> Outcome {
    let start = lwt::now()?;
    for _ in 0..3 {
        lwt::sleep(ms(1)).await?;
    }
    assert!(lwt::now()? - start >= ms(3));
    Ok(())
}

/// `with_timeout` passes a value that comes in time, and a rejection too.
pub async fn with_timeout_passes_results() -> Outcome {
    let fast = lwt::sleep(ms(1)).map(|()| 5);
    assert_eq!(lwt::with_timeout(Duration::from_secs(60), &fast).await?, 5);
    let failing = lwt::sleep(ms(1)).bind(|()| Promise::<u8>::rejected(lwt::Error::msg("own")));
    let e = lwt::with_timeout(Duration::from_secs(60), &failing)
        .await
        .unwrap_err();
    assert_eq!(e.message(), "own");
    Ok(())
}

/// A timeout canceled before its time never fires, and its timer is
/// released at once.
pub async fn cancel_timeout() -> Outcome {
    let timers = TimerCount::new()?;
    let t = timers.track(|| lwt::timeout::<()>(ms(1)));
    assert_eq!(timers.live(), 1);
    t.cancel();
    assert_eq!(
        timers.live(),
        0,
        "the canceled timeout's timer was released"
    );
    assert!(t.peek().unwrap().unwrap_err().is_canceled());
    lwt::sleep(ms(3)).await?;
    assert!(t.peek().unwrap().unwrap_err().is_canceled());
    Ok(())
}

/// `with_timeout` releases its timer as soon as either side wins: the
/// promise (the timeout is canceled) or the timeout (it fired).
pub async fn with_timeout_releases_its_timer() -> Outcome {
    let timers = TimerCount::new()?;
    let (fast, r) = lwt::task::<u8>();
    let p = timers.track(|| lwt::with_timeout(Duration::from_secs(3600), &fast));
    assert_eq!(timers.live(), 1);
    r.resolve(4)?;
    assert_eq!(p.await?, 4);
    assert_eq!(timers.live(), 0, "the winner canceled the timeout's timer");
    let (slow, _r) = lwt::task::<u8>();
    let p = timers.track(|| lwt::with_timeout(ms(1), &slow));
    assert!(p.await.unwrap_err().is_timeout());
    assert_eq!((timers.armed(), timers.live()), (2, 0));
    // Canceled from outside: both sides, and the timer with them.
    let (slow, _r) = lwt::task::<u8>();
    let p = timers.track(|| lwt::with_timeout(Duration::from_secs(3600), &slow));
    p.cancel();
    assert!(slow.peek().unwrap().unwrap_err().is_canceled());
    assert_eq!(timers.live(), 0);
    Ok(())
}

/// An interval arms nothing until a tick is asked for; a canceled tick, and
/// an interval dropped while `poll_next` waits, release their timer.
pub async fn interval_releases_its_timer() -> Outcome {
    let timers = TimerCount::new()?;
    let mut ticks = timers.track(|| lwt::interval(Duration::from_secs(3600)));
    assert_eq!(timers.armed(), 0);
    let t = timers.track(|| ticks.tick());
    assert_eq!(timers.live(), 1);
    t.cancel();
    assert_eq!(timers.live(), 0, "the canceled tick released its timer");
    let mut polled = timers.track(|| lwt::interval(Duration::from_secs(3600)));
    let next =
        timers.track(|| futures::FutureExt::now_or_never(futures::StreamExt::next(&mut polled)));
    assert!(next.is_none(), "an hour-long tick is not there yet");
    assert_eq!(timers.live(), 1);
    drop(polled);
    assert_eq!(timers.live(), 0, "the dropped interval released its timer");
    Ok(())
}

/// Dropping a sleep is not canceling it (as in Lwt): its timer stays armed
/// and fires, and then nothing is held.
pub async fn dropped_sleep_keeps_its_timer_until_it_fires() -> Outcome {
    let timers = TimerCount::new()?;
    drop(timers.track(|| lwt::sleep(ms(1))));
    assert_eq!(timers.live(), 1);
    lwt::sleep(ms(3)).await?;
    assert_eq!(timers.live(), 0, "it fired, and its timer is gone");
    Ok(())
}

/// A pause requested during a turn's pauses waits for the next turn.
pub async fn pause_during_pause_waits() -> Outcome {
    let log = Log::default();
    let l = log.clone();
    let first = lwt::pause().bind(move |()| {
        l.push("first");
        let l = l.clone();
        lwt::pause().map(move |()| l.push("nested"))
    });
    let l = log.clone();
    let second = lwt::pause().map(move |()| l.push("second"));
    lwt::join(vec![first, second]).await?;
    // first, second (same turn), then nested (next turn).
    assert_eq!(log.take(), ["first", "second", "nested"]);
    Ok(())
}

/// A pause does not wait for a later timer: it resolves while an hour-long
/// sleep is pending.
pub async fn pause_before_long_sleep() -> Outcome {
    let s = lwt::sleep(Duration::from_secs(3600));
    lwt::pause().await?;
    assert!(s.is_pending());
    s.cancel();
    Ok(())
}

/// A task loop of sleeps, canceled from outside, stops at its await.
pub async fn cancel_sleep_loop() -> Outcome {
    let count = std::rc::Rc::new(std::cell::Cell::new(0));
    let c = count.clone();
    let t = lwt::spawn(async move {
        loop {
            lwt::sleep(ms(1)).await?;
            c.set(c.get() + 1);
        }
    });
    lwt::sleep(ms(4)).await?;
    t.cancel();
    let e: Result<(), _> = t.await;
    assert!(e.unwrap_err().is_canceled());
    assert!(count.get() >= 1);
    Ok(())
}

// ---------------------------------------------------------------- Timeout

/// A `Timeout` runs its action once, not before its duration, and is
/// stopped again when it has.
pub async fn timeout_object_fires_once() -> Outcome {
    let log = Log::default();
    let l = log.clone();
    let start = lwt::now()?;
    let t = lwt::Timeout::new(ms(3), move |t| {
        assert!(!t.is_started(), "stopped while its action runs");
        assert!(lwt::now().unwrap() - start >= ms(3), "fired early");
        l.push("fired");
        Ok(())
    });
    assert!(!t.is_started());
    lwt::sleep(ms(5)).await?;
    assert!(log.take().is_empty(), "not started, never fires");
    let start = lwt::now()?;
    let l = log.clone();
    let t = lwt::Timeout::new(ms(3), move |_| {
        assert!(lwt::now().unwrap() - start >= ms(3), "fired early");
        l.push("fired");
        Ok(())
    });
    t.start()?;
    assert!(t.is_started());
    lwt::sleep(ms(8)).await?;
    assert_eq!(log.take(), ["fired"]);
    assert!(!t.is_started());
    lwt::sleep(ms(4)).await?;
    assert!(log.take().is_empty(), "once per start");
    Ok(())
}

/// Starting a started `Timeout` restarts it with its whole duration: one
/// firing, not before the duration has passed since the restart.
pub async fn timeout_object_restart() -> Outcome {
    let fired: std::rc::Rc<std::cell::RefCell<Vec<lwt::Instant>>> = Default::default();
    let f = fired.clone();
    let t = lwt::Timeout::new(ms(6), move |_| {
        f.borrow_mut().push(lwt::now().unwrap());
        Ok(())
    });
    t.start()?;
    lwt::sleep(ms(3)).await?;
    let restarted = lwt::now()?;
    t.start()?;
    while t.is_started() {
        lwt::sleep(ms(1)).await?;
    }
    lwt::sleep(ms(4)).await?;
    let fired = fired.borrow().clone();
    assert_eq!(fired.len(), 1, "one firing for two starts: {fired:?}");
    assert!(fired[0] - restarted >= ms(6), "due 6 ms after the restart");
    Ok(())
}

/// A stopped `Timeout` never runs its action; `change` restarts a started
/// one with the new duration and only sets it on a stopped one.
pub async fn timeout_object_stop_and_change() -> Outcome {
    let log = Log::default();
    let l = log.clone();
    let t = lwt::Timeout::new(ms(2), move |_| {
        l.push("fired");
        Ok(())
    });
    t.start()?;
    t.stop();
    assert!(!t.is_started());
    t.stop(); // stopping a stopped timeout does nothing
    lwt::sleep(ms(5)).await?;
    assert!(log.take().is_empty(), "stopped: no action");

    t.change(ms(4))?;
    assert!(!t.is_started(), "change does not start a stopped timeout");
    assert_eq!(t.duration(), ms(4));
    t.start()?;
    let from = lwt::now()?;
    t.change(ms(1))?;
    assert!(t.is_started());
    lwt::sleep(ms(3)).await?;
    assert_eq!(log.take(), ["fired"]);
    assert!(lwt::now()? - from >= ms(1));
    Ok(())
}

/// The action can restart its own timeout (a periodic action).
pub async fn timeout_object_restarts_itself() -> Outcome {
    let count = std::rc::Rc::new(std::cell::Cell::new(0u32));
    let c = count.clone();
    let t = lwt::Timeout::new(ms(1), move |t| {
        c.set(c.get() + 1);
        if c.get() < 3 {
            t.start()?;
        }
        Ok(())
    });
    t.start()?;
    while t.is_started() {
        lwt::sleep(ms(1)).await?;
    }
    assert_eq!(count.get(), 3);
    Ok(())
}

/// An action's `Err` goes to the handler of `Timeout::set_exn_handler`, and
/// the timeout can be started again.
pub async fn timeout_object_error_handler() -> Outcome {
    let log = Log::default();
    let l = log.clone();
    let previous = lwt::Timeout::set_exn_handler(Some(Box::new(move |e: &lwt::Error| {
        l.push(format!("handler: {e}"))
    })));
    let t = lwt::Timeout::new(ms(1), |_| Err(lwt::Error::msg("action failed")));
    t.start()?;
    lwt::sleep(ms(3)).await?;
    assert_eq!(log.take(), ["handler: action failed"]);
    t.start()?;
    lwt::sleep(ms(3)).await?;
    assert_eq!(log.take(), ["handler: action failed"]);
    lwt::Timeout::set_exn_handler(previous);
    Ok(())
}

// ------------------------------------------------------------- auto_pause

/// `auto_pause` pauses only once its period has passed since it last
/// paused (or was made); otherwise it is already fulfilled.
pub async fn auto_pause_pauses_once_per_period() -> Outcome {
    let auto = lwt::auto_pause(ms(100));
    assert_eq!(auto.period(), ms(100));
    let p = auto.pause();
    assert!(p.is_fulfilled(), "the period has not passed yet");
    lwt::sleep(ms(100)).await?;
    let log = Log::default();
    let l = log.clone();
    let p = auto.pause().map(move |()| l.push("paused"));
    assert!(p.is_pending(), "the period passed: a real pause");
    let l = log.clone();
    let y = lwt::yield_now().map(move |()| l.push("yield"));
    lwt::join(vec![p, y]).await?;
    assert_eq!(log.take(), ["yield", "paused"], "a pause, not a yield");
    assert!(auto.pause().is_fulfilled(), "the period starts again");
    // Clones share the deadline.
    let twin = auto.clone();
    lwt::sleep(ms(100)).await?;
    let p = twin.pause();
    assert!(p.is_pending());
    p.await?;
    assert!(auto.pause().is_fulfilled());
    Ok(())
}

/// A zero period pauses every time.
pub async fn auto_pause_zero_pauses_always() -> Outcome {
    let auto = lwt::auto_pause(std::time::Duration::ZERO);
    for _ in 0..3 {
        let p = auto.pause();
        assert!(p.is_pending());
        p.await?;
    }
    Ok(())
}
