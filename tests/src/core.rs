//! Core semantics: states, eager FIFO callbacks, cancellation, proxies,
//! re-entrancy, the bounded stack.

use lwt::{Error, Promise, State};

use crate::log::Log;
use crate::Outcome;

/// A promise is resolved once; a second resolution is a clear error.
pub async fn single_resolution() -> Outcome {
    let (p, r) = lwt::wait::<u32>();
    assert_eq!(p.state(), State::Pending);
    r.resolve(1)?;
    assert!(r.resolve(2).unwrap_err().is_already_resolved());
    assert!(r.reject(Error::msg("x")).unwrap_err().is_already_resolved());
    assert_eq!(p.state(), State::Fulfilled(1));
    Ok(())
}

/// Each resolver method, used on a resolved promise, gives an
/// invalid-argument error that names it (Lwt's `Invalid_argument "Lwt.wakeup"`).
pub async fn resolving_twice_names_the_method() -> Outcome {
    let (_p, r) = lwt::wait::<u32>();
    r.resolve(1)?;
    let errors = [
        ("Resolver::resolve", r.resolve(2)),
        ("Resolver::reject", r.reject(Error::msg("x"))),
        ("Resolver::resolve_with", r.resolve_with(Ok(3))),
        ("Resolver::resolve_later", r.resolve_later(Ok(4))),
    ];
    for (name, result) in errors {
        let e = result.unwrap_err();
        assert!(e.is_already_resolved() && e.is_invalid_argument(), "{e:?}");
        assert!(e.message().starts_with(&format!("{name}:")), "{e:?}");
    }
    Ok(())
}

/// Errors compare by kind, message and what they carry, not by message alone.
pub async fn errors_compare_by_kind() -> Outcome {
    assert_eq!(Error::msg("foo"), Error::msg("foo"));
    assert_ne!(Error::msg("foo"), Error::invalid_argument("foo"));
    assert_ne!(Error::msg("foo"), Error::closed("foo"));
    assert_ne!(Error::msg("canceled"), Error::canceled());
    assert_eq!(Error::canceled(), Error::canceled());
    assert_ne!(
        Error::msg("x").context("c"),
        Error::closed("x").context("c")
    );
    let with = Error::canceled_with("canceled", 7u8);
    assert_ne!(with, Error::canceled());
    assert_eq!(with, with.clone());
    Ok(())
}

/// Runs `f` nested inside callbacks until `lwt::depth()` is `target`.
fn nest_to(target: u32, f: Box<dyn FnOnce()>) {
    if lwt::depth() >= target {
        f()
    } else {
        drop(Promise::resolved(()).map(move |()| nest_to(target, f)));
    }
}

/// Callbacks are eager below `MAX_DEPTH` nested callbacks, and queued at
/// exactly `MAX_DEPTH` (then run before the outermost callback returns).
pub async fn eagerness_ends_exactly_at_the_depth_bound() -> Outcome {
    let log = Log::default();
    for target in [lwt::MAX_DEPTH - 1, lwt::MAX_DEPTH] {
        let l = log.clone();
        let (outer, r) = lwt::wait::<()>();
        outer.on_success(move |()| {
            nest_to(
                target,
                Box::new(move || {
                    let depth = lwt::depth();
                    let l2 = l.clone();
                    let mapped = Promise::resolved(()).map(move |()| l2.push("map ran"));
                    l.push(if mapped.is_fulfilled() {
                        "eager"
                    } else {
                        "queued"
                    });
                    l.push(if depth == lwt::MAX_DEPTH {
                        "at bound"
                    } else {
                        "below"
                    });
                }),
            )
        });
        r.resolve(())?;
        // The body itself may run inside a callback, so the queued `map`
        // may wait for a level above it: give it that turn.
        lwt::yield_now().await?;
    }
    assert_eq!(
        log.take(),
        ["map ran", "eager", "below", "queued", "at bound", "map ran"]
    );
    Ok(())
}

/// Resolving a canceled promise is a no-op.
pub async fn resolve_after_cancel_is_a_no_op() -> Outcome {
    let (p, r) = lwt::task::<u32>();
    p.cancel();
    r.resolve(1)?;
    assert!(p.peek().unwrap().unwrap_err().is_canceled());
    Ok(())
}

/// Callbacks run inside `resolve`, in attach order.
pub async fn eager_fifo_callbacks() -> Outcome {
    let log = Log::default();
    let (p, r) = lwt::wait::<u8>();
    for name in ["1", "2", "3"] {
        let l = log.clone();
        p.on_success(move |_| l.push(name));
    }
    log.push("before");
    r.resolve(0)?;
    log.push("after");
    assert_eq!(log.take(), ["before", "1", "2", "3", "after"]);
    Ok(())
}

/// Attaching to a resolved promise runs the callback at once.
pub async fn attach_to_resolved_runs_now() -> Outcome {
    let log = Log::default();
    let l = log.clone();
    Promise::resolved(5).on_success(move |v| l.push(format!("got {v}")));
    log.push("after");
    assert_eq!(log.take(), ["got 5", "after"]);
    Ok(())
}

/// `on_cancel` hooks run before regular callbacks.
pub async fn on_cancel_before_callbacks() -> Outcome {
    let log = Log::default();
    let (p, _r) = lwt::task::<()>();
    let l = log.clone();
    p.on_failure(move |_| l.push("callback"));
    let l = log.clone();
    p.on_cancel(move || l.push("hook"));
    p.cancel();
    assert_eq!(log.take(), ["hook", "callback"]);
    Ok(())
}

/// Cancel walks backwards through binds and flows forwards as a rejection.
pub async fn cancel_backwards_then_forwards() -> Outcome {
    let (t, _r) = lwt::task::<u8>();
    let end = t.clone().map(|x| x + 1).bind(|x| Promise::resolved(x * 2));
    end.cancel();
    assert!(t.peek().unwrap().unwrap_err().is_canceled());
    assert!(end.peek().unwrap().unwrap_err().is_canceled());
    Ok(())
}

/// After its function returned, a bind's cancel reaches the returned promise.
pub async fn cancel_reaches_inner_promise() -> Outcome {
    let (a, ra) = lwt::task::<()>();
    let (b, _rb) = lwt::task::<u8>();
    let b2 = b.clone();
    let p = a.bind(move |()| b2);
    ra.resolve(())?;
    p.cancel();
    assert!(b.peek().unwrap().unwrap_err().is_canceled());
    assert!(p.peek().unwrap().unwrap_err().is_canceled());
    Ok(())
}

/// `resolve_later` from inside a callback defers the callbacks it triggers.
pub async fn resolve_later_defers_inside_callbacks() -> Outcome {
    let log = Log::default();
    let (a, ra) = lwt::wait::<()>();
    let (b, rb) = lwt::wait::<()>();
    let l = log.clone();
    b.on_success(move |()| l.push("b"));
    let l = log.clone();
    a.on_success(move |()| {
        rb.resolve_later(Ok(())).unwrap();
        l.push("end of a");
    });
    ra.resolve(())?;
    // Deferred callbacks run when the outermost callback returns; a task body
    // is itself a callback, so let it return once.
    lwt::yield_now().await?;
    assert_eq!(log.take(), ["end of a", "b"]);
    Ok(())
}

/// A callback may attach to, resolve, or cancel the promise being resolved.
pub async fn reentrant_callbacks() -> Outcome {
    let log = Log::default();
    let (p, r) = lwt::task::<u8>();
    let (q, rq) = lwt::wait::<u8>();
    let (p2, l) = (p.clone(), log.clone());
    let r2 = r.clone();
    p.on_success(move |v| {
        let l2 = l.clone();
        p2.on_success(move |v2| l2.push(format!("inner {v2}")));
        rq.resolve(v + 1).unwrap();
        p2.cancel();
        assert!(r2.resolve(9).is_err());
        l.push("end");
    });
    let l = log.clone();
    q.on_success(move |v| l.push(format!("q {v}")));
    r.resolve(1)?;
    assert_eq!(log.take(), ["inner 1", "q 2", "end"]);
    Ok(())
}

/// Proxy merge order: the bind result's callbacks, then the inner promise's.
pub async fn proxy_merge_order() -> Outcome {
    let log = Log::default();
    let (src, rsrc) = lwt::wait::<()>();
    let (inner, rinner) = lwt::wait::<u8>();
    let l = log.clone();
    inner.on_success(move |v| l.push(format!("inner {v}")));
    let i2 = inner.clone();
    let outer = src.bind(move |()| i2);
    let l = log.clone();
    outer.on_success(move |v| l.push(format!("outer {v}")));
    rsrc.resolve(())?;
    rinner.resolve(3)?;
    assert_eq!(log.take(), ["outer 3", "inner 3"]);
    assert!(inner.same_as(&outer));
    Ok(())
}

/// A chain of 100,000 pending binds resolves without exhausting the stack.
pub async fn long_bind_chain() -> Outcome {
    let (start, r) = lwt::wait::<u64>();
    let mut end = start.clone();
    for _ in 0..100_000 {
        end = end.bind(|x| Promise::resolved(x + 1));
    }
    r.resolve(0)?;
    assert_eq!(end.await?, 100_000);
    Ok(())
}

/// A chain of 100,000 maps, canceled at its end, rejects its start.
pub async fn long_chain_cancel() -> Outcome {
    let (start, _r) = lwt::task::<u64>();
    let mut end = start.clone();
    for _ in 0..100_000 {
        end = end.map(|x| x + 1);
    }
    end.cancel();
    assert!(start.peek().unwrap().unwrap_err().is_canceled());
    Ok(())
}

/// `catch`, `try_bind`, `finalize`, `map_err`, `and_then`.
pub async fn sequential_variants() -> Outcome {
    let c = Promise::<u8>::rejected(Error::msg("no"))
        .catch(|e| Promise::resolved(e.message().len() as u8));
    assert_eq!(c.await?, 2);
    let t = Promise::resolved(1).try_bind(|v| Promise::resolved(v + 1), |_| Promise::resolved(0));
    assert_eq!(t.await?, 2);
    let f = Promise::resolved(1).finalize(|| Promise::rejected(Error::msg("cleanup")));
    assert_eq!(f.await.unwrap_err().message(), "cleanup");
    let m = Promise::<()>::rejected(Error::timeout()).map_err(|e| e.context("ctx"));
    let e = m.await.unwrap_err();
    assert!(e.is_timeout() && e.to_string().starts_with("ctx"));
    let a = Promise::resolved("7").and_then(|s| s.parse::<u8>());
    assert_eq!(a.await?, 7);
    Ok(())
}

/// Callback-local storage is captured at attach time.
pub async fn implicit_storage() -> Outcome {
    let key = lwt::new_key::<u32>();
    let (p, r) = lwt::wait::<()>();
    let k = key.clone();
    let a = lwt::with_value(&key, Some(1), || p.clone().map(move |()| lwt::get(&k)));
    let k = key.clone();
    let b = p.map(move |()| lwt::get(&k));
    r.resolve(())?;
    assert_eq!(a.await?, Some(1));
    assert_eq!(b.await?, None);
    Ok(())
}

/// Unhandled rejections go to the replaceable hook; `dont_wait` handles its own.
pub async fn unhandled_rejections() -> Outcome {
    let log = Log::default();
    let l = log.clone();
    let previous =
        lwt::set_async_exception_hook(Some(Box::new(move |e: &Error| l.push(format!("hook {e}")))));
    lwt::async_(|| Promise::<()>::rejected(Error::msg("lost")));
    let l = log.clone();
    lwt::dont_wait(
        || Promise::<()>::rejected(Error::msg("mine")),
        move |e| l.push(format!("handler {e}")),
    );
    lwt::set_async_exception_hook(previous);
    assert_eq!(log.take(), ["hook lost", "handler mine"]);
    Ok(())
}

/// `wrap` turns a closure's `Err` into a rejection with the original error.
pub async fn wrap_keeps_the_error() -> Outcome {
    let e = lwt::wrap(|| "x".parse::<u8>()).await.unwrap_err();
    assert!(e.downcast_ref::<std::num::ParseIntError>().is_some());
    assert_eq!(lwt::wrap(|| Ok::<_, Error>(3)).await?, 3);
    Ok(())
}

/// `state` reports each of the three states.
pub async fn states() -> Outcome {
    let (p, r) = lwt::wait::<u8>();
    assert_eq!(p.state(), State::Pending);
    assert!(p.is_pending() && !p.is_fulfilled() && !p.is_rejected());
    assert!(p.peek().is_none());
    r.resolve(2)?;
    assert!(p.is_fulfilled() && !p.is_pending());
    let q = Promise::<u8>::rejected(Error::msg("e"));
    assert!(q.is_rejected());
    assert!(matches!(q.state(), State::Rejected(_)));
    Ok(())
}

/// `resolve_with` takes a result; a resolver knows when it is done.
pub async fn resolve_with_and_resolver_state() -> Outcome {
    let (p, r) = lwt::wait::<u8>();
    assert!(r.is_pending());
    assert!(r.promise().same_as(&p));
    r.resolve_with(Err(Error::msg("via result")))?;
    assert!(!r.is_pending());
    assert_eq!(p.await.unwrap_err().message(), "via result");
    Ok(())
}

/// `Promise::never` stays pending.
pub async fn never_stays_pending() -> Outcome {
    let n = Promise::<u8>::never();
    lwt::pause().await?;
    assert!(n.is_pending());
    Ok(())
}

/// `on_success`, `on_failure`, `on_termination`, `on_any` each run when due.
pub async fn callback_kinds() -> Outcome {
    let log = Log::default();
    for ok in [true, false] {
        let (p, r) = lwt::wait::<u8>();
        let l = log.clone();
        p.on_success(move |v| l.push(format!("success {v}")));
        let l = log.clone();
        p.on_failure(move |e| l.push(format!("failure {e}")));
        let l = log.clone();
        p.on_termination(move || l.push("termination"));
        let (l1, l2) = (log.clone(), log.clone());
        p.on_any(move |_| l1.push("any ok"), move |_| l2.push("any err"));
        if ok {
            r.resolve(1)?;
        } else {
            r.reject(Error::msg("x"))?;
        }
    }
    assert_eq!(
        log.take(),
        [
            "success 1",
            "termination",
            "any ok",
            "failure x",
            "termination",
            "any err"
        ]
    );
    Ok(())
}

/// `on_result` sees the result by reference; `with_result` peeks at it.
pub async fn on_result_and_with_result() -> Outcome {
    let log = Log::default();
    let (p, r) = lwt::wait::<String>();
    let l = log.clone();
    p.on_result(move |res| l.push(format!("{:?}", res.as_ref().ok())));
    assert_eq!(p.with_result(|_| ()), None);
    r.resolve("v".to_string())?;
    assert_eq!(
        p.with_result(|res| res.as_ref().map(|s| s.len()).unwrap_or(0)),
        Some(1)
    );
    assert_eq!(log.take(), ["Some(\"v\")"]);
    Ok(())
}

/// Many consumers see the same rejection value.
pub async fn shared_rejection_value() -> Outcome {
    let (p, r) = lwt::wait::<()>();
    let a = p.clone().map(|()| 1);
    let b = p.map(|()| 2);
    r.reject(Error::msg("once"))?;
    let (ea, eb) = (a.await.unwrap_err(), b.await.unwrap_err());
    assert!(ea.same_as(&eb));
    Ok(())
}

/// Error context keeps the source chain and the predicates.
pub async fn error_context_chain() -> Outcome {
    let e = Error::new(std::io::Error::other("disk")).context("saving");
    assert!(e.to_string().starts_with("saving"));
    // The I/O error itself is a source, below the context layer.
    assert!(e.chain().skip(1).any(|s| s
        .downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.to_string() == "disk")));
    let t = Error::timeout().context("fetch");
    assert!(t.is_timeout());
    let p = Error::with_payload("status", 404u16);
    assert_eq!(p.payload::<u16>(), Some(&404));
    Ok(())
}

/// A callback that attaches a callback to an already resolved promise runs
/// it at once, nested.
pub async fn nested_attach_runs_now() -> Outcome {
    let log = Log::default();
    let (p, r) = lwt::wait::<()>();
    let l = log.clone();
    p.on_success(move |()| {
        l.push("outer start");
        let l2 = l.clone();
        Promise::resolved(()).on_success(move |()| l2.push("inner"));
        l.push("outer end");
    });
    r.resolve(())?;
    assert_eq!(log.take(), ["outer start", "inner", "outer end"]);
    Ok(())
}

/// A callback that resolves another promise runs that promise's callbacks
/// before returning (eager, nested).
pub async fn resolve_from_callback_is_eager() -> Outcome {
    let log = Log::default();
    let (a, ra) = lwt::wait::<()>();
    let (b, rb) = lwt::wait::<()>();
    let l = log.clone();
    b.on_success(move |()| l.push("b"));
    let l = log.clone();
    a.on_success(move |()| {
        l.push("a start");
        rb.resolve(()).unwrap();
        l.push("a end");
    });
    ra.resolve(())?;
    assert_eq!(log.take(), ["a start", "b", "a end"]);
    Ok(())
}

/// A tail-recursive promise loop (each step a pause, then a bind to the
/// next step: proxies merge), and a 100,000-step loop over resolved promises.
pub async fn tail_recursive_loop() -> Outcome {
    fn step(n: u32) -> Promise<u32> {
        if n == 0 {
            return Promise::resolved(0);
        }
        lwt::pause().bind(move |()| step(n - 1))
    }
    assert_eq!(step(2_000).await?, 0);
    fn count(n: u32) -> Promise<u32> {
        if n == 100_000 {
            return Promise::resolved(n);
        }
        Promise::resolved(n + 1).bind(count)
    }
    assert_eq!(count(0).await?, 100_000);
    Ok(())
}

/// A chain of 10,000 pending binds whose functions each return a pending
/// promise (proxies all the way) resolves in order.
pub async fn long_proxy_chain() -> Outcome {
    let (start, r) = lwt::wait::<u64>();
    let mut resolvers = Vec::new();
    let mut end = start.clone();
    for _ in 0..10_000 {
        let (inner, ri) = lwt::wait::<u64>();
        resolvers.push(ri);
        end = end.bind(move |_| inner);
    }
    r.resolve(0)?;
    for (i, ri) in resolvers.into_iter().enumerate() {
        ri.resolve(i as u64)?;
    }
    assert_eq!(end.await?, 9_999);
    Ok(())
}

/// A rejection flowing down a long chain skips maps and reaches the catch.
pub async fn rejection_skips_maps() -> Outcome {
    let (start, r) = lwt::wait::<u32>();
    let mut end = start.clone();
    for _ in 0..10_000 {
        end = end.map(|x| x + 1);
    }
    let caught = end.catch(|e| Promise::resolved(e.message().len() as u32));
    r.reject(Error::msg("abc"))?;
    assert_eq!(caught.await?, 3);
    Ok(())
}

/// `ignore` keeps only success or failure.
pub async fn ignore_result() -> Outcome {
    Promise::resolved(5).ignore().await?;
    assert!(Promise::<u8>::rejected(Error::msg("x"))
        .ignore()
        .await
        .is_err());
    Ok(())
}

/// `from_result` makes a resolved promise of either kind.
pub async fn from_result_both_ways() -> Outcome {
    assert_eq!(lwt::from_result(Ok::<_, Error>(1)).await?, 1);
    assert!(lwt::from_result::<u8>(Err(Error::timeout()))
        .await
        .unwrap_err()
        .is_timeout());
    Ok(())
}
