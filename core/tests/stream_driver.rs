//! The driver task behind the concurrent stream transforms (`map_n`,
//! `filter_map_n`, `map_p`, ...) stops and frees everything when its output
//! is dropped or ends; and waiting reads on one reader are served in order.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use lwt::testing::VirtualEngine;
use lwt::{Error, Promise, Stream};

/// Something the user's function holds: dead once the driver is gone.
fn marker() -> (Rc<()>, Weak<()>) {
    let m = Rc::new(());
    let w = Rc::downgrade(&m);
    (m, w)
}

#[test]
fn map_n_output_dropped_mid_way_frees_the_driver() {
    let engine = VirtualEngine::new();
    let (m, weak) = marker();
    // An endless input: the driver reads ahead until its `n` permits are
    // used up, then waits on the semaphore.
    let out = Stream::from_iter(0u32..).map_n(2, move |x| {
        let _hold = &m;
        Promise::resolved(x * 10)
    });
    assert_eq!(engine.run(&out.next()).unwrap(), Some(0));
    assert_eq!(engine.run(&out.next()).unwrap(), Some(10));
    drop(out);
    engine.run_until_idle();
    assert!(weak.upgrade().is_none(), "the driver task leaked");
}

#[test]
fn filter_map_n_output_dropped_with_a_pushed_input_frees_everything() {
    let engine = VirtualEngine::new();
    let (m, weak) = marker();
    let (input, push) = Stream::<u32>::create();
    let out = input.filter_map_n(1, move |x| {
        let _hold = &m;
        Promise::resolved((x % 2 == 0).then_some(x))
    });
    for i in 0..4 {
        push.push(i).unwrap();
    }
    assert_eq!(engine.run(&out.next()).unwrap(), Some(0));
    drop(out);
    engine.run_until_idle();
    assert!(weak.upgrade().is_none(), "the driver task leaked");
    // The input's reader is gone with the driver: pushing is an error now.
    assert!(push.push(9).unwrap_err().is_closed());
}

#[test]
fn map_p_output_dropped_while_the_driver_waits_for_input() {
    let engine = VirtualEngine::new();
    let (m, weak) = marker();
    let (input, push) = Stream::<u32>::create();
    let out = input.map_p(move |x| {
        let _hold = &m;
        Promise::resolved(x)
    });
    push.push(1).unwrap();
    assert_eq!(engine.run(&out.next()).unwrap(), Some(1));
    drop(out);
    engine.run_until_idle();
    assert!(weak.upgrade().is_none(), "the driver task leaked");
    assert!(push.push(2).is_err());
}

#[test]
fn map_n_output_ended_by_an_error_frees_the_driver() {
    let engine = VirtualEngine::new();
    let (m, weak) = marker();
    let out = Stream::from_iter(0u32..).map_n(3, move |x| {
        let _hold = &m;
        if x == 1 {
            Promise::rejected(Error::msg("bad element"))
        } else {
            Promise::resolved(x)
        }
    });
    assert_eq!(engine.run(&out.next()).unwrap(), Some(0));
    assert_eq!(
        engine.run(&out.next()).unwrap_err().message(),
        "bad element"
    );
    engine.run_until_idle();
    // The output ended; the driver must not sit on the semaphore forever,
    // even while the output stream value itself is still alive.
    assert!(weak.upgrade().is_none(), "the driver task leaked");
    assert!(out.is_closed());
}

#[test]
fn driver_stops_without_reporting_an_unhandled_error() {
    let engine = VirtualEngine::new();
    let reported = Rc::new(RefCell::new(Vec::<String>::new()));
    let r = reported.clone();
    let old = lwt::set_async_exception_hook(Some(Box::new(move |e: &Error| {
        r.borrow_mut().push(e.to_string())
    })));
    let out = Stream::from_iter(0u32..).map_n(2, Promise::resolved);
    assert_eq!(engine.run(&out.next()).unwrap(), Some(0));
    drop(out);
    engine.run_until_idle();
    lwt::set_async_exception_hook(old);
    assert!(reported.borrow().is_empty(), "{:?}", reported.borrow());
}

#[test]
fn map_n_still_completes_normally() {
    let engine = VirtualEngine::new();
    let (m, weak) = marker();
    let out = Stream::from_iter(1u32..=5).map_n(2, move |x| {
        let _hold = &m;
        lwt::pause().map(move |()| x + 1)
    });
    assert_eq!(engine.run(&out.to_vec()).unwrap(), vec![2, 3, 4, 5, 6]);
    drop(out);
    engine.run_until_idle();
    assert!(weak.upgrade().is_none());
}

// ------------------------------------------- fairness of waiting reads

#[test]
fn waiting_peek_is_not_overtaken_by_a_later_next() {
    let (s, push) = Stream::create();
    let peeked = s.peek();
    let taken = s.next();
    let after = s.peek();
    push.push(1).unwrap();
    push.push(2).unwrap();
    // Expected, in the order the reads were made: the peek sees 1, the next
    // takes 1, the second peek sees 2.
    assert_eq!(peeked.peek().unwrap().unwrap(), Some(1));
    assert_eq!(taken.peek().unwrap().unwrap(), Some(1));
    assert_eq!(after.peek().unwrap().unwrap(), Some(2));
    assert_eq!(s.try_next(), Some(2));
}

#[test]
fn waiting_is_empty_and_junk_keep_their_turn() {
    let (s, push) = Stream::create();
    let empty = s.is_empty();
    let junked = s.junk();
    let taken = s.next();
    push.push("a").unwrap();
    assert!(!empty.peek().unwrap().unwrap());
    assert!(junked.is_fulfilled());
    // The junk dropped "a": the next gets the element after it.
    assert!(taken.is_pending());
    push.push("b").unwrap();
    assert_eq!(taken.peek().unwrap().unwrap(), Some("b"));
    let ended = s.is_empty();
    push.close();
    assert!(ended.peek().unwrap().unwrap());
    assert!(s.junk().is_fulfilled());
}

#[test]
fn waiting_peek_sees_the_end_and_errors() {
    let (s, push) = Stream::<u8>::create();
    let p = s.peek();
    let e = s.is_empty();
    push.fail(Error::msg("gone"));
    assert_eq!(p.peek().unwrap().unwrap_err().message(), "gone");
    assert_eq!(e.peek().unwrap().unwrap_err().message(), "gone");
    let (s, push) = Stream::<u8>::create();
    let p = s.peek();
    drop(push);
    assert_eq!(p.peek().unwrap().unwrap(), None);
}

#[test]
fn canceled_peek_and_junk_leave_the_line() {
    let (s, push) = Stream::create();
    let p = s.peek();
    let j = s.junk();
    let n = s.next();
    p.cancel();
    j.cancel();
    push.push(5).unwrap();
    assert!(p.peek().unwrap().unwrap_err().is_canceled());
    assert!(j.peek().unwrap().unwrap_err().is_canceled());
    assert_eq!(n.peek().unwrap().unwrap(), Some(5)); // not junked
}

#[test]
fn dropped_reader_rejects_its_waiting_peek() {
    let (s, push) = Stream::<u8>::create();
    let keep = s.clone();
    let p = s.peek();
    drop(s);
    assert!(p.peek().unwrap().unwrap_err().is_closed());
    push.push(1).unwrap();
    assert_eq!(keep.try_next(), Some(1));
}

#[test]
fn peek_on_a_rendezvous_stream() {
    let (s, push) = Stream::bounded(0);
    let p = s.peek();
    let pushed = push.push('x');
    assert_eq!(p.peek().unwrap().unwrap(), Some('x'));
    assert_eq!(s.try_next(), Some('x'));
    assert!(pushed.is_fulfilled());
}
