//! Heap allocations made by the promise core, counted by a global allocator.
//!
//! The counter is thread-local, so tests running in parallel on other threads
//! do not disturb each other's counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// `System`, counting the allocations made on each thread.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn bump() {
    // `try_with`: the thread-local may be gone while the thread shuts down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
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
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract; `ptr`
        // came from `System` through this allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
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
