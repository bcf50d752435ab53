//! The loop, timers, cross-thread wake-ups and the blocking pool.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lwt::Promise;

#[test]
fn nested_run_is_an_error() {
    let inner =
        lwt_native::run(async { Ok(lwt_native::run(async { Ok(1) }).unwrap_err()) }).unwrap();
    assert!(inner.is_invalid_argument());
    assert!(inner.to_string().contains("nested"));
    // The loop is usable afterwards.
    assert_eq!(lwt_native::run(async { Ok(2) }).unwrap(), 2);
}

#[test]
fn the_error_run_returns_leaves_its_thread() {
    // A loop per thread, its error returned through `join`: `lwt::Error` is
    // `Send`, and the original `io::Error` is still there on the other side.
    let worker = std::thread::spawn(|| {
        lwt_native::run(async {
            lwt_native::net::TcpStream::connect("127.0.0.1:1".parse().unwrap()).await?;
            Ok(())
        })
    });
    let e = worker.join().unwrap().unwrap_err();
    let io = e
        .downcast_ref::<std::io::Error>()
        .expect("the io::Error is kept");
    assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused, "{e}");
}

#[test]
fn timers_never_early_and_fifo_among_equals() {
    lwt_native::run(async {
        let start = lwt::now()?;
        let wall = std::time::Instant::now();
        let log = Rc::new(RefCell::new(Vec::new()));
        let deadline = start + Duration::from_millis(20);
        let mut all = Vec::new();
        // Armed in this order: 0..5 at the same deadline, and one earlier.
        for i in 0..5 {
            let l = log.clone();
            all.push(lwt::sleep_until(deadline).map(move |()| l.borrow_mut().push(i)));
        }
        let l = log.clone();
        all.push(lwt::sleep(Duration::from_millis(5)).map(move |()| l.borrow_mut().push(99)));
        lwt::join(all).await?;
        assert!(lwt::now()? >= deadline);
        assert!(wall.elapsed() >= Duration::from_millis(20));
        // Expected: the earlier timer, then the five in arming order.
        assert_eq!(*log.borrow(), [99, 0, 1, 2, 3, 4]);
        Ok(())
    })
    .unwrap();
}

#[test]
fn many_timers_fire_and_cancel_releases() {
    let before = lwt_native::timer_count();
    lwt_native::run(async move {
        let fired = Rc::new(Cell::new(0));
        let mut ps = Vec::new();
        for i in 0..100_000u64 {
            let f = fired.clone();
            ps.push(lwt::sleep(Duration::from_micros(i % 3000)).map(move |()| f.set(f.get() + 1)));
        }
        let canceled: Vec<_> = (0..50_000)
            .map(|_| lwt::sleep(Duration::from_secs(3600)))
            .collect();
        assert_eq!(lwt_native::timer_count(), before + 150_000);
        for c in &canceled {
            c.cancel();
        }
        assert_eq!(lwt_native::timer_count(), before + 100_000);
        lwt::join(ps).await?;
        assert_eq!(fired.get(), 100_000);
        assert_eq!(lwt_native::timer_count(), before);
        Ok(())
    })
    .unwrap();
}

/// Timers due together fire `TIMERS_PER_ITERATION` to an iteration, no
/// fewer: the leave-iteration hook sees the count of fired ones jump to the
/// bound, then to the one left over.
#[test]
fn due_timers_fire_up_to_the_bound_in_one_iteration() {
    let n = lwt_native::TIMERS_PER_ITERATION + 1;
    let fired = Rc::new(Cell::new(0usize));
    let seen = Rc::new(RefCell::new(Vec::new()));
    let (f, s) = (fired.clone(), seen.clone());
    let hook = lwt_native::on_leave_iteration(move || s.borrow_mut().push(f.get()));
    lwt_native::run(async move {
        // All at one deadline, so all fall due in the same iteration.
        let deadline = lwt::now()? + Duration::from_millis(5);
        let all: Vec<_> = (0..n)
            .map(|_| {
                let f = fired.clone();
                lwt::sleep_until(deadline).map(move |()| f.set(f.get() + 1))
            })
            .collect();
        lwt::join(all).await?;
        Ok(())
    })
    .unwrap();
    lwt_native::remove_hook(hook);
    // Iterations before the deadline (if arming took less than 5 ms) saw 0.
    let mut counts: Vec<usize> = seen.borrow().iter().copied().filter(|&c| c > 0).collect();
    counts.dedup();
    assert_eq!(counts, [n - 1, n]);
    // The bound is public API: a change of its value should be deliberate.
    assert_eq!(n - 1, 16 * 1024);
}

#[test]
fn canceled_sleep_leaves_loop_healthy() {
    lwt_native::run(async {
        let s = lwt::sleep(Duration::from_secs(3600));
        let p = lwt::pick([s.clone(), lwt::sleep(Duration::from_millis(1))]);
        p.await?;
        assert!(s.peek().unwrap().unwrap_err().is_canceled());
        lwt::sleep(Duration::from_millis(1)).await?;
        Ok(())
    })
    .unwrap();
}

#[test]
fn pause_loop_and_io_interleave() {
    // A busy pause loop does not starve a timer.
    lwt_native::run(async {
        let done = Rc::new(Cell::new(false));
        let d = done.clone();
        let timer = lwt::sleep(Duration::from_millis(10)).map(move |()| d.set(true));
        let mut turns = 0u64;
        while !done.get() {
            lwt::pause().await?;
            turns += 1;
        }
        timer.await?;
        assert!(turns > 10);
        Ok(())
    })
    .unwrap();
}

/// An accepted lwt-native stream and its blocking std peer, on loopback.
async fn connected() -> Result<(lwt_native::net::TcpStream, std::net::TcpStream), lwt::Error> {
    let l = lwt_native::net::TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    let peer = std::net::TcpStream::connect(l.local_addr()?)?;
    let (s, _) = l.accept().await?;
    Ok((s, peer))
}

#[test]
fn yield_runs_before_the_next_poll_and_pause_after_it() {
    use std::io::Write;
    lwt_native::run(async {
        let (s, mut peer) = connected().await?;
        let order = Rc::new(RefCell::new(Vec::new()));
        let o = order.clone();
        // Waiting for readiness: only a poll of the reactor can end it.
        let read = s.read_some(1).map(move |_| o.borrow_mut().push("io"));
        assert!(read.is_pending());
        lwt::pause().await?;
        peer.write_all(b"x")?; // the edge a later poll reports
        let (o1, o2, o3) = (order.clone(), order.clone(), order.clone());
        let due = lwt::sleep_until(lwt::now()?).map(move |()| o1.borrow_mut().push("timer"));
        let p = lwt::pause().map(move |()| o2.borrow_mut().push("pause"));
        let y = lwt::yield_now().map(move |()| o3.borrow_mut().push("yield"));
        lwt::join([due, p, y]).await?;
        // The yield first, then the due timer, then the pause, in the
        // iteration's order, whether or not that iteration polled.
        let seen: Vec<_> = order
            .borrow()
            .iter()
            .copied()
            .filter(|e| *e != "io")
            .collect();
        assert_eq!(seen, ["yield", "timer", "pause"]);
        // A busy loop polls at least every 64 turns (or 1 ms): the read
        // completes within that many more pauses.
        let mut pauses = 0;
        while read.is_pending() {
            assert!(pauses <= 64, "I/O not polled within 64 turns");
            lwt::pause().await?;
            pauses += 1;
        }
        read.await?;
        assert!(order.borrow().contains(&"io"));
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_busy_loop_sees_io_within_the_poll_bound() {
    use std::io::Write;
    lwt_native::run(async {
        let (s, mut peer) = connected().await?;
        // Several rounds, so the edge lands at different points of the
        // loop's polling cycle.
        for _ in 0..200 {
            let read = s.read_some(1);
            assert!(read.is_pending());
            peer.write_all(b"x")?;
            let mut pauses = 0;
            while read.is_pending() {
                // 64 turns, plus one for the iteration in which the edge
                // arrived just after the poll.
                assert!(pauses <= 65, "I/O not polled within the bound");
                lwt::pause().await?;
                pauses += 1;
            }
            assert_eq!(read.await?.len(), 1);
        }
        Ok(())
    })
    .unwrap();
}

/// The other half of the bound: turns that each take longer than
/// `POLL_EVERY` (1 ms) poll every turn, long before 64 of them.
#[test]
fn a_busy_loop_of_long_turns_sees_io_on_the_next_turn() {
    use std::io::Write;
    let spin = |d: Duration| {
        let start = std::time::Instant::now();
        while start.elapsed() < d {
            std::hint::spin_loop();
        }
    };
    lwt_native::run(async move {
        let (s, mut peer) = connected().await?;
        for _ in 0..20 {
            let read = s.read_some(1);
            assert!(read.is_pending());
            peer.write_all(b"x")?;
            let mut pauses = 0;
            while read.is_pending() {
                // The edge is there before this turn ends; 2 ms later the
                // next iteration polls, and delivers it before its turn.
                assert!(pauses < 2, "I/O not polled within 1 ms: {pauses} turns");
                spin(Duration::from_millis(2));
                lwt::pause().await?;
                pauses += 1;
            }
            assert_eq!(read.await?.len(), 1);
        }
        Ok(())
    })
    .unwrap();
}

#[test]
fn remote_resolve_and_run_on_loop() {
    let h = lwt_native::Handle::current();
    let (p, r) = lwt_native::remote_resolver::<Vec<u8>>();
    let (p2, r2) = lwt_native::remote_resolver::<bool>();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(10));
        r.resolve(vec![1, 2, 3]);
        h.run_on_loop(move || r2.resolve(lwt_native::is_running()));
    });
    assert_eq!(lwt_native::run(p).unwrap(), [1, 2, 3]);
    assert!(lwt_native::run(p2).unwrap());
    t.join().unwrap();
}

#[test]
fn foreign_future_woken_from_another_thread() {
    let (tx, rx) = futures::channel::oneshot::channel::<u32>();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(10));
        tx.send(9).unwrap();
    });
    let v = lwt_native::run(async move { rx.await.map_err(lwt::Error::new) }).unwrap();
    assert_eq!(v, 9);
}

#[test]
fn detach_panics_reject_and_pool_is_bounded() {
    lwt_native::set_pool_size(2);
    let bad = lwt_native::run(lwt_native::detach(|| -> u8 { panic!("in the pool") }));
    assert!(bad.unwrap_err().to_string().contains("panicked"));
    let now = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let jobs: Vec<Promise<()>> = (0..6)
        .map(|_| {
            let (now, max) = (now.clone(), max.clone());
            lwt_native::detach(move || {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                max.fetch_max(n, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
                now.fetch_sub(1, Ordering::SeqCst);
            })
        })
        .collect();
    lwt_native::run(lwt::join(jobs)).unwrap();
    assert!(max.load(Ordering::SeqCst) <= 2);
    assert!(lwt_native::pool_threads() <= 2);
    // Idle threads retire.
    lwt_native::set_pool_idle_timeout(Duration::from_millis(20));
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while lwt_native::pool_threads() > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(lwt_native::pool_threads(), 0);
    lwt_native::set_pool_size(lwt_native::DEFAULT_POOL_SIZE);
}

#[test]
fn run_in_main_from_the_pool() {
    let p = lwt_native::detach(|| {
        let a = lwt_native::run_in_main(|| lwt::pause().map(|()| 20)).unwrap();
        let b = lwt_native::run_in_main(|| Promise::<u32>::rejected(lwt::Error::msg("no")));
        let c = lwt_native::run_in_main(|| Promise::<u32>::rejected(lwt::Error::timeout()));
        let d = lwt_native::run_in_main(|| {
            Promise::<u32>::rejected(lwt::Error::new(std::io::Error::other("disk")))
        });
        let io = d
            .unwrap_err()
            .downcast_ref::<std::io::Error>()
            .map(|e| e.to_string());
        (
            a,
            b.unwrap_err().to_string(),
            c.unwrap_err().is_timeout(),
            io,
        )
    });
    let got = lwt_native::run(p).unwrap();
    assert_eq!(got, (20, "no".to_string(), true, Some("disk".to_string())));
}

#[test]
fn run_in_main_dont_wait_runs_on_the_loop_without_blocking_the_pool() {
    use std::sync::mpsc;
    let loop_thread = std::thread::current().id();
    let (tx, rx) = mpsc::channel::<String>();
    // The promise `f` returns stays pending until the loop resolves it; the
    // pool thread has returned long before.
    let (gate_tx, gate_rx) = mpsc::channel::<lwt_native::RemoteResolver<()>>();
    let t1 = tx.clone();
    let t2 = tx.clone();
    let t3 = tx.clone();
    let p = lwt_native::detach(move || {
        lwt_native::run_in_main_dont_wait(
            move || {
                assert_eq!(
                    std::thread::current().id(),
                    loop_thread,
                    "f runs on the loop"
                );
                let (p, r) = lwt_native::remote_resolver::<()>();
                gate_tx.send(r).unwrap();
                p.map(move |()| t1.send("resolved later".into()).unwrap())
            },
            |e| panic!("not rejected: {e}"),
        )
        .unwrap();
        lwt_native::run_in_main_dont_wait(
            || Promise::rejected(lwt::Error::msg("rejected on the loop")),
            move |e| t2.send(format!("handler: {e}")).unwrap(),
        )
        .unwrap();
        lwt_native::run_in_main_dont_wait(
            || -> Promise<()> { panic!("f panicked") },
            move |e| {
                t3.send(format!("panic {}: {}", e.is_panic(), e.message()))
                    .unwrap()
            },
        )
        .unwrap();
        "returned"
    });
    let out = lwt_native::run(async move {
        let returned = p.await?;
        lwt::sleep(Duration::from_millis(2)).await?;
        gate_rx.recv().unwrap().resolve(());
        lwt::sleep(Duration::from_millis(2)).await?;
        Ok(returned)
    })
    .unwrap();
    assert_eq!(out, "returned");
    let got: Vec<String> = rx.try_iter().collect();
    assert_eq!(
        got,
        [
            "handler: rejected on the loop",
            "panic true: the task panicked: f panicked",
            "resolved later",
        ]
    );
}

#[test]
fn iteration_hooks_run_each_iteration() {
    let enter = Rc::new(Cell::new(0));
    let leave = Rc::new(Cell::new(0));
    let (e, l) = (enter.clone(), leave.clone());
    let a = lwt_native::on_enter_iteration(move || e.set(e.get() + 1));
    let b = lwt_native::on_leave_iteration(move || l.set(l.get() + 1));
    lwt_native::run(async {
        for _ in 0..5 {
            lwt::pause().await?;
        }
        Ok(())
    })
    .unwrap();
    assert!(enter.get() >= 5 && leave.get() >= 5);
    lwt_native::remove_hook(a);
    lwt_native::remove_hook(b);
    let seen = (enter.get(), leave.get());
    lwt_native::run(lwt::pause()).unwrap();
    assert_eq!(
        (enter.get(), leave.get()),
        seen,
        "removed hooks, enter and leave, run no more"
    );
}

#[test]
fn removing_one_hook_leaves_the_others() {
    // Each hook has its own id: removing the second leaves the first.
    let log = Rc::new(RefCell::new(Vec::new()));
    let (l1, l2) = (log.clone(), log.clone());
    let a = lwt_native::on_enter_iteration(move || l1.borrow_mut().push("a"));
    let b = lwt_native::on_leave_iteration(move || l2.borrow_mut().push("b"));
    assert_ne!(a, b);
    lwt_native::remove_hook(b);
    lwt_native::run(lwt::pause()).unwrap();
    lwt_native::remove_hook(a);
    let seen = log.borrow().clone();
    assert!(
        !seen.is_empty() && seen.iter().all(|h| *h == "a"),
        "{seen:?}"
    );
}

#[test]
fn is_running_only_inside_run() {
    std::thread::spawn(|| {
        assert!(!lwt_native::is_running(), "no loop made yet");
        lwt_native::install();
        assert!(!lwt_native::is_running(), "made, not running");
        assert!(lwt_native::run(async { Ok(lwt_native::is_running()) }).unwrap());
        assert!(!lwt_native::is_running(), "after run");
    })
    .join()
    .unwrap();
}

#[test]
#[allow(deprecated)]
fn init_installs_the_engine() {
    std::thread::spawn(|| {
        assert!(lwt::engine::current().is_none());
        lwt_native::init();
        assert!(lwt::engine::current().is_some());
    })
    .join()
    .unwrap();
}

#[test]
fn a_removed_hook_is_dropped_outside_the_hook_list() {
    // What the hook captured may itself add or remove hooks when dropped.
    struct AddsAHookWhenDropped(Rc<Cell<Option<lwt_native::HookId>>>);
    impl Drop for AddsAHookWhenDropped {
        fn drop(&mut self) {
            self.0.set(Some(lwt_native::on_leave_iteration(|| {})));
        }
    }
    let added = Rc::new(Cell::new(None));
    let captured = AddsAHookWhenDropped(added.clone());
    let id = lwt_native::on_enter_iteration(move || {
        let _ = &captured;
    });
    lwt_native::remove_hook(id);
    let added = added.take().expect("the capture was dropped");
    lwt_native::remove_hook(added);
}

#[test]
fn exit_hooks_run_last_first() {
    let log = Rc::new(RefCell::new(Vec::new()));
    for i in 0..3 {
        let l = log.clone();
        lwt_native::at_exit(move || {
            l.borrow_mut().push(i);
            lwt::pause()
        });
    }
    lwt_native::run_exit_hooks().unwrap();
    assert_eq!(*log.borrow(), [2, 1, 0]);
}

// macOS has no per-thread `getrusage`, and other tests share the process.
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
#[test]
fn blocks_when_idle() {
    // Sleeping 50ms with nothing else to do uses little CPU.
    let cpu = || {
        // SAFETY: getrusage fills the zeroed struct we pass; nothing else.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: as above; RUSAGE_THREAD is valid on Linux and FreeBSD.
        unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut u) };
        Duration::from_secs(u.ru_utime.tv_sec as u64 + u.ru_stime.tv_sec as u64)
            + Duration::from_micros(u.ru_utime.tv_usec as u64 + u.ru_stime.tv_usec as u64)
    };
    lwt_native::install();
    let before = cpu();
    lwt_native::run(lwt::sleep(Duration::from_millis(50))).unwrap();
    assert!(cpu() - before < Duration::from_millis(25));
}

#[test]
fn a_run_that_ends_in_a_yield_returns() {
    // The future completes while the yields are resolved, just before the
    // poll: the loop must not block in the poller then.
    lwt_native::run(async { lwt::yield_now().await }).unwrap();
    let y = lwt::yield_now();
    lwt_native::run(y).unwrap();
    lwt_native::run(async {
        lwt::yield_now().await?;
        lwt::yield_now().await
    })
    .unwrap();
}

#[test]
fn a_run_whose_task_panics_in_a_yield_returns() {
    // The yields just before the poll end the task without a result (it
    // panics): the loop must not block in the poller then either. A thread
    // of its own, so a loop that blocks fails the test instead of hanging.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = lwt_native::run(async {
            lwt::yield_now().await?;
            panic!("after a yield");
            #[allow(unreachable_code)]
            Ok(())
        });
        tx.send(r.is_err()).unwrap();
    });
    let failed = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("run returned");
    assert!(failed);
}

/// A turn asked for with `Engine::request_turn` (what the core does when
/// `run_turn` is called from inside a callback) comes at once: the loop
/// does not block in the poller until its next timer first, although it
/// has nothing else to do. The task asks for the first turn, and each
/// iteration's leave hook for the next one, nine times; the bound's timer,
/// 5 s away, would end a blocking poll.
#[test]
fn a_requested_turn_keeps_the_loop_from_blocking() {
    std::thread::spawn(|| {
        let (done, resolver) = lwt::task::<()>();
        let resolver = RefCell::new(Some(resolver));
        let left = Cell::new(10u32);
        let hook = lwt_native::on_leave_iteration(move || match left.get() {
            0 => {}
            1 => {
                left.set(0);
                if let Some(r) = resolver.take() {
                    let _ = r.resolve(());
                }
            }
            n => {
                left.set(n - 1);
                lwt::engine::current().unwrap().request_turn();
            }
        });
        let start = std::time::Instant::now();
        let r = lwt_native::run(async move {
            // The first request: nothing else would end the first poll.
            lwt::engine::current().unwrap().request_turn();
            lwt::with_timeout(Duration::from_secs(5), &done).await
        });
        lwt_native::remove_hook(hook);
        assert!(
            r.is_ok(),
            "the loop blocked: {r:?} after {:?}",
            start.elapsed()
        );
    })
    .join()
    .unwrap();
}

/// Work made on a thread before its loop was (a pause, a yield: there was
/// no engine to ask for a turn) is run all the same: the loop runs a turn
/// whenever there is work, asked for or not. A thread of its own, so a
/// loop that never runs the turn fails the test instead of hanging it.
#[test]
fn work_made_before_the_loop_existed_is_run() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        assert!(lwt::engine::current().is_none());
        let both = lwt::join([lwt::pause(), lwt::yield_now()]);
        tx.send(lwt_native::run(both).is_ok()).unwrap();
    });
    let ok = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("run returned");
    assert!(ok);
}

/// A sleep fires in the iteration whose poll blocked until its deadline,
/// not one later: the clock is read again after a blocking poll.
#[test]
fn a_sleep_fires_in_the_iteration_that_waited_for_it() {
    std::thread::spawn(|| {
        lwt_native::install();
        let iterations = Rc::new(Cell::new(0u32));
        let i = iterations.clone();
        let hook = lwt_native::on_enter_iteration(move || i.set(i.get() + 1));
        let (armed_in, fired_in) = lwt_native::run(async move {
            let armed_in = iterations.get();
            let i = iterations.clone();
            let fired_in = lwt::sleep(Duration::from_millis(2))
                .map(move |()| i.get())
                .await?;
            Ok((armed_in, fired_in))
        })
        .unwrap();
        lwt_native::remove_hook(hook);
        assert_eq!(fired_in, armed_in + 1, "armed in iteration {armed_in}");
    })
    .join()
    .unwrap();
}
