//! Heap allocations per step of the shapes Lwt programs are made of, lwt
//! against the peer the performance figures compare it with, counted by a
//! global allocator that counts (and otherwise passes every call to the
//! system allocator).
//!
//! `cargo bench -p lwt-native --bench allocs` prints, for each shape, the
//! allocations per step of each side (the mean over `LWT_ALLOCS_N` steps,
//! 100,000 by default, after a warm-up of the same count). Only counts, no
//! times: counting costs every allocation an atomic add, so timings belong
//! to the `native` benchmark, which runs on the plain allocator.
//!
//! The shapes:
//! 1. **spawn**: a task whose body finishes at once, its handle dropped
//!    (lwt's `spawn`), against futures' `LocalPool` (`spawn_local`, then
//!    `run`). The mark is the body's own allocations: none here.
//! 2. **pending-bind step**: make a pending promise, bind the rest of the
//!    loop on it, resolve it (`wait`, `bind`, `resolve_later`), against a
//!    tokio `spawn_local` awaiting a oneshot per step. The mark is one node
//!    per pending bind.
//! 3. **resolved bind**: `Promise::resolved(acc + 1).bind(loop)`, Lwt's
//!    recursion, against `std::future::ready(x).await` (which allocates
//!    nothing).
//! 4. **timer**: a sleep with a callback, against a tokio task per sleep.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lwt::Promise;

/// The system allocator, counting allocations (reallocations count too:
/// each may move the block).
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's own
// arguments, so `System`'s guarantees are the caller's; the counter has no
// effect on the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc`, passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc_zeroed`, unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `realloc`, unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn steps() -> u64 {
    std::env::var("LWT_ALLOCS_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(100_000)
}

/// Allocations per step of `run(n)`, which performs `n` steps: the second
/// of two runs (the first grows whatever buffers a run keeps).
fn per_step(run: impl Fn(u64)) -> f64 {
    let n = steps();
    run(n);
    let before = ALLOCS.load(Ordering::Relaxed);
    run(n);
    (ALLOCS.load(Ordering::Relaxed) - before) as f64 / n as f64
}

fn tokio_local() -> (tokio::runtime::Runtime, tokio::task::LocalSet) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    (rt, tokio::task::LocalSet::new())
}

fn lwt_spawns(n: u64) {
    lwt_native::run(async move {
        for _ in 0..n {
            drop(lwt::spawn(async { Ok(()) }));
        }
        Ok(())
    })
    .expect("the spawns ran");
}

fn pool_spawns(n: u64) {
    use futures::task::LocalSpawnExt;
    let mut pool = futures::executor::LocalPool::new();
    let spawner = pool.spawner();
    for _ in 0..n {
        spawner.spawn_local(async {}).expect("the pool takes it");
    }
    pool.run();
}

/// Lwt's loop: a pending promise, the rest of the loop bound on it, then
/// resolved (later: inside a callback, after the current one).
fn pending_bind_loop(n: u64) -> Promise<u64> {
    if n == 0 {
        return Promise::resolved(0);
    }
    let (p, r) = lwt::wait::<u64>();
    let rest = p.bind(move |_| pending_bind_loop(n - 1));
    r.resolve_later(Ok(n)).expect("pending");
    rest
}

fn lwt_pending_binds(n: u64) {
    lwt_native::run(pending_bind_loop(n)).expect("the loop ran");
}

fn tokio_oneshot_steps(n: u64) {
    let (rt, local) = tokio_local();
    local.block_on(&rt, async move {
        for i in 0..n {
            let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
            let step = tokio::task::spawn_local(async move { rx.await.expect("sent") });
            tx.send(i).expect("waiting");
            step.await.expect("the step ran");
        }
    });
}

fn resolved_recursion(acc: u64, n: u64) -> Promise<u64> {
    if acc == n {
        return Promise::resolved(acc);
    }
    Promise::resolved(acc + 1).bind(move |a| resolved_recursion(a, n))
}

fn lwt_resolved_binds(n: u64) {
    let p = resolved_recursion(0, n);
    assert_eq!(p.peek().expect("resolved").expect("fulfilled"), n);
}

fn ready_awaits(n: u64) {
    let mut pool = futures::executor::LocalPool::new();
    let got = pool.run_until(async move {
        let mut acc = 0;
        for _ in 0..n {
            acc = std::future::ready(std::hint::black_box(acc) + 1).await;
        }
        acc
    });
    assert_eq!(got, n);
}

fn lwt_timers(n: u64) {
    lwt_native::run(async move {
        let (done, r) = lwt::wait::<()>();
        let left = Rc::new(Cell::new(n));
        for i in 0..n {
            let (left, r) = (left.clone(), r.clone());
            lwt::sleep(Duration::from_micros(i % 1000)).on_success(move |()| {
                left.set(left.get() - 1);
                if left.get() == 0 {
                    let _ = r.resolve(());
                }
            });
        }
        done.await
    })
    .expect("the timers fired");
}

fn tokio_timers(n: u64) {
    let (rt, local) = tokio_local();
    let _in_rt = rt.enter();
    for i in 0..n {
        drop(local.spawn_local(tokio::time::sleep(Duration::from_micros(i % 1000))));
    }
    rt.block_on(local);
}

/// A shape: its name, then each side's description and its run of `n` steps.
struct Shape {
    name: &'static str,
    ours: (&'static str, fn(u64)),
    peer: (&'static str, fn(u64)),
}

fn main() {
    // `cargo bench` passes `--bench`; a filter word selects shapes.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let want = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
    lwt_native::install();
    println!("allocations per step, mean of {} steps:", steps());
    let shapes = [
        Shape {
            name: "spawn",
            ours: ("lwt spawn, handle dropped", lwt_spawns),
            peer: ("LocalPool spawn_local", pool_spawns),
        },
        Shape {
            name: "pending-bind",
            ours: ("lwt wait + bind + resolve_later", lwt_pending_binds),
            peer: ("tokio spawn_local + oneshot", tokio_oneshot_steps),
        },
        Shape {
            name: "resolved-bind",
            ours: ("lwt resolved(x).bind(loop)", lwt_resolved_binds),
            peer: ("ready(x).await", ready_awaits),
        },
        Shape {
            name: "timer",
            ours: ("lwt sleep + callback", lwt_timers),
            peer: ("tokio task per sleep", tokio_timers),
        },
    ];
    for s in shapes.iter().filter(|s| want(s.name)) {
        println!(
            "  {}: {} {:.2} | {} {:.2}",
            s.name,
            s.ours.0,
            per_step(s.ours.1),
            s.peer.0,
            per_step(s.peer.1)
        );
    }
}
