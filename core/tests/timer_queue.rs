//! `lwt::engine::TimerQueue` through its public API: against a sorted
//! reference, with cancels (stale ones included) and a moving clock.

use std::time::Duration;

use lwt::engine::{TimerId, TimerQueue};
use lwt::Instant;

fn at(ns: u64) -> Instant {
    Instant::from_epoch(Duration::from_nanos(ns))
}

#[test]
fn matches_a_sorted_reference_with_cancels_and_a_moving_clock() {
    let mut q = TimerQueue::new();
    // The reference: (deadline, arming number) of the live timers.
    let mut live: Vec<(u64, u64, TimerId)> = Vec::new();
    let mut dead: Vec<TimerId> = Vec::new();
    let mut x: u64 = 0x2545_f491;
    let mut rand = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut now = 0u64;
    let mut number = 0u64;
    for _ in 0..200 {
        for _ in 0..50 {
            // Few distinct deadlines, so equal ones are common.
            let d = now + rand() % 64;
            let id = q.arm(at(d), number);
            live.push((d, number, id));
            number += 1;
        }
        for _ in 0..10 {
            if live.is_empty() {
                break;
            }
            let (_, n, id) = live.remove((rand() % live.len() as u64) as usize);
            assert_eq!(q.cancel(id), Some(n));
            dead.push(id);
        }
        // Stale ids, their slots likely reused by now, cancel nothing.
        for _ in 0..5 {
            if let Some(&id) = dead.get((rand() % (dead.len() as u64 + 1)) as usize) {
                assert_eq!(q.cancel(id), None);
            }
        }
        now += rand() % 40;
        live.sort();
        let due = live.partition_point(|&(d, _, _)| d <= now);
        let expected: Vec<_> = live.drain(..due).collect();
        for (d, n, id) in expected {
            assert_eq!(q.pop_due(at(now)), Some((at(d), n)));
            dead.push(id);
        }
        assert_eq!(q.pop_due(at(now)), None, "nothing early");
        assert_eq!(q.len(), live.len());
        assert_eq!(q.next_deadline(), live.first().map(|&(d, _, _)| at(d)));
    }
}

#[test]
fn items_are_dropped_by_the_caller_not_the_queue() {
    use std::rc::Rc;
    let item = Rc::new(());
    let mut q = TimerQueue::new();
    let id = q.arm(Instant::EPOCH, item.clone());
    let back = q.cancel(id).unwrap();
    assert_eq!(Rc::strong_count(&item), 2, "handed back, not dropped");
    drop(back);
    q.arm(Instant::EPOCH, item.clone());
    drop(q);
    assert_eq!(
        Rc::strong_count(&item),
        1,
        "dropping the queue drops its items"
    );
}

#[test]
fn a_timer_fire_runs_its_closure_or_fires_its_target_and_says_which() {
    use lwt::engine::{TimerFire, TimerTarget};
    use std::cell::Cell;
    use std::rc::Rc;
    struct Count(Cell<u32>);
    impl TimerTarget for Count {
        fn fire(self: Rc<Self>) {
            self.0.set(self.0.get() + 1);
        }
    }
    let count = Rc::new(Count(Cell::new(0)));
    let target = TimerFire::Target(count.clone());
    let c = count.clone();
    let call = TimerFire::Call(Box::new(move || c.0.set(c.0.get() + 10)));
    assert_eq!(
        format!("{target:?} {call:?}"),
        "TimerFire::Target TimerFire::Call"
    );
    target.run();
    assert_eq!(count.0.get(), 1);
    call.run();
    assert_eq!(count.0.get(), 11);
    assert_eq!(Rc::strong_count(&count), 1, "both were consumed");
}
