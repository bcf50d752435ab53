//! `Pool` (Lwt_pool): bounds, FIFO order, validation and replacement,
//! check, dispose, clear, cancellation, factory failure and re-entrancy.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use lwt::testing::Log;
use lwt::{Error, Pool, Promise, Resolver};

/// A pool of numbered elements (1, 2, ...) that counts the factory's calls.
fn counting_pool(max: usize) -> (Pool<u32>, Rc<Cell<u32>>) {
    let made = Rc::new(Cell::new(0));
    let m = made.clone();
    let pool = Pool::new(max, move || {
        m.set(m.get() + 1);
        Promise::resolved(m.get())
    });
    (pool, made)
}

/// A use that holds its element until the returned resolver is resolved.
fn hold(pool: &Pool<u32>) -> (Promise<u32>, Resolver<()>) {
    let (gate, open) = lwt::wait::<()>();
    let p = pool.use_(move |e| gate.map(move |()| e));
    (p, open)
}

#[test]
fn bounded_and_lazy() {
    let (pool, made) = counting_pool(2);
    assert_eq!(made.get(), 0);
    let (a, ra) = hold(&pool);
    let (b, rb) = hold(&pool);
    let (c, rc) = hold(&pool);
    assert_eq!(made.get(), 2);
    assert_eq!(pool.size(), 2);
    assert!(c.is_pending());
    assert_eq!(pool.wait_queue_length(), 1);
    ra.resolve(()).unwrap();
    assert_eq!(a.peek().unwrap().unwrap(), 1);
    // `c` got `a`'s element: no new one was made.
    assert_eq!(made.get(), 2);
    rc.resolve(()).unwrap();
    assert_eq!(c.peek().unwrap().unwrap(), 1);
    rb.resolve(()).unwrap();
    assert_eq!(b.peek().unwrap().unwrap(), 2);
    assert_eq!(pool.size(), 2);
    assert_eq!(pool.idle_count(), 2);
}

#[test]
fn waiters_are_served_fifo_and_newcomers_do_not_barge() {
    let (pool, _) = counting_pool(1);
    let seen = Log::new();
    let (first, open) = hold(&pool);
    for i in 0..4 {
        let s = seen.clone();
        drop(pool.use_(move |e| {
            s.push(format!("waiter {i} got {e}"));
            Promise::resolved(())
        }));
    }
    assert_eq!(pool.wait_queue_length(), 4);
    open.resolve(()).unwrap();
    let s = seen.clone();
    let late = pool.use_(move |_| {
        s.push("newcomer");
        Promise::resolved(())
    });
    // Expected: the four waiters in order, then the newcomer.
    assert_eq!(
        seen.get(),
        [
            "waiter 0 got 1",
            "waiter 1 got 1",
            "waiter 2 got 1",
            "waiter 3 got 1",
            "newcomer"
        ]
    );
    assert!(first.is_fulfilled() && late.is_fulfilled());
    assert_eq!(pool.wait_queue_length(), 0);
}

#[test]
fn invalid_element_is_disposed_and_replaced() {
    let disposed = Log::new();
    let d = disposed.clone();
    let (pool, made) = counting_pool(1);
    let pool = pool
        .with_validate(|e| Promise::resolved(*e % 2 == 0 || *e > 2))
        .with_dispose(move |e| {
            d.push(format!("disposed {e}"));
            Promise::resolved(())
        });
    // Fresh elements are not validated: 1 is handed out.
    assert_eq!(pool.use_(Promise::resolved).peek().unwrap().unwrap(), 1);
    // 1 fails validation when taken from the idle list: replaced by 2.
    assert_eq!(pool.use_(Promise::resolved).peek().unwrap().unwrap(), 2);
    assert_eq!(disposed.get(), ["disposed 1"]);
    // 2 is valid: reused.
    assert_eq!(pool.use_(Promise::resolved).peek().unwrap().unwrap(), 2);
    assert_eq!(made.get(), 2);
    assert_eq!(pool.size(), 1);
}

#[test]
fn element_handed_to_a_waiter_is_validated_too() {
    let (pool, _) = counting_pool(1);
    let pool = pool.with_validate(|e| Promise::resolved(*e != 1));
    let (first, open) = hold(&pool);
    let second = pool.use_(Promise::resolved);
    open.resolve(()).unwrap();
    assert_eq!(first.peek().unwrap().unwrap(), 1);
    assert_eq!(second.peek().unwrap().unwrap(), 2);
    assert_eq!(pool.size(), 1);
}

#[test]
fn validation_failure_rejects_and_frees_the_slot() {
    let disposed = Rc::new(Cell::new(0));
    let d = disposed.clone();
    let (pool, _) = counting_pool(1);
    let pool = pool
        .with_validate(|_| Promise::rejected(Error::msg("ping failed")))
        .with_dispose(move |_| {
            d.set(d.get() + 1);
            Promise::resolved(())
        });
    pool.use_(|_| Promise::resolved(()))
        .peek()
        .unwrap()
        .unwrap();
    let r = pool.use_(|_| Promise::resolved(()));
    assert_eq!(r.peek().unwrap().unwrap_err().message(), "ping failed");
    assert_eq!(disposed.get(), 1);
    assert_eq!(pool.size(), 0);
    // The next use makes a fresh element (not validated).
    assert_eq!(pool.use_(Promise::resolved).peek().unwrap().unwrap(), 2);
}

#[test]
fn check_decides_after_a_failure() {
    let disposed = Rc::new(RefCell::new(Vec::<u32>::new()));
    let d = disposed.clone();
    let (pool, made) = counting_pool(1);
    let pool = pool
        .with_check(|_, e| Promise::resolved(e.message() == "transient"))
        .with_dispose(move |e| {
            d.borrow_mut().push(e);
            Promise::resolved(())
        });
    let r = pool.use_(|_| Promise::<()>::rejected(Error::msg("transient")));
    assert_eq!(r.peek().unwrap().unwrap_err().message(), "transient");
    assert_eq!(pool.idle_count(), 1); // kept
    let r = pool.use_(|_| Promise::<()>::rejected(Error::msg("fatal")));
    assert!(r.is_rejected());
    assert_eq!(*disposed.borrow(), [1]);
    assert_eq!(pool.size(), 0);
    assert_eq!(pool.use_(Promise::resolved).peek().unwrap().unwrap(), 2);
    assert_eq!(made.get(), 2);
}

#[test]
fn asynchronous_check_gives_back_when_it_resolves() {
    let (pool, _) = counting_pool(1);
    let (verdict, say) = lwt::wait::<bool>();
    let pool = pool.with_check(move |_, _| verdict.clone());
    let r = pool.use_(|_| Promise::<()>::rejected(Error::msg("x")));
    assert!(r.is_rejected());
    let next = pool.use_(Promise::resolved);
    assert!(next.is_pending()); // the element is still being checked
    say.resolve(true).unwrap();
    assert_eq!(next.peek().unwrap().unwrap(), 1);
}

#[test]
fn disposed_slot_goes_to_a_waiter() {
    let (pool, made) = counting_pool(1);
    let pool = pool.with_check(|_, _| Promise::resolved(false));
    let (gate, fail) = lwt::wait::<()>();
    let first = pool.use_(move |_| gate);
    let second = pool.use_(Promise::resolved);
    assert!(second.is_pending());
    fail.reject(Error::msg("broken")).unwrap();
    assert!(first.is_rejected());
    // The element was disposed; the waiter got its slot and made element 2.
    assert_eq!(second.peek().unwrap().unwrap(), 2);
    assert_eq!(made.get(), 2);
    assert_eq!(pool.size(), 1);
}

#[test]
fn clear_disposes_idle_now_and_busy_on_return() {
    let disposed = Rc::new(RefCell::new(Vec::<u32>::new()));
    let d = disposed.clone();
    let (pool, _) = counting_pool(2);
    let pool = pool.with_dispose(move |e| {
        d.borrow_mut().push(e);
        Promise::resolved(())
    });
    pool.use_(|_| Promise::resolved(()))
        .peek()
        .unwrap()
        .unwrap();
    let (busy, open) = {
        let (gate, open) = lwt::wait::<()>();
        // Takes the idle element 1 and keeps it.
        (pool.use_(move |e| gate.map(move |()| e)), open)
    };
    let (other, open_other) = hold(&pool); // element 2, made now
    open_other.resolve(()).unwrap();
    assert_eq!(other.peek().unwrap().unwrap(), 2);
    assert!(pool.clear().is_fulfilled());
    assert_eq!(*disposed.borrow(), [2]); // the idle one
    open.resolve(()).unwrap();
    assert_eq!(busy.peek().unwrap().unwrap(), 1);
    assert_eq!(*disposed.borrow(), [2, 1]); // the busy one, on return
    assert_eq!(pool.size(), 0);
    assert_eq!(pool.use_(Promise::resolved).peek().unwrap().unwrap(), 3);
}

#[test]
fn dispose_failure_reaches_clear_and_still_frees_the_slot() {
    let (pool, _) = counting_pool(1);
    let pool = pool.with_dispose(|_| Promise::rejected(Error::msg("close failed")));
    pool.use_(|_| Promise::resolved(()))
        .peek()
        .unwrap()
        .unwrap();
    let c = pool.clear();
    assert_eq!(c.peek().unwrap().unwrap_err().message(), "close failed");
    assert_eq!(pool.size(), 0);
}

#[test]
fn canceled_waiter_leaves_and_never_gets_an_element() {
    let (pool, _) = counting_pool(1);
    let got = Rc::new(Cell::new(false));
    let (first, open) = hold(&pool);
    let g = got.clone();
    let canceled = pool.use_(move |e| {
        g.set(true);
        Promise::resolved(e)
    });
    let third = pool.use_(Promise::resolved);
    assert_eq!(pool.wait_queue_length(), 2);
    canceled.cancel();
    assert_eq!(pool.wait_queue_length(), 1);
    assert!(canceled.peek().unwrap().unwrap_err().is_canceled());
    open.resolve(()).unwrap();
    assert!(first.is_fulfilled());
    assert!(!got.get());
    assert_eq!(third.peek().unwrap().unwrap(), 1);
    assert_eq!(pool.idle_count(), 1);
}

#[test]
fn canceling_a_running_use_still_returns_the_element() {
    let (pool, made) = counting_pool(1);
    let (work, _r) = lwt::task::<u32>(); // cancelable work
    let running = pool.use_(move |_| work);
    let waiting = pool.use_(Promise::resolved);
    running.cancel();
    assert!(running.peek().unwrap().unwrap_err().is_canceled());
    // The element went back, and on to the waiter.
    assert_eq!(waiting.peek().unwrap().unwrap(), 1);
    assert_eq!(made.get(), 1);
    assert_eq!(pool.idle_count(), 1);
}

#[test]
fn canceling_a_use_during_validation_keeps_the_element() {
    let (pool, made) = counting_pool(1);
    let (verdict, _say) = lwt::task::<bool>();
    let validating = Rc::new(Cell::new(false));
    let v = validating.clone();
    let pool = pool.with_validate(move |_| {
        v.set(true);
        verdict.clone()
    });
    pool.use_(|_| Promise::resolved(()))
        .peek()
        .unwrap()
        .unwrap();
    let u = pool.use_(Promise::resolved);
    assert!(validating.get() && u.is_pending());
    u.cancel();
    assert!(u.peek().unwrap().unwrap_err().is_canceled());
    assert_eq!(pool.idle_count(), 1);
    assert_eq!(pool.size(), 1);
    assert_eq!(made.get(), 1);
}

#[test]
fn factory_failure_rejects_and_does_not_leak_a_slot() {
    let fail = Rc::new(Cell::new(true));
    let f = fail.clone();
    let pool = Pool::new(1, move || {
        if f.get() {
            Promise::rejected(Error::msg("cannot connect"))
        } else {
            Promise::resolved("conn")
        }
    });
    let r = pool.use_(Promise::resolved);
    assert_eq!(r.peek().unwrap().unwrap_err().message(), "cannot connect");
    assert_eq!(pool.size(), 0);
    fail.set(false);
    assert_eq!(
        pool.use_(Promise::resolved).peek().unwrap().unwrap(),
        "conn"
    );
}

#[test]
fn pending_factory_failure_passes_the_slot_to_a_waiter() {
    let attempts = Rc::new(RefCell::new(Vec::<Resolver<u32>>::new()));
    let a = attempts.clone();
    let pool = Pool::new(1, move || {
        let (p, r) = lwt::task::<u32>();
        a.borrow_mut().push(r);
        p
    });
    let first = pool.use_(Promise::resolved);
    let second = pool.use_(Promise::resolved);
    assert_eq!(pool.wait_queue_length(), 1);
    let r0 = attempts.borrow()[0].clone();
    r0.reject(Error::msg("refused")).unwrap();
    assert!(first.is_rejected());
    // The waiter got the slot and called the factory itself.
    assert_eq!(attempts.borrow().len(), 2);
    let r1 = attempts.borrow()[1].clone();
    r1.resolve(7).unwrap();
    assert_eq!(second.peek().unwrap().unwrap(), 7);
    assert_eq!(pool.size(), 1);
}

#[test]
fn canceling_while_the_factory_runs_frees_the_slot() {
    let pool = Pool::new(1, || lwt::task::<u32>().0);
    let u = pool.use_(Promise::resolved);
    assert_eq!(pool.size(), 1);
    u.cancel();
    assert!(u.peek().unwrap().unwrap_err().is_canceled());
    assert_eq!(pool.size(), 0);
}

#[test]
fn zero_max_is_rejected() {
    let pool = Pool::new(0, || Promise::resolved(()));
    assert!(pool
        .use_(|()| Promise::resolved(()))
        .peek()
        .unwrap()
        .unwrap_err()
        .is_invalid_argument());
}

#[test]
fn reentrant_use_inside_use() {
    // With room for two, the inner use gets the second element.
    let (pool, _) = counting_pool(2);
    let p2 = pool.clone();
    let r = pool.use_(move |outer| p2.use_(move |inner| Promise::resolved((outer, inner))));
    assert_eq!(r.peek().unwrap().unwrap(), (1, 2));
    assert_eq!(pool.idle_count(), 2);

    // With room for one, the inner use waits for the outer one to finish.
    let (pool, _) = counting_pool(1);
    let p2 = pool.clone();
    let inner = Rc::new(RefCell::new(None));
    let slot = inner.clone();
    let outer = pool.use_(move |e| {
        *slot.borrow_mut() = Some(p2.use_(move |f| Promise::resolved(e + f)));
        assert_eq!(p2.wait_queue_length(), 1);
        Promise::resolved(e)
    });
    assert_eq!(outer.peek().unwrap().unwrap(), 1);
    let inner = inner.borrow_mut().take().unwrap();
    assert_eq!(inner.peek().unwrap().unwrap(), 2);
}

#[test]
fn callbacks_may_use_the_pool() {
    // Factory, validate, check and dispose all call back into the pool.
    let cell: Rc<RefCell<Option<Pool<u32>>>> = Rc::new(RefCell::new(None));
    let (c1, c2, c3, c4) = (cell.clone(), cell.clone(), cell.clone(), cell.clone());
    let seen = Log::new();
    let (s1, s2, s3, s4) = (seen.clone(), seen.clone(), seen.clone(), seen.clone());
    let n = Rc::new(Cell::new(0));
    let pool = Pool::new(1, move || {
        let p = c1.borrow().clone().unwrap();
        s1.push(format!("factory, size {}", p.size()));
        n.set(n.get() + 1);
        Promise::resolved(n.get())
    })
    .with_validate(move |e| {
        let p = c2.borrow().clone().unwrap();
        s2.push(format!("validate {e}, idle {}", p.idle_count()));
        Promise::resolved(*e > 1)
    })
    .with_check(move |e, _| {
        let p = c3.borrow().clone().unwrap();
        s3.push(format!("check {e}, waiting {}", p.wait_queue_length()));
        Promise::resolved(true)
    })
    .with_dispose(move |e| {
        let p = c4.borrow().clone().unwrap();
        s4.push(format!("dispose {e}, size {}", p.size()));
        Promise::resolved(())
    });
    *cell.borrow_mut() = Some(pool.clone());
    let r = pool.use_(|_| Promise::<u32>::rejected(Error::msg("x")));
    assert!(r.is_rejected());
    assert_eq!(pool.use_(Promise::resolved).peek().unwrap().unwrap(), 2);
    assert!(pool.clear().is_fulfilled());
    assert_eq!(
        seen.get(),
        [
            "factory, size 1",
            "check 1, waiting 0",
            "validate 1, idle 0",
            "dispose 1, size 1",
            "factory, size 1",
            "dispose 2, size 1",
        ]
    );
    *cell.borrow_mut() = None; // break the test's own cycle
}

#[test]
fn many_uses_on_the_virtual_engine_stay_bounded() {
    let engine = lwt::testing::VirtualEngine::new();
    let (pool, made) = counting_pool(3);
    let busy = Rc::new(Cell::new(0));
    let peak = Rc::new(Cell::new(0));
    let uses: Vec<Promise<()>> = (0..50)
        .map(|_| {
            let (b, pk) = (busy.clone(), peak.clone());
            pool.use_(move |_| {
                b.set(b.get() + 1);
                pk.set(pk.get().max(b.get()));
                let b = b.clone();
                lwt::pause().map(move |()| b.set(b.get() - 1))
            })
        })
        .collect();
    engine.run(&lwt::join(uses)).unwrap();
    assert_eq!(peak.get(), 3);
    assert_eq!(made.get(), 3);
    assert_eq!(pool.idle_count(), 3);
}

#[test]
fn nothing_is_leaked_once_the_pool_and_its_uses_are_gone() {
    let made: Rc<RefCell<Vec<std::rc::Weak<u32>>>> = Rc::new(RefCell::new(Vec::new()));
    let m = made.clone();
    let pool = Pool::new(2, move || {
        let e = Rc::new(m.borrow().len() as u32);
        m.borrow_mut().push(Rc::downgrade(&e));
        Promise::resolved(e)
    })
    .with_check(|_, _| Promise::resolved(false));
    let (gate, open) = lwt::task::<()>();
    let held = pool.use_(move |_| gate);
    let failed = pool.use_(|_| Promise::<()>::rejected(Error::msg("x")));
    let (gate2, open2) = lwt::task::<()>();
    let second = pool.use_(move |e| gate2.map(move |()| *e));
    let canceled = pool.use_(|e| Promise::resolved(*e));
    assert_eq!(pool.wait_queue_length(), 1);
    canceled.cancel();
    open.resolve(()).unwrap();
    open2.resolve(()).unwrap();
    assert!(held.is_fulfilled() && failed.is_rejected());
    assert_eq!(second.peek().unwrap().unwrap(), 2);
    drop((pool, held, failed, second, canceled));
    assert_eq!(made.borrow().len(), 3);
    assert!(made.borrow().iter().all(|w| w.upgrade().is_none()));
}
