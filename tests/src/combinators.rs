//! join, all, both, pick, choose, npick, nchoose, nchoose_split.

use lwt::{Error, Promise};

use crate::log::Log;
use crate::Outcome;

/// `join` waits for every input, then reports the first rejection in time.
pub async fn join_waits_for_all() -> Outcome {
    let (a, ra) = lwt::wait::<()>();
    let (b, rb) = lwt::wait::<()>();
    let j = lwt::join(vec![a, b]);
    rb.reject(Error::msg("b"))?;
    assert!(j.is_pending());
    ra.resolve(())?;
    assert_eq!(j.await.unwrap_err().message(), "b");
    Ok(())
}

/// Among inputs already rejected, `join` reports the first in argument order.
pub async fn join_first_rejection_in_argument_order() -> Outcome {
    let j = lwt::join(vec![
        Promise::<()>::rejected(Error::msg("1")),
        Promise::rejected(Error::msg("2")),
    ]);
    assert_eq!(j.await.unwrap_err().message(), "1");
    assert!(lwt::join(Vec::<Promise<()>>::new()).is_fulfilled());
    Ok(())
}

/// `all` and `both` keep argument order whatever the resolution order.
pub async fn all_and_both_order() -> Outcome {
    let (a, ra) = lwt::wait::<u8>();
    let (b, rb) = lwt::wait::<u8>();
    let all = lwt::all(vec![a.clone(), b.clone()]);
    let both = lwt::both(&a, &b);
    rb.resolve(2)?;
    ra.resolve(1)?;
    assert_eq!(all.await?, vec![1, 2]);
    assert_eq!(both.await?, (1, 2));
    Ok(())
}

/// Canceling `join` cancels every pending input.
pub async fn join_cancel_reaches_inputs() -> Outcome {
    let (a, _ra) = lwt::task::<()>();
    let (b, _rb) = lwt::task::<()>();
    let j = lwt::join(vec![a.clone(), b.clone()]);
    j.cancel();
    for p in [&a, &b, &j] {
        assert!(p.peek().unwrap().unwrap_err().is_canceled());
    }
    Ok(())
}

/// `pick` cancels the losers before its result resolves.
pub async fn pick_cancels_losers_first() -> Outcome {
    let log = Log::default();
    let (a, _ra) = lwt::task::<u8>();
    let (b, rb) = lwt::task::<u8>();
    let l = log.clone();
    a.on_cancel(move || l.push("a canceled"));
    let p = lwt::pick(vec![a, b]);
    let l = log.clone();
    p.on_success(move |v| l.push(format!("picked {v}")));
    rb.resolve(7)?;
    assert_eq!(log.take(), ["a canceled", "picked 7"]);
    Ok(())
}

/// Several inputs already resolved: the first in argument order wins.
pub async fn pick_first_resolved_in_argument_order() -> Outcome {
    let (t, _rt) = lwt::task::<u8>();
    let p = lwt::pick(vec![t.clone(), Promise::resolved(1), Promise::resolved(2)]);
    assert_eq!(p.await?, 1);
    assert!(t.peek().unwrap().unwrap_err().is_canceled());
    Ok(())
}

/// Several inputs already resolved, one rejected: the rejected one wins over
/// fulfilled ones before it, for the whole `pick`/`choose` family; among
/// rejected ones, the first in argument order.
pub async fn already_rejected_input_wins_over_fulfilled() -> Outcome {
    let ok = || Promise::resolved(1u8);
    let bad = |m: &'static str| Promise::<u8>::rejected(Error::msg(m));
    let p = lwt::choose(vec![ok(), bad("first"), bad("second")]);
    assert_eq!(p.peek().unwrap().unwrap_err().message(), "first");
    let (t, _rt) = lwt::task::<u8>();
    let p = lwt::pick(vec![ok(), t.clone(), bad("only")]);
    assert_eq!(p.peek().unwrap().unwrap_err().message(), "only");
    assert!(t.peek().unwrap().unwrap_err().is_canceled());
    let p = lwt::nchoose(vec![ok(), bad("n")]);
    assert_eq!(p.peek().unwrap().unwrap_err().message(), "n");
    let p = lwt::npick(vec![ok(), bad("np")]);
    assert_eq!(p.peek().unwrap().unwrap_err().message(), "np");
    // With none rejected, still the first in argument order.
    assert_eq!(lwt::choose(vec![ok(), Promise::resolved(2)]).await?, 1);
    Ok(())
}

/// `choose` leaves the losers alone.
pub async fn choose_leaves_losers() -> Outcome {
    let (t, _rt) = lwt::task::<u8>();
    let c = lwt::choose(vec![t.clone(), Promise::resolved(3)]);
    assert_eq!(c.await?, 3);
    assert!(t.is_pending());
    Ok(())
}

/// An empty list is a clear error for the whole pick family.
pub async fn empty_pick_is_an_error() -> Outcome {
    let e = lwt::pick(Vec::<Promise<u8>>::new()).await.unwrap_err();
    assert!(e.is_invalid_argument() && e.message().contains("empty"));
    assert!(lwt::choose(Vec::<Promise<u8>>::new()).is_rejected());
    assert!(lwt::npick(Vec::<Promise<u8>>::new()).is_rejected());
    assert!(lwt::nchoose(Vec::<Promise<u8>>::new()).is_rejected());
    assert!(lwt::nchoose_split(Vec::<Promise<u8>>::new()).is_rejected());
    Ok(())
}

/// `nchoose`, `npick`, `nchoose_split`.
pub async fn n_family() -> Outcome {
    let (a, ra) = lwt::wait::<u8>();
    let (b, _rb) = lwt::wait::<u8>();
    let (c, _rc) = lwt::task::<u8>();
    let n = lwt::nchoose(vec![a.clone(), b.clone()]);
    let np = lwt::npick(vec![a.clone(), c.clone()]);
    let split = lwt::nchoose_split(vec![a.clone(), b.clone()]);
    ra.resolve(1)?;
    assert_eq!(n.await?, vec![1]);
    assert_eq!(np.await?, vec![1]);
    assert!(c.peek().unwrap().unwrap_err().is_canceled());
    let (done, pending) = split.await?;
    assert_eq!(done, vec![1]);
    assert!(pending.len() == 1 && pending[0].same_as(&b));
    Ok(())
}

/// A rejected input among the resolved ones rejects `nchoose`.
pub async fn nchoose_rejection() -> Outcome {
    let p = lwt::nchoose(vec![
        Promise::resolved(1),
        Promise::rejected(Error::msg("x")),
    ]);
    assert_eq!(p.await.unwrap_err().message(), "x");
    Ok(())
}

/// A pick returned from a bind still cancels its losers.
pub async fn pick_merged_into_bind() -> Outcome {
    let (go, rgo) = lwt::wait::<()>();
    let (a, ra) = lwt::task::<u8>();
    let (b, _rb) = lwt::task::<u8>();
    let picked = lwt::pick(vec![a, b.clone()]);
    let outer = go.bind(move |()| picked);
    rgo.resolve(())?;
    ra.resolve(1)?;
    assert_eq!(outer.await?, 1);
    assert!(b.peek().unwrap().unwrap_err().is_canceled());
    Ok(())
}

/// Combinators over 20,000 inputs stay linear (a quadratic one would time out).
pub async fn wide_combinators() -> Outcome {
    const N: usize = 20_000;
    let (ps, rs): (Vec<_>, Vec<_>) = (0..N).map(|_| lwt::task::<usize>()).unzip();
    let joined = lwt::join(ps.clone());
    let picked = lwt::pick(ps.clone());
    rs[N - 1].resolve(7)?;
    assert_eq!(picked.await?, 7);
    assert!(joined.await.unwrap_err().is_canceled());
    Ok(())
}

/// `all` of nothing is an empty vector at once; `both` of resolved is
/// resolved at once.
pub async fn empty_and_resolved_inputs() -> Outcome {
    assert!(lwt::all(Vec::<Promise<u8>>::new()).await?.is_empty());
    let b = lwt::both(&Promise::resolved(1), &Promise::resolved('a'));
    assert_eq!(b.peek().unwrap()?, (1, 'a'));
    Ok(())
}

/// `all` rejects with the first rejection in time, after all inputs
/// resolved.
pub async fn all_rejection() -> Outcome {
    let (a, ra) = lwt::wait::<u8>();
    let (b, rb) = lwt::wait::<u8>();
    let all = lwt::all(vec![a, b]);
    rb.reject(Error::msg("b"))?;
    assert!(all.is_pending());
    ra.reject(Error::msg("a"))?;
    assert_eq!(all.await.unwrap_err().message(), "b");
    Ok(())
}

/// `both` rejects when either input rejects.
pub async fn both_rejection() -> Outcome {
    let (a, ra) = lwt::wait::<u8>();
    let (b, rb) = lwt::wait::<u8>();
    let both = lwt::both(&a, &b);
    ra.reject(Error::msg("a failed"))?;
    rb.resolve(1)?;
    assert_eq!(both.await.unwrap_err().message(), "a failed");
    Ok(())
}

/// `pick` with a rejected winner rejects and still cancels the losers.
pub async fn pick_rejected_winner() -> Outcome {
    let (a, _ra) = lwt::task::<u8>();
    let (b, rb) = lwt::task::<u8>();
    let p = lwt::pick(vec![a.clone(), b]);
    rb.reject(Error::msg("lost"))?;
    assert_eq!(p.await.unwrap_err().message(), "lost");
    assert!(a.peek().unwrap().unwrap_err().is_canceled());
    Ok(())
}

/// `choose` among pending inputs takes the first to resolve.
pub async fn choose_first_to_resolve() -> Outcome {
    let (a, _ra) = lwt::wait::<u8>();
    let (b, rb) = lwt::wait::<u8>();
    let c = lwt::choose(vec![a.clone(), b]);
    assert!(c.is_pending());
    rb.resolve(2)?;
    assert_eq!(c.await?, 2);
    assert!(a.is_pending());
    Ok(())
}

/// `npick` with several resolved inputs takes them all, in order, and
/// cancels the pending ones.
pub async fn npick_several() -> Outcome {
    let (t, _rt) = lwt::task::<u8>();
    let p = lwt::npick(vec![Promise::resolved(1), t.clone(), Promise::resolved(3)]);
    assert_eq!(p.await?, vec![1, 3]);
    assert!(t.peek().unwrap().unwrap_err().is_canceled());
    Ok(())
}

/// `nchoose_split` with everything resolved leaves no pending part.
pub async fn nchoose_split_all_resolved() -> Outcome {
    let (done, pending) =
        lwt::nchoose_split(vec![Promise::resolved(1), Promise::resolved(2)]).await?;
    assert_eq!(done, vec![1, 2]);
    assert!(pending.is_empty());
    Ok(())
}

/// `join` callbacks run when the last input resolves, inside its resolve.
pub async fn join_resolves_inside_last_resolve() -> Outcome {
    let log = Log::default();
    let (a, ra) = lwt::wait::<()>();
    let (b, rb) = lwt::wait::<()>();
    let l = log.clone();
    lwt::join(vec![a, b]).on_success(move |()| l.push("joined"));
    ra.resolve(())?;
    log.push("a resolved");
    rb.resolve(())?;
    log.push("b resolved");
    assert_eq!(log.take(), ["a resolved", "joined", "b resolved"]);
    Ok(())
}

/// `pick` over sleeps: the shortest wins and the others' timers go away.
pub async fn pick_over_sleeps() -> Outcome {
    let timers = crate::counting::TimerCount::new()?;
    let (long, short) = timers.track(|| {
        (
            lwt::sleep(std::time::Duration::from_secs(3600)),
            lwt::sleep(crate::log::ms(1)).map(|()| "short"),
        )
    });
    let p = lwt::pick(vec![long.clone().map(|()| "long"), short]);
    assert_eq!(timers.live(), 2);
    assert_eq!(p.await?, "short");
    assert!(long.peek().unwrap().unwrap_err().is_canceled());
    assert_eq!(timers.live(), 0, "the loser's timer was released");
    Ok(())
}

/// A pick nested in a join: canceling the join reaches the pick's inputs.
pub async fn nested_combinators_cancel() -> Outcome {
    let (a, _ra) = lwt::task::<()>();
    let (b, _rb) = lwt::task::<()>();
    let (c, _rc) = lwt::task::<()>();
    let j = lwt::join(vec![lwt::pick(vec![a.clone(), b.clone()]), c.clone()]);
    j.cancel();
    for p in [&a, &b, &c] {
        assert!(p.peek().unwrap().unwrap_err().is_canceled());
    }
    Ok(())
}
