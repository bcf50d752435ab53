//! The synchronisation primitives: Mutex, MVar, Condition, Semaphore.
//!
//! Their waiters are woken with `resolve_later`, so a body awaits the
//! promises it checks rather than peeking at them right after the call that
//! wakes them.

use lwt::{Condition, Error, MVar, Mutex, Promise, Semaphore};

use crate::log::{ms, Log};
use crate::Outcome;

// ------------------------------------------------------------------ Mutex

/// A free mutex locks at once; a second lock waits.
pub async fn mutex_lock_and_wait() -> Outcome {
    let m = Mutex::new();
    assert!(!m.is_locked() && m.is_empty());
    m.lock().await?;
    assert!(m.is_locked());
    let second = m.lock();
    assert!(second.is_pending());
    assert_eq!(m.waiter_count(), 1);
    m.unlock()?;
    second.await?;
    assert!(m.is_locked() && m.is_empty());
    m.unlock()?;
    assert!(!m.is_locked());
    Ok(())
}

/// Waiters get the lock in FIFO order.
pub async fn mutex_fifo() -> Outcome {
    let log = Log::default();
    let m = Mutex::new();
    m.lock().await?;
    let mut all = Vec::new();
    for i in 0..4 {
        let (l, m2) = (log.clone(), m.clone());
        all.push(m.lock().map(move |()| {
            l.push(i.to_string());
            m2.unlock().unwrap();
        }));
    }
    m.unlock()?;
    lwt::join(all).await?;
    assert_eq!(log.take(), ["0", "1", "2", "3"]);
    assert!(!m.is_locked());
    Ok(())
}

/// Unlocking an unlocked mutex is an error, not a panic.
pub async fn mutex_unlock_unlocked_is_an_error() -> Outcome {
    let m = Mutex::new();
    assert!(m.unlock().unwrap_err().is_invalid_argument());
    Ok(())
}

/// `try_lock` takes a free lock only.
pub async fn mutex_try_lock() -> Outcome {
    let m = Mutex::new();
    assert!(m.try_lock());
    assert!(!m.try_lock());
    m.unlock()?;
    assert!(m.try_lock());
    m.unlock()?;
    Ok(())
}

/// A canceled waiter leaves the line and never gets the lock.
pub async fn mutex_canceled_waiter_skipped() -> Outcome {
    let m = Mutex::new();
    m.lock().await?;
    let a = m.lock();
    let b = m.lock();
    assert_eq!(m.waiter_count(), 2);
    a.cancel();
    assert!(a.peek().unwrap().unwrap_err().is_canceled());
    assert_eq!(m.waiter_count(), 1, "the canceled waiter left the line");
    m.unlock()?;
    b.await?;
    assert!(m.is_locked());
    m.unlock()?;
    assert!(!m.is_locked());
    Ok(())
}

/// `with_lock` serialises critical sections and unlocks on error too.
pub async fn mutex_with_lock_serialises() -> Outcome {
    let log = Log::default();
    let m = Mutex::new();
    let (gate, open) = lwt::task::<()>();
    let l = log.clone();
    let a = m.with_lock(move || {
        l.push("a in");
        gate
    });
    let l = log.clone();
    let b = m.with_lock(move || {
        l.push("b in");
        Promise::<()>::rejected(Error::msg("b failed"))
    });
    assert_eq!(log.get(), ["a in"]);
    open.resolve(())?;
    a.await?;
    assert_eq!(b.await.unwrap_err().message(), "b failed");
    assert_eq!(log.take(), ["a in", "b in"]);
    assert!(!m.is_locked());
    Ok(())
}

/// Canceling `with_lock` while its section runs releases the lock.
pub async fn mutex_with_lock_cancel_releases() -> Outcome {
    let m = Mutex::new();
    let (body, _r) = lwt::task::<()>();
    let p = m.with_lock(move || body);
    assert!(m.is_locked());
    p.cancel();
    assert!(p.await.unwrap_err().is_canceled());
    assert!(!m.is_locked());
    Ok(())
}

/// Tasks contending for a mutex around awaits never overlap.
pub async fn mutex_guards_tasks() -> Outcome {
    let m = Mutex::new();
    let inside = std::rc::Rc::new(std::cell::Cell::new(0));
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let (m, inside) = (m.clone(), inside.clone());
            lwt::spawn(async move {
                m.lock().await?;
                inside.set(inside.get() + 1);
                assert_eq!(inside.get(), 1, "two tasks inside the lock");
                lwt::yield_now().await?;
                inside.set(inside.get() - 1);
                m.unlock()
            })
        })
        .collect();
    lwt::join(tasks).await?;
    assert!(!m.is_locked());
    Ok(())
}

// ------------------------------------------------------------------ MVar

/// `take` waits for `put`; the value goes straight to the taker.
pub async fn mvar_take_waits_for_put() -> Outcome {
    let mv = MVar::new_empty();
    let t = mv.take();
    assert!(t.is_pending());
    mv.put(3).await?;
    assert_eq!(t.await?, 3);
    assert!(mv.is_empty());
    Ok(())
}

/// `put` on a full box waits for a `take`.
pub async fn mvar_put_waits_when_full() -> Outcome {
    let mv = MVar::new(1);
    let p = mv.put(2);
    assert!(p.is_pending());
    assert_eq!(mv.putter_count(), 1);
    assert_eq!(mv.take().await?, 1);
    p.await?;
    assert_eq!(mv.take_available(), Some(2));
    assert_eq!(mv.take_available(), None);
    Ok(())
}

/// Takers are served FIFO.
pub async fn mvar_takers_fifo() -> Outcome {
    let mv = MVar::new_empty();
    let a = mv.take();
    let b = mv.take();
    mv.put("first").await?;
    mv.put("second").await?;
    assert_eq!(a.await?, "first");
    assert_eq!(b.await?, "second");
    Ok(())
}

/// Putters are served FIFO.
pub async fn mvar_putters_fifo() -> Outcome {
    let mv = MVar::new(0);
    let puts: Vec<_> = (1..=3).map(|i| mv.put(i)).collect();
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(mv.take().await?);
    }
    lwt::join(puts).await?;
    assert_eq!(got, [0, 1, 2, 3]);
    Ok(())
}

/// A canceled put withdraws its value.
pub async fn mvar_canceled_put_withdraws() -> Outcome {
    let mv = MVar::new(std::rc::Rc::new(1));
    let value = std::rc::Rc::new(2);
    let p = mv.put(value.clone());
    assert_eq!(
        (mv.putter_count(), std::rc::Rc::strong_count(&value)),
        (1, 2)
    );
    p.cancel();
    // It left the line, and its value was dropped then and there.
    assert_eq!(
        (mv.putter_count(), std::rc::Rc::strong_count(&value)),
        (0, 1)
    );
    assert_eq!(*mv.take().await?, 1);
    assert!(mv.is_empty());
    assert_eq!(mv.putter_count(), 0);
    Ok(())
}

/// A canceled take loses no value.
pub async fn mvar_canceled_take_loses_nothing() -> Outcome {
    let mv = MVar::new_empty();
    let a = mv.take();
    a.cancel();
    assert_eq!(mv.taker_count(), 0, "the canceled take left the line");
    mv.put(5).await?;
    assert_eq!(mv.take_available(), Some(5));
    Ok(())
}

/// `try_put` fills an empty box and gives the value back from a full one.
pub async fn mvar_try_put() -> Outcome {
    let mv = MVar::new_empty();
    assert_eq!(mv.try_put(1), Ok(()));
    assert_eq!(mv.try_put(2), Err(2));
    assert_eq!(mv.take().await?, 1);
    Ok(())
}

/// Two tasks ping-pong through two boxes.
pub async fn mvar_ping_pong() -> Outcome {
    let (ping, pong) = (MVar::new_empty(), MVar::new_empty());
    let (pi, po) = (ping.clone(), pong.clone());
    let echo = lwt::spawn(async move {
        for _ in 0..100 {
            let v: u32 = pi.take().await?;
            po.put(v + 1).await?;
        }
        Ok(())
    });
    let mut v = 0;
    for _ in 0..100 {
        ping.put(v).await?;
        v = pong.take().await?;
    }
    echo.await?;
    assert_eq!(v, 100);
    Ok(())
}

// ------------------------------------------------------------ Condition

/// `signal` wakes the first waiter only.
pub async fn condition_signal_wakes_one() -> Outcome {
    let c = Condition::new();
    let a = c.wait(None);
    let b = c.wait(None);
    c.signal(1);
    assert_eq!(a.await?, 1);
    assert!(b.is_pending());
    c.signal(2);
    assert_eq!(b.await?, 2);
    Ok(())
}

/// `broadcast` wakes every waiter.
pub async fn condition_broadcast_wakes_all() -> Outcome {
    let c = Condition::new();
    let ws: Vec<_> = (0..3).map(|_| c.wait(None)).collect();
    c.broadcast("go");
    assert_eq!(lwt::all(ws).await?, ["go", "go", "go"]);
    assert_eq!(c.waiter_count(), 0);
    Ok(())
}

/// A condition has no memory: a signal with no waiter is lost.
pub async fn condition_signal_without_waiter_is_lost() -> Outcome {
    let c = Condition::new();
    c.signal(1);
    let w = c.wait(None);
    lwt::yield_now().await?;
    assert!(w.is_pending());
    c.signal(2);
    assert_eq!(w.await?, 2);
    Ok(())
}

/// `broadcast_error` rejects every waiter.
pub async fn condition_broadcast_error() -> Outcome {
    let c = Condition::<u8>::new();
    let a = c.wait(None);
    let b = c.wait(None);
    c.broadcast_error(Error::msg("shutdown"));
    assert_eq!(a.await.unwrap_err().message(), "shutdown");
    assert_eq!(b.await.unwrap_err().message(), "shutdown");
    Ok(())
}

/// A canceled waiter does not use up a signal.
pub async fn condition_canceled_waiter_skipped() -> Outcome {
    let c = Condition::new();
    let a = c.wait(None);
    let b = c.wait(None);
    a.cancel();
    assert_eq!(c.waiter_count(), 1);
    c.signal(7);
    assert_eq!(b.await?, 7);
    Ok(())
}

/// `wait` with a mutex releases it while waiting and holds it again after.
pub async fn condition_wait_with_mutex() -> Outcome {
    let m = Mutex::new();
    let c = Condition::new();
    m.lock().await?;
    let w = c.wait(Some(&m));
    assert!(!m.is_locked());
    c.signal(3);
    assert_eq!(w.await?, 3);
    assert!(m.is_locked());
    m.unlock()?;
    Ok(())
}

/// `wait` with a mutex the caller does not hold is rejected.
pub async fn condition_wait_needs_locked_mutex() -> Outcome {
    let m = Mutex::new();
    let c = Condition::<()>::new();
    assert!(c.wait(Some(&m)).await.unwrap_err().is_invalid_argument());
    Ok(())
}

/// A producer/consumer pair on a mutex and a condition.
pub async fn condition_producer_consumer() -> Outcome {
    let m = Mutex::new();
    let c = Condition::<()>::new();
    let queue = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let (m2, c2, q2) = (m.clone(), c.clone(), queue.clone());
    let consumer = lwt::spawn(async move {
        let mut got = Vec::new();
        m2.lock().await?;
        while got.len() < 3 {
            let next = q2.borrow_mut().pop();
            match next {
                Some(v) => got.push(v),
                None => c2.wait(Some(&m2)).await?,
            }
        }
        m2.unlock()?;
        Ok(got)
    });
    for i in 0..3 {
        m.lock().await?;
        queue.borrow_mut().insert(0, i);
        c.signal(());
        m.unlock()?;
        lwt::yield_now().await?;
    }
    assert_eq!(consumer.await?, [0, 1, 2]);
    Ok(())
}

// ------------------------------------------------------------ Semaphore

/// Permits are counted and given back when dropped.
pub async fn semaphore_permits_counted() -> Outcome {
    let sem = Semaphore::new(2);
    let a = sem.acquire().await?;
    let b = sem.acquire().await?;
    assert_eq!(sem.available_permits(), 0);
    drop(a);
    assert_eq!(sem.available_permits(), 1);
    drop(b);
    assert_eq!(sem.available_permits(), 2);
    Ok(())
}

/// A waiter gets the permit another drops.
pub async fn semaphore_waiter_gets_dropped_permit() -> Outcome {
    let sem = Semaphore::new(1);
    let held = sem.acquire().await?;
    let s = sem.clone();
    let waiter = lwt::spawn(async move {
        let p = s.acquire().await?;
        Ok(p.num_permits())
    });
    assert!(waiter.is_pending());
    drop(held);
    assert_eq!(waiter.await?, 1);
    assert_eq!(sem.available_permits(), 1);
    Ok(())
}

/// `acquire_promise` and `add_permits`: waiters are served in order, a big
/// request blocks those behind it.
pub async fn semaphore_fifo_with_big_request() -> Outcome {
    let sem = Semaphore::new(0);
    let big = sem.acquire_promise(2);
    let small = sem.acquire_promise(1);
    sem.add_permits(1);
    lwt::yield_now().await?;
    assert!(big.is_pending() && small.is_pending());
    sem.add_permits(2);
    big.await?;
    small.await?;
    assert_eq!(sem.available_permits(), 0);
    Ok(())
}

/// `try_acquire` fails when no permit is free; `try_acquire_many` too.
pub async fn semaphore_try_acquire() -> Outcome {
    let sem = Semaphore::new(2);
    assert!(sem.try_acquire_many(3).is_err());
    let p = sem.try_acquire_many(2)?;
    assert_eq!(p.num_permits(), 2);
    assert!(sem.try_acquire().is_err());
    drop(p);
    assert!(sem.try_acquire().is_ok());
    Ok(())
}

/// Closing rejects waiters and later acquires with a closed error.
pub async fn semaphore_close() -> Outcome {
    let sem = Semaphore::new(0);
    let w = sem.acquire_promise(1);
    sem.close();
    assert!(sem.is_closed());
    assert!(w.await.unwrap_err().is_closed());
    assert!(sem.acquire().await.unwrap_err().is_closed());
    Ok(())
}

/// A canceled waiter leaves the line without taking permits.
pub async fn semaphore_canceled_waiter() -> Outcome {
    let sem = Semaphore::new(0);
    let a = sem.acquire_promise(1);
    let b = sem.acquire_promise(1);
    a.cancel();
    assert_eq!(sem.waiter_count(), 1);
    sem.add_permits(1);
    b.await?;
    assert_eq!(sem.available_permits(), 0);
    Ok(())
}

/// A forgotten permit is not given back.
pub async fn semaphore_forget() -> Outcome {
    let sem = Semaphore::new(1);
    sem.acquire().await?.forget();
    assert_eq!(sem.available_permits(), 0);
    Ok(())
}

/// A semaphore limits how many tasks run at once.
pub async fn semaphore_limits_concurrency() -> Outcome {
    let sem = Semaphore::new(2);
    let running = std::rc::Rc::new(std::cell::Cell::new(0));
    let peak = std::rc::Rc::new(std::cell::Cell::new(0));
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let (sem, running, peak) = (sem.clone(), running.clone(), peak.clone());
            lwt::spawn(async move {
                let _p = sem.acquire().await?;
                running.set(running.get() + 1);
                peak.set(peak.get().max(running.get()));
                lwt::sleep(ms(1 + i % 2)).await?;
                running.set(running.get() - 1);
                Ok(())
            })
        })
        .collect();
    lwt::join(tasks).await?;
    assert_eq!(peak.get(), 2);
    assert_eq!(sem.available_permits(), 2);
    Ok(())
}
