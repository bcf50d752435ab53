//! Streams (Lwt's `Lwt_stream`): feeds, readers, ends, errors, clones,
//! bounded pushes, transformations.

use lwt::{Error, Promise, Stream};

use crate::log::{ms, Log};
use crate::Outcome;

/// Pushed elements come out in order; closing ends the stream.
pub async fn stream_push_then_read() -> Outcome {
    let (s, push) = Stream::create();
    for i in 0..3 {
        push.push(i)?;
    }
    push.close();
    assert_eq!(s.next().await?, Some(0));
    assert_eq!(s.to_vec().await?, vec![1, 2]);
    assert_eq!(s.next().await?, None);
    Ok(())
}

/// A waiting `next` is served by the next push.
pub async fn stream_reader_waits_for_push() -> Outcome {
    let (s, push) = Stream::create();
    let first = s.next();
    let second = s.next();
    assert!(first.is_pending());
    push.push('a')?;
    push.push('b')?;
    assert_eq!(first.await?, Some('a'));
    assert_eq!(second.await?, Some('b'));
    Ok(())
}

/// Dropping the last push handle closes the stream.
pub async fn stream_drop_push_closes() -> Outcome {
    let (s, push) = Stream::<u8>::create();
    let push2 = push.clone();
    let waiting = s.next();
    drop(push);
    assert!(!s.is_closed());
    drop(push2);
    assert_eq!(waiting.await?, None);
    assert!(s.is_closed());
    Ok(())
}

/// Pushing into a closed stream is a closed error.
pub async fn stream_push_after_close_is_an_error() -> Outcome {
    let (_s, push) = Stream::create();
    push.close();
    assert!(push.is_closed());
    assert!(push.push(1).unwrap_err().is_closed());
    Ok(())
}

/// A failed stream gives its elements, then its error at every read.
pub async fn stream_fail_after_elements() -> Outcome {
    let (s, push) = Stream::create();
    push.push(1)?;
    push.fail(Error::msg("broken"));
    assert_eq!(s.next().await?, Some(1));
    assert_eq!(s.next().await.unwrap_err().message(), "broken");
    assert_eq!(s.next().await.unwrap_err().message(), "broken");
    assert_eq!(s.closed().await.unwrap_err().message(), "broken");
    Ok(())
}

/// `closed` resolves when the stream ends.
pub async fn stream_closed_promise() -> Outcome {
    let (s, push) = Stream::<u8>::create();
    let closed = s.closed();
    assert!(closed.is_pending());
    push.close();
    closed.await?;
    s.closed().await?;
    Ok(())
}

/// `peek` looks without taking; `junk` drops.
pub async fn stream_peek_and_junk() -> Outcome {
    let s = Stream::from_iter([1, 2, 3]);
    assert_eq!(s.peek().await?, Some(1));
    assert_eq!(s.peek().await?, Some(1));
    s.junk().await?;
    assert_eq!(s.next().await?, Some(2));
    assert_eq!(s.npeek(5).await?, vec![3]);
    assert_eq!(s.nget(5).await?, vec![3]);
    assert_eq!(s.peek().await?, None);
    Ok(())
}

/// A waiting `peek` made before a `next` sees the element `next` takes.
pub async fn stream_waiting_peek_then_next() -> Outcome {
    let (s, push) = Stream::create();
    let peeked = s.peek();
    let taken = s.next();
    let after = s.next();
    push.push(1)?;
    push.push(2)?;
    assert_eq!(peeked.await?, Some(1));
    assert_eq!(taken.await?, Some(1));
    assert_eq!(after.await?, Some(2));
    Ok(())
}

/// A canceled `next` loses no element.
pub async fn stream_cancel_next_loses_nothing() -> Outcome {
    let (s, push) = Stream::create();
    let a = s.next();
    let b = s.next();
    a.cancel();
    push.push(10)?;
    assert!(a.await.unwrap_err().is_canceled());
    assert_eq!(b.await?, Some(10));
    push.push(11)?;
    assert_eq!(s.next().await?, Some(11));
    Ok(())
}

/// `try_next`, `get_available`, `get_available_up_to` never wait.
pub async fn stream_available_reads() -> Outcome {
    let (s, push) = Stream::create();
    assert_eq!(s.try_next(), None);
    for i in 0..5 {
        push.push(i)?;
    }
    assert_eq!(s.try_next(), Some(0));
    assert_eq!(s.get_available_up_to(2), vec![1, 2]);
    assert_eq!(s.get_available(), vec![3, 4]);
    assert!(s.get_available().is_empty());
    Ok(())
}

/// `is_empty` waits until an element or the end is there.
pub async fn stream_is_empty_waits() -> Outcome {
    let (s, push) = Stream::create();
    let e = s.is_empty();
    assert!(e.is_pending());
    push.push(1)?;
    assert!(!e.await?);
    s.junk().await?;
    let e = s.is_empty();
    push.close();
    assert!(e.await?);
    Ok(())
}

/// `last_new` keeps the newest element there now.
pub async fn stream_last_new() -> Outcome {
    let (s, push) = Stream::create();
    for i in 1..=3 {
        push.push(i)?;
    }
    assert_eq!(s.last_new().await?, 3);
    let next = s.last_new();
    push.push(4)?;
    assert_eq!(next.await?, 4);
    push.close();
    assert!(s.last_new().await.unwrap_err().is_closed());
    Ok(())
}

/// Clones are readers of their own: each sees every later element.
pub async fn stream_clone_readers() -> Outcome {
    let (s, push) = Stream::create();
    push.push(0)?;
    let c = s.clone();
    push.push(1)?;
    push.close();
    assert_eq!(s.to_vec().await?, vec![0, 1]);
    assert_eq!(c.to_vec().await?, vec![0, 1]);
    Ok(())
}

/// A clone made after reads starts at its parent's position.
pub async fn stream_clone_position() -> Outcome {
    let s = Stream::from_iter(0..4);
    assert_eq!(s.next().await?, Some(0));
    let c = s.clone();
    assert_eq!(s.next().await?, Some(1));
    assert_eq!(c.next().await?, Some(1));
    assert_eq!(c.to_vec().await?, vec![2, 3]);
    assert_eq!(s.to_vec().await?, vec![2, 3]);
    Ok(())
}

/// A bounded push waits while the stream is full.
pub async fn stream_bounded_backpressure() -> Outcome {
    let (s, push) = Stream::bounded(2);
    push.push(1).await?;
    push.push(2).await?;
    let third = push.push(3);
    assert!(third.is_pending());
    assert!(push.blocked());
    assert_eq!(push.len(), 2);
    assert_eq!(push.capacity(), 2);
    assert_eq!(s.next().await?, Some(1));
    third.await?;
    push.close();
    assert_eq!(s.to_vec().await?, vec![2, 3]);
    Ok(())
}

/// Capacity 0 is a rendezvous: each push waits for a reader.
pub async fn stream_bounded_rendezvous() -> Outcome {
    let (s, push) = Stream::bounded(0);
    let p = push.push("x");
    assert!(p.is_pending());
    assert_eq!(s.next().await?, Some("x"));
    p.await?;
    let reader = s.next();
    push.push("y").await?;
    assert_eq!(reader.await?, Some("y"));
    Ok(())
}

/// `try_push` on a full bounded stream gives the element back.
pub async fn stream_bounded_try_push() -> Outcome {
    let (s, push) = Stream::bounded(1);
    push.try_push(1).map_err(|(e, _)| e)?;
    let (e, v) = push.try_push(2).unwrap_err();
    assert_eq!(v, 2);
    assert!(!e.is_canceled());
    assert_eq!(s.next().await?, Some(1));
    Ok(())
}

/// A canceled bounded push withdraws its element.
pub async fn stream_bounded_cancel_push() -> Outcome {
    let (s, push) = Stream::bounded(1);
    push.push(1).await?;
    let p = push.push(2);
    p.cancel();
    assert!(p.await.unwrap_err().is_canceled());
    push.close();
    assert_eq!(s.to_vec().await?, vec![1]);
    Ok(())
}

/// `from_fn` pulls on demand, one call at a time; `None` ends.
pub async fn stream_from_fn_pulls_on_demand() -> Outcome {
    let calls = std::rc::Rc::new(std::cell::Cell::new(0));
    let c = calls.clone();
    let s = Stream::from_fn(move || {
        c.set(c.get() + 1);
        let n = c.get();
        lwt::sleep(ms(1)).map(move |()| (n <= 3).then_some(n))
    });
    assert_eq!(calls.get(), 0);
    assert_eq!(s.next().await?, Some(1));
    assert_eq!(calls.get(), 1);
    assert_eq!(s.to_vec().await?, vec![2, 3]);
    assert_eq!(calls.get(), 4);
    Ok(())
}

/// A rejected pull of `from_fn` rejects the reads waiting on it and does
/// not end the stream: the next read pulls again (Lwt's `from`).
pub async fn stream_from_fn_rejection() -> Outcome {
    let mut n = 0;
    let s = Stream::from_fn(move || {
        n += 1;
        match n {
            1 | 3 => Promise::resolved(Some(n)),
            2 => lwt::sleep(ms(1)).bind(|()| Promise::rejected(Error::msg("pull failed"))),
            _ => Promise::resolved(None),
        }
    });
    assert_eq!(s.next().await?, Some(1));
    let (a, b) = (s.next(), s.peek());
    assert_eq!(a.await.unwrap_err().message(), "pull failed");
    assert_eq!(b.await.unwrap_err().message(), "pull failed");
    assert!(!s.is_closed());
    assert_eq!(s.next().await?, Some(3));
    assert_eq!(s.next().await?, None);
    assert!(s.is_closed());
    s.closed().await?;
    Ok(())
}

/// The reads waiting on one pull of `from_fn`, of one reader or several,
/// all get its element; it is taken once (Lwt's `from`).
pub async fn stream_from_fn_shared_pull() -> Outcome {
    let calls = std::rc::Rc::new(std::cell::Cell::new(0));
    let c = calls.clone();
    let s = Stream::from_fn(move || {
        c.set(c.get() + 1);
        let n = c.get();
        lwt::sleep(ms(1)).map(move |()| (n <= 2).then_some(n))
    });
    let other = s.clone();
    let reads = vec![s.next(), s.next(), s.peek(), other.next()];
    assert_eq!(calls.get(), 1, "one pull for all");
    assert_eq!(lwt::all(reads).await?, [Some(1); 4]);
    assert_eq!(s.to_vec().await?, vec![2]);
    assert_eq!(other.to_vec().await?, vec![2]);
    assert_eq!(calls.get(), 3);
    Ok(())
}

/// `of_list` buffers a finite collection and closes the stream at once;
/// `once` is one element; `from_iter` closes when the iterator runs out.
pub async fn stream_of_list_is_closed() -> Outcome {
    let s = Stream::of_list(vec![1, 2, 3]);
    assert!(s.is_closed());
    s.closed().await?;
    assert_eq!(s.to_vec().await?, vec![1, 2, 3]);
    let empty = Stream::<u8>::of_list(Vec::new());
    assert!(empty.is_closed());
    assert_eq!(empty.next().await?, None);
    let one = Stream::once("x");
    assert!(one.is_closed());
    assert_eq!(one.to_vec().await?, vec!["x"]);
    let lazy = Stream::from_iter(0..2);
    assert!(!lazy.is_closed(), "lazy: not read yet");
    assert_eq!(lazy.to_vec().await?, vec![0, 1]);
    assert!(lazy.is_closed());
    Ok(())
}

/// `from_promise` (Lwt's `return_lwt`): the promise's value, then closed;
/// its rejection ends the stream with the error.
pub async fn stream_from_promise() -> Outcome {
    let s = Stream::from_promise(&lwt::sleep(ms(1)).map(|()| 5u8));
    assert!(!s.is_closed());
    assert_eq!(s.next().await?, Some(5));
    assert!(s.is_closed());
    assert_eq!(s.next().await?, None);
    let failed = Stream::<u8>::from_promise(
        &lwt::sleep(ms(1)).bind(|()| Promise::rejected(Error::msg("no value"))),
    );
    assert_eq!(failed.next().await.unwrap_err().message(), "no value");
    assert!(failed.closed().await.is_err());
    Ok(())
}

/// `get_while`, `get_while_s`, `junk_while`, `junk_while_s` stop at the
/// first element that fails the test, which stays; they wait for elements.
pub async fn stream_get_while_and_junk_while() -> Outcome {
    let s = Stream::of_list([1, 2, 3, 4, 1, 0, 0, 7]);
    assert_eq!(s.get_while(|x| *x < 3).await?, vec![1, 2]);
    assert_eq!(
        s.get_while_s(|x| lwt::sleep(ms(1)).map(move |()| x != 1))
            .await?,
        vec![3, 4]
    );
    s.junk_while(|x| *x == 1).await?;
    s.junk_while_s(|x| Promise::resolved(x == 0)).await?;
    assert_eq!(s.to_vec().await?, vec![7]);
    // Waiting for elements, and ending with the stream.
    let (s, push) = Stream::create();
    let got = s.get_while(|x: &u8| *x > 0);
    push.push(1)?;
    lwt::sleep(ms(1)).await?;
    assert!(got.is_pending(), "waits for more");
    push.push(2)?;
    push.close();
    assert_eq!(got.await?, vec![1, 2]);
    Ok(())
}

/// `wrap_exn`: a pull's error is an `Err` element and reading goes on; an
/// end with an error is the last element.
pub async fn stream_wrap_exn() -> Outcome {
    let mut n = 0;
    let pulled = Stream::from_fn(move || {
        n += 1;
        match n {
            1 | 3 => Promise::resolved(Some(n)),
            2 => Promise::rejected(Error::msg("second failed")),
            _ => Promise::resolved(None),
        }
    });
    let items: Vec<Result<i32, String>> = pulled
        .wrap_exn()
        .to_vec()
        .await?
        .into_iter()
        .map(|r| r.map_err(|e| e.message().to_string()))
        .collect();
    assert_eq!(items, [Ok(1), Err("second failed".to_string()), Ok(3)]);
    let (s, push) = Stream::create();
    push.push('a')?;
    push.fail(Error::msg("cut"));
    let items = s.wrap_exn().to_vec().await?;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().ok(), Some(&'a'));
    assert_eq!(items[1].as_ref().unwrap_err().message(), "cut");
    Ok(())
}

/// A bounded stream lets one push wait; a push while one waits is
/// rejected with `StreamFull` (Lwt's `Full`).
pub async fn stream_bounded_full() -> Outcome {
    let (s, push) = Stream::bounded(2);
    push.push(1).await?;
    push.push(2).await?;
    let waiting = push.push(3);
    assert!(waiting.is_pending());
    let e = push.push(4).await.unwrap_err();
    assert!(e.downcast_ref::<lwt::StreamFull>().is_some(), "{e}");
    assert!(!e.is_closed());
    assert_eq!(s.next().await?, Some(1));
    waiting.await?;
    push.close();
    assert_eq!(s.to_vec().await?, vec![2, 3], "4 was not added");
    Ok(())
}

/// A `futures` stream feeds a stream; an `Err` item ends it with the error.
pub async fn stream_from_futures_streams() -> Outcome {
    let s = Stream::from_stream(futures::stream::iter(vec![1, 2, 3]));
    assert_eq!(s.to_vec().await?, vec![1, 2, 3]);
    let t = Stream::from_try_stream(futures::stream::iter(vec![
        Ok(1),
        Err(Error::msg("bad item")),
    ]));
    assert_eq!(t.next().await?, Some(1));
    assert_eq!(t.next().await.unwrap_err().message(), "bad item");
    Ok(())
}

/// A stream is a `futures::Stream` of results.
pub async fn stream_as_futures_stream() -> Outcome {
    use futures::StreamExt;
    let s = Stream::from_iter(1..=3);
    let items: Vec<_> = s.collect().await;
    assert_eq!(items.len(), 3);
    assert_eq!(*items[2].as_ref().unwrap(), 3);
    let (f, push) = Stream::<u8>::create();
    push.fail(Error::msg("end"));
    let items: Vec<_> = f.collect().await;
    assert_eq!(items.len(), 1);
    assert!(items[0].is_err());
    Ok(())
}

/// `map`, `filter`, `filter_map`.
pub async fn stream_sync_transforms() -> Outcome {
    let s = Stream::from_iter(1..=6)
        .map(|x| x * 10)
        .filter(|x| x % 20 == 0)
        .filter_map(|x| (x != 40).then_some(x + 1));
    assert_eq!(s.to_vec().await?, vec![21, 61]);
    Ok(())
}

/// `map_s` and `filter_s` run one call at a time, in order.
pub async fn stream_sequential_transforms() -> Outcome {
    let log = Log::default();
    let l = log.clone();
    let s = Stream::from_iter([3u64, 1, 2])
        .map_s(move |x| {
            let l = l.clone();
            lwt::sleep(ms(x)).map(move |()| {
                l.push(x.to_string());
                x
            })
        })
        .filter_s(|x| Promise::resolved(*x != 1));
    assert_eq!(s.to_vec().await?, vec![3, 2]);
    assert_eq!(log.take(), ["3", "1", "2"]);
    Ok(())
}

/// `map_p` runs calls at once but keeps the input's order: every call is
/// started while none has finished, and they finish out of order.
pub async fn stream_map_p_keeps_order() -> Outcome {
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;
    use std::rc::Rc;
    let started = Rc::new(Cell::new(0));
    let gates = Rc::new(RefCell::new(HashMap::new()));
    let (st, g) = (started.clone(), gates.clone());
    let s = Stream::from_iter([3u64, 1, 2]).map_p(move |x| {
        st.set(st.get() + 1);
        let (p, r) = lwt::wait::<()>();
        g.borrow_mut().insert(x, r);
        p.map(move |()| x)
    });
    let all = s.to_vec();
    // However the engine spreads the reading over turns, a few turns see
    // every call started; a sequential map would wait for the first forever.
    for _ in 0..100 {
        if started.get() == 3 {
            break;
        }
        lwt::pause().await?;
    }
    assert_eq!(started.get(), 3, "every call started before any finished");
    for x in [1, 2, 3] {
        let gate = gates.borrow_mut().remove(&x).expect("a call per element");
        gate.resolve(())?;
    }
    assert_eq!(all.await?, vec![3, 1, 2]);
    Ok(())
}

/// `map_n`, `filter_p`, `filter_n`, `filter_map_p`, `filter_map_n`.
pub async fn stream_concurrent_transforms() -> Outcome {
    let m = Stream::from_iter(1..=5).map_n(2, |x| lwt::pause().map(move |()| x * 2));
    assert_eq!(m.to_vec().await?, vec![2, 4, 6, 8, 10]);
    let f = Stream::from_iter(1..=6).filter_p(|x| Promise::resolved(x % 2 == 0));
    assert_eq!(f.to_vec().await?, vec![2, 4, 6]);
    let g = Stream::from_iter(1..=6).filter_n(2, |x| {
        lwt::pause().map({
            let x = *x;
            move |()| x > 4
        })
    });
    assert_eq!(g.to_vec().await?, vec![5, 6]);
    let h = Stream::from_iter(1..=4).filter_map_p(|x| Promise::resolved((x > 2).then_some(x)));
    assert_eq!(h.to_vec().await?, vec![3, 4]);
    let k = Stream::from_iter(1..=4).filter_map_n(1, |x| Promise::resolved((x < 3).then_some(x)));
    assert_eq!(k.to_vec().await?, vec![1, 2]);
    Ok(())
}

/// `map_n(0)` gives a failed stream.
pub async fn stream_map_n_zero_fails() -> Outcome {
    let s = Stream::from_iter([1]).map_n(0, Promise::resolved);
    assert!(s.next().await.unwrap_err().is_invalid_argument());
    Ok(())
}

/// `fold`, `fold_s`.
pub async fn stream_folds() -> Outcome {
    assert_eq!(Stream::from_iter(1..=4).fold(0, |a, x| a + x).await?, 10);
    let s = Stream::from_iter(["a", "b", "c"])
        .fold_s(String::new(), |a, x| lwt::pause().map(move |()| a + x));
    assert_eq!(s.await?, "abc");
    let (f, push) = Stream::<u8>::create();
    push.fail(Error::msg("fold me"));
    assert_eq!(
        f.fold(0, |a, x| a + x).await.unwrap_err().message(),
        "fold me"
    );
    Ok(())
}

/// `iter`, `iter_s`, `iter_p`, `iter_n`.
pub async fn stream_iters() -> Outcome {
    let log = Log::default();
    let l = log.clone();
    Stream::from_iter(1..=2)
        .iter(move |x| l.push(format!("iter {x}")))
        .await?;
    let l = log.clone();
    Stream::from_iter(1..=2)
        .iter_s(move |x| {
            let l = l.clone();
            lwt::pause().map(move |()| l.push(format!("iter_s {x}")))
        })
        .await?;
    let l = log.clone();
    Stream::from_iter([20u64, 1])
        .iter_p(move |x| {
            let l = l.clone();
            lwt::sleep(ms(x)).map(move |()| l.push(format!("iter_p {x}")))
        })
        .await?;
    assert_eq!(
        log.take(),
        [
            "iter 1",
            "iter 2",
            "iter_s 1",
            "iter_s 2",
            "iter_p 1",
            "iter_p 20"
        ]
    );
    assert!(Stream::from_iter([1])
        .iter_n(0, |_| Promise::resolved(()))
        .await
        .is_err());
    Ok(())
}

/// `iter_n` caps the number of calls running at once.
pub async fn stream_iter_n_caps_concurrency() -> Outcome {
    let running = std::rc::Rc::new(std::cell::Cell::new(0));
    let peak = std::rc::Rc::new(std::cell::Cell::new(0));
    let (r, pk) = (running.clone(), peak.clone());
    Stream::from_iter(0..8)
        .iter_n(3, move |_| {
            r.set(r.get() + 1);
            pk.set(pk.get().max(r.get()));
            let r = r.clone();
            lwt::pause().map(move |()| r.set(r.get() - 1))
        })
        .await?;
    assert_eq!(peak.get(), 3);
    assert_eq!(running.get(), 0);
    Ok(())
}

/// A rejected `iter_s` call stops the iteration with that error.
pub async fn stream_iter_s_stops_on_error() -> Outcome {
    let log = Log::default();
    let l = log.clone();
    let e = Stream::from_iter(1..=5)
        .iter_s(move |x| {
            l.push(x.to_string());
            if x == 2 {
                Promise::rejected(Error::msg("stop"))
            } else {
                Promise::resolved(())
            }
        })
        .await
        .unwrap_err();
    assert_eq!(e.message(), "stop");
    assert_eq!(log.take(), ["1", "2"]);
    Ok(())
}

/// `append`, `concat`, `take`.
pub async fn stream_append_concat_take() -> Outcome {
    let s = Stream::from_iter([1]).append(Stream::from_iter([2, 3]));
    assert_eq!(s.to_vec().await?, vec![1, 2, 3]);
    let c = Stream::concat(vec![
        Stream::empty(),
        Stream::from_iter([4]),
        Stream::from_iter([5]),
    ]);
    assert_eq!(c.to_vec().await?, vec![4, 5]);
    assert_eq!(
        Stream::from_iter(0..).take(3).to_vec().await?,
        vec![0, 1, 2]
    );
    Ok(())
}

/// `choose` takes from whichever stream has an element, and ends when all do.
pub async fn stream_choose() -> Outcome {
    let (a, pa) = Stream::create();
    let (b, pb) = Stream::create();
    let s = Stream::choose([a, b]);
    let first = s.next();
    pb.push("b1")?;
    assert_eq!(first.await?, Some("b1"));
    pa.push("a1")?;
    assert_eq!(s.next().await?, Some("a1"));
    pa.close();
    let last = s.next();
    pb.push("b2")?;
    assert_eq!(last.await?, Some("b2"));
    pb.close();
    assert_eq!(s.next().await?, None);
    Ok(())
}

/// `combine` pairs elements until either stream ends.
pub async fn stream_combine() -> Outcome {
    let (b, pb) = Stream::create();
    let s = Stream::from_iter([1, 2, 3]).combine(b);
    let first = s.next();
    pb.push('x')?;
    assert_eq!(first.await?, Some((1, 'x')));
    pb.close();
    assert_eq!(s.next().await?, None);
    Ok(())
}

/// `empty` and `failed` streams.
pub async fn stream_empty_and_failed() -> Outcome {
    let e = Stream::<u8>::empty();
    assert!(e.is_closed());
    assert_eq!(e.next().await?, None);
    assert!(e.is_empty().await?);
    let f = Stream::<u8>::failed(Error::timeout());
    assert!(f.next().await.unwrap_err().is_timeout());
    assert!(f.is_empty().await.unwrap_err().is_timeout());
    Ok(())
}

/// A producer task and a consumer task over a bounded stream.
pub async fn stream_producer_consumer_tasks() -> Outcome {
    let (s, push) = Stream::bounded(2);
    let producer = lwt::spawn(async move {
        for i in 0..50u32 {
            push.push(i).await?;
            if i % 7 == 0 {
                lwt::yield_now().await?;
            }
        }
        Ok(())
    });
    let consumer = lwt::spawn(async move {
        let mut sum = 0;
        while let Some(v) = s.next().await? {
            sum += v;
        }
        Ok(sum)
    });
    producer.await?;
    assert_eq!(consumer.await?, (0..50).sum::<u32>());
    Ok(())
}

/// A stream of 100,000 elements read one by one (no stack growth).
pub async fn stream_long() -> Outcome {
    let s = Stream::from_iter(0..100_000u64);
    assert_eq!(s.fold(0, |a, x| a + x).await?, 4_999_950_000);
    Ok(())
}
