//! async/await on promises: spawn timing, cancellation at an await, abort.

use std::time::Duration;

use lwt::{Error, Promise};

use crate::log::{ms, Log};
use crate::Outcome;

/// `spawn` polls at once, and resumes inside the resolution that woke it.
pub async fn spawn_timing() -> Outcome {
    let log = Log::default();
    let (p, r) = lwt::wait::<u8>();
    let l = log.clone();
    let t = lwt::spawn(async move {
        l.push("start");
        let v = p.await?;
        l.push(format!("resumed {v}"));
        Ok(v)
    });
    log.push("spawned");
    r.resolve(5)?;
    log.push("resolved");
    assert_eq!(log.take(), ["start", "spawned", "resumed 5", "resolved"]);
    assert_eq!(t.await?, 5);
    Ok(())
}

/// A canceled task sees `Err(canceled)` at its await and may clean up.
pub async fn cancel_seen_at_await() -> Outcome {
    let log = Log::default();
    let l = log.clone();
    let t = lwt::spawn(async move {
        match lwt::sleep(Duration::from_secs(60)).await {
            Err(e) if e.is_canceled() => {
                l.push("cleanup");
                lwt::sleep(ms(1)).await?;
                Ok("handled")
            }
            other => other.map(|()| "slept"),
        }
    });
    t.cancel();
    assert_eq!(log.take(), ["cleanup"]);
    assert_eq!(t.await?, "handled");
    Ok(())
}

/// `abort` drops the future (destructors first), then rejects.
pub async fn abort_order() -> Outcome {
    struct Noisy(Log);
    impl Drop for Noisy {
        fn drop(&mut self) {
            self.0.push("dropped");
        }
    }
    let log = Log::default();
    let noisy = Noisy(log.clone());
    let t = lwt::spawn(async move {
        let _n = noisy;
        lwt::sleep(Duration::from_secs(60)).await?;
        Ok(())
    });
    let l = log.clone();
    t.on_failure(move |e| l.push(format!("rejected {}", e.is_canceled())));
    t.abort();
    assert_eq!(log.take(), ["dropped", "rejected true"]);
    Ok(())
}

/// Canceling an outer task reaches the inner task it awaits.
pub async fn nested_task_cancel() -> Outcome {
    let inner = lwt::spawn(async { lwt::sleep(Duration::from_secs(60)).await });
    let outer = lwt::spawn(inner.clone());
    outer.cancel();
    assert!(inner.peek().unwrap().unwrap_err().is_canceled());
    assert!(outer.peek().unwrap().unwrap_err().is_canceled());
    Ok(())
}

/// Every combinator can be awaited inside a task.
pub async fn await_combinators() -> Outcome {
    let s = |n: u64| lwt::sleep(ms(n)).map(move |()| n);
    lwt::join(vec![s(1).ignore(), s(2).ignore()]).await?;
    assert_eq!(lwt::all(vec![s(3), s(1)]).await?, vec![3, 1]);
    assert_eq!(lwt::both(&s(1), &s(2)).await?, (1, 2));
    assert_eq!(lwt::pick(vec![s(50), s(1)]).await?, 1);
    assert_eq!(lwt::choose(vec![s(50), s(2)]).await?, 2);
    assert_eq!(lwt::npick(vec![s(1), s(90)]).await?, vec![1]);
    Ok(())
}

/// `?` converts errors; the original is kept for downcasting.
pub async fn question_mark_in_tasks() -> Outcome {
    let t = lwt::spawn(async {
        let n: u32 = "x".parse()?;
        Ok(n)
    });
    let e = t.await.unwrap_err();
    assert!(e.downcast_ref::<std::num::ParseIntError>().is_some());
    Ok(())
}

/// A task awaiting a foreign future is polled again on a later turn.
pub async fn foreign_future_in_task() -> Outcome {
    let (tx, rx) = futures::channel::oneshot::channel::<u8>();
    let t = lwt::spawn(async move { rx.await.map_err(Error::new) });
    assert!(t.is_pending(), "the channel is empty: the task waits");
    tx.send(4).map_err(|_| Error::msg("send failed"))?;
    assert!(t.is_pending(), "woken, not polled inside the sender's call");
    assert_eq!(t.await?, 4);
    Ok(())
}

/// A chain of 10,000 tasks, each awaiting the previous one.
pub async fn task_chain() -> Outcome {
    let (start, r) = lwt::wait::<u64>();
    let mut end = start.clone();
    for _ in 0..10_000 {
        let prev = end.clone();
        end = lwt::spawn(async move { Ok(prev.await? + 1) });
    }
    r.resolve(0)?;
    assert_eq!(end.await?, 10_000);
    Ok(())
}

/// A task's rejection reaches `catch` on its promise.
pub async fn task_rejection_is_a_promise_rejection() -> Outcome {
    let t: Promise<u8> = lwt::spawn(async { Err(Error::msg("failed")) });
    assert_eq!(t.catch(|_| Promise::resolved(1)).await?, 1);
    Ok(())
}

/// A task that never awaits resolves inside `spawn`.
pub async fn spawn_ready_resolves_at_once() -> Outcome {
    let t = lwt::spawn(async { Ok(3) });
    assert_eq!(t.peek().unwrap()?, 3);
    Ok(())
}

/// Tasks woken by one resolve run in the order they started waiting.
pub async fn tasks_wake_in_fifo_order() -> Outcome {
    let log = Log::default();
    let (p, r) = lwt::wait::<()>();
    let tasks: Vec<_> = (0..3)
        .map(|i| {
            let (p, l) = (p.clone(), log.clone());
            lwt::spawn(async move {
                p.await?;
                l.push(i.to_string());
                Ok(())
            })
        })
        .collect();
    r.resolve(())?;
    lwt::join(tasks).await?;
    assert_eq!(log.take(), ["0", "1", "2"]);
    Ok(())
}

/// Canceling a task whose await is a `wait` promise (not cancelable) leaves
/// the task running.
pub async fn cancel_task_awaiting_wait() -> Outcome {
    let (p, r) = lwt::wait::<u8>();
    let t = lwt::spawn(async move { Ok(p.await? + 1) });
    t.cancel();
    assert!(t.is_pending());
    r.resolve(1)?;
    assert_eq!(t.await?, 2);
    Ok(())
}

/// A task may ignore a cancellation and go on.
pub async fn task_survives_cancel() -> Outcome {
    let t = lwt::spawn(async {
        let first = lwt::sleep(Duration::from_secs(60)).await;
        assert!(first.unwrap_err().is_canceled());
        lwt::pause().await?;
        Ok("went on")
    });
    t.cancel();
    assert_eq!(t.await?, "went on");
    Ok(())
}

/// `abort` on a finished task does nothing.
pub async fn abort_finished_task() -> Outcome {
    let t = lwt::spawn(async { Ok(1) });
    t.abort();
    assert_eq!(t.await?, 1);
    Ok(())
}

/// Aborting a task cancels nothing it awaited: the awaited promise stays.
pub async fn abort_drops_without_cancel() -> Outcome {
    let (p, r) = lwt::task::<u8>();
    let p2 = p.clone();
    let t = lwt::spawn(async move {
        let v = p2.await?;
        Ok(v + 1)
    });
    t.abort();
    assert!(t.peek().unwrap().unwrap_err().is_canceled());
    assert!(p.is_pending());
    r.resolve(1)?;
    Ok(())
}

/// A task spawned from a task runs at once too.
pub async fn nested_spawn() -> Outcome {
    let log = Log::default();
    let l = log.clone();
    let outer = lwt::spawn(async move {
        l.push("outer");
        let l2 = l.clone();
        let inner = lwt::spawn(async move {
            l2.push("inner");
            Ok(2)
        });
        l.push("after inner");
        Ok(inner.await? * 2)
    });
    assert_eq!(outer.await?, 4);
    assert_eq!(log.take(), ["outer", "inner", "after inner"]);
    Ok(())
}

/// A foreign future woken from another turn (a `futures` channel fed by a
/// sleep's callback).
pub async fn foreign_channel_across_turns() -> Outcome {
    let (tx, rx) = futures::channel::oneshot::channel::<&str>();
    lwt::sleep(ms(1)).on_success(move |()| {
        let _ = tx.send("later");
    });
    let t = lwt::spawn(async move { rx.await.map_err(Error::new) });
    assert_eq!(t.await?, "later");
    Ok(())
}

/// Implicit storage follows a task across its awaits.
pub async fn storage_follows_task() -> Outcome {
    let key = lwt::new_key::<u32>();
    let k = key.clone();
    let t = lwt::with_value(&key, Some(7), || {
        lwt::spawn(async move {
            lwt::sleep(ms(1)).await?;
            Ok(lwt::get(&k))
        })
    });
    assert_eq!(t.await?, Some(7));
    assert_eq!(lwt::get(&key), None);
    Ok(())
}

/// A value that is not `Clone`, to be moved out with `take`.
#[derive(Debug, PartialEq)]
struct Owned(u32);

/// `take` moves a non-`Clone` value out of a promise still pending when it
/// is first polled; the task resumes inside the resolution, as any await.
pub async fn take_moves_the_value_of_a_pending_promise() -> Outcome {
    let log = Log::default();
    let (p, r) = lwt::wait::<Owned>();
    let l = log.clone();
    let t = lwt::spawn(async move {
        let v = p.take().await?;
        l.push(format!("took {}", v.0));
        Ok(v)
    });
    log.push("claimed");
    r.resolve(Owned(3))?;
    log.push("resolved");
    assert_eq!(log.take(), ["claimed", "took 3", "resolved"]);
    assert_eq!(t.take().await?, Owned(3));
    Ok(())
}

/// A task's result, across engine time, moved out of its handle.
pub async fn take_of_a_task_across_a_sleep() -> Outcome {
    let t = lwt::spawn(async {
        lwt::sleep(ms(5)).await?;
        Ok(Owned(9))
    });
    assert_eq!(t.take().await?, Owned(9));
    // Already resolved, and this is the last handle: moved as well.
    let done = Promise::resolved(Owned(1));
    assert_eq!(done.take().await?, Owned(1));
    Ok(())
}

/// Other handles of a taken promise see an invalid-argument error in its
/// place; a take of a value others can read fails the same way, and the
/// value stays with them.
pub async fn take_of_a_shared_value_fails_clearly() -> Outcome {
    let (p, r) = lwt::wait::<Owned>();
    let other = p.clone();
    let taken = lwt::spawn(async move { p.take().await });
    r.resolve(Owned(4))?;
    assert_eq!(taken.take().await?, Owned(4));
    let seen = other.with_result(|r| r.as_ref().err().map(Error::is_invalid_argument));
    assert_eq!(seen, Some(Some(true)), "the others see the value was taken");

    // Resolved and shared: no move, a clear error; the value is still there.
    let shared = Promise::resolved(Owned(5));
    let keep = shared.clone();
    let e = shared.take().await.unwrap_err();
    assert!(e.is_invalid_argument(), "{e}");
    assert!(e.message().contains("shared"), "{e}");
    assert_eq!(
        keep.with_result(|r| r.as_ref().map(|v| v.0).ok()),
        Some(Some(5))
    );

    // Pending, with another callback waiting: it runs as usual and the
    // value stays, the take fails.
    let log = Log::default();
    let (p, r) = lwt::wait::<Owned>();
    let l = log.clone();
    p.on_termination(move || l.push("other callback"));
    let keep = p.clone();
    let take = lwt::spawn(async move { p.take().await.map(|v| v.0) });
    r.resolve(Owned(6))?;
    assert_eq!(log.take(), ["other callback"]);
    assert!(take.await.unwrap_err().is_invalid_argument());
    assert_eq!(
        keep.with_result(|r| r.as_ref().map(|v| v.0).ok()),
        Some(Some(6))
    );
    Ok(())
}

/// A rejection or a cancel reaches a take unchanged; a take dropped before
/// the promise resolves claims nothing, so no value is lost.
pub async fn take_passes_errors_and_a_dropped_take_loses_nothing() -> Outcome {
    let (p, r) = lwt::task::<Owned>();
    let t = lwt::spawn(async move { p.take().await.map(|v| v.0) });
    r.reject(Error::msg("boom"))?;
    assert_eq!(t.await.unwrap_err().message(), "boom");

    let (p, _r) = lwt::task::<Owned>();
    let t = lwt::spawn(async move { p.take().await.map(|v| v.0) });
    t.cancel();
    assert!(t.await.unwrap_err().is_canceled());

    let (p, r) = lwt::wait::<Owned>();
    let other = p.clone();
    let t = lwt::spawn(async move { p.take().await.map(|v| v.0) });
    t.abort(); // drops the take, and its claim
    r.resolve(Owned(8))?;
    assert_eq!(
        other.with_result(|r| r.as_ref().map(|v| v.0).ok()),
        Some(Some(8))
    );
    Ok(())
}
