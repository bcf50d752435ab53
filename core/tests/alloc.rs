//! Heap allocations made by the promise core, counted by a global allocator.
//!
//! The counter is thread-local, so tests running in parallel on other threads
//! do not disturb each other's counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use lwt::{Error, Promise};

/// `System`, counting the allocations made on each thread.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    /// Blocks allocated on this thread less those freed on it.
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn bump() {
    // `try_with`: the thread-local may be gone while the thread shuts down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    let _ = LIVE.try_with(|n| n.set(n.get() + 1));
}

fn freed() {
    let _ = LIVE.try_with(|n| n.set(n.get() - 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments, so
// `System`'s guarantees carry over; counting touches no allocator state.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        freed(); // the same block, moved: still one live
                 // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract; `ptr`
                 // came from `System` through this allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        freed();
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract; `ptr`
        // came from `System` through this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// How many allocations (and reallocations) `f` makes on this thread.
fn allocations<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    let r = f();
    (r, ALLOCATIONS.with(Cell::get) - before)
}

/// How many more blocks are live on this thread after `f` than before.
fn live_blocks<R>(f: impl FnOnce() -> R) -> (R, isize) {
    let before = LIVE.with(Cell::get);
    let r = f();
    (r, LIVE.with(Cell::get) - before)
}

#[test]
fn a_bind_on_a_pending_promise_is_one_allocation() {
    const N: usize = 1_000;
    let (p0, r0) = lwt::wait::<u64>();
    let (last, n) = allocations(|| {
        let mut p = p0.clone();
        for _ in 0..N {
            p = p.bind(|v| lwt::Promise::resolved(v + 1));
        }
        p
    });
    assert!(
        n <= N,
        "{N} binds on a pending promise made {n} allocations"
    );
    r0.resolve(0).unwrap();
    assert_eq!(last.peek().unwrap().unwrap(), N as u64);
}

#[test]
fn a_map_on_a_pending_promise_is_one_allocation() {
    const N: usize = 1_000;
    let (p0, r0) = lwt::wait::<u64>();
    let (last, n) = allocations(|| {
        let mut p = p0.clone();
        for _ in 0..N {
            p = p.map(|v| v + 1);
        }
        p
    });
    assert!(n <= N, "{N} maps on a pending promise made {n} allocations");
    // Resolving a chain of maps allocates only when the resolution loop hits
    // its depth limit (42) and queues the rest of the chain as one boxed job:
    // about one allocation per 42 links.
    let ((), m) = allocations(|| r0.resolve(0).unwrap());
    assert!(m <= N / 32, "resolving {N} maps made {m} allocations");
    assert_eq!(last.peek().unwrap().unwrap(), N as u64);
}

#[test]
fn join_allocates_a_constant_number_of_times() {
    const N: usize = 10_000;
    let (ps, rs): (Vec<_>, Vec<_>) = (0..N).map(|_| lwt::wait::<()>()).unzip();
    let (all, n) = allocations(|| lwt::join(ps));
    // The node, and one `Vec` of the inputs' back links (for `cancel`).
    assert!(n <= 4, "join of {N} pending promises made {n} allocations");
    let ((), m) = allocations(|| {
        for r in rs {
            r.resolve(()).unwrap();
        }
    });
    assert!(
        m <= 4,
        "resolving the {N} inputs of a join made {m} allocations"
    );
    assert!(all.is_fulfilled());
}

#[test]
fn pick_allocates_a_constant_number_of_times() {
    const N: usize = 10_000;
    let (ps, rs): (Vec<_>, Vec<_>) = (0..N).map(|_| lwt::task::<u32>()).unzip();
    let (first, n) = allocations(|| lwt::pick(ps));
    assert!(n <= 4, "pick of {N} pending promises made {n} allocations");
    let ((), m) = allocations(|| rs[0].resolve(1).unwrap());
    // Canceling the losers allocates nothing per loser: the cancel walk of a
    // loser keeps its one step on the stack, and every `Canceled` rejection
    // shares one error value.
    assert!(m <= 16, "resolving a pick of {N} made {m} allocations");
    assert_eq!(first.peek().unwrap().unwrap(), 1);
}

#[test]
fn canceling_a_chain_walks_it_without_allocating() {
    let chain = || {
        let (leaf, r) = lwt::task::<u32>();
        let mut end = leaf.clone();
        for _ in 0..10 {
            end = end.map(|v| v + 1);
        }
        (leaf, r, end)
    };
    // Once, so that the buffers a cancellation reuses are made already.
    let (_, _r, warm) = chain();
    warm.cancel();
    let (leaf, _r, end) = chain();
    // The walk back to the one leaf keeps its state on the stack (the first
    // leaf found is kept in a local, not a `Vec`), and the rejection
    // forwards reuses the resolution loop's buffers: nothing is allocated.
    let ((), n) = allocations(|| end.cancel());
    assert_eq!(n, 0, "canceling a chain of 10 maps made {n} allocations");
    assert!(leaf.peek().unwrap().unwrap_err().is_canceled());
    assert!(end.peek().unwrap().unwrap_err().is_canceled());
}

// A promise made resolved (`Promise::resolved`, `lwt::from_result`) holds its
// result in the handle, with no node, until it is shared or waited on.

#[test]
fn the_counter_sees_a_node() {
    let (pair, n) = allocations(lwt::wait::<u8>);
    assert!(n >= 1, "a pending promise is a node: {n} allocations");
    drop(pair);
}

#[test]
fn resolved_promises_and_their_queries_allocate_nothing() {
    let ((), n) = allocations(|| {
        let p = Promise::resolved(7u64);
        assert!(p.is_fulfilled() && !p.is_pending() && !p.is_rejected());
        assert_eq!(p.peek().unwrap().unwrap(), 7);
        assert_eq!(p.state(), lwt::State::Fulfilled(7));
        assert_eq!(format!("{p:?}"), "Promise(fulfilled)");
        p.cancel(); // resolved: nothing to cancel
        assert!(p.is_fulfilled());
    });
    // `format!` allocates its string: one.
    assert_eq!(n, 1);
}

#[test]
fn binds_and_maps_on_resolved_promises_are_calls() {
    fn step(acc: u64, n: u64) -> Promise<u64> {
        if acc == n {
            return Promise::resolved(acc);
        }
        Promise::resolved(acc + 1).bind(move |a| step(a, n))
    }
    // Under the depth bound (42 nested binds) every step runs at once.
    let (p, n) = allocations(|| {
        step(0, 30)
            .map(|x| x * 2)
            .and_then(|x| Ok::<_, Error>(x + 1))
            .try_bind(|x| Promise::resolved(x + 1), Promise::rejected)
    });
    assert_eq!(n, 0, "allocations");
    assert_eq!(p.peek().unwrap().unwrap(), 62);
}

#[test]
fn a_rejection_passes_through_binds_without_a_node() {
    let error = Error::msg("no");
    let (p, n) = allocations(|| {
        Promise::<u8>::rejected(error.clone())
            .bind(|x| Promise::resolved(x + 1))
            .map(|x| x * 2)
    });
    assert_eq!(n, 0, "allocations");
    assert_eq!(p.peek().unwrap().unwrap_err(), error);
}

#[test]
fn ignore_and_map_err_on_resolved_promises_make_no_node() {
    let error = Error::msg("no");
    let ((a, b, c), n) = allocations(|| {
        let a = Promise::resolved(String::new()).ignore();
        let b = Promise::resolved(1u8).map_err(|e| e.context("unused"));
        let c = Promise::<u8>::rejected(error.clone()).map_err(|e| e.context("ctx"));
        (a, b, c)
    });
    // The one `context` that runs is the only allocation.
    let (_, context) = allocations(|| error.clone().context("ctx"));
    assert_eq!(n, context, "allocations");
    assert!(a.is_fulfilled());
    assert_eq!(b.peek().unwrap().unwrap(), 1);
    assert_eq!(c.peek().unwrap().unwrap_err().to_string(), "ctx: no");
    assert!(Promise::<()>::rejected(error).ignore().is_rejected());
}

#[test]
fn a_clone_shares_one_node_and_the_value() {
    let p = Promise::resolved(String::from("v"));
    let (q, n) = allocations(|| p.clone());
    assert_eq!(n, 1, "the clone makes the node both handles share");
    assert!(p.same_as(&q));
    let other = Promise::resolved(String::from("v"));
    assert!(
        !p.same_as(&other) && !other.same_as(&q),
        "an equal value is another promise"
    );
    assert_eq!(q.peek().unwrap().unwrap(), "v");
    assert_eq!(p.peek().unwrap().unwrap(), "v");
}

#[test]
fn past_the_depth_bound_a_bind_on_a_resolved_promise_is_queued() {
    // The 43rd nested bind no longer runs at once: its callback is queued
    // and runs before the outermost bind returns, as for nodes.
    fn nest(depth: u32, log: Rc<RefCell<Vec<u32>>>) -> Promise<u32> {
        Promise::resolved(depth).bind(move |d| {
            log.borrow_mut().push(d);
            if d == 50 {
                Promise::resolved(d)
            } else {
                let p = nest(d + 1, log.clone());
                log.borrow_mut().push(100 + d);
                p
            }
        })
    }
    let log = Rc::new(RefCell::new(Vec::new()));
    let p = nest(1, log.clone());
    assert_eq!(p.peek().unwrap().unwrap(), 50);
    let log = log.borrow();
    // 1..=42 entered at once; 43 ran only after 42 returned.
    let at_42 = log.iter().position(|&x| x == 142).unwrap();
    let at_43 = log.iter().position(|&x| x == 43).unwrap();
    assert!(at_42 < at_43, "{log:?}");
}

#[test]
fn take_moves_the_value_of_a_resolved_promise_out() {
    struct NotClone(u32);
    let engine = lwt::testing::VirtualEngine::new();
    let p = Promise::resolved(NotClone(3));
    let t = lwt::spawn(async move { Ok(p.take().await?.0) });
    assert_eq!(engine.run(&t).unwrap(), 3);
}

#[test]
fn a_value_whose_clone_reads_its_own_promise_gets_an_error_not_a_panic() {
    // The value's `Clone` looks at the very promise being read.
    #[derive(Default)]
    struct Nosy {
        home: Rc<RefCell<Option<Promise<Nosy>>>>,
        saw_pending: Rc<Cell<Option<bool>>>,
    }
    impl Clone for Nosy {
        fn clone(&self) -> Self {
            if let Some(p) = self.home.borrow().as_ref() {
                self.saw_pending.set(Some(p.is_pending()));
            }
            Nosy {
                home: Rc::new(RefCell::new(None)),
                saw_pending: self.saw_pending.clone(),
            }
        }
    }
    let value = Nosy::default();
    let home = value.home.clone();
    let saw = value.saw_pending.clone();
    *home.borrow_mut() = Some(Promise::resolved(value));
    let copy = home.borrow().as_ref().unwrap().peek();
    assert!(matches!(copy, Some(Ok(_))), "the reader gets its copy");
    assert_eq!(
        saw.get(),
        Some(false),
        "the nosy clone saw a resolved promise"
    );
    let p = home.borrow_mut().take().unwrap();
    let Some(Err(e)) = p.peek() else {
        panic!("the promise read from inside its value's Clone is not rejected");
    };
    assert!(
        e.is_invalid_argument() && e.message().contains("Clone"),
        "{e}"
    );
}

#[test]
fn a_type_that_holds_a_promise_of_itself_boxes_it() {
    // Lwt's lazy list: `Cons of 'a * 'a node Lwt.t`.
    #[derive(Clone)]
    enum List {
        Nil,
        Cons(u32, Box<Promise<List>>),
    }
    fn sum(l: List) -> Promise<u32> {
        match l {
            List::Nil => Promise::resolved(0),
            List::Cons(x, rest) => rest.bind(sum).map(move |s| s + x),
        }
    }
    let (tail, r) = lwt::wait();
    let list = List::Cons(
        1,
        Box::new(Promise::resolved(List::Cons(2, Box::new(tail)))),
    );
    let n = sum(list);
    assert!(n.is_pending());
    r.resolve(List::Cons(4, Box::new(Promise::resolved(List::Nil))))
        .unwrap();
    assert_eq!(n.peek().unwrap().unwrap(), 7);
}

/// Allocations of a task polled `polls` times (it wakes itself at each
/// poll), each poll awaiting `awaited` promises that stay pending.
fn polls_awaiting(polls: usize, awaited: usize) -> usize {
    let pending: Vec<(Promise<()>, lwt::Resolver<()>)> =
        (0..awaited).map(|_| lwt::wait()).collect();
    let engine = lwt::testing::VirtualEngine::new();
    let count = Rc::new(Cell::new(0));
    let seen = count.clone();
    let promises: Vec<Promise<()>> = pending.iter().map(|(p, _)| p.clone()).collect();
    let (task, n) = allocations(|| {
        let task = lwt::spawn(std::future::poll_fn(move |cx| {
            for p in &promises {
                assert!(std::pin::Pin::new(&mut p.clone()).poll(cx).is_pending());
            }
            seen.set(seen.get() + 1);
            if seen.get() == polls {
                return std::task::Poll::Ready(Ok(()));
            }
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }));
        engine.run_until_idle();
        task
    });
    assert_eq!(count.get(), polls);
    assert!(task.is_fulfilled());
    n
}

#[test]
fn a_task_that_wakes_itself_at_each_poll_allocates_nothing_per_poll() {
    // A foreign wake-up (here the task's own, as a `yield_now` does) queues
    // the task for the next turn; the turn's buffers are reused, so a turn
    // that polls one woken task allocates nothing.
    const POLLS: usize = 1_000;
    let n = polls_awaiting(POLLS, 0);
    assert!(n <= 16, "{POLLS} self-woken polls made {n} allocations");
}

#[test]
fn a_task_awaiting_the_same_promises_at_each_poll_allocates_nothing_for_them() {
    // A task that awaits long-lived promises at each poll (a shutdown
    // signal and a channel, say): its callback on each is replaced, not
    // added (each promise's callback list stays one entry, inline, with no
    // `Vec`), and the list of what canceling the task cancels is rebuilt in
    // one allocation. So a thousand polls cost what the first one does: one
    // allocation per promise, and one more, once the thread's spare wakers
    // and wake-up buffers are warm (the first task on a thread fills them).
    const POLLS: usize = 1_000;
    polls_awaiting(POLLS, 0);
    for awaited in [1, 2, 3] {
        let n = polls_awaiting(POLLS, awaited);
        assert!(
            n <= awaited + 1,
            "{POLLS} polls awaiting {awaited} promises each made {n} allocations"
        );
    }
}

#[test]
fn a_resolved_promise_a_bind_returns_and_nobody_else_holds_is_freed_once_read() {
    // The bind's function makes a promise, resolves it and returns it: its
    // value moves into the bind's own promise and its node is freed then,
    // rather than kept behind the bind's promise as what it stands for.
    let (root, r0) = lwt::wait::<u64>();
    let p = root.bind(|v| {
        let (q, r) = lwt::wait::<u64>();
        r.resolve(v + 1).unwrap();
        q
    });
    let ((), live) = live_blocks(|| r0.resolve(1).unwrap());
    assert_eq!(p.peek().unwrap().unwrap(), 2);
    assert!(live <= 0, "{live} more blocks live after the resolve");
}

#[test]
fn reading_a_promise_through_a_chain_of_proxies_frees_the_ones_between() {
    // `x` ends up standing for `z` through `y`: `y`'s bind took `x`'s place,
    // then `z`'s took `y`'s. The first read of `x` walks the chain and links
    // `x` straight to `z`, which frees `y`, held only by that link.
    let (x, rx) = lwt::wait::<u32>();
    let (root1, r1) = lwt::wait::<()>();
    let (root2, r2) = lwt::wait::<()>();
    let x2 = x.clone();
    let y = root1.bind(move |()| x2);
    let z = root2.bind(move |()| y);
    r1.resolve(()).unwrap();
    r2.resolve(()).unwrap();
    let (pending, live) = live_blocks(|| x.is_pending());
    assert!(pending);
    assert_eq!(live, -1, "the proxy between was not freed");
    let ((), live) = live_blocks(|| assert!(x.is_pending()));
    assert_eq!(live, 0, "a second read walks nothing");
    rx.resolve(7).unwrap();
    assert_eq!(z.peek().unwrap().unwrap(), 7);
}

#[test]
fn resolving_later_a_promise_nobody_waits_on_queues_nothing() {
    // Inside a callback, `resolve_later` queues the callbacks to run after
    // it; with none to run, it queues (and allocates) nothing.
    let (q, rq) = lwt::wait::<()>();
    let (p, r) = lwt::wait::<u32>();
    let made = Rc::new(Cell::new(usize::MAX));
    let m = made.clone();
    q.on_success(move |()| {
        let ((), n) = allocations(|| r.resolve_later(Ok(1)).unwrap());
        m.set(n);
    });
    rq.resolve(()).unwrap();
    assert_eq!(made.get(), 0);
    assert_eq!(p.peek().unwrap().unwrap(), 1);
}

#[test]
fn dropped_takes_leave_nothing_behind_on_a_promise_that_stays_pending() {
    // Each take polled once claims the promise, then is dropped: its dead
    // claim is swept from the callback list when a later one is added, so
    // the list (and what the claims' weak links keep) does not grow, while
    // the one take still alive keeps its claim and gets the value.
    let (p, r) = lwt::wait::<Vec<u8>>();
    let mut kept = Box::pin(p.clone().take());
    let mut cx = std::task::Context::from_waker(futures::task::noop_waker_ref());
    assert!(kept.as_mut().poll(&mut cx).is_pending());
    let ((), live) = live_blocks(|| {
        for _ in 0..1_000 {
            let mut take = Box::pin(p.clone().take());
            assert!(take.as_mut().poll(&mut cx).is_pending());
        }
    });
    assert!(live < 16, "1,000 dropped takes left {live} blocks live");
    r.resolve(vec![7]).unwrap();
    assert!(kept.as_mut().poll(&mut cx).is_ready());
}

#[test]
fn a_full_callback_list_drops_its_dead_entries_rather_than_grow() {
    // Three maps and a take on one pending promise fill its list (a `Vec`
    // of 4); the take is dropped, so its claim is dead. A fifth callback
    // finds the list full: the dead claim goes (its block with it) and the
    // list keeps its size, so the new map's node is the only new block.
    let (p, r) = lwt::wait::<Vec<u8>>();
    let maps: Vec<Promise<usize>> = (0..3).map(|_| p.clone().map(|v| v.len())).collect();
    let mut cx = std::task::Context::from_waker(futures::task::noop_waker_ref());
    {
        let mut take = Box::pin(p.clone().take());
        assert!(take.as_mut().poll(&mut cx).is_pending());
    }
    let (fourth, live) = live_blocks(|| p.clone().map(|v| v.len()));
    assert_eq!(live, 0, "the dead claim stayed, or the list grew");
    r.resolve(vec![1, 2]).unwrap();
    for m in maps.iter().chain([&fourth]) {
        assert_eq!(m.peek().unwrap().unwrap(), 2);
    }
}

#[test]
fn a_step_of_the_pending_bind_loop_allocates_its_two_nodes_only() {
    // Lwt's loop `let p, r = wait () in r <~ later; p >>= loop`: each step
    // makes the promise and the bind's node; the queued resolution is kept
    // in the promise's own node, not in a job of its own.
    fn steps(n: u64) -> Promise<u64> {
        if n == 0 {
            return Promise::resolved(0);
        }
        let (p, r) = lwt::wait::<u64>();
        let rest = p.bind(move |_| steps(n - 1));
        r.resolve_later(Ok(n)).unwrap();
        rest
    }
    const N: usize = 1_000;
    let (p, n) = allocations(|| steps(N as u64));
    assert_eq!(p.peek().unwrap().unwrap(), 0);
    assert!(n <= 2 * N + 4, "{N} steps made {n} allocations");
}

#[test]
fn a_task_done_in_its_first_poll_allocates_only_its_future() {
    // No node and no waker: its promise holds the result inline, and the
    // waker is a spare one (the first spawn on a thread makes it).
    const N: u64 = 1_000;
    drop(lwt::spawn(async { Ok(()) }));
    let (sum, n) = allocations(|| {
        (0..N)
            .map(|i| {
                let t = lwt::spawn(async move { Ok(Promise::resolved(i).await? + 1) });
                t.peek().unwrap().unwrap()
            })
            .sum::<u64>()
    });
    assert_eq!(sum, N * (N + 1) / 2);
    assert!(n <= N as usize, "{N} spawns made {n} allocations");
    // The same through `async_` (Lwt's `Lwt.async`), which drops the promise.
    let ((), n) = allocations(|| {
        for i in 0..N {
            lwt::async_(move || lwt::spawn(async move { Ok(Promise::resolved(i).await? + 1) }));
        }
    });
    assert!(n <= N as usize, "{N} async_ calls made {n} allocations");
}

#[test]
fn awaiting_promises_made_resolved_allocates_nothing() {
    // An inline promise's `.await` reads its value in place: no node.
    let engine = lwt::testing::VirtualEngine::new();
    let (task, n) = allocations(|| {
        let task = lwt::spawn(async {
            let mut acc = 0u64;
            for _ in 0..1_000 {
                acc = Promise::resolved(acc + 1).await?;
            }
            Ok(acc)
        });
        engine.run_until_idle();
        task
    });
    assert_eq!(task.peek().unwrap().unwrap(), 1_000);
    assert!(n <= 4, "1,000 awaits (and the spawn) made {n} allocations");
}
