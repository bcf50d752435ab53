//! `lwt::JoinSet`, tokio's task set: results in the order tasks finish,
//! `cancel_all`/`abort_all`, and dropping the set releases what its running
//! tasks wait on (timers counted through the engine contract).

use std::time::Duration;

use lwt::JoinSet;

use crate::counting::TimerCount;
use crate::log::ms;
use crate::Outcome;

/// `join_next` gives results in the order the tasks finished, then `None`.
/// The deadlines count from one instant, so that a stall between the
/// spawns (a loaded machine, on an engine with a real clock) cannot
/// reorder them.
pub async fn join_next_in_finish_order() -> Outcome {
    let start = lwt::now()?;
    let mut set = JoinSet::new();
    for n in [3u64, 1, 2] {
        set.spawn(async move {
            lwt::sleep_until(start + ms(n)).await?;
            Ok(n)
        });
    }
    assert_eq!(set.len(), 3);
    let mut order = Vec::new();
    while let Some(r) = set.join_next().await {
        order.push(r?);
    }
    assert_eq!(order, [1, 2, 3]);
    assert!(set.is_empty());
    assert!(set.join_next().await.is_none());
    Ok(())
}

/// Dropping the set cancels its running tasks: their timers are released.
pub async fn drop_releases_running_tasks() -> Outcome {
    let timers = TimerCount::new()?;
    let mut set = JoinSet::<()>::new();
    timers.track(|| {
        set.spawn(lwt::sleep(Duration::from_secs(30)));
        set.spawn(async {
            lwt::sleep(Duration::from_secs(60)).await?;
            Ok(())
        });
    });
    assert_eq!(timers.live(), 2);
    drop(set);
    assert_eq!(timers.live(), 0);
    Ok(())
}

/// `cancel_all` lets each task see the cancel; the results still come out.
pub async fn cancel_all_results_are_canceled() -> Outcome {
    let timers = TimerCount::new()?;
    let mut set = JoinSet::new();
    timers.track(|| {
        for _ in 0..3 {
            set.spawn(async {
                match lwt::sleep(Duration::from_secs(30)).await {
                    Err(e) if e.is_canceled() => Ok("cleaned up"),
                    other => other.map(|()| "slept"),
                }
            });
        }
    });
    assert_eq!(timers.live(), 3);
    set.cancel_all();
    assert_eq!(timers.live(), 0);
    let mut seen = 0;
    while let Some(r) = set.join_next().await {
        assert_eq!(r?, "cleaned up");
        seen += 1;
    }
    assert_eq!(seen, 3);
    Ok(())
}

/// `abort_all` and a task handle's `abort` stop tasks; each still leaves
/// the set once, with a canceled error.
pub async fn abort_leaves_the_set_once() -> Outcome {
    let timers = TimerCount::new()?;
    let mut set = JoinSet::<u8>::new();
    let one = timers.track(|| {
        set.spawn(async {
            lwt::sleep(Duration::from_secs(30)).await?;
            Ok(1)
        })
    });
    assert_eq!(timers.live(), 1);
    set.spawn(async { Ok(2) });
    one.abort();
    assert!(one.is_finished());
    assert_eq!(timers.live(), 0);
    set.spawn(lwt::Promise::never());
    set.abort_all();
    let mut ok = Vec::new();
    let mut canceled = 0;
    while let Some(r) = set.join_next().await {
        match r {
            Ok(v) => ok.push(v),
            Err(e) if e.is_canceled() => canceled += 1,
            Err(e) => return Err(e),
        }
    }
    assert_eq!((ok, canceled), (vec![2], 2));
    Ok(())
}

/// A task finished before `join_next` is awaited is not lost, and a
/// `join_next` that waits is woken by the next task to finish.
pub async fn join_next_waits_for_the_next() -> Outcome {
    let mut set = JoinSet::new();
    set.spawn(async { Ok("ready") });
    let (gate, open) = lwt::task::<&str>();
    set.spawn(gate);
    assert_eq!(set.join_next().await.unwrap()?, "ready");
    let opener = lwt::spawn(async move {
        lwt::sleep(ms(1)).await?;
        open.resolve("later")
    });
    assert_eq!(set.join_next().await.unwrap()?, "later");
    opener.await
}
