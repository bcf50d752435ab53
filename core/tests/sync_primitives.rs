//! Mutex, MVar, Condition and Semaphore: ordering, fairness, blocking,
//! cancellation and re-entrancy, through the public API.

use std::cell::RefCell;
use std::rc::Rc;

use lwt::testing::Log;
use lwt::{Condition, MVar, Mutex, Promise, Semaphore};

// ---------------------------------------------------------------- Mutex

#[test]
fn mutex_is_fifo_fair() {
    let m = Mutex::new();
    let seen = Log::new();
    m.lock().peek().unwrap().unwrap();
    for i in 0..5 {
        let (s, m2) = (seen.clone(), m.clone());
        m.lock().on_success(move |()| {
            s.push(format!("got {i}"));
            m2.unlock().unwrap();
        });
    }
    // A newcomer after the unlock must not barge in ahead of the line.
    m.unlock().unwrap();
    let late = m.lock();
    // Expected: got 0..4 in order, then the newcomer.
    assert_eq!(seen.get(), ["got 0", "got 1", "got 2", "got 3", "got 4"]);
    assert!(late.is_fulfilled());
    assert!(m.is_locked());
}

#[test]
fn canceled_lock_waiter_never_gets_the_lock() {
    let m = Mutex::new();
    m.lock().peek().unwrap().unwrap();
    let a = m.lock();
    let b = m.lock();
    a.cancel();
    assert_eq!(m.waiter_count(), 1);
    m.unlock().unwrap();
    assert!(a.peek().unwrap().unwrap_err().is_canceled());
    assert!(b.is_fulfilled());
    m.unlock().unwrap();
    assert!(!m.is_locked());
}

#[test]
fn canceled_with_lock_body_releases_the_lock() {
    let m = Mutex::new();
    let (body, _r) = lwt::task::<u8>();
    let w = m.with_lock(move || body);
    assert!(m.is_locked());
    let next = m.with_lock(|| Promise::resolved(2));
    w.cancel();
    assert!(w.peek().unwrap().unwrap_err().is_canceled());
    assert_eq!(next.peek().unwrap().unwrap(), 2);
    assert!(!m.is_locked());
}

#[test]
fn canceled_with_lock_while_waiting_never_runs_body() {
    let m = Mutex::new();
    m.lock().peek().unwrap().unwrap();
    let ran = Rc::new(RefCell::new(false));
    let r = ran.clone();
    let w = m.with_lock(move || {
        *r.borrow_mut() = true;
        Promise::resolved(())
    });
    w.cancel();
    m.unlock().unwrap();
    assert!(!*ran.borrow());
    assert!(!m.is_locked());
}

#[test]
fn with_lock_rejection_releases() {
    let m = Mutex::new();
    let p = m.with_lock(|| Promise::<()>::rejected(lwt::Error::msg("boom")));
    assert!(p.is_rejected());
    assert!(!m.is_locked());
}

#[test]
fn releasing_many_waiters_does_not_recurse() {
    // Each waiter unlocks at once: a line of 200_000 hand-offs in a loop.
    let m = Mutex::new();
    m.lock().peek().unwrap().unwrap();
    let count = Rc::new(RefCell::new(0u32));
    for _ in 0..200_000 {
        let (m2, c) = (m.clone(), count.clone());
        m.lock().on_success(move |()| {
            *c.borrow_mut() += 1;
            m2.unlock().unwrap();
        });
    }
    m.unlock().unwrap();
    assert_eq!(*count.borrow(), 200_000);
    assert!(!m.is_locked());
}

#[test]
fn mutex_reentrant_waiter_locks_again() {
    // A waiter's callback unlocks and immediately locks again: it goes to
    // the back of the line.
    let m = Mutex::new();
    let seen = Log::new();
    m.lock().peek().unwrap().unwrap();
    let (m2, s) = (m.clone(), seen.clone());
    m.lock().on_success(move |()| {
        s.push("a");
        m2.unlock().unwrap();
        let s2 = s.clone();
        m2.lock().on_success(move |()| s2.push("a again"));
    });
    let s = seen.clone();
    m.lock().on_success(move |()| s.push("b"));
    m.unlock().unwrap();
    assert_eq!(seen.get(), ["a", "b"]);
    m.unlock().unwrap();
    assert_eq!(seen.get(), ["a", "b", "a again"]);
}

#[test]
fn unlock_unlocked_is_an_error() {
    assert!(Mutex::new().unlock().unwrap_err().is_invalid_argument());
}

// ---------------------------------------------------------------- MVar

#[test]
fn mvar_put_blocks_when_full_and_take_when_empty() {
    let mv = MVar::new_empty();
    let t1 = mv.take();
    let t2 = mv.take();
    assert!(t1.is_pending() && t2.is_pending());
    assert!(mv.put(1).is_fulfilled());
    assert!(mv.put(2).is_fulfilled());
    assert_eq!(t1.peek().unwrap().unwrap(), 1);
    assert_eq!(t2.peek().unwrap().unwrap(), 2);
    assert!(mv.is_empty());
    assert!(mv.put(3).is_fulfilled());
    let p4 = mv.put(4);
    let p5 = mv.put(5);
    assert!(p4.is_pending() && p5.is_pending());
    assert_eq!(mv.take().peek().unwrap().unwrap(), 3);
    assert!(p4.is_fulfilled() && p5.is_pending());
    assert_eq!(mv.take().peek().unwrap().unwrap(), 4);
    assert_eq!(mv.take().peek().unwrap().unwrap(), 5);
    assert!(p5.is_fulfilled());
}

#[test]
fn mvar_canceled_taker_loses_nothing() {
    let mv = MVar::new_empty();
    let a = mv.take();
    a.cancel();
    assert_eq!(mv.taker_count(), 0);
    mv.put("v").peek().unwrap().unwrap();
    assert_eq!(mv.take_available(), Some("v"));
}

#[test]
fn mvar_canceled_putter_withdraws() {
    let mv = MVar::new(1);
    let p = mv.put(2);
    let q = mv.put(3);
    p.cancel();
    assert_eq!(mv.take().peek().unwrap().unwrap(), 1);
    assert_eq!(mv.take().peek().unwrap().unwrap(), 3);
    assert!(q.is_fulfilled());
    assert!(mv.is_empty());
}

#[test]
fn mvar_reentrant_taker_takes_again() {
    let mv = MVar::new_empty();
    let seen = Log::new();
    let (mv2, s) = (mv.clone(), seen.clone());
    mv.take().on_success(move |v: u32| {
        s.push(format!("first {v}"));
        let s2 = s.clone();
        mv2.take()
            .on_success(move |v| s2.push(format!("second {v}")));
        mv2.put(v + 100).peek().unwrap().unwrap();
    });
    mv.put(1).peek().unwrap().unwrap();
    assert_eq!(seen.get(), ["first 1", "second 101"]);
}

#[test]
fn mvar_try_put_stores_only_into_an_empty_box() {
    let mv = MVar::new_empty();
    assert_eq!(mv.try_put(1), Ok(()));
    assert!(!mv.is_empty());
    assert_eq!(mv.try_put(2), Err(2), "full: the value comes back");
    assert_eq!(mv.putter_count(), 0, "a refused try_put does not wait");
    assert_eq!(mv.take_available(), Some(1), "not replaced");
    assert_eq!(mv.take_available(), None);
    // Empty with a taker waiting: the value goes straight to the taker.
    let t = mv.take();
    assert_eq!(mv.try_put(3), Ok(()));
    assert_eq!(t.peek().unwrap().unwrap(), 3);
    assert!(mv.is_empty());
}

#[test]
fn mvar_counts_and_debug_follow_the_lines() {
    let mv = MVar::new_empty();
    assert_eq!(
        format!("{mv:?}"),
        "MVar { full: false, takers: 0, putters: 0 }"
    );
    let takes: Vec<_> = (0..3).map(|_| mv.take()).collect();
    assert_eq!((mv.taker_count(), mv.putter_count()), (3, 0));
    assert_eq!(
        format!("{mv:?}"),
        "MVar { full: false, takers: 3, putters: 0 }"
    );
    takes[1].cancel();
    assert_eq!(mv.taker_count(), 2);
    for v in [10, 20, 30] {
        assert!(mv.put(v).is_fulfilled());
    }
    assert_eq!(takes[0].peek().unwrap().unwrap(), 10);
    assert_eq!(takes[2].peek().unwrap().unwrap(), 20);
    assert_eq!((mv.taker_count(), mv.putter_count()), (0, 0));
    // 30 is in the box; two more puts wait.
    let puts = [mv.put(40), mv.put(50)];
    assert_eq!((mv.taker_count(), mv.putter_count()), (0, 2));
    assert_eq!(
        format!("{mv:?}"),
        "MVar { full: true, takers: 0, putters: 2 }"
    );
    puts[0].cancel();
    assert_eq!(mv.putter_count(), 1);
    assert_eq!(mv.take_available(), Some(30));
    assert!(puts[1].is_fulfilled());
    assert_eq!(mv.putter_count(), 0);
    assert_eq!(mv.take_available(), Some(50));
}

// ---------------------------------------------------------------- Condition

#[test]
fn condition_signal_wakes_in_order_and_is_lost_without_waiters() {
    let c = Condition::new();
    c.signal(0); // nobody waits: lost
    let a = c.wait(None);
    let b = c.wait(None);
    c.signal(1);
    assert_eq!(a.peek().unwrap().unwrap(), 1);
    assert!(b.is_pending());
    c.signal(2);
    assert_eq!(b.peek().unwrap().unwrap(), 2);
}

#[test]
fn condition_canceled_waiter_does_not_use_a_signal() {
    let c = Condition::new();
    let a = c.wait(None);
    let b = c.wait(None);
    a.cancel();
    c.signal(7);
    assert!(a.peek().unwrap().unwrap_err().is_canceled());
    assert_eq!(b.peek().unwrap().unwrap(), 7);
}

#[test]
fn condition_broadcast_and_error() {
    let c = Condition::new();
    let ws: Vec<_> = (0..3).map(|_| c.wait(None)).collect();
    // A waiter that waits again during the broadcast waits for the next one.
    let again = Rc::new(RefCell::new(None));
    let (c2, a2) = (c.clone(), again.clone());
    ws[0].on_success(move |_| *a2.borrow_mut() = Some(c2.wait(None)));
    c.broadcast("x");
    assert!(ws.iter().all(|w| w.peek().unwrap().unwrap() == "x"));
    let again = again.borrow_mut().take().unwrap();
    assert!(again.is_pending());
    c.broadcast_error(lwt::Error::msg("stop"));
    assert_eq!(again.peek().unwrap().unwrap_err().message(), "stop");
}

#[test]
fn condition_wait_under_mutex() {
    let m = Mutex::new();
    let c = Condition::<u8>::new();
    assert!(c
        .wait(Some(&m))
        .peek()
        .unwrap()
        .unwrap_err()
        .is_invalid_argument());
    m.lock().peek().unwrap().unwrap();
    let w = c.wait(Some(&m));
    assert!(!m.is_locked());
    // Someone else takes the mutex; the signaled waiter must wait for it.
    m.lock().peek().unwrap().unwrap();
    c.signal(1);
    assert!(w.is_pending());
    m.unlock().unwrap();
    assert_eq!(w.peek().unwrap().unwrap(), 1);
    assert!(m.is_locked());
    // Canceled while waiting: the mutex is still re-locked.
    let w = c.wait(Some(&m));
    w.cancel();
    assert!(w.peek().unwrap().unwrap_err().is_canceled());
    assert!(m.is_locked());
}

// ---------------------------------------------------------------- Semaphore

#[test]
fn semaphore_is_fifo_and_a_big_request_blocks_smaller_ones() {
    let sem = Semaphore::new(1);
    let a = sem.acquire_promise(2);
    let b = sem.acquire_promise(1);
    assert!(a.is_pending() && b.is_pending()); // b waits behind a
    sem.add_permits(1);
    assert!(a.is_fulfilled() && b.is_pending());
    sem.add_permits(2);
    assert!(b.is_fulfilled());
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn semaphore_cancel_head_unblocks_the_rest() {
    let sem = Semaphore::new(1);
    let a = sem.acquire_promise(5);
    let b = sem.acquire_promise(1);
    assert!(b.is_pending());
    a.cancel();
    assert!(b.is_fulfilled());
    assert_eq!(sem.available_permits(), 0);
}

#[test]
fn semaphore_permits_are_raii_and_dropped_acquire_leaves_the_line() {
    let engine = lwt::testing::VirtualEngine::new();
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    {
        let pending = sem.acquire();
        assert_eq!(sem.waiter_count(), 1);
        drop(pending);
    }
    assert_eq!(sem.waiter_count(), 0);
    drop(held);
    assert_eq!(sem.available_permits(), 1);
    // Granted but never polled: the permits come back when it is dropped.
    let held = sem.try_acquire().unwrap();
    let acq = sem.acquire();
    drop(held);
    assert_eq!(sem.available_permits(), 0);
    drop(acq);
    assert_eq!(sem.available_permits(), 1);
    let s = sem.clone();
    let order = Log::new();
    let o = order.clone();
    let t = lwt::spawn(async move {
        let _p = s.acquire_many(1).await?;
        o.push("in");
        lwt::pause().await?;
        Ok(())
    });
    engine.run(&t).unwrap();
    assert_eq!(sem.available_permits(), 1);
    assert_eq!(order.get(), ["in"]);
}

#[test]
fn semaphore_close_rejects_waiters() {
    let sem = Semaphore::new(0);
    let w = sem.acquire_promise(1);
    sem.close();
    assert!(w.peek().unwrap().unwrap_err().is_closed());
    assert!(sem.acquire_promise(0).is_rejected());
    assert!(sem.try_acquire().unwrap_err().is_closed());
}

#[test]
fn semaphore_reentrant_waiter_acquires_again() {
    let sem = Semaphore::new(0);
    let seen = Log::new();
    let (s2, l) = (sem.clone(), seen.clone());
    sem.acquire_promise(1).on_success(move |()| {
        l.push("a");
        s2.add_permits(1); // give it back from inside the callback
        let l2 = l.clone();
        s2.acquire_promise(1)
            .on_success(move |()| l2.push("a again"));
    });
    let l = seen.clone();
    sem.acquire_promise(1).on_success(move |()| l.push("b"));
    sem.add_permits(1);
    // Expected: a, then b (it was in line first), then "a again" waits.
    assert_eq!(seen.get(), ["a", "b"]);
    sem.add_permits(1);
    assert_eq!(seen.get(), ["a", "b", "a again"]);
}

#[test]
fn semaphore_grants_take_exactly_what_was_asked() {
    let sem = Semaphore::new(5);
    // At once, with the line empty: 5 - 3.
    assert!(sem.acquire_promise(3).is_fulfilled());
    assert_eq!(sem.available_permits(), 2);
    assert!(
        sem.acquire_promise(2).is_fulfilled(),
        "exactly what is free"
    );
    assert_eq!(sem.available_permits(), 0);
    // Through the line: a waiter for 3 is granted when 3 are free, and
    // takes 3 of the 5 added, leaving 2.
    let w = sem.acquire_promise(3);
    sem.add_permits(2);
    assert!(w.is_pending(), "2 of 3 is not enough");
    sem.add_permits(3);
    assert!(w.is_fulfilled());
    assert_eq!(sem.available_permits(), 2);
    // A waiter whose count equals what is free after an add is served.
    let w = sem.acquire_promise(3);
    assert!(w.is_pending());
    sem.add_permits(1);
    assert!(w.is_fulfilled());
    assert_eq!(sem.available_permits(), 0);
    // A waiter for fewer than what an add frees is served too, and the
    // rest stays free.
    let w = sem.acquire_promise(1);
    sem.add_permits(3);
    assert!(w.is_fulfilled());
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn semaphore_try_acquire_needs_the_permits_and_an_empty_line() {
    let sem = Semaphore::new(5);
    let e = sem.try_acquire_many(6).unwrap_err();
    assert!(!e.is_closed(), "not closed: no permits");
    assert_eq!(sem.available_permits(), 5, "a refused try takes nothing");
    let p = sem.try_acquire_many(3).unwrap();
    assert_eq!(p.num_permits(), 3);
    assert_eq!(sem.available_permits(), 2);
    let q = sem.try_acquire_many(2).unwrap();
    assert_eq!(sem.available_permits(), 0, "exactly what is free");
    drop((p, q));
    assert_eq!(sem.available_permits(), 5);
    let one = sem.try_acquire().unwrap();
    assert_eq!(one.num_permits(), 1);
    assert_eq!(sem.available_permits(), 4);
    // A waiter in line: a try never jumps it, even for fewer permits than
    // are free.
    let w = sem.acquire_promise(6);
    assert!(w.is_pending());
    assert!(!sem.try_acquire().unwrap_err().is_closed());
    assert_eq!(sem.available_permits(), 4);
    // Nor does an acquire.
    let behind = sem.acquire_promise(1);
    assert!(behind.is_pending());
    w.cancel();
    assert!(behind.is_fulfilled());
    assert_eq!(sem.available_permits(), 3);
    drop(one);
    assert_eq!(sem.available_permits(), 4);
}

#[test]
fn semaphore_forget_keeps_the_permits_and_is_closed_follows_close() {
    let sem = Semaphore::new(3);
    sem.try_acquire_many(2).unwrap().forget();
    assert_eq!(sem.available_permits(), 1, "forgotten: never given back");
    let kept = sem.try_acquire().unwrap();
    assert!(!sem.is_closed());
    let w = sem.acquire_promise(1);
    sem.close();
    assert!(sem.is_closed());
    assert!(w.peek().unwrap().unwrap_err().is_closed());
    assert_eq!(sem.waiter_count(), 0);
    drop(kept);
    assert_eq!(sem.available_permits(), 1, "a held permit comes back");
    assert!(sem.try_acquire().unwrap_err().is_closed());
}

#[test]
fn semaphore_permit_and_acquire_debug_output() {
    let engine = lwt::testing::VirtualEngine::new();
    let sem = Semaphore::new(2);
    assert_eq!(
        format!("{sem:?}"),
        "Semaphore { permits: 2, closed: false, waiters: 0 }"
    );
    let acq = sem.acquire_many(3);
    assert_eq!(format!("{acq:?}"), "Acquire { n: 3 }");
    assert_eq!(
        format!("{sem:?}"),
        "Semaphore { permits: 2, closed: false, waiters: 1 }"
    );
    sem.add_permits(1);
    let t = lwt::spawn(async move { acq.await.map(|p| format!("{p:?}")) });
    assert_eq!(engine.run(&t).unwrap(), "Permit { n: 3 }");
    sem.close();
    assert_eq!(
        format!("{sem:?}"),
        "Semaphore { permits: 3, closed: true, waiters: 0 }"
    );
}

#[test]
fn map_n_calls_f_again_from_a_permit_released_by_its_own_result() {
    // The first call waits; when it resolves, the next call starts and
    // returns a resolved promise, whose permit starts the third call right
    // away: `f` is called from inside the release of its own earlier result.
    let (first, r) = lwt::wait::<u32>();
    let first = RefCell::new(Some(first));
    let all = lwt::list::map_n(1, vec![1u32, 2, 3], move |x| {
        first
            .borrow_mut()
            .take()
            .unwrap_or_else(|| Promise::resolved(x * 10))
    });
    assert!(all.is_pending());
    r.resolve(1).unwrap();
    assert_eq!(all.peek().unwrap().unwrap(), vec![1, 20, 30]);
}

// ------------------------------------------------- counts and Debug output

#[test]
fn waiter_counts_emptiness_and_debug_follow_the_line() {
    let m = Mutex::new();
    assert!(m.is_empty() && m.waiter_count() == 0);
    m.lock().peek().unwrap().unwrap();
    assert!(m.is_empty(), "the holder is not a waiter");
    let a = m.lock();
    let b = m.lock();
    assert!(!m.is_empty());
    assert_eq!(m.waiter_count(), 2);
    assert_eq!(format!("{m:?}"), "Mutex { locked: true, waiters: 2 }");
    a.cancel();
    assert_eq!(m.waiter_count(), 1);
    m.unlock().unwrap();
    assert!(b.is_fulfilled() && m.is_empty());
    assert_eq!(format!("{m:?}"), "Mutex { locked: true, waiters: 0 }");

    let c = Condition::<u8>::new();
    let waits: Vec<_> = (0..3).map(|_| c.wait(None)).collect();
    assert_eq!(c.waiter_count(), 3);
    assert_eq!(format!("{c:?}"), "Condition { waiters: 3 }");
    waits[1].cancel();
    assert_eq!(c.waiter_count(), 2);
    c.broadcast(1);
    assert_eq!(c.waiter_count(), 0);
    assert_eq!(format!("{c:?}"), "Condition { waiters: 0 }");
}

#[test]
fn a_barrier_of_three_releases_on_the_third_live_wait() {
    let b = lwt::Barrier::new(3);
    let first = b.wait();
    let gone = b.wait();
    gone.cancel();
    let second = b.wait();
    assert!(
        first.is_pending() && second.is_pending(),
        "two live waits of three"
    );
    let third = b.wait();
    for w in [&first, &second, &third] {
        assert!(w.peek().is_some_and(|r| r.is_ok()), "released by the third");
    }
}
