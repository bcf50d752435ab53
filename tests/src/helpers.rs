//! Switches (Lwt's `Lwt_switch`) and the collection and result helpers
//! (`Lwt_list`, `Lwt_result`).

use std::cell::Cell;
use std::rc::Rc;

use lwt::{list, result, Error, Promise, Switch};

use crate::log::{ms, Log};
use crate::Outcome;

// ------------------------------------------------------------------ Switch

/// `turn_off` runs every hook; the switch is then off for good.
pub async fn switch_turn_off_runs_hooks() -> Outcome {
    let log = Log::default();
    let sw = Switch::new();
    assert!(sw.is_on());
    sw.check()?;
    for name in ["a", "b"] {
        let l = log.clone();
        sw.add_hook(move || {
            l.push(name);
            Promise::resolved(())
        })?;
    }
    sw.turn_off().await?;
    assert_eq!(log.take(), ["a", "b"]);
    assert!(!sw.is_on());
    assert!(sw.check().unwrap_err().is_closed());
    Ok(())
}

/// Turning a switch off twice runs the hooks once.
pub async fn switch_turn_off_twice() -> Outcome {
    let count = Rc::new(Cell::new(0));
    let sw = Switch::new();
    let c = count.clone();
    sw.add_hook(move || {
        c.set(c.get() + 1);
        Promise::resolved(())
    })?;
    sw.turn_off().await?;
    sw.turn_off().await?;
    assert_eq!(count.get(), 1);
    Ok(())
}

/// `turn_off` waits for slow hooks.
pub async fn switch_waits_for_hooks() -> Outcome {
    let sw = Switch::new();
    let (p, r) = lwt::wait::<()>();
    sw.add_hook(move || p)?;
    let off = sw.turn_off();
    assert!(off.is_pending());
    r.resolve(())?;
    off.await?;
    Ok(())
}

/// A failing hook rejects `turn_off`, after every hook ran.
pub async fn switch_failing_hook() -> Outcome {
    let ran = Rc::new(Cell::new(false));
    let sw = Switch::new();
    sw.add_hook(|| Promise::rejected(Error::msg("hook failed")))?;
    let r = ran.clone();
    sw.add_hook(move || {
        r.set(true);
        Promise::resolved(())
    })?;
    assert_eq!(sw.turn_off().await.unwrap_err().message(), "hook failed");
    assert!(ran.get());
    Ok(())
}

/// On an off switch, `add_hook` fails and `add_hook_or_exec` runs the hook.
pub async fn switch_hooks_when_off() -> Outcome {
    let sw = Switch::new();
    sw.turn_off().await?;
    assert!(sw.add_hook(|| Promise::resolved(())).is_err());
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    sw.add_hook_or_exec(move || {
        r.set(true);
        Promise::resolved(())
    })
    .await?;
    assert!(ran.get());
    Ok(())
}

/// `with_switch` turns the switch off when the body ends, either way.
pub async fn switch_with_switch() -> Outcome {
    let log = Log::default();
    let l = log.clone();
    let v = Switch::with_switch(move |sw| {
        sw.add_hook(move || {
            l.push("off");
            Promise::resolved(())
        })
        .unwrap();
        lwt::sleep(ms(1)).map(|()| 5)
    })
    .await?;
    assert_eq!(v, 5);
    let l = log.clone();
    let e = Switch::with_switch(move |sw| {
        sw.add_hook(move || {
            l.push("off again");
            Promise::resolved(())
        })
        .unwrap();
        Promise::<u8>::rejected(Error::msg("body failed"))
    })
    .await
    .unwrap_err();
    assert_eq!(e.message(), "body failed");
    assert_eq!(log.take(), ["off", "off again"]);
    Ok(())
}

/// A switch stops a loop that checks it.
pub async fn switch_stops_a_loop() -> Outcome {
    let sw = Switch::new();
    let s = sw.clone();
    let worker = lwt::spawn(async move {
        let mut n = 0u32;
        while s.check().is_ok() {
            n += 1;
            lwt::pause().await?;
        }
        Ok(n)
    });
    for _ in 0..3 {
        lwt::pause().await?;
    }
    sw.turn_off().await?;
    // One pass when spawned (polled at once), then one per pause of ours:
    // paused promises resume in order, the worker's before ours each round.
    assert_eq!(worker.await?, 4);
    Ok(())
}

// -------------------------------------------------------------------- list

/// `map_s` calls one at a time, in order.
pub async fn list_map_s_sequential() -> Outcome {
    let log = Log::default();
    let l = log.clone();
    let out = list::map_s(vec![3u64, 1, 2], move |x| {
        l.push(format!("start {x}"));
        let l = l.clone();
        lwt::sleep(ms(x)).map(move |()| {
            l.push(format!("end {x}"));
            x * 2
        })
    })
    .await?;
    assert_eq!(out, vec![6, 2, 4]);
    assert_eq!(
        log.take(),
        ["start 3", "end 3", "start 1", "end 1", "start 2", "end 2"]
    );
    Ok(())
}

/// `map_p` starts every call at once and keeps the input's order.
pub async fn list_map_p_concurrent() -> Outcome {
    let started = Rc::new(Cell::new(0));
    let s = started.clone();
    let out = list::map_p(vec![3u64, 1, 2], move |x| {
        s.set(s.get() + 1);
        lwt::sleep(ms(x)).map(move |()| x)
    });
    assert_eq!(started.get(), 3);
    assert_eq!(out.await?, vec![3, 1, 2]);
    Ok(())
}

/// `map_n` runs at most n at once; `n == 0` is an error.
pub async fn list_map_n_limit() -> Outcome {
    let running = Rc::new(Cell::new(0));
    let peak = Rc::new(Cell::new(0));
    let (r, pk) = (running.clone(), peak.clone());
    let out = list::map_n(2, 0..6, move |x| {
        r.set(r.get() + 1);
        pk.set(pk.get().max(r.get()));
        let r = r.clone();
        lwt::pause().map(move |()| {
            r.set(r.get() - 1);
            x * x
        })
    })
    .await?;
    assert_eq!(out, vec![0, 1, 4, 9, 16, 25]);
    assert_eq!(peak.get(), 2);
    let e = list::map_n(0, vec![1], Promise::resolved)
        .await
        .unwrap_err();
    assert!(e.is_invalid_argument());
    Ok(())
}

/// `iter_s` stops at the first rejection.
pub async fn list_iter_s_stops_on_error() -> Outcome {
    let log = Log::default();
    let l = log.clone();
    let e = list::iter_s(1..=4, move |x| {
        l.push(x.to_string());
        if x == 2 {
            Promise::rejected(Error::msg("two"))
        } else {
            Promise::resolved(())
        }
    })
    .await
    .unwrap_err();
    assert_eq!(e.message(), "two");
    assert_eq!(log.take(), ["1", "2"]);
    Ok(())
}

/// `iter_p` runs every call and, as Lwt's (a `join`), reports the first
/// rejection in time: 4 sleeps 3 ms, 2 sleeps 9 ms.
pub async fn list_iter_p_first_rejection() -> Outcome {
    let count = Rc::new(Cell::new(0));
    let c = count.clone();
    let e = list::iter_p(1..=4u64, move |x| {
        c.set(c.get() + 1);
        lwt::sleep(ms(3 * (5 - x))).bind(move |()| {
            if x % 2 == 0 {
                Promise::rejected(Error::msg(format!("bad {x}")))
            } else {
                Promise::resolved(())
            }
        })
    })
    .await
    .unwrap_err();
    assert_eq!(count.get(), 4);
    assert_eq!(e.message(), "bad 4");
    Ok(())
}

/// `iter_n` caps concurrency.
pub async fn list_iter_n() -> Outcome {
    let running = Rc::new(Cell::new(0));
    let peak = Rc::new(Cell::new(0));
    let (r, pk) = (running.clone(), peak.clone());
    list::iter_n(3, 0..10, move |_| {
        r.set(r.get() + 1);
        pk.set(pk.get().max(r.get()));
        let r = r.clone();
        lwt::pause().map(move |()| r.set(r.get() - 1))
    })
    .await?;
    assert_eq!(peak.get(), 3);
    Ok(())
}

/// `filter_s`, `filter_p`, `filter_n` keep order.
pub async fn list_filters() -> Outcome {
    let even = |x: &u32| {
        lwt::pause().map({
            let x = *x;
            move |()| x % 2 == 0
        })
    };
    assert_eq!(list::filter_s(1..=6, even).await?, vec![2, 4, 6]);
    assert_eq!(list::filter_p(1..=6, even).await?, vec![2, 4, 6]);
    assert_eq!(list::filter_n(2, 1..=6, even).await?, vec![2, 4, 6]);
    Ok(())
}

/// `filter_map_s`, `filter_map_p`, `filter_map_n`.
pub async fn list_filter_maps() -> Outcome {
    let f = |x: u32| Promise::resolved((x > 2).then_some(x * 10));
    assert_eq!(list::filter_map_s(1..=4, f).await?, vec![30, 40]);
    assert_eq!(list::filter_map_p(1..=4, f).await?, vec![30, 40]);
    assert_eq!(list::filter_map_n(1, 1..=4, f).await?, vec![30, 40]);
    Ok(())
}

/// `fold_left_s` folds in order, waiting for each step.
pub async fn list_fold_left_s() -> Outcome {
    let s = list::fold_left_s(["a", "b", "c"], String::new(), |acc, x| {
        lwt::pause().map(move |()| acc + x)
    });
    assert_eq!(s.await?, "abc");
    Ok(())
}

/// `for_all_s` stops at the first false; `for_all_p` asks everyone.
pub async fn list_for_all() -> Outcome {
    let asked = Rc::new(Cell::new(0));
    let a = asked.clone();
    let all = list::for_all_s(vec![2, 3, 4], move |x| {
        a.set(a.get() + 1);
        Promise::resolved(x % 2 == 0)
    });
    assert!(!all.await?);
    assert_eq!(asked.get(), 2);
    let a = asked.clone();
    let all = list::for_all_p(vec![2, 3, 4], move |x| {
        a.set(a.get() + 1);
        Promise::resolved(x % 2 == 0)
    });
    assert!(!all.await?);
    assert_eq!(asked.get(), 5);
    assert!(list::for_all_s(Vec::<u8>::new(), |_| Promise::resolved(false)).await?);
    Ok(())
}

/// `exists_s` stops at the first true; `exists_p` on an empty list is false.
pub async fn list_exists() -> Outcome {
    let asked = Rc::new(Cell::new(0));
    let a = asked.clone();
    let any = list::exists_s(vec![1, 2, 3], move |x| {
        a.set(a.get() + 1);
        Promise::resolved(*x == 2)
    });
    assert!(any.await?);
    assert_eq!(asked.get(), 2);
    assert!(!list::exists_p(Vec::<u8>::new(), |_| Promise::resolved(true)).await?);
    assert!(list::exists_p(vec![1, 5], |x| Promise::resolved(*x > 4)).await?);
    Ok(())
}

/// `find_s` gives the first match or `None`.
pub async fn list_find_s() -> Outcome {
    assert_eq!(
        list::find_s(vec![1, 4, 6], |x| Promise::resolved(*x > 3)).await?,
        Some(4)
    );
    assert_eq!(
        list::find_s(vec![1, 2], |x| Promise::resolved(*x > 3)).await?,
        None
    );
    Ok(())
}

/// `partition_s` and `partition_p` keep order in both halves.
pub async fn list_partitions() -> Outcome {
    let odd = |x: &u32| Promise::resolved(x % 2 == 1);
    assert_eq!(
        list::partition_s(1..=5, odd).await?,
        (vec![1, 3, 5], vec![2, 4])
    );
    assert_eq!(
        list::partition_p(1..=5, odd).await?,
        (vec![1, 3, 5], vec![2, 4])
    );
    Ok(())
}

/// A rejection in `map_p` rejects the result after every call ran.
pub async fn list_map_p_rejection() -> Outcome {
    let e = list::map_p(vec![1, 2, 3], |x| {
        if x == 2 {
            Promise::rejected(Error::msg("no 2"))
        } else {
            Promise::resolved(x)
        }
    })
    .await
    .unwrap_err();
    assert_eq!(e.message(), "no 2");
    Ok(())
}

// ------------------------------------------------------------------ result

/// `map` and `map_err` touch only their side.
pub async fn result_map_and_map_err() -> Outcome {
    let ok = result::ok::<u8, String>(1);
    assert_eq!(result::map(&ok, |x| x + 1).await?, Ok(2));
    assert_eq!(result::map_err(&ok, |e| e.len()).await?, Ok(1));
    let err = result::err::<u8, String>("bad".into());
    assert_eq!(result::map(&err, |x| x + 1).await?, Err("bad".to_string()));
    assert_eq!(result::map_err(&err, |e| e.len()).await?, Err(3));
    Ok(())
}

/// `and_then` chains on `Ok`; `catch` recovers from `Err`.
pub async fn result_and_then_and_catch() -> Outcome {
    let ok = result::ok::<u8, &str>(2);
    let doubled = result::and_then(&ok, |x| result::ok(x * 2));
    assert_eq!(doubled.await?, Ok(4));
    let failed = result::and_then(&ok, |_| result::err::<u8, _>("no"));
    assert_eq!(failed.await?, Err("no"));
    let recovered = result::bind_error(&result::err::<u8, &str>("x"), |e| {
        result::ok::<u8, ()>(e.len() as u8)
    });
    assert_eq!(recovered.await?, Ok(1));
    Ok(())
}

/// Lwt_result's conversions and binds: `catch`/`get_exn` between rejections
/// and typed errors, the lifts, `bind_lwt`, `bind_lwt_error`, `bind_result`,
/// `iter`, `iter_error`.
pub async fn result_lwt_conversions_and_binds() -> Outcome {
    let caught = result::catch(&Promise::<u8>::rejected(Error::msg("boom"))).await?;
    assert_eq!(caught.unwrap_err().message(), "boom");
    assert_eq!(result::catch(&Promise::resolved(1u8)).await?, Ok(1));
    let back = result::get_exn(&result::err::<u8, Error>(Error::closed("shut")));
    assert!(back.await.unwrap_err().is_closed());
    assert_eq!(result::get_exn(&result::ok::<u8, Error>(5)).await?, 5);
    assert_eq!(
        result::lift_ok::<u8, ()>(&Promise::resolved(2)).await?,
        Ok(2)
    );
    assert_eq!(
        result::lift_err::<(), u8>(&Promise::resolved(3)).await?,
        Err(3)
    );
    let (later, r) = lwt::wait::<u8>();
    let bound = result::bind_lwt(&result::ok::<u8, ()>(4), move |x| later.map(move |y| x + y));
    assert!(bound.is_pending());
    r.resolve(1)?;
    assert_eq!(bound.await?, Ok(5));
    let skipped = result::bind_lwt(&result::err::<u8, &str>("e"), |_| Promise::<u8>::never());
    assert_eq!(skipped.await?, Err("e"));
    let rejected = result::bind_lwt(&result::ok::<u8, ()>(0), |_| {
        Promise::<u8>::rejected(Error::timeout())
    });
    assert!(rejected.await.unwrap_err().is_timeout());
    let relabeled = result::bind_lwt_error(&result::err::<u8, u8>(7), |e| {
        Promise::resolved(format!("e{e}"))
    });
    assert_eq!(relabeled.await?, Err("e7".to_string()));
    let parsed = result::bind_result(&result::ok::<&str, String>("x"), |s| {
        s.parse::<u8>().map_err(|e| e.to_string())
    });
    assert!(parsed.await?.is_err());
    let log = Log::default();
    let l = log.clone();
    result::iter(&result::ok::<u8, ()>(1), move |v| {
        l.push(format!("ok {v}"));
        Promise::resolved(())
    })
    .await?;
    let l = log.clone();
    result::iter(&result::err::<u8, u8>(1), move |_| {
        l.push("never".to_string());
        Promise::resolved(())
    })
    .await?;
    let l = log.clone();
    result::iter_error(&result::err::<u8, u8>(2), move |e| {
        l.push(format!("err {e}"));
        Promise::resolved(())
    })
    .await?;
    assert_eq!(log.take(), ["ok 1", "err 2"]);
    Ok(())
}

/// The indexed, reversed and right-to-left forms of Lwt_list: `mapi_*`,
/// `iteri_*`, `rev_map_*`, `fold_right_s`.
pub async fn list_indexed_reversed_and_right_folds() -> Outcome {
    let tagged = list::mapi_s(vec!["a", "b"], |i, x| Promise::resolved(format!("{i}{x}")));
    assert_eq!(tagged.await?, ["0a", "1b"]);
    let (gate, open) = lwt::wait::<u8>();
    let g = gate.clone();
    let plus = list::mapi_p(vec![10u8, 20], move |i, x| {
        if i == 0 {
            g.clone().map(move |y| x + y)
        } else {
            Promise::resolved(x + i as u8)
        }
    });
    assert!(plus.is_pending());
    open.resolve(5)?;
    assert_eq!(plus.await?, vec![15, 21]);
    let log = Log::default();
    let l = log.clone();
    list::iteri_s(vec!['x', 'y'], move |i, c| {
        l.push(format!("s{i}{c}"));
        Promise::resolved(())
    })
    .await?;
    let l = log.clone();
    list::iteri_p(vec!['x', 'y'], move |i, c| {
        l.push(format!("p{i}{c}"));
        Promise::resolved(())
    })
    .await?;
    let l = log.clone();
    let rev = list::rev_map_s(vec![1, 2, 3], move |x| {
        l.push(format!("r{x}"));
        Promise::resolved(x * 10)
    });
    assert_eq!(rev.await?, vec![30, 20, 10]);
    assert_eq!(
        list::rev_map_p(vec![1, 2], |x| Promise::resolved(x + 1)).await?,
        vec![3, 2]
    );
    let l = log.clone();
    let folded = list::fold_right_s(vec!["a", "b", "c"], String::new(), move |x, acc| {
        l.push(format!("f{x}"));
        Promise::resolved(acc + x)
    });
    assert_eq!(folded.await?, "cba");
    assert_eq!(
        log.take(),
        ["s0x", "s1y", "p0x", "p1y", "r1", "r2", "r3", "fc", "fb", "fa"]
    );
    let failed = list::fold_right_s(vec![1, 2], 0, |x, _| {
        Promise::<i32>::rejected(Error::msg(format!("at {x}")))
    });
    assert_eq!(failed.await.unwrap_err().message(), "at 2");
    Ok(())
}

/// A rejection flows past the result helpers unchanged.
pub async fn result_rejection_passes_through() -> Outcome {
    let p = Promise::<Result<u8, String>>::rejected(Error::timeout());
    let q = result::and_then(&result::map(&p, |x| x + 1), result::ok);
    assert!(q.await.unwrap_err().is_timeout());
    Ok(())
}

/// `both` pairs two `Ok`s and gives the `Err` that came first in time (of two
/// already resolved, the first argument's).
pub async fn result_both() -> Outcome {
    let a = result::ok::<u8, &str>(1);
    let b = result::ok::<char, &str>('b');
    assert_eq!(result::both(&a, &b).await?, Ok((1, 'b')));
    let e1 = result::err::<u8, &str>("first");
    let e2 = result::err::<char, &str>("second");
    assert_eq!(result::both(&e1, &e2).await?, Err("first"));
    let (a, ra) = lwt::wait::<Result<u8, &str>>();
    let (b, rb) = lwt::wait::<Result<char, &str>>();
    let p = result::both(&a, &b);
    rb.resolve(Err("b, earlier"))?;
    assert!(p.is_pending());
    ra.resolve(Err("a, later"))?;
    assert_eq!(p.await?, Err("b, earlier"));
    Ok(())
}

/// `result::spawn` keeps typed errors typed and converts rejections.
pub async fn result_spawn() -> Outcome {
    #[derive(Clone, Debug, PartialEq)]
    enum AppError {
        NotFound,
        Lwt(String),
    }
    impl From<Error> for AppError {
        fn from(e: Error) -> Self {
            AppError::Lwt(e.message().to_string())
        }
    }
    let lookup = result::err::<u8, AppError>(AppError::NotFound);
    let t = result::spawn(async move { Ok::<_, AppError>(lookup.await?? + 1) });
    assert_eq!(t.await?, Err(AppError::NotFound));
    let t = result::spawn(async {
        lwt::sleep(ms(1)).await?;
        Promise::<()>::rejected(Error::msg("lost")).await?;
        Ok::<_, AppError>(0)
    });
    assert_eq!(t.await?, Err(AppError::Lwt("lost".into())));
    Ok(())
}

// -------------------------------------------------------------------- Pool

/// A pool makes elements on demand and reuses them.
pub async fn pool_reuses_elements() -> Outcome {
    let made = Rc::new(Cell::new(0));
    let m = made.clone();
    let pool = lwt::Pool::new(2, move || {
        m.set(m.get() + 1);
        Promise::resolved(m.get())
    });
    assert_eq!(pool.size(), 0);
    assert_eq!(pool.use_(Promise::resolved).await?, 1);
    assert_eq!(pool.use_(Promise::resolved).await?, 1);
    assert_eq!(made.get(), 1);
    Ok(())
}

/// Users beyond `max` wait in line, FIFO, for an element to come back.
pub async fn pool_waits_when_exhausted() -> Outcome {
    let log = Log::default();
    let pool = lwt::Pool::new(1, || Promise::resolved("conn"));
    let (gate, open) = lwt::wait::<()>();
    let first = pool.use_(move |_| gate);
    let mut later = Vec::new();
    for i in 0..2 {
        let l = log.clone();
        later.push(pool.use_(move |c| {
            l.push(format!("{i} {c}"));
            lwt::pause()
        }));
    }
    assert_eq!(pool.wait_queue_length(), 2);
    open.resolve(())?;
    first.await?;
    lwt::join(later).await?;
    assert_eq!(log.take(), ["0 conn", "1 conn"]);
    assert_eq!(pool.size(), 1);
    Ok(())
}

/// Elements that fail `validate` are disposed and made anew.
pub async fn pool_validate_and_dispose() -> Outcome {
    let disposed = Log::default();
    let next = Rc::new(Cell::new(0));
    let n = next.clone();
    let d = disposed.clone();
    let pool = lwt::Pool::new(1, move || {
        n.set(n.get() + 1);
        Promise::resolved(n.get())
    })
    .with_validate(|_| Promise::resolved(false))
    .with_dispose(move |x| {
        d.push(x.to_string());
        Promise::resolved(())
    });
    assert_eq!(pool.use_(Promise::resolved).await?, 1);
    assert_eq!(pool.use_(Promise::resolved).await?, 2);
    assert_eq!(disposed.take(), ["1"]);
    Ok(())
}

/// `clear` disposes of the idle elements.
pub async fn pool_clear() -> Outcome {
    let disposed = Rc::new(Cell::new(0));
    let d = disposed.clone();
    let pool = lwt::Pool::new(2, || Promise::resolved(())).with_dispose(move |()| {
        d.set(d.get() + 1);
        Promise::resolved(())
    });
    pool.use_(Promise::resolved).await?;
    assert_eq!(pool.idle_count(), 1);
    pool.clear().await?;
    assert_eq!(disposed.get(), 1);
    assert_eq!(pool.size(), 0);
    Ok(())
}
