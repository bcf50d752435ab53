//! tokio's channels that lwt-rs adds beside `Stream` and `wait`: `watch`
//! (the latest value) and `broadcast` (every value, bounded, lagging).

use lwt::watch;

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
