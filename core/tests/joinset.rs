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
