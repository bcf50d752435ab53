//! `broadcast` and `Barrier`: sequence, lag, counts, closing, wake-ups and
//! rounds, through the public API.

use lwt::testing::VirtualEngine;
use lwt::{broadcast, Barrier};

// ---------------------------------------------------------------- broadcast

/// A receiver reads every value sent since it was made, in order, then
/// sees nothing; a full buffer keeps exactly `capacity` values.
#[test]
fn a_receiver_reads_each_value_once_in_order() {
    let (tx, rx) = broadcast::channel(2);
    assert_eq!(rx.try_recv().unwrap(), None, "nothing sent yet");
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    // Two values fit a capacity of 2: nothing is pushed out.
    assert_eq!(rx.try_recv().unwrap(), Some(1));
    assert_eq!(rx.try_recv().unwrap(), Some(2));
    assert_eq!(rx.try_recv().unwrap(), None);
    tx.send(3).unwrap();
    assert_eq!(rx.try_recv().unwrap(), Some(3));
    assert_eq!(rx.try_recv().unwrap(), None);
}

/// `send` gives how many receivers are alive, counting clones and
/// subscriptions, and `receiver_count` says the same.
#[test]
fn send_counts_the_receivers_alive() {
    let (tx, rx) = broadcast::channel(4);
    assert_eq!(tx.receiver_count(), 1);
    assert_eq!(tx.send('a').unwrap(), 1);
    let sub = tx.subscribe();
    assert_eq!(tx.receiver_count(), 2);
    let copy = rx.clone();
    assert_eq!(tx.receiver_count(), 3);
    assert_eq!(tx.send('b').unwrap(), 3);
    drop(sub);
    assert_eq!(tx.receiver_count(), 2);
    assert_eq!(tx.send('c').unwrap(), 2);
    drop(rx);
    drop(copy);
    assert_eq!(tx.receiver_count(), 0);
    assert!(tx.send('d').unwrap_err().is_closed(), "no receiver left");
}

/// A subscription starts at the next value sent; a clone starts where its
/// original is, and each then reads on its own.
#[test]
fn subscriptions_start_now_and_clones_start_at_their_original() {
    let (tx, rx) = broadcast::channel(4);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!(rx.try_recv().unwrap(), Some(1));
    let copy = rx.clone();
    let late = tx.subscribe();
    assert_eq!(late.len(), 0);
    tx.send(3).unwrap();
    assert_eq!(late.try_recv().unwrap(), Some(3));
    assert_eq!(late.try_recv().unwrap(), None);
    assert_eq!(copy.try_recv().unwrap(), Some(2));
    assert_eq!(copy.try_recv().unwrap(), Some(3));
    // The original did not move with its clone.
    assert_eq!(rx.try_recv().unwrap(), Some(2));
    assert_eq!(rx.try_recv().unwrap(), Some(3));
    assert_eq!(rx.try_recv().unwrap(), None);
}

/// A receiver that fell behind gets one lag error saying how many values
/// it missed, then goes on from the oldest value kept.
#[test]
fn a_lagging_receiver_is_told_how_many_it_missed_then_reads_the_oldest() {
    let (tx, rx) = broadcast::channel(2);
    for v in 0..2 {
        tx.send(v).unwrap();
    }
    assert_eq!(rx.try_recv().unwrap(), Some(0));
    assert_eq!(rx.try_recv().unwrap(), Some(1));
    // At position 2; values 2..=6 are sent, of which 5 and 6 are kept.
    for v in 2..7 {
        tx.send(v).unwrap();
    }
    let e = rx.try_recv().unwrap_err();
    assert_eq!(broadcast::lagged(&e), Some(3), "missed 2, 3 and 4");
    assert_eq!(
        e.payload::<broadcast::Lagged>(),
        Some(&broadcast::Lagged(3))
    );
    assert_eq!(rx.try_recv().unwrap(), Some(5));
    assert_eq!(rx.try_recv().unwrap(), Some(6));
    assert_eq!(rx.try_recv().unwrap(), None);

    // Lagging from the start, by one; then reading after the lag.
    let (tx, rx) = broadcast::channel(2);
    for v in 0..3 {
        tx.send(v).unwrap();
    }
    assert_eq!(broadcast::lagged(&rx.try_recv().unwrap_err()), Some(1));
    assert_eq!(rx.try_recv().unwrap(), Some(1));
    assert_eq!(rx.try_recv().unwrap(), Some(2));
    assert_eq!(rx.try_recv().unwrap(), None);
}

/// `lagged` is `None` for errors that are not a lag.
#[test]
fn lagged_is_none_for_other_errors() {
    assert_eq!(broadcast::lagged(&lwt::Error::msg("other")), None);
    let (tx, rx) = broadcast::channel::<u8>(1);
    drop(tx);
    let closed = rx.try_recv().unwrap_err();
    assert!(closed.is_closed());
    assert_eq!(broadcast::lagged(&closed), None);
}

/// `len` counts the values this receiver has not read and are still kept:
/// no more than the capacity after a lag; `is_empty` is `len() == 0`.
#[test]
fn len_counts_the_unread_values_still_kept() {
    let (tx, rx) = broadcast::channel(3);
    assert_eq!(rx.len(), 0);
    assert!(rx.is_empty());
    tx.send(0).unwrap();
    assert_eq!(rx.len(), 1);
    assert!(!rx.is_empty());
    tx.send(1).unwrap();
    assert_eq!(rx.len(), 2);
    assert_eq!(rx.try_recv().unwrap(), Some(0));
    assert_eq!(rx.try_recv().unwrap(), Some(1));
    assert_eq!(rx.len(), 0);
    assert!(rx.is_empty());
    // At position 2; 2..7 sent, 4, 5 and 6 kept: the lag is not counted.
    for v in 2..7 {
        tx.send(v).unwrap();
    }
    assert_eq!(rx.len(), 3);
    assert!(!rx.is_empty());
    assert_eq!(broadcast::lagged(&rx.try_recv().unwrap_err()), Some(2));
    assert_eq!(rx.len(), 3);
    assert_eq!(rx.try_recv().unwrap(), Some(4));
    assert_eq!(rx.len(), 2);
    // A new subscriber has read nothing, and has nothing to read.
    let late = tx.subscribe();
    assert_eq!(late.len(), 0);
    assert!(late.is_empty());
}

/// The channel closes only when the last sender (clones included) is
/// dropped, and only after every buffered value was read.
#[test]
fn the_channel_closes_with_its_last_sender_after_the_buffered_values() {
    let (tx, rx) = broadcast::channel(4);
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(rx.try_recv().unwrap(), Some(1));
    assert_eq!(rx.try_recv().unwrap(), None, "a clone is still alive");
    tx2.send(2).unwrap();
    let tx3 = tx2.clone();
    drop(tx2);
    assert_eq!(rx.try_recv().unwrap(), Some(2));
    assert_eq!(rx.try_recv().unwrap(), None, "the clone's clone is alive");
    tx3.send(3).unwrap();
    drop(tx3);
    assert_eq!(rx.try_recv().unwrap(), Some(3), "values outlive senders");
    assert!(rx.try_recv().unwrap_err().is_closed());
    assert!(rx.try_recv().unwrap_err().is_closed(), "and stays closed");
}

/// A waiting receive is woken by the next send, every waiting receiver
/// gets the value, and a receive of a value already kept is at once.
#[test]
fn a_send_wakes_every_waiting_receiver() {
    let engine = VirtualEngine::new();
    let (tx, a) = broadcast::channel(2);
    let b = tx.subscribe();
    let (pa, pb) = (a.recv(), b.recv());
    engine.run_until_idle();
    assert!(pa.is_pending() && pb.is_pending());
    tx.send(7).unwrap();
    assert_eq!(engine.run(&pa).unwrap(), 7);
    assert_eq!(engine.run(&pb).unwrap(), 7);
    tx.send(8).unwrap();
    assert_eq!(a.recv().peek().unwrap().unwrap(), 8, "kept: at once");
    assert_eq!(b.try_recv().unwrap(), Some(8));
}

/// Dropping the last sender wakes the waiting receivers with a closed
/// error; dropping a sender that has a clone alive does not close.
#[test]
fn dropping_the_last_sender_rejects_the_waiting_receives() {
    let engine = VirtualEngine::new();
    let (tx, rx) = broadcast::channel::<u8>(2);
    let tx2 = tx.clone();
    let waiting = rx.recv();
    drop(tx);
    engine.run_until_idle();
    assert!(waiting.is_pending(), "a clone is still alive");
    drop(tx2);
    assert!(engine.run(&waiting).unwrap_err().is_closed());
}

/// A waiting receiver that lagged before it could look again (the sends
/// came from one callback, whose wake-ups run after it) is told so.
#[test]
fn a_waiting_receiver_can_lag() {
    let engine = VirtualEngine::new();
    let (tx, rx) = broadcast::channel(1);
    let waiting = rx.recv();
    let sends = lwt::spawn(async move {
        tx.send(1)?;
        tx.send(2)?;
        Ok(())
    });
    engine.run(&sends).unwrap();
    assert_eq!(
        broadcast::lagged(&engine.run(&waiting).unwrap_err()),
        Some(1)
    );
    assert_eq!(rx.try_recv().unwrap(), Some(2));
}

/// A sender's Debug shows how many values are kept and how many receivers
/// there are; a receiver's shows its position.
#[test]
fn debug_shows_the_counts_and_the_position() {
    let (tx, rx) = broadcast::channel(4);
    let _b = rx.clone();
    for v in 0..3 {
        tx.send(v).unwrap();
    }
    let s = format!("{tx:?}");
    assert!(s.contains("len: 3"), "{s}");
    assert!(s.contains("receivers: 2"), "{s}");
    assert_eq!(rx.try_recv().unwrap(), Some(0));
    assert_eq!(rx.try_recv().unwrap(), Some(1));
    let r = format!("{rx:?}");
    assert!(r.contains("next: 2"), "{r}");
}

// ---------------------------------------------------------------- Barrier

/// The leader is the last party to arrive, one per round, and the others
/// are told they are not; `rounds` counts the rounds completed.
#[test]
fn the_last_arrival_leads_and_rounds_are_counted() {
    let engine = VirtualEngine::new();
    let b = Barrier::new(2);
    assert_eq!(b.rounds(), 0);
    for round in 1..=2 {
        let first = b.wait();
        assert!(first.is_pending());
        assert_eq!(b.rounds(), round - 1, "not done until the last arrives");
        let last = b.wait();
        assert!(last.peek().unwrap().unwrap().is_leader());
        assert!(!engine.run(&first).unwrap().is_leader());
        assert_eq!(b.rounds(), round);
    }
    // A clone is the same barrier.
    let c = b.clone();
    let first = b.wait();
    assert!(c.wait().peek().unwrap().unwrap().is_leader());
    assert!(!engine.run(&first).unwrap().is_leader());
    assert_eq!(b.rounds(), 3);
}

/// `parties` is the size of a round; `waiting` counts the live waits of
/// the current round: a canceled one leaves, and a release empties it.
#[test]
fn parties_and_waiting_follow_the_round() {
    let b = Barrier::new(3);
    assert_eq!(b.parties(), 3);
    assert_eq!(b.waiting(), 0);
    let first = b.wait();
    assert_eq!(b.waiting(), 1);
    let second = b.wait();
    assert_eq!(b.waiting(), 2);
    second.cancel();
    assert_eq!(b.waiting(), 1);
    let second = b.wait();
    assert_eq!(b.waiting(), 2);
    let s = format!("{b:?}");
    assert!(s.contains("parties: 3"), "{s}");
    assert!(s.contains("waiting: 2"), "{s}");
    let _third = b.wait();
    assert_eq!(b.waiting(), 0, "released");
    assert_eq!(b.parties(), 3, "the next round needs as many");
    drop((first, second));
    assert_eq!(Barrier::new(0).parties(), 1);
}
