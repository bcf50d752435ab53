//! `lwt::Stream`: ordering, blocking, cancellation, clones, errors,
//! re-entrancy, transformations, and property tests against a `VecDeque`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use futures::StreamExt;
use lwt::testing::VirtualEngine;
use lwt::{Promise, Stream};
use proptest::prelude::*;

#[test]
fn readers_are_served_in_order() {
    let (s, push) = Stream::create();
    let a = s.next();
    let b = s.next();
    push.push(1).unwrap();
    push.push(2).unwrap();
    push.push(3).unwrap();
    assert_eq!(a.peek().unwrap().unwrap(), Some(1));
    assert_eq!(b.peek().unwrap().unwrap(), Some(2));
    assert_eq!(s.try_next(), Some(3));
}

#[test]
fn canceled_reader_loses_no_element() {
    let (s, push) = Stream::create();
    let a = s.next();
    a.cancel();
    push.push("x").unwrap();
    assert!(a.peek().unwrap().unwrap_err().is_canceled());
    assert_eq!(s.next().peek().unwrap().unwrap(), Some("x"));
}

#[test]
fn close_after_buffered_elements() {
    let (s, push) = Stream::create();
    let closed = s.closed();
    push.push(1).unwrap();
    push.close();
    assert!(closed.is_fulfilled());
    assert!(s.is_closed());
    assert!(push.push(2).unwrap_err().is_closed());
    assert_eq!(s.next().peek().unwrap().unwrap(), Some(1));
    assert_eq!(s.next().peek().unwrap().unwrap(), None);
    assert_eq!(s.next().peek().unwrap().unwrap(), None);
}

#[test]
fn errors_end_the_stream_after_the_elements() {
    let (s, push) = Stream::create();
    let closed = s.closed();
    push.push(1).unwrap();
    push.fail(lwt::Error::msg("broken"));
    assert_eq!(closed.peek().unwrap().unwrap_err().message(), "broken");
    assert_eq!(s.next().peek().unwrap().unwrap(), Some(1));
    assert!(s.next().is_rejected());
    assert!(s.next().is_rejected()); // sticky
}

#[test]
fn dropping_the_reader_makes_push_fail() {
    let (s, push) = Stream::<u8>::create();
    drop(s);
    assert!(push.push(1).unwrap_err().is_closed());
}

#[test]
fn bounded_push_lets_one_push_wait_and_cancel_withdraws() {
    let (s, push) = Stream::bounded(1);
    assert!(push.push(1).is_fulfilled());
    let p2 = push.push(2);
    assert!(p2.is_pending() && push.blocked());
    // One push waits already: the next ones are rejected as full (Lwt's
    // `Full`), and their elements are not added.
    let e = push.push(3).peek().unwrap().unwrap_err();
    assert!(e.downcast_ref::<lwt::StreamFull>().is_some(), "{e:?}");
    let e = push.clone().push(3).peek().unwrap().unwrap_err();
    assert!(
        e.downcast_ref::<lwt::StreamFull>().is_some(),
        "every handle"
    );
    let (e, v) = push.try_push(3).unwrap_err();
    assert!(e.downcast_ref::<lwt::StreamFull>().is_some() && v == 3);
    p2.cancel();
    assert!(!push.blocked(), "canceling withdraws the waiting push");
    let p4 = push.push(4);
    assert!(p4.is_pending(), "a push may wait again");
    assert_eq!(s.try_next(), Some(1));
    assert!(p4.is_fulfilled());
    assert!(!push.blocked());
    assert_eq!(s.try_next(), Some(4));
    assert_eq!(s.try_next(), None);
    // With capacity 0 as well: one push waits for a reader, the next is full.
    let (s, push) = Stream::bounded(0);
    let a = push.push('a');
    assert!(push.push('b').is_rejected());
    assert_eq!(s.next().peek().unwrap().unwrap(), Some('a'));
    assert!(a.is_fulfilled());
}

#[test]
fn bounded_zero_is_a_rendezvous() {
    let (s, push) = Stream::bounded(0);
    let p = push.push('a');
    assert!(p.is_pending());
    assert_eq!(s.next().peek().unwrap().unwrap(), Some('a'));
    assert!(p.is_fulfilled());
    let r = s.next();
    assert!(r.is_pending());
    assert!(push.push('b').is_fulfilled());
    assert_eq!(r.peek().unwrap().unwrap(), Some('b'));
}

#[test]
fn clones_see_every_element() {
    let (a, push) = Stream::create();
    push.push(0).unwrap();
    assert_eq!(a.try_next(), Some(0));
    let b = a.clone();
    let wa = a.next();
    let wb = b.next();
    push.push(1).unwrap();
    push.push(2).unwrap();
    push.close();
    assert_eq!(wa.peek().unwrap().unwrap(), Some(1));
    assert_eq!(wb.peek().unwrap().unwrap(), Some(1));
    assert_eq!(a.to_vec().peek().unwrap().unwrap(), vec![2]);
    let c = b.clone();
    assert_eq!(b.to_vec().peek().unwrap().unwrap(), vec![2]);
    assert_eq!(c.to_vec().peek().unwrap().unwrap(), vec![2]);
}

#[test]
fn elements_dropped_with_a_reader_are_dropped_outside_the_borrow() {
    // Dropping a clone frees the elements only it still needed; their Drop
    // may look at the stream itself.
    #[derive(Clone)]
    struct Looks(Rc<RefCell<Option<lwt::Push<Looks>>>>);
    impl Drop for Looks {
        fn drop(&mut self) {
            if let Some(push) = &*self.0.borrow() {
                assert!(!push.is_closed());
            }
        }
    }
    let (a, push) = Stream::create();
    let slot = Rc::new(RefCell::new(Some(push.clone())));
    let b = a.clone();
    for _ in 0..3 {
        push.push(Looks(slot.clone())).unwrap();
    }
    assert_eq!(a.get_available().len(), 3); // `b` still needs all three
    drop(b); // now nobody does
    slot.borrow_mut().take();
}

#[test]
fn reentrant_reader_reads_again_from_its_callback() {
    let (s, push) = Stream::create();
    let s = Rc::new(s);
    let seen = Rc::new(RefCell::new(Vec::new()));
    fn read(s: Rc<Stream<u32>>, seen: Rc<RefCell<Vec<u32>>>) {
        let s2 = s.clone();
        s.next().on_success(move |v| {
            if let Some(v) = v {
                seen.borrow_mut().push(v);
                read(s2, seen);
            }
        });
    }
    // The reader's first callback also pushes, from inside the callback.
    let push = Rc::new(push);
    let p2 = push.clone();
    s.next().on_success(move |v| {
        seen_first(v);
        p2.push(100).unwrap();
    });
    fn seen_first(v: Option<u32>) {
        assert_eq!(v, Some(0));
    }
    read(s.clone(), seen.clone());
    for i in 0..3 {
        push.push(i).unwrap();
    }
    // Expected: 0 went to the first waiter, whose callback pushed 100, which
    // went to `read`'s waiter; then 1 and 2 in order.
    assert_eq!(*seen.borrow(), [100, 1, 2]);
}

#[test]
fn from_fn_pulls_one_at_a_time_for_every_waiting_read() {
    let engine = VirtualEngine::new();
    let calls = Rc::new(RefCell::new(0));
    let c = calls.clone();
    let s = Stream::from_fn(move || {
        *c.borrow_mut() += 1;
        let n = *c.borrow();
        lwt::pause().map(move |()| (n <= 3).then_some(n))
    });
    let a = s.next();
    let b = s.next();
    let peeked = s.peek();
    let clone = s.clone();
    let c1 = clone.next();
    assert_eq!(*calls.borrow(), 1); // one pull in flight for all of them
                                    // All the reads waiting on that pull get its element (Lwt's `from`).
    assert_eq!(engine.run(&a).unwrap(), Some(1));
    assert_eq!(engine.run(&b).unwrap(), Some(1));
    assert_eq!(engine.run(&peeked).unwrap(), Some(1));
    assert_eq!(engine.run(&c1).unwrap(), Some(1));
    assert_eq!(*calls.borrow(), 1);
    // It was taken once: the next read pulls again.
    assert_eq!(engine.run(&s.to_vec()).unwrap(), vec![2, 3]);
    assert_eq!(engine.run(&clone.to_vec()).unwrap(), vec![2, 3]);
}

#[test]
fn a_from_fn_rejection_goes_to_the_waiting_reads_and_reading_goes_on() {
    let engine = VirtualEngine::new();
    let mut n = 0;
    let s = Stream::from_fn(move || {
        n += 1;
        match n {
            1 => Promise::resolved(Some(1)),
            2 => lwt::pause().bind(|()| Promise::rejected(lwt::Error::msg("source failed"))),
            3 => Promise::resolved(Some(3)),
            _ => Promise::resolved(None),
        }
    });
    assert_eq!(s.next().peek().unwrap().unwrap(), Some(1));
    let (a, b) = (s.next(), s.is_empty());
    let e = engine.run(&a).unwrap_err();
    assert_eq!(e.message(), "source failed");
    assert_eq!(engine.run(&b).unwrap_err().message(), "source failed");
    assert!(!s.is_closed(), "a rejected pull does not end the stream");
    assert!(s.closed().is_pending());
    assert_eq!(s.next().peek().unwrap().unwrap(), Some(3));
    assert_eq!(s.next().peek().unwrap().unwrap(), None);
    assert!(s.closed().is_fulfilled());
}

#[test]
fn futures_stream_both_ways() {
    let engine = VirtualEngine::new();
    let s = Stream::from_stream(futures::stream::iter(1..=3)).map(|x| x * 10);
    let collected = engine.block_on(async move {
        let v: Vec<u32> = StreamExt::map(s, |r| r.unwrap()).collect().await;
        Ok(v)
    });
    assert_eq!(collected.unwrap(), vec![10, 20, 30]);
    let (s, push) = Stream::<u8>::create();
    push.push(1).unwrap();
    push.fail(lwt::Error::msg("e"));
    let items = engine
        .block_on(async move { Ok(s.collect::<Vec<_>>().await) })
        .unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(*items[0].as_ref().unwrap(), 1);
    assert!(items[1].is_err());
}

#[test]
fn futures_poll_next_waits_for_a_push() {
    let engine = VirtualEngine::new();
    let (mut s, push) = Stream::create();
    let t = lwt::spawn(async move { Ok(StreamExt::next(&mut s).await.map(|r| r.unwrap())) });
    assert!(t.is_pending());
    push.push(5).unwrap();
    assert_eq!(engine.run(&t).unwrap(), Some(5));
}

#[test]
fn reading_helpers() {
    let s = Stream::from_iter(1..=6);
    assert_eq!(s.peek().peek().unwrap().unwrap(), Some(1));
    assert_eq!(s.npeek(2).peek().unwrap().unwrap(), vec![1, 2]);
    assert!(s.junk().is_fulfilled());
    assert_eq!(s.nget(2).peek().unwrap().unwrap(), vec![2, 3]);
    assert!(!s.is_empty().peek().unwrap().unwrap());
    assert_eq!(s.last_new().peek().unwrap().unwrap(), 6); // an iterator's rest is all available
    let (s, push) = Stream::create();
    let last = s.last_new();
    push.push(9).unwrap();
    assert_eq!(last.peek().unwrap().unwrap(), 9);
    push.close();
    assert!(s.is_empty().peek().unwrap().unwrap());
    assert!(s.last_new().peek().unwrap().unwrap_err().is_closed());
}

#[test]
fn transformations() {
    let s = Stream::from_iter(1..=10)
        .filter(|x| x % 2 == 0)
        .map(|x| x * 3)
        .filter_map(|x| (x != 12).then_some(x))
        .take(3);
    assert_eq!(s.to_vec().peek().unwrap().unwrap(), vec![6, 18, 24]);
    let sum = Stream::from_iter(1..=4).fold_s(0, |a, x| Promise::resolved(a + x));
    assert_eq!(sum.peek().unwrap().unwrap(), 10);
    let c = Stream::from_iter([1, 2, 3]).combine(Stream::from_iter(["a", "b"]));
    assert_eq!(
        c.to_vec().peek().unwrap().unwrap(),
        vec![(1, "a"), (2, "b")]
    );
    let app = Stream::from_iter([1]).append(Stream::from_iter([2, 3]));
    assert_eq!(app.to_vec().peek().unwrap().unwrap(), vec![1, 2, 3]);
}

#[test]
fn map_n_keeps_order_and_bounds_concurrency() {
    let engine = VirtualEngine::new();
    let running = Rc::new(RefCell::new((0, 0)));
    let r = running.clone();
    let s = Stream::from_iter(0..20u64).map_n(4, move |x| {
        {
            let mut r = r.borrow_mut();
            r.0 += 1;
            r.1 = r.1.max(r.0);
        }
        let r = r.clone();
        // Later elements finish first.
        lwt::sleep(std::time::Duration::from_millis(100 - x)).map(move |()| {
            r.borrow_mut().0 -= 1;
            x
        })
    });
    let out = engine.run(&s.to_vec()).unwrap();
    assert_eq!(out, (0..20).collect::<Vec<_>>());
    assert_eq!(running.borrow().1, 4);
    assert!(Stream::from_iter([1])
        .map_n(0, Promise::resolved)
        .next()
        .is_rejected());
}

#[test]
fn iter_p_and_rejections() {
    let (gate, open) = lwt::wait::<()>();
    let done = Stream::from_iter(0..3).iter_p(move |_| gate.clone());
    assert!(done.is_pending());
    open.resolve(()).unwrap();
    assert!(done.is_fulfilled());
    let failed = Stream::from_iter(0..3).iter_s(|x| {
        if x == 1 {
            Promise::rejected(lwt::Error::msg("no 1"))
        } else {
            Promise::resolved(())
        }
    });
    assert_eq!(failed.peek().unwrap().unwrap_err().message(), "no 1");
}

#[test]
fn choose_takes_whichever_is_ready() {
    let (a, pa) = Stream::create();
    let (b, pb) = Stream::create();
    let s = Stream::choose([a, b]);
    let first = s.next();
    pb.push(2).unwrap();
    assert_eq!(first.peek().unwrap().unwrap(), Some(2));
    pa.push(1).unwrap();
    assert_eq!(s.next().peek().unwrap().unwrap(), Some(1));
    drop(pa);
    drop(pb);
    assert_eq!(s.next().peek().unwrap().unwrap(), None);
}

/// A read, what the model expects of it (`None`: pending), and whether it was canceled.
type Read = (Promise<Option<u8>>, Option<Option<u8>>, bool);

#[derive(Debug, Clone)]
enum Op {
    Push(u8),
    Next,
    Cancel(usize),
    Close,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<u8>().prop_map(Op::Push),
        4 => Just(Op::Next),
        1 => (0usize..8).prop_map(Op::Cancel),
        1 => Just(Op::Close),
    ]
}

proptest! {
    /// The stream against a model: a FIFO of values and a FIFO of waiting
    /// reads; every element pushed is read exactly once, in order, even
    /// with cancellations.
    #[test]
    fn stream_matches_a_fifo_model(ops in proptest::collection::vec(op(), 0..60)) {
        let (s, push) = Stream::create();
        let mut model_buf: VecDeque<u8> = VecDeque::new();
        let mut model_waiting: VecDeque<usize> = VecDeque::new();
        let mut closed = false;
        let mut reads: Vec<Read> = Vec::new();
        for o in ops {
            match o {
                Op::Push(v) => {
                    let r = push.push(v);
                    prop_assert_eq!(r.is_ok(), !closed);
                    if !closed {
                        if let Some(i) = model_waiting.pop_front() { reads[i].1 = Some(Some(v)); }
                        else { model_buf.push_back(v); }
                    }
                }
                Op::Next => {
                    let p = s.next();
                    let i = reads.len();
                    if let Some(v) = model_buf.pop_front() { reads.push((p, Some(Some(v)), false)); }
                    else if closed { reads.push((p, Some(None), false)); }
                    else { reads.push((p, None, false)); model_waiting.push_back(i); }
                }
                Op::Cancel(k) => {
                    if let Some(&i) = model_waiting.get(k) {
                        model_waiting.remove(k);
                        reads[i].0.cancel();
                        reads[i].2 = true;
                    }
                }
                Op::Close => {
                    push.close();
                    closed = true;
                    for i in model_waiting.drain(..) { reads[i].1 = Some(None); }
                }
            }
            for (p, expect, canceled) in &reads {
                match (expect, canceled) {
                    (_, true) => prop_assert!(p.peek().unwrap().unwrap_err().is_canceled()),
                    (Some(e), false) => prop_assert_eq!(p.peek().unwrap().unwrap(), *e),
                    (None, false) => prop_assert!(p.is_pending()),
                }
            }
        }
        let rest: Vec<u8> = s.get_available();
        prop_assert_eq!(rest, model_buf.into_iter().collect::<Vec<_>>());
    }

    /// Two readers (a clone) each see the whole sequence.
    #[test]
    fn clones_each_see_all(values in proptest::collection::vec(any::<u16>(), 0..40), split in 0usize..40) {
        let (a, push) = Stream::create();
        let b = a.clone();
        for (i, v) in values.iter().enumerate() {
            push.push(*v).unwrap();
            if i == split {
                prop_assert_eq!(a.try_next(), Some(values[0]));
            }
        }
        push.close();
        let got_b = b.to_vec().peek().unwrap().unwrap();
        prop_assert_eq!(&got_b, &values);
    }

    /// A bounded stream never holds more than its capacity and delivers in order.
    #[test]
    fn bounded_stream_in_order(cap in 0usize..4, values in proptest::collection::vec(any::<u8>(), 0..30)) {
        let engine = VirtualEngine::new();
        let (s, push) = Stream::bounded(cap);
        let vals = values.clone();
        let producer = lwt::spawn(async move {
            for v in vals {
                push.push(v).await?;
                prop_assert_ok(push.len() <= cap.max(1))?;
            }
            push.close();
            Ok(())
        });
        let got = engine.run(&s.to_vec()).unwrap();
        prop_assert!(producer.is_fulfilled());
        prop_assert_eq!(got, values);
    }
}

fn prop_assert_ok(b: bool) -> Result<(), lwt::Error> {
    if b {
        Ok(())
    } else {
        Err(lwt::Error::msg("bounded stream over capacity"))
    }
}
