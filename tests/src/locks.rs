//! tokio's `OnceCell`, `RwLock` and `Barrier`, on the waiter queue: who
//! waits, who is released, in which order, and what bad input gives.

use std::cell::Cell;
use std::rc::Rc;

use lwt::{Barrier, Error, OnceCell, RwLock};

use crate::log::{ms, Log};
use crate::Outcome;

// ------------------------------------------------------------------ OnceCell

/// Concurrent callers wait for the first initializer; only it runs.
pub async fn once_cell_concurrent_callers_share_one_init() -> Outcome {
    let cell = Rc::new(OnceCell::new());
    let runs = Rc::new(Cell::new(0));
    let mut all = Vec::new();
    for i in 0..3u32 {
        let (c, n) = (cell.clone(), runs.clone());
        all.push(lwt::spawn(async move {
            let v = c
                .get_or_init(|| async move {
                    n.set(n.get() + 1);
                    lwt::sleep(ms(1)).await?;
                    Ok(i)
                })
                .await?;
            Ok(*v)
        }));
    }
    assert_eq!(lwt::all(all).await?, [0, 0, 0]);
    assert_eq!(runs.get(), 1);
    assert_eq!(cell.get(), Some(&0));
    Ok(())
}

/// A failed init lets the next caller retry; the cell keeps the retry's
/// value.
pub async fn once_cell_failed_init_retries() -> Outcome {
    let log = Log::default();
    let cell = Rc::new(OnceCell::<&str>::new());
    let (c, l) = (cell.clone(), log.clone());
    let failing = lwt::spawn(async move {
        let r = c
            .get_or_init(|| async {
                lwt::sleep(ms(1)).await?;
                Err::<&str, _>(Error::msg("down"))
            })
            .await;
        l.push(r.err().map_or("?".into(), |e| e.message().to_string()));
        Ok(())
    });
    let (c, l) = (cell.clone(), log.clone());
    let retry = lwt::spawn(async move {
        let v = *c.get_or_init(|| async { Ok("up") }).await?;
        l.push(v);
        Ok(())
    });
    failing.await?;
    retry.await?;
    assert_eq!(log.take(), ["down", "up"]);
    assert_eq!(cell.get(), Some(&"up"));
    Ok(())
}

/// A canceled waiter leaves the queue without disturbing the init; `set`
/// on a full cell is an error, not a panic.
pub async fn once_cell_canceled_waiter_and_bad_set() -> Outcome {
    let cell = Rc::new(OnceCell::new());
    let c = cell.clone();
    let init = lwt::spawn(async move {
        Ok(*c
            .get_or_init(|| async {
                lwt::sleep(ms(2)).await?;
                Ok(9)
            })
            .await?)
    });
    let c = cell.clone();
    let waiter = lwt::spawn(async move { Ok(*c.get_or_init(|| async { Ok(1) }).await?) });
    assert!(cell.set(5).unwrap_err().is_invalid_argument()); // an init is running
    waiter.cancel();
    assert!(waiter.await.unwrap_err().is_canceled());
    assert_eq!(init.await?, 9);
    assert!(cell.set(5).unwrap_err().is_invalid_argument()); // already set
    assert_eq!(cell.get(), Some(&9));
    Ok(())
}

// ------------------------------------------------------------------ RwLock

/// Readers share the lock; a writer waits for them, and readers that come
/// after a waiting writer wait behind it (FIFO: writers do not starve).
pub async fn rwlock_fifo_writer_not_starved() -> Outcome {
    let log = Log::default();
    let lock = Rc::new(RwLock::new(0));
    let first = lock.read().await?;
    let mut all = Vec::new();
    for (i, write) in [(1, true), (2, false), (3, false)] {
        let (l, lk) = (log.clone(), lock.clone());
        all.push(lwt::spawn(async move {
            if write {
                *lk.write().await? += 1;
                l.push(format!("w{i}"));
            } else {
                let v = *lk.read().await?;
                l.push(format!("r{i}={v}"));
            }
            Ok(())
        }));
    }
    assert_eq!(lock.waiter_count(), 3);
    assert!(lock.try_read().is_err()); // a writer waits: no barging
    drop(first);
    lwt::join(all).await?;
    assert_eq!(log.take(), ["w1", "r2=1", "r3=1"]);
    Ok(())
}

/// A canceled waiting writer leaves the line, and the readers it held back
/// are served.
pub async fn rwlock_canceled_writer_leaves() -> Outcome {
    let lock = Rc::new(RwLock::new("v"));
    let held = lock.read().await?;
    let lk = lock.clone();
    let writer = lwt::spawn(async move {
        let _w = lk.write().await?;
        Ok(())
    });
    let lk = lock.clone();
    let reader = lwt::spawn(async move { Ok(*lk.read().await?) });
    assert!(reader.is_pending());
    writer.cancel();
    assert!(writer.await.unwrap_err().is_canceled());
    assert_eq!(reader.await?, "v");
    drop(held);
    assert!(lock.try_write().is_ok());
    Ok(())
}

/// Re-entrancy gives errors, not panics or hangs, through `try_*`; a
/// conflicting wait while holding the lock can be given up with a timeout,
/// and leaves the line.
pub async fn rwlock_reentrancy_is_an_error() -> Outcome {
    let lock = Rc::new(RwLock::new(1));
    let r = lock.try_read()?;
    assert!(lock.try_write().is_err());
    let again = lock.try_read()?; // readers may share
    drop((r, again));
    let w = lock.try_write()?;
    assert!(lock.try_read().is_err());
    assert!(lock.try_write().is_err());
    drop(w);
    let r = lock.read().await?;
    // A conflicting wait while holding the lock would wait for itself:
    // give it up with a timeout.
    let lk = lock.clone();
    let own = lwt::spawn(async move { Ok(*lk.write().await?) });
    assert_eq!(lock.waiter_count(), 1);
    let own = lwt::with_timeout(ms(1), &own);
    assert!(own.await.unwrap_err().is_timeout());
    assert_eq!(lock.waiter_count(), 0);
    drop(r);
    assert!(lock.try_write().is_ok());
    Ok(())
}

// ------------------------------------------------------------------ Barrier

/// The last of `n` parties releases them all and is the one leader; the
/// barrier is then reused.
pub async fn barrier_last_arrival_leads() -> Outcome {
    let barrier = Barrier::new(3);
    for round in 1..=2u64 {
        let mut parties = Vec::new();
        for i in 0..3u64 {
            let b = barrier.clone();
            parties.push(lwt::spawn(async move {
                lwt::sleep(ms(i)).await?;
                Ok(b.wait().await?.is_leader())
            }));
        }
        let leaders = lwt::all(parties).await?;
        assert_eq!(leaders.iter().filter(|l| **l).count(), 1);
        assert_eq!(barrier.rounds(), round);
        assert_eq!(barrier.waiting(), 0);
    }
    Ok(())
}

/// A canceled party leaves the count; `Barrier::new(0)` acts as one party
/// and never blocks or panics.
pub async fn barrier_canceled_party_and_zero() -> Outcome {
    let barrier = Barrier::new(2);
    let gone = barrier.wait();
    assert_eq!(barrier.waiting(), 1);
    gone.cancel();
    assert!(gone.await.unwrap_err().is_canceled());
    assert_eq!(barrier.waiting(), 0);
    let first = barrier.wait();
    assert!(first.is_pending());
    assert!(barrier.wait().await?.is_leader());
    assert!(!first.await?.is_leader());
    let zero = Barrier::new(0);
    assert!(zero.wait().await?.is_leader());
    assert!(zero.wait().await?.is_leader());
    Ok(())
}
