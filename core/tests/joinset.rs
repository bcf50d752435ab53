//! `lwt::JoinSet` through its public API: what `len`, `is_empty` and the
//! `Debug` output count while tasks run, finish and are joined.

use lwt::{JoinSet, Promise};

/// `len` counts running tasks and finished ones not joined yet, and
/// `is_empty` follows it down to zero.
#[test]
fn len_counts_running_and_unjoined_tasks() {
    let engine = lwt::testing::VirtualEngine::new();
    let mut set = JoinSet::new();
    assert_eq!(set.len(), 0);
    assert!(set.is_empty());
    let (gate, open) = lwt::wait::<()>();
    for i in 0..3u32 {
        let gate = gate.clone();
        set.spawn(async move {
            gate.await?;
            Ok(i)
        });
    }
    set.spawn(async { Ok(9) }); // finished at once, not joined
    assert_eq!(set.len(), 4, "3 running and 1 finished");
    assert!(!set.is_empty());
    assert_eq!(set.try_join_next().unwrap().unwrap(), 9);
    assert_eq!(set.len(), 3, "3 running");
    open.resolve(()).unwrap();
    engine.run_until_idle();
    assert_eq!(set.len(), 3, "3 finished, none joined");
    let mut got: Vec<u32> = std::iter::from_fn(|| set.try_join_next())
        .map(Result::unwrap)
        .collect();
    got.sort_unstable();
    assert_eq!(got, [0, 1, 2]);
    assert_eq!(set.len(), 0);
    assert!(set.is_empty());
}

/// The `Debug` output names the running and the finished counts.
#[test]
fn debug_shows_running_and_finished_counts() {
    let _engine = lwt::testing::VirtualEngine::new();
    let mut set = JoinSet::new();
    set.spawn(Promise::<u8>::never());
    set.spawn(Promise::<u8>::never());
    set.spawn(async { Ok(1u8) });
    let shown = format!("{set:?}");
    assert!(shown.starts_with("JoinSet"), "{shown}");
    assert!(shown.contains("running: 2"), "{shown}");
    assert!(shown.contains("finished: 1"), "{shown}");
}

/// `is_finished` is false while the task runs and true once it is done.
#[test]
fn a_task_handle_tells_whether_its_task_finished() {
    let engine = lwt::testing::VirtualEngine::new();
    let mut set = JoinSet::new();
    let (gate, open) = lwt::wait::<()>();
    let handle = set.spawn(async move {
        gate.await?;
        Ok(1)
    });
    assert!(!handle.is_finished());
    open.resolve(()).unwrap();
    engine.run_until_idle();
    assert!(handle.is_finished());
}

/// `TaskHandle::cancel` cancels that task alone: it sees `Err(canceled)`
/// at its await, and the other task goes on.
#[test]
fn a_task_handle_cancels_its_task_alone() {
    let _engine = lwt::testing::VirtualEngine::new();
    let mut set = JoinSet::new();
    let (input, _r) = lwt::task::<u8>();
    let (other, _r2) = lwt::task::<u8>();
    let handle = set.spawn(input);
    set.spawn(other);
    handle.cancel();
    assert!(handle.is_finished());
    assert!(set.try_join_next().unwrap().unwrap_err().is_canceled());
    assert!(set.try_join_next().is_none(), "the other task still runs");
    assert_eq!(set.len(), 1);
}

/// `cancel_all` reaches every running task; each result (the cancel) still
/// comes out of the set.
#[test]
fn cancel_all_cancels_every_running_task() {
    let _engine = lwt::testing::VirtualEngine::new();
    let mut set = JoinSet::new();
    let mut keep = Vec::new();
    for _ in 0..3 {
        let (input, r) = lwt::task::<u8>();
        keep.push(r);
        set.spawn(input);
    }
    set.cancel_all();
    assert_eq!(set.len(), 3, "finished, not joined yet");
    for _ in 0..3 {
        assert!(set.try_join_next().unwrap().unwrap_err().is_canceled());
    }
    assert!(set.is_empty());
}

/// `shutdown` stops the running tasks (their futures are dropped) and
/// forgets the results not joined yet.
#[test]
fn shutdown_stops_the_tasks_and_forgets_their_results() {
    use std::cell::Cell;
    use std::rc::Rc;
    struct Flag(Rc<Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let _engine = lwt::testing::VirtualEngine::new();
    let dropped = Rc::new(Cell::new(false));
    let flag = Flag(dropped.clone());
    let mut set = JoinSet::new();
    set.spawn(async { Ok(1) });
    set.spawn(async move {
        let _flag = flag;
        Promise::<i32>::never().await
    });
    assert_eq!(set.len(), 2);
    set.shutdown();
    assert!(dropped.get(), "the running task's future was dropped");
    assert!(set.is_empty());
    assert!(set.try_join_next().is_none());
}

/// A `join_next` dropped while it waits leaves the line: the next one is
/// the one a finishing task wakes.
#[test]
fn a_dropped_join_next_does_not_take_the_next_result() {
    let engine = lwt::testing::VirtualEngine::new();
    let mut set = JoinSet::new();
    let (gate, open) = lwt::wait::<()>();
    set.spawn(async move {
        gate.await?;
        Ok(5)
    });
    {
        let mut first = std::pin::pin!(set.join_next());
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(std::future::Future::poll(first.as_mut(), &mut cx).is_pending());
        let shown = format!("{first:?}");
        assert!(shown.starts_with("JoinNext"), "{shown}");
    }
    let joined = lwt::spawn(async move { Ok(set.join_next().await) });
    assert!(joined.is_pending());
    open.resolve(()).unwrap();
    engine.run_until_idle();
    let got = joined.peek().expect("woken by the finished task").unwrap();
    assert_eq!(got.unwrap().unwrap(), 5);
}
