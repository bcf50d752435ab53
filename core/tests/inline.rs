//! A promise made resolved ([`Promise::resolved`], [`lwt::from_result`])
//! holds its result in the handle, with no node, until it is shared or
//! waited on. Counted here with an allocator that counts this thread's
//! allocations only (the test harness runs other tests on other threads).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use lwt::{Error, Promise};

/// The system allocator, counting the allocations of each thread.
struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: a thread being torn down has no counter any more.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's own
// arguments, so `System`'s guarantees are the caller's; the counter (a
// thread-local `Cell` with a constant initializer, which never allocates)
// has no effect on the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract for `alloc`, passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract for `alloc_zeroed`, unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
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

/// The allocations `f` makes on this thread, and its result.
fn allocs<R>(f: impl FnOnce() -> R) -> (u64, R) {
    let before = ALLOCS.with(Cell::get);
    let r = f();
    (ALLOCS.with(Cell::get) - before, r)
}

#[test]
fn the_counter_sees_a_node() {
    let (n, pair) = allocs(lwt::wait::<u8>);
    assert!(n >= 1, "a pending promise is a node: {n} allocations");
    drop(pair);
}

#[test]
fn resolved_promises_and_their_queries_allocate_nothing() {
    let (n, ()) = allocs(|| {
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
    let (n, p) = allocs(|| {
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
    let (n, p) = allocs(|| {
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
    let (n, (a, b, c)) = allocs(|| {
        let a = Promise::resolved(String::new()).ignore();
        let b = Promise::resolved(1u8).map_err(|e| e.context("unused"));
        let c = Promise::<u8>::rejected(error.clone()).map_err(|e| e.context("ctx"));
        (a, b, c)
    });
    // The one `context` that runs is the only allocation.
    let (context, _) = allocs(|| error.clone().context("ctx"));
    assert_eq!(n, context, "allocations");
    assert!(a.is_fulfilled());
    assert_eq!(b.peek().unwrap().unwrap(), 1);
    assert_eq!(c.peek().unwrap().unwrap_err().to_string(), "ctx: no");
    assert!(Promise::<()>::rejected(error).ignore().is_rejected());
}

#[test]
fn a_clone_shares_one_node_and_the_value() {
    let p = Promise::resolved(String::from("v"));
    let (n, q) = allocs(|| p.clone());
    assert_eq!(n, 1, "the clone makes the node both handles share");
    assert!(p.same_as(&q));
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
