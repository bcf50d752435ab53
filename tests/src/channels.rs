//! tokio's channels that lwt-rs adds beside `Stream` and `wait`: `watch`
//! (the latest value) and `broadcast` (every value, bounded, lagging).

use lwt::{broadcast, watch};

use crate::log::ms;
use crate::Outcome;

// ------------------------------------------------------------------ watch

/// A receiver waiting in `changed` sees the latest value, skipping the
/// ones sent in between.
pub async fn watch_changed_sees_the_latest() -> Outcome {
    let (tx, rx) = watch::channel(0u32);
    let sender = lwt::spawn(async move {
        lwt::sleep(ms(1)).await?;
        for v in 1..=3 {
            tx.send(v)?;
        }
        Ok(tx)
    });
    rx.changed().await?;
    assert_eq!(*rx.borrow(), 3);
    assert!(!rx.has_changed()?);
    sender.await.map(drop)
}

/// Each receiver follows changes on its own; a clone starts where its
/// original was.
pub async fn watch_receivers_are_independent() -> Outcome {
    let (tx, a) = watch::channel("a0");
    let b = a.clone();
    tx.send("a1")?;
    a.changed().await?;
    assert!(!a.has_changed()?);
    assert!(b.has_changed()?);
    b.changed().await?;
    let c = tx.subscribe();
    assert!(!c.has_changed()?);
    assert_eq!(*c.borrow(), "a1");
    Ok(())
}

/// When every sender is dropped, waiting receivers get a closed error; a
/// value sent before that is still seen first.
pub async fn watch_closed_when_senders_drop() -> Outcome {
    let (tx, rx) = watch::channel(1);
    let waiting = rx.changed();
    let tx2 = tx.clone();
    drop(tx);
    assert!(waiting.is_pending()); // one sender is left
    let closer = lwt::spawn(async move {
        lwt::sleep(ms(1)).await?;
        drop(tx2);
        Ok(())
    });
    assert!(waiting.await.unwrap_err().is_closed());
    closer.await?;
    assert!(rx.has_changed().unwrap_err().is_closed());
    assert_eq!(*rx.borrow(), 1);
    Ok(())
}

/// Sending with no receiver left is a closed error, not a panic; a
/// canceled `changed` leaves the wait.
pub async fn watch_bad_input() -> Outcome {
    let (tx, rx) = watch::channel(String::from("x"));
    let w = rx.changed();
    w.cancel();
    assert!(w.await.unwrap_err().is_canceled());
    drop(rx);
    assert!(tx.is_closed());
    assert!(tx.send("lost".into()).unwrap_err().is_closed());
    assert_eq!(*tx.borrow(), "x");
    assert_eq!(*tx.send_replace("kept".into()), "x");
    assert_eq!(*tx.borrow(), "kept");
    Ok(())
}

// ------------------------------------------------------------------ broadcast

/// Every receiver gets every value, in order; a waiting `recv` is woken by
/// the next send.
pub async fn broadcast_every_receiver_gets_every_value() -> Outcome {
    let (tx, a) = broadcast::channel(8);
    let b = tx.subscribe();
    let sender = lwt::spawn(async move {
        lwt::sleep(ms(1)).await?;
        for v in 1..=3 {
            tx.send(v)?;
        }
        Ok(())
    });
    for want in 1..=3 {
        assert_eq!(a.recv().await?, want);
    }
    sender.await?;
    assert_eq!(b.len(), 3);
    assert_eq!(
        (b.recv().await?, b.recv().await?, b.recv().await?),
        (1, 2, 3)
    );
    assert!(a.recv().await.unwrap_err().is_closed());
    Ok(())
}

/// A slow receiver lags: it gets `Lagged(n)` once, then continues from the
/// oldest value kept; a fast one misses nothing.
pub async fn broadcast_slow_receiver_lags() -> Outcome {
    let (tx, slow) = broadcast::channel(2);
    let fast = tx.subscribe();
    for v in 0..5 {
        tx.send(v)?;
        assert_eq!(fast.recv().await?, v);
    }
    let e = slow.recv().await.unwrap_err();
    assert_eq!(broadcast::lagged(&e), Some(3));
    assert_eq!(
        e.payload::<broadcast::Lagged>(),
        Some(&broadcast::Lagged(3))
    );
    assert_eq!(slow.recv().await?, 3);
    assert_eq!(slow.recv().await?, 4);
    assert_eq!(slow.try_recv()?, None);
    Ok(())
}

/// Bad input: a zero capacity is taken as one, sending with no receiver is
/// a closed error, a canceled `recv` leaves the wait and loses nothing.
pub async fn broadcast_bad_input() -> Outcome {
    let (tx, rx) = broadcast::channel(0);
    let waiting = rx.recv();
    waiting.cancel();
    assert!(waiting.await.unwrap_err().is_canceled());
    tx.send("kept")?;
    assert_eq!(rx.recv().await?, "kept");
    drop(rx);
    assert!(tx.send("lost").unwrap_err().is_closed());
    assert_eq!(tx.receiver_count(), 0);
    Ok(())
}
