//! `lwt::watch` (one value, the latest, with change notification; tokio's
//! `sync::watch`) through its public API.

use lwt::watch;

/// Each receiver sees the latest value; `has_changed`, `changed` and
/// `borrow_and_update` follow the versions it has seen.
#[test]
fn receivers_see_the_latest_value_and_its_changes() {
    let (tx, rx) = watch::channel(0u32);
    assert_eq!(*rx.borrow(), 0);
    assert!(!rx.has_changed().unwrap());
    let changed = rx.changed();
    assert!(changed.is_pending(), "nothing new yet");
    tx.send(1).unwrap();
    assert!(changed.is_fulfilled(), "woken by the send");
    assert!(!rx.has_changed().unwrap(), "changed() marked it seen");
    tx.send(2).unwrap();
    tx.send(3).unwrap();
    assert!(rx.has_changed().unwrap());
    assert_eq!(*rx.borrow(), 3, "the latest only");
    assert!(rx.has_changed().unwrap(), "borrow does not mark it seen");
    assert_eq!(*rx.borrow_and_update(), 3);
    assert!(!rx.has_changed().unwrap());
    tx.send(4).unwrap();
    assert!(
        rx.changed().is_fulfilled(),
        "ready at once: a newer version"
    );
    tx.send(5).unwrap();
    rx.mark_unchanged();
    assert!(!rx.has_changed().unwrap());
    assert_eq!(*tx.borrow(), 5);
}

/// `send_replace` gives the old value back and works with no receiver;
/// `send_modify` changes the value in place and wakes the waiters.
#[test]
fn send_replace_and_send_modify() {
    let (tx, rx) = watch::channel(vec![1]);
    let old = tx.send_replace(vec![2]);
    assert_eq!(*old, [1]);
    let changed = rx.changed();
    assert!(changed.is_fulfilled(), "replace bumped the version");
    let waiting = rx.changed();
    assert!(waiting.is_pending());
    tx.send_modify(|v| v.push(3));
    assert!(waiting.is_fulfilled());
    assert_eq!(*rx.borrow(), [2, 3]);
    // Each send, a modify too, is one version more.
    assert!(format!("{tx:?}").contains("version: 2"), "{tx:?}");
    rx.mark_unchanged();
    tx.send_modify(|v| v.clear());
    assert!(rx.has_changed().unwrap(), "a modify is a change");
    assert!(format!("{tx:?}").contains("version: 3"), "{tx:?}");
    drop(rx);
    assert!(tx.send(vec![0]).unwrap_err().is_closed(), "no receiver");
    assert!(tx.send_replace(vec![9]).is_empty(), "replace needs none");
}

/// The counts: receivers (clones and subscriptions), `is_closed` once all
/// are gone; a subscription starts at the current version.
#[test]
fn receiver_counts_and_subscriptions() {
    let (tx, rx) = watch::channel('a');
    assert_eq!(tx.receiver_count(), 1);
    assert!(!tx.is_closed());
    tx.send('b').unwrap();
    let sub = tx.subscribe();
    assert!(
        !sub.has_changed().unwrap(),
        "subscribed at the current version"
    );
    assert!(rx.has_changed().unwrap());
    let copy = rx.clone();
    assert!(
        copy.has_changed().unwrap(),
        "a clone keeps what its origin saw"
    );
    assert!(copy.same_channel(&rx) && sub.same_channel(&rx));
    assert!(!watch::channel('z').1.same_channel(&rx));
    assert_eq!(tx.receiver_count(), 3);
    drop((rx, sub));
    assert_eq!(tx.receiver_count(), 1);
    drop(copy);
    assert_eq!(tx.receiver_count(), 0);
    assert!(tx.is_closed());
}

/// When the last sender goes, waiters are rejected as closed, and so are
/// later `changed` and `has_changed` calls; a sender clone keeps it open.
#[test]
fn the_last_sender_gone_closes_the_channel() {
    let (tx, rx) = watch::channel(1u8);
    let waiting = rx.changed();
    let tx2 = tx.clone();
    drop(tx);
    assert!(waiting.is_pending(), "a sender is left");
    assert!(rx.has_changed().is_ok());
    drop(tx2);
    assert!(waiting.peek().unwrap().unwrap_err().is_closed());
    assert!(rx.changed().peek().unwrap().unwrap_err().is_closed());
    assert!(rx.has_changed().unwrap_err().is_closed());
    assert_eq!(*rx.borrow(), 1, "the last value stays readable");
}

/// The `Debug` output names the version and the receivers (sender) and
/// the version seen (receiver).
#[test]
fn debug_shows_versions_and_counts() {
    let (tx, rx) = watch::channel(());
    tx.send(()).unwrap();
    tx.send(()).unwrap();
    let _other = rx.clone();
    let shown = format!("{tx:?}");
    assert!(shown.starts_with("watch::Sender"), "{shown}");
    assert!(
        shown.contains("version: 2") && shown.contains("receivers: 2"),
        "{shown}"
    );
    rx.mark_unchanged();
    let shown = format!("{rx:?}");
    assert!(
        shown.starts_with("watch::Receiver") && shown.contains("seen: 2"),
        "{shown}"
    );
}
