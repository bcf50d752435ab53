//! The promise semantics of `lwt::execution_model`, through the public API: states,
//! eager callbacks, order, re-entrancy, cancellation (panics: `panics.rs`).

use std::cell::RefCell;
use std::rc::Rc;

use lwt::testing::Log;
use lwt::{Error, Promise, State};

#[test]
fn states_and_single_resolution() {
    let (p, r) = lwt::wait::<u32>();
    assert_eq!(p.state(), State::Pending);
    r.resolve(1).unwrap();
    assert_eq!(p.state(), State::Fulfilled(1));
    let e = r.resolve(2).unwrap_err();
    assert!(e.is_already_resolved(), "{e}");
    let e = r.reject(Error::msg("late")).unwrap_err();
    assert!(e.is_already_resolved());
    assert_eq!(
        p.state(),
        State::Fulfilled(1),
        "a second resolution changes nothing"
    );
}

#[test]
fn resolving_a_canceled_promise_is_a_no_op() {
    let (p, r) = lwt::task::<u32>();
    p.cancel();
    assert!(r.resolve(1).is_ok());
    assert!(r.reject(Error::msg("x")).is_ok());
    assert!(p.peek().unwrap().unwrap_err().is_canceled());
}

#[test]
fn callbacks_are_eager_and_fifo() {
    // Expected: the three callbacks run inside `resolve`, in attach order.
    let l = Log::new();
    let (p, r) = lwt::wait::<u8>();
    for name in ["first", "second", "third"] {
        let l = l.clone();
        p.on_success(move |_| l.push(name));
    }
    l.push("before resolve");
    r.resolve(0).unwrap();
    l.push("after resolve");
    assert_eq!(
        l.get(),
        [
            "before resolve",
            "first",
            "second",
            "third",
            "after resolve"
        ]
    );
}

#[test]
fn a_chain_runs_depth_first_before_the_next_sibling() {
    // Expected: `p` has two callbacks, a map (whose result has callbacks of
    // its own, one a further map) and an on_success. Everything downstream
    // of the first runs before the second, as nested eager resolution gives.
    let l = Log::new();
    let (p, r) = lwt::wait::<u8>();
    let l1 = l.clone();
    let a = p.clone().map(move |v| {
        l1.push("a");
        v + 1
    });
    let l2 = l.clone();
    let c = a.clone().map(move |v| {
        l2.push("c");
        v * 10
    });
    let l3 = l.clone();
    c.on_success(move |v| l3.push(format!("d {v}")));
    let l4 = l.clone();
    a.on_success(move |v| l4.push(format!("e {v}")));
    let l5 = l.clone();
    p.on_success(move |_| l5.push("b"));
    r.resolve(1).unwrap();
    assert_eq!(l.get(), ["a", "c", "d 20", "e 2", "b"]);
}

#[test]
fn attaching_to_a_resolved_promise_runs_at_once() {
    let l = Log::new();
    let p = Promise::resolved(5);
    let l2 = l.clone();
    p.on_success(move |v| l2.push(format!("got {v}")));
    l.push("after attach");
    assert_eq!(l.get(), ["got 5", "after attach"]);
}

#[test]
fn on_cancel_hooks_run_before_regular_callbacks() {
    // Expected: regular callback attached first still runs after the hook.
    let l = Log::new();
    let (p, _r) = lwt::task::<()>();
    let l1 = l.clone();
    p.on_failure(move |e| l1.push(format!("callback {}", e.is_canceled())));
    let l2 = l.clone();
    p.on_cancel(move || l2.push("hook"));
    p.cancel();
    assert_eq!(l.get(), ["hook", "callback true"]);
}

#[test]
fn on_cancel_on_already_canceled_runs_now_and_never_on_fulfilled() {
    let l = Log::new();
    let (p, _r) = lwt::task::<()>();
    p.cancel();
    let l1 = l.clone();
    p.on_cancel(move || l1.push("late hook"));
    let (q, rq) = lwt::task::<()>();
    let l2 = l.clone();
    q.on_cancel(move || l2.push("never"));
    rq.resolve(()).unwrap();
    q.cancel();
    assert_eq!(l.get(), ["late hook"]);
}

#[test]
fn wait_is_not_cancelable_task_is() {
    let (w, _rw) = lwt::wait::<()>();
    w.cancel();
    assert!(w.is_pending());
    let (t, _rt) = lwt::task::<()>();
    t.cancel();
    assert!(t.peek().unwrap().unwrap_err().is_canceled());
}

#[test]
fn cancel_propagates_backwards_through_binds_and_forwards_as_rejection() {
    let (t, _r) = lwt::task::<u8>();
    let l = Log::new();
    let l1 = l.clone();
    let end = t
        .clone()
        .map(|x| x + 1)
        .bind(|x| Promise::resolved(x * 2))
        .catch(move |e| {
            l1.push(format!("caught canceled={}", e.is_canceled()));
            Promise::resolved(0)
        });
    end.cancel();
    assert!(t.peek().unwrap().unwrap_err().is_canceled());
    assert_eq!(end.peek().unwrap().unwrap(), 0);
    assert_eq!(l.get(), ["caught canceled=true"]);
}

#[test]
fn cancel_after_bind_returned_reaches_the_inner_promise() {
    let (a, ra) = lwt::task::<()>();
    let (b, _rb) = lwt::task::<u8>();
    let b2 = b.clone();
    let p = a.bind(move |()| b2);
    ra.resolve(()).unwrap();
    p.cancel(); // now waits on `b`, so `b` is what gets canceled
    assert!(b.peek().unwrap().unwrap_err().is_canceled());
    assert!(p.peek().unwrap().unwrap_err().is_canceled());
}

#[test]
fn protected_no_cancel_wrap_in_cancelable() {
    let (p, rp) = lwt::task::<u8>();
    let guarded = lwt::protected(&p);
    guarded.cancel();
    assert!(guarded.peek().unwrap().unwrap_err().is_canceled());
    assert!(p.is_pending());

    let shield = lwt::no_cancel(&p);
    shield.cancel();
    assert!(shield.is_pending() && p.is_pending());

    let wrapped = lwt::wrap_in_cancelable(&p);
    wrapped.cancel();
    assert!(wrapped.peek().unwrap().unwrap_err().is_canceled());
    assert!(
        p.peek().unwrap().unwrap_err().is_canceled(),
        "wrap_in_cancelable cancels p too"
    );
    assert!(
        shield.peek().unwrap().unwrap_err().is_canceled(),
        "no_cancel follows p"
    );
    assert!(rp.resolve(1).is_ok());
}

#[test]
fn protected_follows_the_value() {
    let (p, rp) = lwt::task::<u8>();
    let guarded = lwt::protected(&p);
    rp.resolve(9).unwrap();
    assert_eq!(guarded.peek().unwrap().unwrap(), 9);
}

#[test]
fn resolve_later_defers_only_inside_callbacks() {
    // Outside callbacks: immediate.
    let (p, r) = lwt::wait::<()>();
    let l = Log::new();
    let l1 = l.clone();
    p.on_success(move |()| l1.push("p"));
    r.resolve_later(Ok(())).unwrap();
    assert_eq!(l.get(), ["p"]);

    // Inside a callback: the callbacks of the promise resolved later run
    // once the resolving callback has returned, before `resolve` does.
    let (a, ra) = lwt::wait::<()>();
    let (b, rb) = lwt::wait::<()>();
    let l1 = l.clone();
    b.on_success(move |()| l1.push("b"));
    let l1 = l.clone();
    a.on_success(move |()| {
        rb.resolve_later(Ok(())).unwrap();
        l1.push("end of a's callback");
    });
    ra.resolve(()).unwrap();
    assert_eq!(l.get(), ["p", "end of a's callback", "b"]);
}

#[test]
fn reentrancy_resolve_attach_cancel_from_inside_callbacks() {
    // A callback of `p` attaches to `p` (runs at once: p is resolved), resolves
    // another promise, and cancels `p` (no-op: resolved). No BorrowMutError.
    let l = Log::new();
    let (p, r) = lwt::task::<u8>();
    let (q, rq) = lwt::wait::<u8>();
    let p2 = p.clone();
    let l1 = l.clone();
    p.on_success(move |v| {
        let l2 = l1.clone();
        p2.on_success(move |v2| l2.push(format!("inner attach saw {v2}")));
        rq.resolve(v + 1).unwrap();
        p2.cancel();
        l1.push("end of first callback");
    });
    let l3 = l.clone();
    q.on_success(move |v| l3.push(format!("q {v}")));
    r.resolve(1).unwrap();
    assert_eq!(
        l.get(),
        ["inner attach saw 1", "q 2", "end of first callback"]
    );
    assert_eq!(p.state(), State::Fulfilled(1));
}

#[test]
fn reentrancy_resolving_the_same_promise_from_its_callback_is_an_error() {
    let (p, r) = lwt::wait::<u8>();
    let r2 = r.clone();
    let outcome = Rc::new(RefCell::new(None));
    let o = outcome.clone();
    p.on_success(move |_| *o.borrow_mut() = Some(r2.resolve(2).is_err()));
    r.resolve(1).unwrap();
    assert_eq!(*outcome.borrow(), Some(true));
}

#[test]
fn reentrancy_cancel_a_pending_task_from_a_callback_of_another() {
    let (a, ra) = lwt::wait::<()>();
    let (t, _rt) = lwt::task::<()>();
    let t2 = t.clone();
    a.on_success(move |()| t2.cancel());
    let l = Log::new();
    let l1 = l.clone();
    t.on_cancel(move || l1.push("t canceled"));
    ra.resolve(()).unwrap();
    assert_eq!(l.get(), ["t canceled"]);
}

#[test]
fn bind_callback_returning_its_own_result_stays_pending() {
    let (p, r) = lwt::wait::<()>();
    let slot: Rc<RefCell<Option<Promise<()>>>> = Rc::new(RefCell::new(None));
    let s = slot.clone();
    let q = p.bind(move |()| s.borrow().clone().unwrap());
    *slot.borrow_mut() = Some(q.clone());
    r.resolve(()).unwrap();
    assert!(q.is_pending());
    slot.borrow_mut().take();
}

#[test]
fn proxy_merge_keeps_callbacks_of_both_in_order() {
    // Expected order: callbacks on bind's result (outer) first, then those on
    // the promise the function returned (inner), each in attach order.
    let l = Log::new();
    let (src, rsrc) = lwt::wait::<()>();
    let (inner, rinner) = lwt::wait::<u8>();
    let l1 = l.clone();
    inner.on_success(move |v| l1.push(format!("inner {v}")));
    let inner2 = inner.clone();
    let outer = src.bind(move |()| inner2);
    let l2 = l.clone();
    outer.on_success(move |v| l2.push(format!("outer {v}")));
    rsrc.resolve(()).unwrap();
    assert!(outer.is_pending());
    rinner.resolve(3).unwrap();
    assert_eq!(l.get(), ["outer 3", "inner 3"]);
    assert!(inner.same_as(&outer));
}

#[test]
fn on_cancel_hooks_of_merged_promises_run_first_in_order() {
    // Hooks share the callback list: when the merged node is canceled, every
    // hook (outer's, then inner's) runs before every regular callback, and a
    // fulfilled twin runs none of them.
    let l = Log::new();
    let run = |cancel: bool| {
        let (src, rsrc) = lwt::wait::<()>();
        let (inner, rinner) = lwt::task::<u8>();
        let (l1, l2, l3, l4) = (l.clone(), l.clone(), l.clone(), l.clone());
        inner.on_termination(move || l1.push("inner callback"));
        inner.on_cancel(move || l2.push("inner hook"));
        let inner2 = inner.clone();
        let outer = src.bind(move |()| inner2);
        outer.on_termination(move || l3.push("outer callback"));
        outer.on_cancel(move || l4.push("outer hook"));
        rsrc.resolve(()).unwrap();
        assert!(inner.same_as(&outer));
        if cancel {
            outer.cancel(); // reaches `inner`'s self-cancel link, moved to `outer`
        } else {
            rinner.resolve(1).unwrap();
        }
        l.get()
    };
    assert_eq!(
        run(true),
        [
            "outer hook",
            "inner hook",
            "outer callback",
            "inner callback"
        ]
    );
    l.take();
    assert_eq!(run(false), ["outer callback", "inner callback"]);
}

#[test]
fn finalize_and_try_bind() {
    let l = Log::new();
    let l1 = l.clone();
    let p = Promise::resolved(1).finalize(move || {
        l1.push("finalizer");
        Promise::resolved(())
    });
    assert_eq!(p.peek().unwrap().unwrap(), 1);
    let q = Promise::resolved(1).finalize(|| Promise::rejected(Error::msg("cleanup failed")));
    assert_eq!(q.peek().unwrap().unwrap_err().message(), "cleanup failed");
    let (s, rs) = lwt::wait::<u8>();
    let t = s.try_bind(|v| Promise::resolved(v as i32), |_| Promise::resolved(-1));
    rs.reject(Error::msg("x")).unwrap();
    assert_eq!(t.peek().unwrap().unwrap(), -1);
    assert_eq!(l.get(), ["finalizer"]);
}

#[test]
fn join_waits_for_all_then_reports_first_rejection() {
    let (a, ra) = lwt::wait::<()>();
    let (b, rb) = lwt::wait::<()>();
    let (c, rc) = lwt::wait::<()>();
    let j = lwt::join(vec![a, b, c]);
    rc.reject(Error::msg("c")).unwrap();
    rb.reject(Error::msg("b")).unwrap();
    assert!(j.is_pending());
    ra.resolve(()).unwrap();
    assert_eq!(
        j.peek().unwrap().unwrap_err().message(),
        "c",
        "first in time"
    );
    // Already rejected at call time: first in argument order.
    let j2 = lwt::join(vec![
        Promise::<()>::rejected(Error::msg("1")),
        Promise::rejected(Error::msg("2")),
    ]);
    assert_eq!(j2.peek().unwrap().unwrap_err().message(), "1");
    assert!(lwt::join(Vec::<Promise<()>>::new()).is_fulfilled());
}

#[test]
fn all_and_both_keep_argument_order() {
    let (a, ra) = lwt::wait::<u8>();
    let (b, rb) = lwt::wait::<u8>();
    let all = lwt::all(vec![a.clone(), b.clone()]);
    let both = lwt::both(&a, &b);
    rb.resolve(2).unwrap();
    ra.resolve(1).unwrap();
    assert_eq!(all.peek().unwrap().unwrap(), vec![1, 2]);
    assert_eq!(both.peek().unwrap().unwrap(), (1, 2));
    assert_eq!(
        lwt::all(Vec::<Promise<u8>>::new()).peek().unwrap().unwrap(),
        vec![]
    );
}

#[test]
fn pick_cancels_losers_before_resolving() {
    // Expected: loser's cancel hook runs before the pick result's callback.
    let l = Log::new();
    let (a, _ra) = lwt::task::<u8>();
    let (b, rb) = lwt::task::<u8>();
    let l1 = l.clone();
    a.on_cancel(move || l1.push("a canceled"));
    let p = lwt::pick(vec![a, b]);
    let l2 = l.clone();
    p.on_success(move |v| l2.push(format!("picked {v}")));
    rb.resolve(7).unwrap();
    assert_eq!(l.get(), ["a canceled", "picked 7"]);
}

#[test]
fn pick_and_choose_take_first_resolved_in_argument_order() {
    let (t, _rt) = lwt::task::<u8>();
    let p = lwt::pick(vec![t.clone(), Promise::resolved(1), Promise::resolved(2)]);
    assert_eq!(p.peek().unwrap().unwrap(), 1);
    assert!(t.peek().unwrap().unwrap_err().is_canceled());
    let (u, _ru) = lwt::task::<u8>();
    let c = lwt::choose(vec![
        Promise::rejected(Error::msg("r")),
        Promise::resolved(2),
        u.clone(),
    ]);
    assert_eq!(c.peek().unwrap().unwrap_err().message(), "r");
    assert!(u.is_pending());
}

#[test]
fn empty_pick_family_is_a_clear_error() {
    for p in [
        lwt::pick(Vec::<Promise<u8>>::new()),
        lwt::choose(Vec::<Promise<u8>>::new()),
    ] {
        let e = p.peek().unwrap().unwrap_err();
        assert!(e.is_invalid_argument());
        assert!(e.message().contains("empty"), "{e}");
    }
    assert!(lwt::npick(Vec::<Promise<u8>>::new()).is_rejected());
    assert!(lwt::nchoose(Vec::<Promise<u8>>::new()).is_rejected());
    assert!(lwt::nchoose_split(Vec::<Promise<u8>>::new()).is_rejected());
}

#[test]
fn canceling_pick_cancels_every_input() {
    let (a, _ra) = lwt::task::<u8>();
    let (b, _rb) = lwt::task::<u8>();
    let p = lwt::pick(vec![a.clone(), b.clone()]);
    p.cancel();
    assert!(a.is_rejected() && b.is_rejected() && p.is_rejected());
}

#[test]
fn nchoose_family() {
    let (a, ra) = lwt::wait::<u8>();
    let (b, rb) = lwt::wait::<u8>();
    let (c, _rc) = lwt::task::<u8>();
    let n = lwt::nchoose(vec![a.clone(), b.clone()]);
    let np = lwt::npick(vec![a.clone(), c.clone()]);
    let split = lwt::nchoose_split(vec![a.clone(), b.clone()]);
    ra.resolve(1).unwrap();
    assert_eq!(n.peek().unwrap().unwrap(), vec![1]);
    assert_eq!(np.peek().unwrap().unwrap(), vec![1]);
    assert!(c.peek().unwrap().unwrap_err().is_canceled());
    let (values, pending) = split.peek().unwrap().unwrap();
    assert_eq!(values, vec![1]);
    assert_eq!(pending.len(), 1);
    assert!(pending[0].same_as(&b));
    rb.reject(Error::msg("b")).unwrap();
    // A rejection among the resolved inputs rejects the result.
    assert!(lwt::nchoose(vec![a, b]).is_rejected());
}

#[test]
fn choose_in_a_loop_against_a_long_lived_promise_does_not_accumulate() {
    // 100,000 chooses against one pending promise: each leaves a dead
    // callback that the callback list sweeps. Resolving it at the end must
    // not run 100,000 stale callbacks' worth of work (checked by counting).
    let (forever, rf) = lwt::wait::<u32>();
    let count = Rc::new(RefCell::new(0u32));
    for i in 0..100_000u32 {
        let c = lwt::choose(vec![forever.clone(), Promise::resolved(i)]);
        assert_eq!(c.peek().unwrap().unwrap(), i);
        let (t, rt) = lwt::wait::<u32>();
        let c2 = lwt::choose(vec![forever.clone(), t]);
        rt.resolve(i).unwrap();
        assert_eq!(c2.peek().unwrap().unwrap(), i);
    }
    let cnt = count.clone();
    forever.on_success(move |_| *cnt.borrow_mut() += 1);
    rf.resolve(0).unwrap();
    assert_eq!(*count.borrow(), 1);
}

#[test]
fn sweeping_dead_callbacks_drops_them_outside_the_borrow() {
    // A dead `choose` callback can hold the last reference to a promise whose
    // value's Drop looks at the promise being attached to: the sweep must not
    // drop it while that promise's callback list is borrowed.
    // A value that holds a promise of its own type boxes it, as any Rust type
    // that contains itself must (a promise made resolved holds its value).
    struct Peeks(Box<Promise<Peeks>>);
    impl Clone for Peeks {
        fn clone(&self) -> Self {
            Peeks(self.0.clone())
        }
    }
    impl Drop for Peeks {
        fn drop(&mut self) {
            assert!(self.0.is_pending());
        }
    }
    let (stop, _r) = lwt::wait::<Peeks>();
    for _ in 0..100 {
        let (t, rt) = lwt::wait::<Peeks>();
        let c = lwt::choose(vec![stop.clone(), t]);
        rt.resolve(Peeks(Box::new(stop.clone()))).unwrap();
        assert!(c.is_fulfilled());
    }
}

#[test]
fn dont_wait_and_the_async_exception_hook() {
    let l = Log::new();
    let l1 = l.clone();
    let previous = lwt::set_async_exception_hook(Some(Box::new(move |e: &Error| {
        l1.push(format!("hook {e}"))
    })));
    let (p, r) = lwt::wait::<()>();
    lwt::async_(move || p);
    r.reject(Error::msg("unhandled")).unwrap();
    let l2 = l.clone();
    lwt::dont_wait(
        || Promise::<()>::rejected(Error::msg("handled")),
        move |e| l2.push(format!("handler {e}")),
    );
    lwt::async_(|| lwt::spawn(async { Err::<(), _>(Error::msg("at once")) }));
    lwt::async_(|| lwt::spawn(async { Ok(()) }));
    lwt::set_async_exception_hook(previous);
    assert_eq!(
        l.get(),
        ["hook unhandled", "handler handled", "hook at once"]
    );
}

#[test]
fn implicit_storage_is_captured_when_callbacks_are_attached() {
    let key = lwt::new_key::<u32>();
    let (p, r) = lwt::wait::<()>();
    let k1 = key.clone();
    let a = lwt::with_value(&key, Some(1), || p.clone().map(move |()| lwt::get(&k1)));
    let k2 = key.clone();
    let b = lwt::with_value(&key, Some(2), || p.clone().map(move |()| lwt::get(&k2)));
    let k3 = key.clone();
    let c = p.map(move |()| lwt::get(&k3));
    r.resolve(()).unwrap();
    assert_eq!(a.peek().unwrap().unwrap(), Some(1));
    assert_eq!(b.peek().unwrap().unwrap(), Some(2));
    assert_eq!(c.peek().unwrap().unwrap(), None);
    assert_eq!(lwt::get(&key), None);
}

#[test]
fn a_callback_attached_with_no_storage_sees_none_when_resolved_inside_with_value() {
    let key = lwt::new_key::<u32>();
    let (p, r) = lwt::wait::<()>();
    let k1 = key.clone();
    let plain = p.clone().map(move |()| lwt::get(&k1));
    let k2 = key.clone();
    let scoped = lwt::with_value(&key, Some(2), || p.map(move |()| lwt::get(&k2)));
    let k3 = key.clone();
    let after = lwt::with_value(&key, Some(9), || {
        r.resolve(()).unwrap();
        lwt::get(&k3) // the resolver's own storage, back once the callbacks ran
    });
    assert_eq!(plain.peek().unwrap().unwrap(), None);
    assert_eq!(scoped.peek().unwrap().unwrap(), Some(2));
    assert_eq!(after, Some(9));
    assert_eq!(lwt::get(&key), None);
}

#[test]
fn pause_queue_snapshot_and_cancel() {
    let a = lwt::pause();
    let b = lwt::pause();
    let n = lwt::paused_count();
    assert_eq!(n, 2, "a fresh test thread pauses nothing else");
    b.cancel();
    assert!(b.is_rejected());
    assert_eq!(
        lwt::paused_count(),
        n,
        "as in Lwt, counted until the next wake-up"
    );
    let c = a.bind(|()| lwt::pause());
    lwt::wakeup_paused();
    assert!(a.is_fulfilled());
    assert!(c.is_pending(), "paused during wakeup: next round");
    assert_eq!(
        lwt::paused_count(),
        1,
        "the canceled one went with the wake-up"
    );
    lwt::wakeup_paused();
    assert!(c.is_fulfilled());
}

#[test]
fn pick_returned_from_a_bind_still_cancels_its_losers() {
    let (go, rgo) = lwt::wait::<()>();
    let (a, ra) = lwt::task::<u8>();
    let (b, _rb) = lwt::task::<u8>();
    let picked = lwt::pick(vec![a.clone(), b.clone()]);
    let p2 = picked.clone();
    let outer = go.bind(move |()| p2); // `picked` is merged into `outer`
    rgo.resolve(()).unwrap();
    ra.resolve(1).unwrap();
    assert_eq!(outer.peek().unwrap().unwrap(), 1);
    assert!(
        b.peek().unwrap().unwrap_err().is_canceled(),
        "the loser is canceled"
    );
}

/// Combinators over 100,000 inputs. Linear work here is a fraction of a
/// second; a quadratic implementation (10^10 steps) would not finish within
/// CI's time limit. The curve itself is in `benches/promise.rs`.
#[test]
fn combinators_over_a_hundred_thousand_promises() {
    const N: usize = 100_000;
    let (ps, rs): (Vec<_>, Vec<_>) = (0..N).map(|_| lwt::task::<usize>()).unzip();
    let joined = lwt::join(ps.clone());
    let all = lwt::all(ps.clone());
    let picked = lwt::pick(ps.clone());
    // Resolving the last input makes `pick` cancel the other 99,999, which
    // rejects them, which completes `join` and `all` (with a rejection).
    rs[N - 1].resolve(7).unwrap();
    assert_eq!(picked.peek().unwrap().unwrap(), 7);
    assert!(ps[0].peek().unwrap().unwrap_err().is_canceled());
    assert!(joined.peek().unwrap().unwrap_err().is_canceled());
    assert!(all.is_rejected());

    let (qs, qrs): (Vec<_>, Vec<_>) = (0..N).map(|_| lwt::wait::<usize>()).unzip();
    let all = lwt::all(qs.clone());
    let chosen = lwt::nchoose(qs.clone());
    for (i, r) in qrs.iter().enumerate().rev() {
        r.resolve(i).unwrap();
    }
    assert_eq!(chosen.peek().unwrap().unwrap(), vec![N - 1]);
    let values = all.peek().unwrap().unwrap();
    assert_eq!(values.len(), N);
    assert!(values.iter().enumerate().all(|(i, &v)| i == v));

    // Canceling a pick over many pending inputs is linear too.
    let (ts, _trs): (Vec<_>, Vec<_>) = (0..N).map(|_| lwt::task::<()>()).unzip();
    let p = lwt::pick(ts.clone());
    p.cancel();
    assert!(ts.iter().all(|t| t.is_rejected()));
}

/// A task that awaited a promise at one poll and a bind's promise at the
/// next is woken by the bind's promise, even when the bind's callback then
/// returns the first promise: the bind's promise takes over the first's
/// callbacks, the task's older entry among them, which must not replace
/// the task's current one.
#[test]
fn a_task_is_woken_by_its_current_wait_when_a_bind_takes_over_an_older_one() {
    use std::cell::Cell;
    use std::future::Future;
    use std::rc::Rc;
    let engine = lwt::testing::VirtualEngine::new();
    let (x, rx) = lwt::wait::<()>();
    let (q, rq) = lwt::wait::<()>();
    let q2 = q.clone();
    let p = x.bind(move |()| q2);
    let polls = Rc::new(Cell::new(0));
    let seen = polls.clone();
    let task = lwt::spawn(std::future::poll_fn(move |cx| {
        seen.set(seen.get() + 1);
        match seen.get() {
            1 => {
                // First poll: waits on `q`, and asks to be polled again.
                assert!(std::pin::Pin::new(&mut q.clone()).poll(cx).is_pending());
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
            2 => {
                // Second poll: waits on `p` only.
                assert!(std::pin::Pin::new(&mut p.clone()).poll(cx).is_pending());
                std::task::Poll::Pending
            }
            _ => std::task::Poll::Ready(Ok(())),
        }
    }));
    engine.run_until_idle();
    assert_eq!(polls.get(), 2);
    rx.resolve(()).unwrap(); // `p` takes over `q`'s callbacks
    assert_eq!(polls.get(), 2, "nothing for the task yet");
    rq.resolve(()).unwrap();
    engine.run_until_idle();
    assert_eq!(polls.get(), 3, "woken by p, through q");
    assert!(task.is_fulfilled());
}

#[test]
fn a_chain_of_binds_resolves_link_after_link_at_one_depth() {
    // Each link's callback returns a value, so the next link runs as a tail
    // of the same level, not one level deeper: the whole chain sees the
    // depth of its first link, and none is queued past `MAX_DEPTH`.
    let (root, r) = lwt::wait::<u32>();
    let depths = Rc::new(RefCell::new(Vec::new()));
    let mut p = root;
    for _ in 0..(2 * lwt::MAX_DEPTH) {
        let depths = depths.clone();
        p = p.bind(move |v| {
            depths.borrow_mut().push(lwt::depth());
            Promise::resolved(v + 1)
        });
    }
    r.resolve(0).unwrap();
    assert_eq!(p.peek().unwrap().unwrap(), 2 * lwt::MAX_DEPTH);
    let depths = depths.borrow();
    assert_eq!(depths.len(), 2 * lwt::MAX_DEPTH as usize);
    assert!(depths.iter().all(|&d| d == 1), "{depths:?}");
}

#[test]
fn abort_of_a_promise_that_is_not_a_task_is_a_cancel() {
    // Only a spawned task has a future to drop; any other promise's abort
    // is its cancel, which walks back to the source it waits on.
    let (p, _r) = lwt::task::<u32>();
    let log = Log::new();
    let l = log.clone();
    p.on_cancel(move || l.push("source canceled"));
    let q = p.clone().map(|x| x + 1);
    q.abort();
    assert!(p.peek().unwrap().unwrap_err().is_canceled());
    assert!(q.peek().unwrap().unwrap_err().is_canceled());
    assert_eq!(log.take(), ["source canceled"]);
}

#[test]
fn dropping_an_abandoned_chain_deeper_than_the_drop_bound_drops_every_link() {
    // Each link's callback list is dropped inside the one before it, down
    // to a bound; past it, lists are queued and dropped in a loop by the
    // outermost drop. Every closure of the chain is dropped either way.
    struct Counted(Rc<RefCell<u32>>);
    impl Drop for Counted {
        fn drop(&mut self) {
            *self.0.borrow_mut() += 1;
        }
    }
    /// A chain of `n` binds on a pending root, each closure counted.
    fn chain(n: usize, dropped: &Rc<RefCell<u32>>) -> (Promise<u32>, lwt::Resolver<u32>) {
        let (root, r) = lwt::wait::<u32>();
        let mut p = root;
        for _ in 0..n {
            let c = Counted(dropped.clone());
            p = p.bind(move |v| {
                let _keep = &c;
                Promise::resolved(v)
            });
        }
        (p, r)
    }
    let dropped = Rc::new(RefCell::new(0));
    let (p, r) = chain(300, &dropped);
    // The links hold each other (each in the callback list of the one
    // before); the resolver holds the first.
    drop(p);
    assert_eq!(*dropped.borrow(), 0);
    drop(r);
    assert_eq!(*dropped.borrow(), 300);
    // The queue was left empty: a second chain is dropped as fully.
    drop(chain(100, &dropped));
    assert_eq!(*dropped.borrow(), 400);
}

#[test]
fn resolve_later_in_a_callback_runs_the_callbacks_after_it_and_a_late_one_at_once() {
    // Lwt's `wakeup_later`: the promise is resolved at once (readers see
    // the value), its callbacks run when the current callback returns, in
    // the order of the resolutions; a callback attached meanwhile finds a
    // resolved promise and runs at once.
    let log: Log = Log::new();
    let (q, rq) = lwt::wait::<()>();
    let (p1, r1) = lwt::wait::<u32>();
    let (p2, r2) = lwt::wait::<u32>();
    for (p, name) in [(&p1, "p1"), (&p2, "p2")] {
        let l = log.clone();
        p.on_success(move |v| l.push(format!("{name} queued {v}")));
    }
    let (l, late) = (log.clone(), p1.clone());
    q.on_success(move |()| {
        r2.resolve_later(Ok(2)).unwrap();
        r1.resolve_later(Ok(1)).unwrap();
        assert_eq!(late.peek().unwrap().unwrap(), 1);
        let l2 = l.clone();
        late.on_success(move |v| l2.push(format!("p1 late {v}")));
        l.push("callback returns");
    });
    rq.resolve(()).unwrap();
    assert_eq!(
        log.take(),
        [
            "p1 late 1",
            "callback returns",
            "p2 queued 2",
            "p1 queued 1"
        ]
    );
}
