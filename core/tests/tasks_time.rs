//! async/await on promises, the virtual-time engine, and time.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use lwt::testing::{Log, VirtualEngine};
use lwt::{Error, Promise};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn spawn_polls_at_once_and_resumes_inside_the_resolution() {
    // Expected: "start" before spawn returns; "resumed 5" inside resolve.
    let l = Log::new();
    let (p, r) = lwt::wait::<u8>();
    let l1 = l.clone();
    let t = lwt::spawn(async move {
        l1.push("start");
        let v = p.await?;
        l1.push(format!("resumed {v}"));
        Ok(v)
    });
    l.push("spawn returned");
    r.resolve(5).unwrap();
    l.push("resolve returned");
    assert_eq!(
        l.get(),
        ["start", "spawn returned", "resumed 5", "resolve returned"]
    );
    assert_eq!(t.peek().unwrap().unwrap(), 5);
}

#[test]
fn a_task_done_in_its_first_poll_is_settled_when_spawn_returns() {
    // Expected: each promise holds its task's result, value or error,
    // before `spawn` returns, with no engine.
    let ok = lwt::spawn(async { Ok(7u8) });
    assert_eq!(ok.peek().unwrap().unwrap(), 7);
    let failed = lwt::spawn(async { Err::<u8, _>(Error::msg("no")) });
    assert_eq!(failed.peek().unwrap().unwrap_err().message(), "no");
    let via = lwt::spawn(async { Ok(Promise::resolved(20u8).await? + 1) });
    assert_eq!(via.peek().unwrap().unwrap(), 21);
}

#[test]
fn a_task_that_resolves_in_its_first_poll_what_it_awaits_is_done_inside_spawn() {
    // The first poll awaits a pending promise (so the task must be found
    // again), then resolves it while still in that poll: the task is polled
    // again before `spawn` returns, as at any later poll.
    use std::future::Future;
    use std::task::Poll;
    let (p, r) = lwt::wait::<u8>();
    let mut p = p;
    let mut r = Some(r);
    let polls = Rc::new(Cell::new(0));
    let seen = polls.clone();
    let t = lwt::spawn(std::future::poll_fn(move |cx| {
        seen.set(seen.get() + 1);
        match std::pin::Pin::new(&mut p).poll(cx) {
            Poll::Ready(v) => Poll::Ready(v.map(|v| v * 2)),
            Poll::Pending => {
                if let Some(r) = r.take() {
                    r.resolve(21).unwrap();
                }
                Poll::Pending
            }
        }
    }));
    assert_eq!(t.peek().unwrap().unwrap(), 42);
    assert_eq!(polls.get(), 2);
}

#[test]
fn a_promise_awaited_in_a_first_poll_under_another_waker_wakes_that_waker() {
    // `FuturesUnordered` polls its futures with wakers of its own, and polls
    // again only those woken: the promise must wake the waker it was
    // polled with, not the task, even in the task's first poll.
    use futures::stream::{FuturesUnordered, StreamExt};
    let engine = VirtualEngine::new();
    let (p, r) = lwt::wait::<u8>();
    let t = lwt::spawn(async move {
        let mut set: FuturesUnordered<Promise<u8>> = [p].into_iter().collect();
        Ok(set.next().await.expect("one promise")? * 2)
    });
    r.resolve(21).unwrap();
    engine.run_until_idle();
    assert_eq!(t.peek().unwrap().unwrap(), 42);
}

#[test]
fn a_promise_awaited_in_a_first_poll_with_another_task_s_waker_wakes_that_task() {
    // Task `b` keeps its waker; task `a`, in its first poll, polls a promise
    // with it. The promise must wake `b`, whose waker it was given, not `a`
    // (every task's waker has the same vtable: the data tells them apart).
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let engine = VirtualEngine::new();
    let kept = Rc::new(RefCell::new(None::<Waker>));
    let b_polls = Rc::new(Cell::new(0));
    let (k, bp) = (kept.clone(), b_polls.clone());
    let _b = lwt::spawn::<(), _>(std::future::poll_fn(move |cx| {
        bp.set(bp.get() + 1);
        *k.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }));
    let (p, r) = lwt::wait::<u8>();
    let a = lwt::spawn(std::future::poll_fn(move |_| {
        let waker = kept.borrow().clone().expect("b kept its waker");
        let mut p = p.clone();
        assert!(std::pin::Pin::new(&mut p)
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        Poll::Ready(Ok(()))
    }));
    assert!(a.is_fulfilled());
    r.resolve(1).unwrap();
    engine.run_until_idle();
    assert_eq!(
        b_polls.get(),
        2,
        "b is polled again, woken through its waker"
    );
}

#[test]
fn tasks_spawned_inside_a_first_poll_or_a_later_one_resume_inside_the_resolution() {
    // Expected: all three tasks, the outer one and those it spawned in its
    // first poll and in its second, run again inside the one `resolve`.
    let l = Log::new();
    let (p, r) = lwt::wait::<u8>();
    let (q, rq) = lwt::wait::<u8>();
    let (l1, p1) = (l.clone(), p.clone());
    let outer = lwt::spawn(async move {
        let l2 = l1.clone();
        let first = lwt::spawn(async move {
            let v = p1.await?;
            l2.push(format!("first {v}"));
            Ok(v)
        });
        let v = p.await?;
        l1.push(format!("outer {v}"));
        let l3 = l1.clone();
        let second = lwt::spawn(async move {
            let v = q.await?;
            l3.push(format!("second {v}"));
            Ok(v)
        });
        Ok(first.await? + second.await?)
    });
    r.resolve(1).unwrap();
    rq.resolve(2).unwrap();
    l.push("resolved");
    assert_eq!(l.get(), ["first 1", "outer 1", "second 2", "resolved"]);
    assert_eq!(outer.peek().unwrap().unwrap(), 3);
}

#[test]
fn await_with_every_combinator() {
    let engine = VirtualEngine::new();
    let out = engine.block_on(async {
        let s = |n: u64| lwt::sleep(ms(n)).map(move |()| n);
        lwt::join(vec![s(1).ignore(), s(2).ignore()]).await?;
        let all = lwt::all(vec![s(3), s(1)]).await?;
        let both = lwt::both(&s(1), &s(2)).await?;
        let picked = lwt::pick(vec![s(5), s(1)]).await?;
        let chosen = lwt::choose(vec![s(5), s(2)]).await?;
        let npicked = lwt::npick(vec![s(1), s(9)]).await?;
        let nchosen = lwt::nchoose(vec![s(9), s(1)]).await?;
        let (done, rest) = lwt::nchoose_split(vec![s(1), s(7)]).await?;
        let timed = lwt::with_timeout(ms(1), &s(100)).await;
        let caught = Promise::<u64>::rejected(Error::msg("x"))
            .catch(|_| Promise::resolved(7))
            .await?;
        let finalized = s(1).finalize(|| lwt::sleep(ms(1))).await?;
        Ok(format!(
            "{all:?} {both:?} {picked} {chosen} {npicked:?} {nchosen:?} {done:?}/{} {} {caught} {finalized}",
            rest.len(),
            timed.unwrap_err().is_timeout()
        ))
    });
    assert_eq!(out.unwrap(), "[3, 1] (1, 2) 1 2 [1] [1] [1]/1 true 7 1");
}

#[test]
fn cancellation_is_seen_at_the_await_and_handled() {
    let engine = VirtualEngine::new();
    let l = Log::new();
    let l1 = l.clone();
    let t = lwt::spawn(async move {
        match lwt::sleep(Duration::from_secs(60)).await {
            Err(e) if e.is_canceled() => {
                l1.push("cleaning up");
                // The task may still await after being canceled.
                lwt::sleep(ms(5)).await?;
                l1.push("cleaned up");
                Ok("handled")
            }
            other => other.map(|()| "slept"),
        }
    });
    engine.advance(ms(10));
    t.cancel();
    assert_eq!(l.get(), ["cleaning up"]);
    assert_eq!(engine.run(&t).unwrap(), "handled");
    assert_eq!(l.get(), ["cleaning up", "cleaned up"]);
    assert_eq!(engine.timer_count(), 0);
}

#[test]
fn cancel_propagates_into_nested_tasks() {
    let engine = VirtualEngine::new();
    let inner = lwt::spawn(async { lwt::sleep(Duration::from_secs(1)).await });
    let i2 = inner.clone();
    let outer = lwt::spawn(i2); // a promise is a future: the task awaits it
    outer.cancel();
    assert!(inner.peek().unwrap().unwrap_err().is_canceled());
    assert!(outer.peek().unwrap().unwrap_err().is_canceled());
    assert_eq!(engine.timer_count(), 0);
}

#[test]
fn abort_drops_the_future_first_then_rejects() {
    // Expected: the destructor runs before the promise's callbacks.
    struct Noisy(Log);
    impl Drop for Noisy {
        fn drop(&mut self) {
            self.0.push("future dropped");
        }
    }
    let engine = VirtualEngine::new();
    let l = Log::new();
    let noisy = Noisy(l.clone());
    let t = lwt::spawn(async move {
        let _noisy = noisy;
        lwt::sleep(Duration::from_secs(1)).await?;
        Ok(1)
    });
    let l1 = l.clone();
    t.on_failure(move |e| l1.push(format!("rejected canceled={}", e.is_canceled())));
    t.abort();
    assert_eq!(l.get(), ["future dropped", "rejected canceled=true"]);
    // A finished abort cannot be resurrected by the timer firing later.
    engine.advance(Duration::from_secs(2));
    assert!(t.peek().unwrap().unwrap_err().is_canceled());
    // The sleep promise was dropped with the future; nothing fired into it.
    t.abort(); // twice: harmless
}

#[test]
fn abort_from_inside_the_task_itself() {
    let engine = VirtualEngine::new();
    let slot: Rc<RefCell<Option<Promise<u8>>>> = Rc::new(RefCell::new(None));
    let s = slot.clone();
    let t = lwt::spawn(async move {
        lwt::sleep(ms(1)).await?;
        let me = s.borrow().clone().unwrap();
        me.abort(); // the future is being polled: dropped after this poll
        Ok(1)
    });
    *slot.borrow_mut() = Some(t.clone());
    engine.advance(ms(1));
    assert!(t.peek().unwrap().unwrap_err().is_canceled());
    slot.borrow_mut().take();
}

#[test]
fn a_hundred_thousand_timers_fire_in_deadline_order_never_early() {
    let engine = VirtualEngine::new();
    let fired: Rc<RefCell<Vec<(u64, u64)>>> = Rc::new(RefCell::new(Vec::new()));
    // Deadlines in a scrambled order, with many equal ones (FIFO among them).
    for i in 0..100_000u64 {
        let deadline = (i * 7919) % 1000;
        let f = fired.clone();
        lwt::sleep(ms(deadline)).on_success(move |()| {
            let now = lwt::now().unwrap().since_epoch().as_millis() as u64;
            f.borrow_mut().push((now, i));
            assert!(now >= deadline, "timer for {deadline} ms fired at {now} ms");
        });
    }
    engine.advance(Duration::from_secs(1));
    let fired = fired.borrow();
    assert_eq!(fired.len(), 100_000);
    for w in fired.windows(2) {
        let ((t0, i0), (t1, i1)) = (w[0], w[1]);
        assert!(t0 < t1 || (t0 == t1 && i0 < i1), "out of order: {:?}", w);
    }
    assert_eq!(engine.timer_count(), 0);
}

#[test]
fn huge_sleeps_never_fire_and_never_panic() {
    let engine = VirtualEngine::new();
    let forever = lwt::sleep(Duration::MAX);
    engine.advance(Duration::from_secs(1));
    let late = lwt::sleep(Duration::MAX); // now + MAX overflows
    let t = lwt::timeout::<()>(Duration::MAX);
    let until = lwt::sleep_until(lwt::Instant::from_epoch(Duration::MAX));
    // Held while they are pending, not only once canceled: none armed a timer.
    assert_eq!(
        engine.timer_count(),
        0,
        "a sleep that never fires holds no timer"
    );
    engine.advance(Duration::from_secs(1_000_000));
    assert!(forever.is_pending() && late.is_pending() && t.is_pending() && until.is_pending());
    assert_eq!(engine.timer_count(), 0);
    late.cancel();
    assert!(late.peek().unwrap().unwrap_err().is_canceled());
    forever.cancel();
    t.cancel();
    until.cancel();
    assert_eq!(engine.timer_count(), 0);
}

#[test]
fn time_without_an_engine_is_a_clear_rejection() {
    let s = lwt::sleep(ms(1));
    let e = s.peek().unwrap().unwrap_err();
    assert!(e.is_no_engine(), "{e}");
    assert!(e.message().contains("engine"));
    assert!(lwt::now().is_err());
    let rejected_no_engine = |p: &Promise<()>| p.peek().unwrap().unwrap_err().is_no_engine();
    assert!(rejected_no_engine(&lwt::timeout::<()>(ms(1))));
    assert!(rejected_no_engine(&lwt::sleep_until(lwt::Instant::EPOCH)));
    let (slow, _r) = lwt::task::<()>();
    assert!(rejected_no_engine(&lwt::with_timeout(ms(1), &slow)));
    // An interval made without an engine: its ticks are rejected, no panic.
    let mut ticks = lwt::interval(ms(1));
    assert!(ticks.tick().peek().unwrap().unwrap_err().is_no_engine());
}

#[test]
fn canceling_sleeps_releases_timers() {
    let engine = VirtualEngine::new();
    let sleeps: Vec<_> = (0..1000).map(|i| lwt::sleep(ms(i + 1))).collect();
    assert_eq!(engine.timer_count(), 1000);
    for s in &sleeps {
        s.cancel();
    }
    assert_eq!(engine.timer_count(), 0);
    let p = lwt::with_timeout(Duration::from_secs(5), &Promise::resolved(1));
    assert_eq!(p.peek().unwrap().unwrap(), 1);
    assert_eq!(
        engine.timer_count(),
        0,
        "the timeout lost the race and was canceled"
    );
}

#[test]
fn canceling_a_bind_whose_function_returned_a_sleep_releases_the_timer() {
    // The bind's promise takes the pending sleep's place (the sleep's node
    // folds into it), and with it the timer the sleep holds.
    let engine = VirtualEngine::new();
    let (p, r) = lwt::wait::<()>();
    let q = p.bind(|()| lwt::sleep(ms(10)));
    r.resolve(()).unwrap();
    assert!(q.is_pending());
    assert_eq!(engine.timer_count(), 1);
    q.cancel();
    assert!(q.peek().unwrap().unwrap_err().is_canceled());
    assert_eq!(engine.timer_count(), 0);
}

#[test]
fn interval_does_not_drift() {
    use futures::StreamExt;
    let engine = VirtualEngine::new();
    let ticks = engine.block_on(async {
        let mut ticks = lwt::interval(ms(10));
        let mut at = Vec::new();
        for _ in 0..5 {
            let t = ticks.next().await.unwrap()?;
            // Work that takes 3 ms does not push later ticks back.
            lwt::sleep(ms(3)).await?;
            at.push(t.since_epoch().as_millis());
        }
        Ok(at)
    });
    assert_eq!(ticks.unwrap(), vec![10, 20, 30, 40, 50]);
}

#[test]
fn interval_keeps_one_timer_and_releases_it_when_dropped() {
    use futures::StreamExt;
    let engine = VirtualEngine::new();
    let mut ticks = lwt::interval(ms(10));
    // `poll_next` arms the first tick's timer; `tick()` reuses it.
    let mut cx = std::task::Context::from_waker(futures::task::noop_waker_ref());
    assert!(ticks.poll_next_unpin(&mut cx).is_pending());
    assert_eq!(engine.timer_count(), 1);
    let first = ticks.tick();
    assert_eq!(engine.timer_count(), 1);
    engine.advance(ms(10));
    assert_eq!(first.peek().unwrap().unwrap().since_epoch().as_millis(), 10);
    // A tick being waited for when the interval is dropped: its timer goes.
    assert!(ticks.poll_next_unpin(&mut cx).is_pending());
    assert_eq!(engine.timer_count(), 1);
    drop(ticks);
    assert_eq!(engine.timer_count(), 0);
}

#[test]
fn yield_now_runs_before_pause() {
    // Expected: yields resolve before the paused promises of the same turn.
    let engine = VirtualEngine::new();
    let l = Log::new();
    let l1 = l.clone();
    lwt::pause().on_success(move |()| l1.push("pause"));
    let l2 = l.clone();
    lwt::yield_now().on_success(move |()| l2.push("yield"));
    engine.run_until_idle();
    assert_eq!(l.get(), ["yield", "pause"]);
}

#[test]
fn a_million_pause_loop_on_the_virtual_engine() {
    let engine = VirtualEngine::new();
    let n = engine.block_on(async {
        let mut n = 0u32;
        while n < 1_000_000 {
            lwt::pause().await?;
            n += 1;
        }
        Ok(n)
    });
    assert_eq!(n.unwrap(), 1_000_000);
}

#[test]
fn foreign_futures_are_polled_on_the_next_turn() {
    let engine = VirtualEngine::new();
    let (tx, rx) = futures::channel::oneshot::channel::<u8>();
    let t = lwt::spawn(async move { rx.await.map_err(Error::new) });
    assert!(t.is_pending());
    tx.send(4).unwrap();
    assert!(t.is_pending(), "woken, but polled on the next turn");
    engine.run_until_idle();
    assert_eq!(t.peek().unwrap().unwrap(), 4);
}

#[test]
fn foreign_wakers_from_another_thread() {
    let engine = VirtualEngine::new();
    let (tx, rx) = futures::channel::oneshot::channel::<u8>();
    let t = lwt::spawn(async move { rx.await.map_err(Error::new) });
    std::thread::spawn(move || tx.send(9).unwrap())
        .join()
        .unwrap();
    engine.run_until_idle();
    assert_eq!(t.peek().unwrap().unwrap(), 9);
}

#[test]
fn promises_work_in_foreign_executors() {
    use futures::task::LocalSpawnExt;
    let (p, r) = lwt::wait::<u8>();
    let mut pool = futures::executor::LocalPool::new();
    let got = Rc::new(RefCell::new(None));
    let g = got.clone();
    pool.spawner()
        .spawn_local(async move {
            *g.borrow_mut() = Some(p.await.unwrap());
        })
        .unwrap();
    pool.run_until_stalled();
    assert_eq!(*got.borrow(), None);
    r.resolve(3).unwrap(); // wakes the pool's waker
    pool.run_until_stalled();
    assert_eq!(*got.borrow(), Some(3));
}

#[test]
fn select_over_promises_registers_no_duplicates_that_matter() {
    // A task that polls a long-lived promise many times (select in a loop)
    // leaves only stale entries behind, which are swept.
    let engine = VirtualEngine::new();
    let (stop, rstop) = lwt::wait::<()>();
    let t = lwt::spawn(async move {
        let mut ticks = 0u32;
        loop {
            let tick = lwt::sleep(ms(1)).map(|()| false);
            let stopped = stop.clone().map(|()| true);
            if lwt::choose(vec![tick, stopped]).await? {
                return Ok(ticks);
            }
            ticks += 1;
        }
    });
    engine.advance(ms(10_000));
    rstop.resolve(()).unwrap();
    assert_eq!(t.peek().unwrap().unwrap(), 10_000);
}

#[test]
fn question_mark_and_errors_in_async_code() {
    let engine = VirtualEngine::new();
    let r: Result<u32, Error> = engine.block_on(async {
        let n: u32 = "12".parse()?;
        let bad: Result<u32, _> = "x".parse::<u32>();
        match bad {
            Err(e) => Err(Error::new(e).context(format!("after {n}"))),
            Ok(v) => Ok(v),
        }
    });
    let e = r.unwrap_err();
    assert!(e.to_string().starts_with("after 12: "));
    assert!(e.downcast_ref::<std::num::ParseIntError>().is_some());
}

// ---------------------------------------------------------------- Timeout

#[test]
fn a_timeout_holds_one_timer_while_started_and_none_after() {
    let engine = VirtualEngine::new();
    let count = Rc::new(Cell::new(0));
    let c = count.clone();
    let t = lwt::Timeout::new(Duration::from_secs(2), move |_| {
        c.set(c.get() + 1);
        Ok(())
    });
    assert_eq!(engine.timer_count(), 0, "created stopped");
    t.start().unwrap();
    t.start().unwrap();
    t.change(Duration::from_secs(3)).unwrap();
    assert_eq!(engine.timer_count(), 1, "restarts replace the timer");
    t.stop();
    assert_eq!(engine.timer_count(), 0, "stop releases it");
    t.start().unwrap();
    engine.advance(Duration::from_secs(3));
    assert_eq!(count.get(), 1);
    assert_eq!(engine.timer_count(), 0, "a fired timeout holds no timer");
    t.change(Duration::MAX).unwrap();
    t.start().unwrap();
    assert!(t.is_started());
    assert_eq!(engine.timer_count(), 0, "too far to represent: no timer");
    t.stop();
}

#[test]
fn a_started_timeout_runs_after_its_handles_are_dropped_then_is_freed() {
    struct Flag(Rc<Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true)
        }
    }
    let engine = VirtualEngine::new();
    let freed = Rc::new(Cell::new(false));
    let ran = Rc::new(Cell::new(false));
    let (flag, r) = (Flag(freed.clone()), ran.clone());
    let t = lwt::Timeout::new(Duration::from_secs(1), move |_| {
        let _keep = &flag;
        r.set(true);
        Ok(())
    });
    t.start().unwrap();
    drop(t);
    assert!(!freed.get(), "the engine's timer keeps a started timeout");
    engine.advance(Duration::from_secs(1));
    assert!(ran.get(), "it ran, as Lwt's does");
    assert!(freed.get(), "and was freed with its timer");

    // Stopped and dropped: freed at once.
    let freed = Rc::new(Cell::new(false));
    let flag = Flag(freed.clone());
    let t = lwt::Timeout::new(Duration::from_secs(1), move |_| {
        let _keep = &flag;
        Ok(())
    });
    t.start().unwrap();
    t.stop();
    drop(t);
    assert!(freed.get());
    assert_eq!(engine.timer_count(), 0);
}

#[test]
fn a_timeout_action_that_panics_goes_to_the_handler() {
    let engine = VirtualEngine::new();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    let previous = lwt::Timeout::set_exn_handler(Some(Box::new(move |e: &lwt::Error| {
        s.borrow_mut().push((e.is_panic(), e.to_string()))
    })));
    let t = lwt::Timeout::new(Duration::from_secs(1), |_| panic!("timeout action"));
    t.start().unwrap();
    engine.advance(Duration::from_secs(1));
    assert_eq!(
        *seen.borrow(),
        [(
            true,
            "the timeout's action panicked: timeout action".to_string()
        )]
    );
    // The default handler is the async-exception hook.
    lwt::Timeout::set_exn_handler(None);
    let hooked = Rc::new(RefCell::new(Vec::new()));
    let h = hooked.clone();
    let old_hook = lwt::set_async_exception_hook(Some(Box::new(move |e: &lwt::Error| {
        h.borrow_mut().push(e.to_string())
    })));
    let t = lwt::Timeout::new(Duration::from_secs(1), |_| Err(lwt::Error::msg("failed")));
    t.start().unwrap();
    engine.advance(Duration::from_secs(1));
    assert_eq!(*hooked.borrow(), ["failed"]);
    lwt::set_async_exception_hook(old_hook);
    lwt::Timeout::set_exn_handler(previous);
}

/// A timeout's Debug shows its duration and whether it is started.
#[test]
fn a_timeouts_debug_shows_its_duration_and_state() {
    let _engine = VirtualEngine::new();
    let t = lwt::Timeout::new(Duration::from_secs(7), |_| Ok(()));
    let s = format!("{t:?}");
    assert!(
        s.contains("duration: 7s") && s.contains("started: false"),
        "{s}"
    );
    t.start().unwrap();
    let s = format!("{t:?}");
    assert!(s.contains("started: true"), "{s}");
    t.stop();
}

#[test]
fn starting_a_timeout_needs_an_engine() {
    let t = lwt::Timeout::new(Duration::from_secs(1), |_| Ok(()));
    assert!(t.start().unwrap_err().is_no_engine());
    assert!(!t.is_started());
    assert!(
        t.change(Duration::from_secs(2)).is_ok(),
        "stopped: just sets"
    );
    assert_eq!(t.duration(), Duration::from_secs(2));
}

#[test]
fn an_interval_keeps_its_period_and_never_ticks_on_zero() {
    let _engine = VirtualEngine::new();
    assert_eq!(
        lwt::interval(Duration::from_secs(2)).period(),
        Duration::from_secs(2)
    );
    // A zero period would tick forever at one instant: the shortest is 1 ns.
    assert_eq!(
        lwt::interval(Duration::ZERO).period(),
        Duration::from_nanos(1)
    );
}

#[test]
fn yields_resolve_before_due_timers_and_pauses_after_them() {
    let engine = VirtualEngine::new();
    let log = Log::new();
    let l = log.clone();
    let _t = lwt::sleep_until(lwt::Instant::EPOCH).map(move |()| l.push("timer"));
    let l = log.clone();
    let _p = lwt::pause().map(move |()| l.push("pause"));
    let l = log.clone();
    let _y = lwt::yield_now().map(move |()| l.push("yield"));
    engine.run_until_idle();
    assert_eq!(log.get(), ["yield", "timer", "pause"]);
    // What an engine calls for a yield, on its own.
    let y = lwt::yield_now();
    lwt::engine::run_yielded();
    assert!(y.is_fulfilled());
}

#[test]
fn has_work_sees_each_kind_of_work_alone() {
    let engine = VirtualEngine::new();
    assert!(!lwt::engine::has_work());
    let p = lwt::pause();
    assert!(lwt::engine::has_work(), "a pause alone");
    engine.run_until_idle();
    assert!(p.is_fulfilled() && !lwt::engine::has_work());
    let y = lwt::yield_now();
    assert!(lwt::engine::has_work(), "a yield alone");
    engine.run_until_idle();
    assert!(y.is_fulfilled() && !lwt::engine::has_work());
    let (tx, rx) = futures::channel::oneshot::channel::<u8>();
    let t = lwt::spawn(async move { rx.await.map_err(Error::new) });
    assert!(
        !lwt::engine::has_work(),
        "a task waiting on a foreign future"
    );
    tx.send(1).unwrap();
    assert!(lwt::engine::has_work(), "a woken task alone");
    engine.run_until_idle();
    assert_eq!(t.peek().unwrap().unwrap(), 1);
    assert!(!lwt::engine::has_work());
}

#[test]
fn a_take_waiting_on_a_promise_that_is_then_rejected_gets_that_error() {
    // Errors are shared, never moved: the take passes the rejection on.
    let engine = VirtualEngine::new();
    let (p, r) = lwt::wait::<u32>();
    let t = lwt::spawn(async move { p.take().await });
    engine.run_until_idle();
    assert!(t.is_pending());
    r.reject(Error::msg("the upstream failed")).unwrap();
    let e = engine.run(&t).unwrap_err();
    assert!(e.to_string().contains("the upstream failed"), "{e}");
}

#[test]
fn canceling_a_task_reaches_every_promise_its_last_poll_awaited() {
    // One poll awaits three cancelable promises (as a `join` would): a
    // cancel of the task walks to each of them, also after a second poll
    // (whose awaits replace the first's).
    for polls in [1, 2] {
        let engine = VirtualEngine::new();
        let sources: Vec<(Promise<()>, lwt::Resolver<()>)> =
            (0..3).map(|_| lwt::task::<()>()).collect();
        let promises: Vec<Promise<()>> = sources.iter().map(|(p, _)| p.clone()).collect();
        let seen = Rc::new(Cell::new(0));
        let s = seen.clone();
        let t = lwt::spawn(std::future::poll_fn(move |cx| {
            for p in &promises {
                assert!(
                    std::future::Future::poll(std::pin::Pin::new(&mut p.clone()), cx).is_pending()
                );
            }
            s.set(s.get() + 1);
            if s.get() < polls {
                cx.waker().wake_by_ref();
            }
            std::task::Poll::<Result<(), Error>>::Pending
        }));
        engine.run_until_idle();
        assert_eq!(seen.get(), polls);
        t.cancel();
        for (i, (p, _)) in sources.iter().enumerate() {
            assert!(
                p.peek().is_some_and(|r| r.is_err_and(|e| e.is_canceled())),
                "{polls} polls: promise {i} not canceled"
            );
        }
    }
}
