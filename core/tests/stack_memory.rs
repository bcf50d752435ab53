//! `lwt::execution_model` rules 4 (bounded stack) and 6 (constant-memory loops).
//!
//! Stack: chains of 1,000,000 dependent pending promises are resolved,
//! canceled and dropped on a thread with a 256 KiB stack.
//! Memory: a tail-recursive bind loop of 10,000,000 iterations keeps the
//! number of live heap allocations (counted by this binary's allocator, per
//! thread) under a small bound that does not depend on the iteration count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};

use lwt::{Promise, Resolver};

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

// SAFETY: delegates to the system allocator unchanged; the thread-local
// counter is const-initialized and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LIVE.try_with(|l| l.set(l.get() + 1));
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = LIVE.try_with(|l| l.set(l.get() - 1));
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.with(Cell::get)
}

const SMALL_STACK: usize = 256 * 1024;
const CHAIN: u64 = 1_000_000;

fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .unwrap()
        .join()
        .expect("ran out of stack, or an assertion failed");
}

#[test]
fn chain_of_a_million_pending_binds_resolves_on_a_small_stack() {
    on_small_stack(|| {
        let (start, r) = lwt::wait::<u64>();
        let mut end = start.clone();
        for _ in 0..CHAIN {
            end = end.bind(|x| Promise::resolved(x + 1));
        }
        r.resolve(0).unwrap();
        assert_eq!(end.peek().unwrap().unwrap(), CHAIN);
    });
}

#[test]
fn chain_of_a_million_maps_resolves_on_a_small_stack() {
    on_small_stack(|| {
        let (start, r) = lwt::wait::<u64>();
        let mut end = start.clone();
        for _ in 0..CHAIN {
            end = end.map(|x| x + 1);
        }
        r.resolve(0).unwrap();
        assert_eq!(end.peek().unwrap().unwrap(), CHAIN);
    });
}

#[test]
fn chain_of_a_million_tasks_awaiting_each_other_resolves_on_a_small_stack() {
    on_small_stack(|| {
        let (start, r) = lwt::wait::<u64>();
        let mut end = start.clone();
        for _ in 0..CHAIN {
            let prev = end.clone();
            end = lwt::spawn(async move { Ok(prev.await? + 1) });
        }
        r.resolve(0).unwrap();
        assert_eq!(end.peek().unwrap().unwrap(), CHAIN);
    });
}

#[test]
fn canceling_the_end_of_a_million_chain_on_a_small_stack() {
    on_small_stack(|| {
        let (start, _r) = lwt::task::<u64>();
        let mut end = start.clone();
        for _ in 0..CHAIN {
            end = end.map(|x| x + 1);
        }
        end.cancel();
        assert!(start.peek().unwrap().unwrap_err().is_canceled());
        assert!(end.peek().unwrap().unwrap_err().is_canceled());
    });
}

#[test]
fn dropping_an_unresolved_million_chain_on_a_small_stack() {
    on_small_stack(|| {
        let (start, r) = lwt::wait::<u64>();
        let mut end = start.clone();
        for _ in 0..CHAIN {
            end = end.map(|x| x + 1);
        }
        drop(end);
        drop(start);
        drop(r); // the last reference: the whole chain goes, in a loop
    });
}

thread_local! {
    static NEXT: RefCell<Option<Resolver<()>>> = const { RefCell::new(None) };
}

/// One iteration: wait for a promise resolved later (by the driver), then
/// loop. Tail-recursive in the promise sense: `bind`'s function returns the
/// next iteration's promise.
fn iterate(n: u64) -> Promise<u64> {
    if n == 0 {
        return Promise::resolved(0);
    }
    let (p, r) = lwt::wait::<()>();
    NEXT.with(|next| *next.borrow_mut() = Some(r));
    p.bind(move |()| iterate(n - 1))
}

#[test]
fn ten_million_iteration_bind_loop_runs_in_constant_memory() {
    const N: u64 = 10_000_000;
    let baseline = live();
    let result = iterate(N);
    let mut peak = 0;
    let mut steps = 0u64;
    while let Some(r) = NEXT.with(|next| next.borrow_mut().take()) {
        r.resolve(()).unwrap();
        steps += 1;
        if steps % 1000 == 0 {
            peak = peak.max(live() - baseline);
        }
    }
    assert_eq!(steps, N);
    assert_eq!(result.peek().unwrap().unwrap(), 0);
    assert!(
        peak <= 16,
        "live allocations grew to {peak} during a {N}-iteration loop; expected a small constant"
    );
}
