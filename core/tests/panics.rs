//! Panics in user callbacks and task bodies (natively, where panics unwind):
//! the resolution loop catches them at the callback, rejects the promise the
//! callback was producing or reports to the async-exception hook, and runs the
//! rest of the resolution as if nothing happened (execution model, rule 10).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use lwt::testing::Log;
use lwt::{Error, Promise, State, MAX_DEPTH};

/// A hook as `set_async_exception_hook` takes and gives it.
type Hook = Option<Box<dyn Fn(&Error)>>;

/// Installs a hook that records what it receives; the previous hook comes
/// back when the returned guard is dropped.
struct Hooked {
    seen: Rc<RefCell<Vec<Error>>>,
    previous: Option<Hook>,
}

impl Hooked {
    fn install() -> Hooked {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let s = seen.clone();
        let previous = lwt::set_async_exception_hook(Some(Box::new(move |e: &Error| {
            s.borrow_mut().push(e.clone())
        })));
        Hooked {
            seen,
            previous: Some(previous),
        }
    }

    /// The messages the hook got so far, taken out.
    fn take(&self) -> Vec<String> {
        let seen = std::mem::take(&mut *self.seen.borrow_mut());
        for e in &seen {
            assert!(e.is_panic(), "the hook got a panic error: {e:?}");
        }
        seen.iter().map(|e| e.message().to_string()).collect()
    }
}

impl Drop for Hooked {
    fn drop(&mut self) {
        lwt::set_async_exception_hook(self.previous.take().unwrap());
    }
}

/// Every way of attaching a callback that produces no promise, each made to
/// panic with `message` when it runs on a fulfilled (`ok`) or rejected promise.
fn attach_panicking(p: &Promise<u8>, form: &str, message: &'static str) {
    match form {
        "on_success" => p.on_success(move |_| panic!("{message}")),
        "on_failure" => p.on_failure(move |_| panic!("{message}")),
        "on_termination" => p.on_termination(move || panic!("{message}")),
        "on_any_ok" => p.on_any(move |_| panic!("{message}"), |_| {}),
        "on_any_err" => p.on_any(|_| {}, move |_| panic!("{message}")),
        "on_result" => p.on_result(move |_| panic!("{message}")),
        "on_cancel" => p.on_cancel(move || panic!("{message}")),
        other => unreachable!("{other}"),
    }
}

const FORMS: [(&str, Outcome); 7] = [
    ("on_success", Outcome::Fulfill),
    ("on_failure", Outcome::Reject),
    ("on_termination", Outcome::Fulfill),
    ("on_any_ok", Outcome::Fulfill),
    ("on_any_err", Outcome::Reject),
    ("on_result", Outcome::Reject),
    ("on_cancel", Outcome::Cancel),
];

#[derive(Clone, Copy, Debug)]
enum Outcome {
    Fulfill,
    Reject,
    Cancel,
}

#[test]
fn a_panicking_on_callback_of_a_pending_promise_goes_to_the_hook() {
    let hook = Hooked::install();
    for (form, outcome) in FORMS {
        let l = Log::new();
        let (p, r) = lwt::task::<u8>();
        let l1 = l.clone();
        p.on_termination(move || l1.push("before"));
        attach_panicking(&p, form, "boom");
        let l2 = l.clone();
        p.on_termination(move || l2.push("after"));
        let (q, rq) = lwt::wait::<u8>();
        let follower = p.catch(move |_| q);
        match outcome {
            Outcome::Fulfill => r.resolve(1).unwrap(),
            Outcome::Reject => r.reject(Error::msg("no")).unwrap(),
            Outcome::Cancel => p.cancel(),
        }
        assert_eq!(
            l.get(),
            ["before", "after"],
            "{form}: the other callbacks ran in the same resolution"
        );
        let messages = hook.take();
        assert_eq!(messages.len(), 1, "{form}: the hook saw the panic once");
        assert!(
            messages[0].contains("panicked: boom"),
            "{form}: {messages:?}"
        );
        assert_eq!(lwt::depth(), 0, "{form}");
        // The promise is untouched by its callback's panic.
        match outcome {
            Outcome::Fulfill => {
                assert_eq!(p.state(), State::Fulfilled(1));
                assert_eq!(follower.peek().unwrap().unwrap(), 1);
            }
            Outcome::Reject | Outcome::Cancel => {
                assert!(p.is_rejected());
                assert!(follower.is_pending(), "{form}: the catch follows q");
                rq.resolve(9).unwrap();
                assert_eq!(follower.peek().unwrap().unwrap(), 9);
            }
        }
    }
}

#[test]
fn a_panicking_on_callback_of_a_resolved_promise_goes_to_the_hook() {
    let hook = Hooked::install();
    for (form, outcome) in FORMS {
        let p = match outcome {
            Outcome::Fulfill => Promise::resolved(1),
            Outcome::Reject => Promise::rejected(Error::msg("no")),
            Outcome::Cancel => {
                let (p, _r) = lwt::task::<u8>();
                p.cancel();
                p
            }
        };
        attach_panicking(&p, form, "right away");
        let messages = hook.take();
        assert_eq!(messages.len(), 1, "{form}: {messages:?}");
        assert!(messages[0].contains("right away"), "{form}: {messages:?}");
        // The thread goes on as usual.
        let ran = Rc::new(Cell::new(false));
        let r2 = ran.clone();
        p.on_termination(move || r2.set(true));
        assert!(ran.get(), "{form}");
        assert_eq!(lwt::depth(), 0);
    }
}

#[test]
fn a_panic_in_a_bind_chain_rejects_that_link_and_flows_on() {
    let hook = Hooked::install();
    let l = Log::new();
    let (p, r) = lwt::wait::<u8>();
    let a = p.clone().map(|v| v + 1);
    let b = a.bind(|v| -> Promise<u8> { panic!("link {v} broke") });
    let c = b.clone().map(|v| v + 1);
    let handled = c.catch(|e| Promise::resolved(if e.is_panic() { 100 } else { 0 }));
    let l1 = l.clone();
    p.on_success(move |v| l1.push(format!("sibling {v}")));
    r.resolve(1).unwrap();
    assert_eq!(a.peek().unwrap().unwrap(), 2);
    let e = b.peek().unwrap().unwrap_err();
    assert!(e.is_panic() && !e.is_canceled(), "{e:?}");
    assert_eq!(e.message(), "the callback panicked: link 2 broke");
    let e = c.peek().unwrap().unwrap_err();
    assert!(
        e.is_panic() && e.message().contains("link 2 broke"),
        "{e:?}"
    );
    assert_eq!(handled.peek().unwrap().unwrap(), 100);
    assert_eq!(l.get(), ["sibling 1"], "the sibling ran in that resolution");
    assert!(hook.take().is_empty(), "a rejection, not a hook report");
}

#[test]
fn every_combinator_rejects_its_result_on_a_panic_pending_or_resolved() {
    type Make = fn(&Promise<u8>) -> Promise<u8>;
    let combinators: [(&str, Make, bool); 7] = [
        (
            "bind",
            |p| p.bind(|_| -> Promise<u8> { panic!("bind") }),
            true,
        ),
        ("map", |p| p.clone().map(|_| -> u8 { panic!("map") }), true),
        (
            "and_then",
            |p| {
                p.clone()
                    .and_then(|_| -> Result<u8, Error> { panic!("and_then") })
            },
            true,
        ),
        (
            "try_bind",
            |p| {
                p.try_bind(
                    |_| -> Promise<u8> { panic!("try_bind") },
                    |_| -> Promise<u8> { panic!("try_bind") },
                )
            },
            true,
        ),
        (
            "finalize",
            |p| p.finalize(|| -> Promise<()> { panic!("finalize") }),
            true,
        ),
        (
            "catch",
            |p| p.catch(|_| -> Promise<u8> { panic!("catch") }),
            false,
        ),
        (
            "map_err",
            |p| p.clone().map_err(|_| -> Error { panic!("map_err") }),
            false,
        ),
    ];
    for (name, make, on_success) in combinators {
        let settle = |r: lwt::Resolver<u8>| {
            if on_success {
                r.resolve(1).unwrap()
            } else {
                r.reject(Error::msg("x")).unwrap()
            }
        };
        // Pending source: the callback runs inside `resolve`.
        let (p, r) = lwt::wait::<u8>();
        let q = make(&p);
        settle(r);
        let e = q.peek().unwrap().unwrap_err();
        assert!(e.is_panic(), "{name} (pending): {e:?}");
        assert!(e.message().ends_with(&format!("panicked: {name}")), "{e}");
        // Resolved source: the callback runs inside the combinator.
        let (p, r) = lwt::wait::<u8>();
        settle(r);
        let q = make(&p);
        let e = q.peek().unwrap().unwrap_err();
        assert!(e.is_panic(), "{name} (resolved): {e:?}");
        assert_eq!(lwt::depth(), 0);
    }
}

#[test]
fn panic_messages_say_what_panicked() {
    let p = Promise::resolved(1);
    let s = p.clone().map(|_| -> u8 { panic!("a &str") });
    assert_eq!(
        s.peek().unwrap().unwrap_err().message(),
        "the callback panicked: a &str"
    );
    let n = 7;
    let f = p.clone().map(move |_| -> u8 { panic!("a String {n}") });
    assert_eq!(
        f.peek().unwrap().unwrap_err().message(),
        "the callback panicked: a String 7"
    );
    let other = p.map(|_| -> u8 { std::panic::panic_any(42u32) });
    let e = other.peek().unwrap().unwrap_err();
    assert!(e.is_panic());
    assert_eq!(e.message(), "the callback panicked");
}

#[test]
fn a_panicking_task_body_rejects_its_promise_in_that_resolution() {
    struct Flag(Rc<Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true)
        }
    }
    let hook = Hooked::install();

    // Before its first await: `spawn` returns a rejected promise.
    fn boom() -> u8 {
        panic!("at once")
    }
    let t = lwt::spawn(async { Ok::<u8, Error>(boom()) });
    let e = t.peek().unwrap().unwrap_err();
    assert!(e.is_panic());
    assert_eq!(e.message(), "the task panicked: at once");

    // After an await: rejected inside the resolution that woke it, the
    // future dropped, and the other callbacks of that resolution run.
    let dropped = Rc::new(Cell::new(false));
    let flag = Flag(dropped.clone());
    let l = Log::new();
    let (p, r) = lwt::wait::<u8>();
    let p2 = p.clone();
    let t = lwt::spawn(async move {
        let _flag = flag;
        let v = p2.await?;
        if v == 1 {
            panic!("task panics");
        }
        Ok(v)
    });
    let l1 = l.clone();
    t.on_failure(move |e| l1.push(format!("task: {}", e.message())));
    let l2 = l.clone();
    p.on_success(move |v| l2.push(format!("sibling {v}")));
    r.resolve(1).unwrap();
    assert_eq!(
        l.get(),
        ["task: the task panicked: task panics", "sibling 1"],
        "rejected in the same resolution, before the next callback"
    );
    assert!(dropped.get(), "the panicked future was dropped");
    assert!(t.peek().unwrap().unwrap_err().is_panic());
    assert!(
        hook.take().is_empty(),
        "a task's panic rejects, it is no hook report"
    );

    // An async_ task that panics: its rejection goes to the hook, once.
    let (p, r) = lwt::wait::<()>();
    lwt::async_(move || {
        lwt::spawn::<(), _>(async move {
            p.await?;
            panic!("fire and forget")
        })
    });
    r.resolve(()).unwrap();
    assert_eq!(hook.take(), ["the task panicked: fire and forget"]);

    // The same for a task that panics in its first poll, and for a
    // `dont_wait` handler that panics on a promise rejected at once.
    lwt::async_(|| lwt::spawn::<(), _>(async { panic!("at once") }));
    assert_eq!(hook.take(), ["the task panicked: at once"]);
    lwt::dont_wait(
        || lwt::Promise::<()>::rejected(lwt::Error::msg("no")),
        |_| panic!("in the handler"),
    );
    assert_eq!(
        hook.take(),
        ["an on_* callback of a promise panicked: in the handler"]
    );
}

#[test]
fn the_hook_sees_each_panic_once_and_resolutions_go_on() {
    let hook = Hooked::install();
    let (p, r) = lwt::wait::<u8>();
    for i in 0..5u8 {
        p.on_success(move |_| panic!("number {i}"));
    }
    let total = Rc::new(Cell::new(0u32));
    let t = total.clone();
    p.on_success(move |v| t.set(t.get() + u32::from(v)));
    assert!(r.resolve(3).is_ok(), "resolve returns normally");
    assert_eq!(
        hook.take(),
        (0..5)
            .map(|i| format!("an on_* callback of a promise panicked: number {i}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(total.get(), 3);
    // Nothing was left queued behind: the next resolution runs only its own.
    let (q, rq) = lwt::wait::<u8>();
    let t = total.clone();
    q.on_success(move |v| t.set(t.get() + u32::from(v)));
    rq.resolve(10).unwrap();
    assert_eq!(total.get(), 13);
    assert!(hook.take().is_empty());

    // A deep chain still resolves in a loop (the depth counter is intact).
    let (s, rs) = lwt::wait::<u64>();
    let mut end = s.clone();
    for _ in 0..10_000 {
        end = end.map(|x| x + 1);
    }
    rs.resolve(0).unwrap();
    assert_eq!(end.peek().unwrap().unwrap(), 10_000);
}

#[test]
fn panics_in_callbacks_queued_past_max_depth_are_caught_too() {
    // Runs `f` inside `n` nested callbacks.
    fn nest(n: u32, f: Box<dyn FnOnce()>) {
        if n == 0 {
            f()
        } else {
            drop(Promise::resolved(()).map(move |()| nest(n - 1, f)));
        }
    }
    let hook = Hooked::install();
    let out: Rc<RefCell<Option<Promise<u8>>>> = Rc::new(RefCell::new(None));
    let o = out.clone();
    let l = Log::new();
    let l1 = l.clone();
    nest(
        MAX_DEPTH,
        Box::new(move || {
            assert_eq!(lwt::depth(), MAX_DEPTH);
            let q = Promise::resolved(1u8).map(|_| -> u8 { panic!("deep") });
            assert!(q.is_pending(), "queued at MAX_DEPTH");
            *o.borrow_mut() = Some(q);
            Promise::resolved(()).on_success(|()| panic!("deep hook"));
            Promise::resolved(()).on_success(move |()| l1.push("after"));
        }),
    );
    let q = out.borrow_mut().take().unwrap();
    assert!(q.peek().unwrap().unwrap_err().message().contains("deep"));
    assert_eq!(hook.take().len(), 1);
    assert_eq!(l.get(), ["after"]);
    assert_eq!(lwt::depth(), 0);
}

#[test]
fn a_panicking_hook_unwinds_to_the_resolver_and_queued_callbacks_wait_for_the_next_turn() {
    // The hook is user code outside any callback's catch: its panic reaches
    // whoever resolved. While that unwinds, nothing else runs; what the
    // callback queued, and the callbacks after it, run first at the next
    // resolution.
    let previous = lwt::set_async_exception_hook(Some(Box::new(|e: &Error| {
        panic!("the hook got: {}", e.message())
    })));
    let l = Log::new();
    let (a, ra) = lwt::wait::<()>();
    let (b, rb) = lwt::wait::<()>();
    let l1 = l.clone();
    b.on_success(move |()| l1.push("b's callback"));
    a.on_success(move |()| {
        rb.resolve_later(Ok(())).unwrap();
        panic!("a's callback")
    });
    let l1 = l.clone();
    a.on_success(move |()| l1.push("a's second callback"));
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ra.resolve(())));
    lwt::set_async_exception_hook(previous);
    assert!(unwound.is_err(), "the hook's panic reaches the resolver");
    assert_eq!(lwt::depth(), 0);
    assert!(
        l.get().is_empty(),
        "no queued callback runs while unwinding"
    );
    let (c, rc) = lwt::wait::<()>();
    let l1 = l.clone();
    c.on_success(move |()| l1.push("c's callback"));
    rc.resolve(()).unwrap();
    assert!(b.is_fulfilled());
    assert_eq!(
        l.get(),
        ["b's callback", "a's second callback", "c's callback"]
    );
}
