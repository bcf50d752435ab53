//! Cancellation, Lwt's model: `cancel` walks backwards to the cancelable
//! promises (`task`, sleeps, pauses, queue waiters), the rejection flows
//! forwards; `on_cancel`, `protected`, `no_cancel`, `wrap_in_cancelable`.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use lwt::{Error, Promise};

use crate::log::Log;
use crate::Outcome;

fn is_canceled<T: Clone + 'static>(p: &Promise<T>) -> bool {
    matches!(p.peek(), Some(Err(e)) if e.is_canceled())
}

/// Canceling a fulfilled promise changes nothing.
pub async fn cancel_fulfilled_is_a_no_op() -> Outcome {
    let p = Promise::resolved(3);
    p.cancel();
    assert_eq!(p.peek().unwrap()?, 3);
    let (t, r) = lwt::task::<u8>();
    r.resolve(1)?;
    t.cancel();
    assert_eq!(t.peek().unwrap()?, 1);
    Ok(())
}

/// Canceling a rejected promise keeps its error.
pub async fn cancel_rejected_is_a_no_op() -> Outcome {
    let (t, r) = lwt::task::<u8>();
    r.reject(Error::msg("first"))?;
    t.cancel();
    assert_eq!(t.peek().unwrap().unwrap_err().message(), "first");
    Ok(())
}

/// A second cancel runs no hook and no callback again.
pub async fn cancel_twice_runs_hooks_once() -> Outcome {
    let log = Log::default();
    let (t, _r) = lwt::task::<()>();
    let l = log.clone();
    t.on_cancel(move || l.push("hook"));
    let l = log.clone();
    t.on_failure(move |_| l.push("callback"));
    t.cancel();
    t.cancel();
    assert_eq!(log.take(), ["hook", "callback"]);
    Ok(())
}

/// `on_cancel` on a canceled promise runs at once.
pub async fn on_cancel_after_cancel_runs_now() -> Outcome {
    let log = Log::default();
    let (t, _r) = lwt::task::<()>();
    t.cancel();
    let l = log.clone();
    t.on_cancel(move || l.push("late hook"));
    log.push("after");
    assert_eq!(log.take(), ["late hook", "after"]);
    Ok(())
}

/// `on_cancel` never runs when the promise is fulfilled or rejected otherwise.
pub async fn on_cancel_not_run_otherwise() -> Outcome {
    let log = Log::default();
    let (a, ra) = lwt::task::<()>();
    let (b, rb) = lwt::task::<()>();
    let l = log.clone();
    a.on_cancel(move || l.push("a"));
    let l = log.clone();
    b.on_cancel(move || l.push("b"));
    ra.resolve(())?;
    rb.reject(Error::msg("plain"))?;
    let l = log.clone();
    Promise::resolved(()).on_cancel(move || l.push("resolved"));
    assert!(log.take().is_empty());
    Ok(())
}

/// Several `on_cancel` hooks run in the order they were attached.
pub async fn on_cancel_hooks_fifo() -> Outcome {
    let log = Log::default();
    let (t, _r) = lwt::task::<()>();
    for i in 0..4 {
        let l = log.clone();
        t.on_cancel(move || l.push(i.to_string()));
    }
    t.cancel();
    assert_eq!(log.take(), ["0", "1", "2", "3"]);
    Ok(())
}

/// A `wait` promise cannot be canceled, nor a chain built on one; a `task`
/// promise can.
pub async fn chain_over_wait_is_not_cancelable() -> Outcome {
    let (t, _rt) = lwt::task::<()>();
    t.cancel();
    assert!(is_canceled(&t));
    let (w, r) = lwt::wait::<u8>();
    w.cancel();
    assert!(w.is_pending());
    let end = w.clone().map(|x| x + 1).bind(|x| Promise::resolved(x * 2));
    end.cancel();
    assert!(end.is_pending() && w.is_pending());
    r.resolve(1)?;
    assert_eq!(end.await?, 4);
    Ok(())
}

/// The rejection flows forwards through every intermediate promise, depth
/// first: `a`'s first callback is the map that rejects `b`, which rejects `c`
/// before `a`'s later callbacks run.
pub async fn cancel_flows_through_intermediates() -> Outcome {
    let log = Log::default();
    let (t, _r) = lwt::task::<u8>();
    let a = t.map(|x| x + 1);
    let b = a.clone().map(|x| x + 1);
    let c = b.clone().map(|x| x + 1);
    for (name, p) in [("a", &a), ("b", &b), ("c", &c)] {
        let l = log.clone();
        p.on_failure(move |e| l.push(format!("{name} {}", e.is_canceled())));
    }
    c.cancel();
    // c, then b, then a (eager callbacks, attach order on each promise).
    assert_eq!(log.take(), ["c true", "b true", "a true"]);
    Ok(())
}

/// `catch` may recover from the cancellation of what it waits on.
pub async fn catch_recovers_from_cancel() -> Outcome {
    let (t, _r) = lwt::task::<u8>();
    let c = t.catch(|e| Promise::resolved(if e.is_canceled() { 7 } else { 0 }));
    c.cancel();
    assert!(is_canceled(&t));
    assert_eq!(c.await?, 7);
    Ok(())
}

/// `finalize` runs its cleanup when the promise is canceled.
pub async fn finalize_runs_on_cancel() -> Outcome {
    let log = Log::default();
    let (t, _r) = lwt::task::<u8>();
    let l = log.clone();
    let f = t.finalize(move || {
        l.push("cleanup");
        Promise::resolved(())
    });
    f.cancel();
    assert_eq!(log.take(), ["cleanup"]);
    assert!(f.await.unwrap_err().is_canceled());
    Ok(())
}

/// `try_bind`'s error branch sees the cancellation.
pub async fn try_bind_sees_cancel() -> Outcome {
    let (t, _r) = lwt::task::<u8>();
    let p = t.try_bind(
        |_| Promise::resolved("value"),
        |e| Promise::resolved(if e.is_canceled() { "canceled" } else { "other" }),
    );
    p.cancel();
    assert_eq!(p.await?, "canceled");
    Ok(())
}

/// Once a bind's inner promise is resolved, canceling the result does nothing.
pub async fn cancel_after_completion_is_a_no_op() -> Outcome {
    let (a, ra) = lwt::task::<u8>();
    let (b, rb) = lwt::task::<u8>();
    let p = a.bind(move |x| b.map(move |y| x + y));
    ra.resolve(1)?;
    rb.resolve(2)?;
    p.cancel();
    assert_eq!(p.await?, 3);
    Ok(())
}

/// `protected` follows the source's value.
pub async fn protected_follows_value() -> Outcome {
    let (t, r) = lwt::task::<u8>();
    let g = lwt::protected(&t);
    assert!(g.is_pending());
    r.resolve(5)?;
    assert_eq!(g.await?, 5);
    Ok(())
}

/// `protected` follows the source's rejection.
pub async fn protected_follows_rejection() -> Outcome {
    let (t, r) = lwt::task::<u8>();
    let g = lwt::protected(&t);
    r.reject(Error::msg("source failed"))?;
    assert_eq!(g.await.unwrap_err().message(), "source failed");
    Ok(())
}

/// Canceling a protected promise runs none of the source's hooks.
pub async fn protected_keeps_source_hooks() -> Outcome {
    let log = Log::default();
    let (t, r) = lwt::task::<u8>();
    let l = log.clone();
    t.on_cancel(move || l.push("source hook"));
    let g = lwt::protected(&t);
    let l = log.clone();
    g.on_cancel(move || l.push("guard hook"));
    g.cancel();
    assert!(
        is_canceled(&g) && t.is_pending(),
        "the source is left alone"
    );
    assert_eq!(log.take(), ["guard hook"]);
    r.resolve(1)?;
    assert_eq!(t.await?, 1);
    Ok(())
}

/// `protected` of a resolved promise is resolved alike.
pub async fn protected_of_resolved() -> Outcome {
    assert_eq!(lwt::protected(&Promise::resolved(2)).await?, 2);
    let e = lwt::protected(&Promise::<u8>::rejected(Error::timeout()))
        .await
        .unwrap_err();
    assert!(e.is_timeout());
    Ok(())
}

/// A `protected` promise in the middle of a chain stops the walk backwards.
pub async fn protected_in_a_chain() -> Outcome {
    let (t, r) = lwt::task::<u8>();
    let end = lwt::protected(&t.clone().map(|x| x + 1)).map(|x| x * 10);
    end.cancel();
    assert!(is_canceled(&end));
    assert!(t.is_pending());
    r.resolve(1)?;
    Ok(())
}

/// `no_cancel`, alone or in a chain: canceling it or the end does nothing,
/// the source stays pending, and the value still follows.
pub async fn no_cancel_in_a_chain() -> Outcome {
    let (t, r) = lwt::task::<u8>();
    let n = lwt::no_cancel(&t);
    n.cancel();
    assert!(n.is_pending() && t.is_pending());
    let end = n.map(|x| x + 1);
    end.cancel();
    assert!(end.is_pending() && t.is_pending());
    r.resolve(1)?;
    assert_eq!(end.await?, 2);
    Ok(())
}

/// `no_cancel` follows a rejection.
pub async fn no_cancel_follows_rejection() -> Outcome {
    let (t, r) = lwt::task::<u8>();
    let n = lwt::no_cancel(&t);
    r.reject(Error::msg("boom"))?;
    assert_eq!(n.await.unwrap_err().message(), "boom");
    Ok(())
}

/// `wrap_in_cancelable` over a task: canceling the wrapper cancels the task.
pub async fn wrap_in_cancelable_cancels_task() -> Outcome {
    let (t, _r) = lwt::task::<u8>();
    let c = lwt::wrap_in_cancelable(&t);
    c.cancel();
    assert!(is_canceled(&c));
    assert!(is_canceled(&t));
    Ok(())
}

/// `wrap_in_cancelable` over a `wait` promise: the wrapper can be canceled
/// (the source stays pending), and another wrapper follows the value.
pub async fn wrap_in_cancelable_over_wait() -> Outcome {
    let (w, r) = lwt::wait::<u8>();
    let canceled = lwt::wrap_in_cancelable(&w);
    canceled.cancel();
    assert!(is_canceled(&canceled) && w.is_pending());
    let c = lwt::wrap_in_cancelable(&w);
    r.resolve(9)?;
    assert_eq!(c.await?, 9);
    Ok(())
}

/// `join` over `wait` promises cannot be canceled.
pub async fn join_of_waits_is_not_cancelable() -> Outcome {
    let (a, ra) = lwt::wait::<()>();
    let (b, rb) = lwt::wait::<()>();
    let j = lwt::join(vec![a, b]);
    j.cancel();
    assert!(j.is_pending());
    ra.resolve(())?;
    rb.resolve(())?;
    j.await?;
    Ok(())
}

/// Canceling `pick` cancels every input.
pub async fn cancel_pick_cancels_every_input() -> Outcome {
    let (a, _ra) = lwt::task::<u8>();
    let (b, _rb) = lwt::task::<u8>();
    let p = lwt::pick(vec![a.clone(), b.clone()]);
    p.cancel();
    assert!(is_canceled(&a) && is_canceled(&b) && is_canceled(&p));
    Ok(())
}

/// Canceling `choose` cancels every input, as in Lwt.
pub async fn cancel_choose_cancels_every_input() -> Outcome {
    let (a, _ra) = lwt::task::<u8>();
    let (b, _rb) = lwt::task::<u8>();
    let c = lwt::choose(vec![a.clone(), b.clone()]);
    c.cancel();
    assert!(is_canceled(&a) && is_canceled(&b) && is_canceled(&c));
    Ok(())
}

/// Canceling `both` and `all` reaches their inputs.
pub async fn cancel_both_and_all() -> Outcome {
    let (a, _ra) = lwt::task::<u8>();
    let (b, _rb) = lwt::task::<u8>();
    let both = lwt::both(&a, &b);
    both.cancel();
    assert!(is_canceled(&a) && is_canceled(&b) && is_canceled(&both));
    let (c, _rc) = lwt::task::<u8>();
    let all = lwt::all(vec![c.clone()]);
    all.cancel();
    assert!(is_canceled(&c) && is_canceled(&all));
    Ok(())
}

/// The canceled error answers its predicates and no others.
pub async fn canceled_error_predicates() -> Outcome {
    let e = Error::canceled();
    assert!(e.is_canceled());
    assert!(!e.is_timeout() && !e.is_closed() && !e.is_invalid_argument());
    let (t, _r) = lwt::task::<()>();
    t.cancel();
    let got = t.peek().unwrap().unwrap_err();
    assert!(got.is_canceled() && !got.is_timeout());
    Ok(())
}

/// A cancellation carrying a payload gives it back.
pub async fn canceled_with_payload() -> Outcome {
    let (t, r) = lwt::task::<()>();
    r.reject(Error::canceled_with("aborted", 42u32))?;
    let e = t.peek().unwrap().unwrap_err();
    assert!(e.is_canceled());
    assert_eq!(e.payload::<u32>(), Some(&42));
    Ok(())
}

/// A callback may cancel the very promise whose callback list is running:
/// it is resolved already, so nothing happens.
pub async fn cancel_from_own_callback() -> Outcome {
    let log = Log::default();
    let (t, r) = lwt::task::<u8>();
    let t2 = t.clone();
    let l = log.clone();
    t.on_success(move |v| {
        t2.cancel();
        l.push(format!("first {v}"));
    });
    let l = log.clone();
    t.on_success(move |v| l.push(format!("second {v}")));
    r.resolve(1)?;
    assert_eq!(log.take(), ["first 1", "second 1"]);
    assert_eq!(t.await?, 1);
    Ok(())
}

/// An `on_cancel` hook may cancel another promise.
pub async fn cancel_from_on_cancel_hook() -> Outcome {
    let (a, _ra) = lwt::task::<()>();
    let (b, _rb) = lwt::task::<()>();
    let b2 = b.clone();
    a.on_cancel(move || b2.cancel());
    a.cancel();
    assert!(is_canceled(&a) && is_canceled(&b));
    Ok(())
}

/// Canceling a chain reaches the sleep it waits on and releases its timer.
pub async fn cancel_reaches_sleep_in_chain() -> Outcome {
    let timers = crate::counting::TimerCount::new()?;
    let s = timers.track(|| lwt::sleep(Duration::from_secs(3600)));
    let end = s.clone().map(|()| 1).bind(|x| Promise::resolved(x + 1));
    assert_eq!(timers.live(), 1);
    end.cancel();
    assert!(is_canceled(&s) && is_canceled(&end));
    assert_eq!(timers.live(), 0, "the sleep's timer was released");
    Ok(())
}

/// A bind whose function returned `sleep`, with the bind's promise and the
/// sleep as handles, after the root was resolved: the sleep was merged into
/// the bind's promise, and the timer is still tracked.
fn bind_to_sleep(
    timers: &crate::counting::TimerCount,
    d: Duration,
) -> Result<(Promise<()>, Promise<()>), Error> {
    let (root, r) = lwt::wait::<()>();
    let slept: Rc<RefCell<Option<Promise<()>>>> = Rc::default();
    let keep = slept.clone();
    let end = root.bind(move |()| {
        let s = lwt::sleep(d);
        *keep.borrow_mut() = Some(s.clone());
        s
    });
    timers.track(|| r.resolve(()))?;
    let sleep = slept.borrow_mut().take().ok_or(Error::msg("bind ran"))?;
    Ok((end, sleep))
}

/// A sleep returned by a bind's function becomes part of the bind's
/// promise (Lwt's proxies); canceling that promise still releases the
/// sleep's timer.
pub async fn cancel_reaches_sleep_returned_by_bind() -> Outcome {
    let timers = crate::counting::TimerCount::new()?;
    let (end, sleep) = bind_to_sleep(&timers, Duration::from_secs(3600))?;
    assert_eq!(timers.live(), 1);
    assert!(end.is_pending() && sleep.is_pending());
    end.cancel();
    assert!(is_canceled(&end) && is_canceled(&sleep));
    assert_eq!(timers.live(), 0, "the merged sleep's timer was released");
    Ok(())
}

/// The same, canceling through the sleep's own handle after the merge.
pub async fn cancel_of_merged_sleep_releases_its_timer() -> Outcome {
    let timers = crate::counting::TimerCount::new()?;
    let (end, sleep) = bind_to_sleep(&timers, Duration::from_secs(3600))?;
    sleep.cancel();
    assert!(is_canceled(&end) && is_canceled(&sleep));
    assert_eq!(timers.live(), 0, "the merged sleep's timer was released");
    Ok(())
}

/// A merged sleep that fires fulfills the bind's promise, and a cancel
/// afterwards changes nothing.
pub async fn merged_sleep_fires_into_the_bind() -> Outcome {
    let timers = crate::counting::TimerCount::new()?;
    let (end, sleep) = bind_to_sleep(&timers, Duration::from_millis(1))?;
    end.clone().await?;
    assert!(sleep.is_fulfilled());
    assert_eq!(timers.live(), 0);
    end.cancel();
    assert!(end.is_fulfilled());
    Ok(())
}

/// Canceling a chain reaches the pause it waits on.
pub async fn cancel_reaches_pause_in_chain() -> Outcome {
    let p = lwt::pause();
    let end = p.clone().map(|()| 1);
    end.cancel();
    assert!(is_canceled(&p) && is_canceled(&end));
    lwt::pause().await?;
    Ok(())
}

/// Cancel walks through 10,000 nested binds, each returning a pending task.
pub async fn cancel_through_nested_binds() -> Outcome {
    let (first, rfirst) = lwt::task::<()>();
    let (leaf, _rleaf) = lwt::task::<u8>();
    let mut end = leaf.clone();
    for _ in 0..10_000 {
        let inner = end.clone();
        let (gate, rgate) = lwt::task::<()>();
        rgate.resolve(())?;
        end = gate.bind(move |()| inner);
    }
    let end = first.bind(move |()| end);
    rfirst.resolve(())?;
    end.cancel();
    assert!(is_canceled(&leaf) && is_canceled(&end));
    Ok(())
}

/// Canceling a `join` that waits on one task and one `wait` cancels the task
/// but the join stays pending on the other.
pub async fn join_partly_cancelable() -> Outcome {
    let (t, _rt) = lwt::task::<()>();
    let (w, rw) = lwt::wait::<()>();
    let j = lwt::join(vec![t.clone(), w]);
    j.cancel();
    assert!(is_canceled(&t));
    assert!(j.is_pending());
    rw.resolve(())?;
    assert!(j.await.unwrap_err().is_canceled());
    Ok(())
}

/// Canceling a promise whose cancelable source nobody holds any more still
/// rejects it (the source is gone, the promise waiting on it is not).
pub async fn cancel_reaches_a_dependent_of_a_dropped_task() -> Outcome {
    let log = Log::default();
    let p = lwt::task::<u8>().0.map(|x| x + 1).map(|x| x * 2);
    let l = log.clone();
    p.on_cancel(move || l.push("hook"));
    p.cancel();
    assert!(is_canceled(&p));
    assert_eq!(log.take(), ["hook"]);
    let q = lwt::wait::<u8>().0.map(|x| x + 1);
    q.cancel();
    assert!(q.is_pending());
    Ok(())
}
