//! tokio's `OnceCell`, `RwLock` and `Barrier`, on the waiter queue: who
//! waits, who is released, in which order, and what bad input gives.

use std::cell::Cell;
use std::rc::Rc;

use lwt::{Error, OnceCell};

use crate::log::{ms, Log};
use crate::Outcome;

// ------------------------------------------------------------------ OnceCell

/// Concurrent callers wait for the first initializer; only it runs.
pub async fn once_cell_concurrent_callers_share_one_init() -> Outcome {
    let cell = Rc::new(OnceCell::new());
    let runs = Rc::new(Cell::new(0));
    let mut all = Vec::new();
    for i in 0..3u32 {
        let (c, n) = (cell.clone(), runs.clone());
        all.push(lwt::spawn(async move {
            let v = c
                .get_or_init(|| async move {
                    n.set(n.get() + 1);
                    lwt::sleep(ms(1)).await?;
                    Ok(i)
                })
                .await?;
            Ok(*v)
        }));
    }
    assert_eq!(lwt::all(all).await?, [0, 0, 0]);
    assert_eq!(runs.get(), 1);
    assert_eq!(cell.get(), Some(&0));
    Ok(())
}

/// A failed init lets the next caller retry; the cell keeps the retry's
/// value.
pub async fn once_cell_failed_init_retries() -> Outcome {
    let log = Log::default();
    let cell = Rc::new(OnceCell::<&str>::new());
    let (c, l) = (cell.clone(), log.clone());
    let failing = lwt::spawn(async move {
        let r = c
            .get_or_init(|| async {
                lwt::sleep(ms(1)).await?;
                Err::<&str, _>(Error::msg("down"))
            })
            .await;
        l.push(r.err().map_or("?".into(), |e| e.message().to_string()));
        Ok(())
    });
    let (c, l) = (cell.clone(), log.clone());
    let retry = lwt::spawn(async move {
        let v = *c.get_or_init(|| async { Ok("up") }).await?;
        l.push(v);
        Ok(())
    });
    failing.await?;
    retry.await?;
    assert_eq!(log.take(), ["down", "up"]);
    assert_eq!(cell.get(), Some(&"up"));
    Ok(())
}

/// A canceled waiter leaves the queue without disturbing the init; `set`
/// on a full cell is an error, not a panic.
pub async fn once_cell_canceled_waiter_and_bad_set() -> Outcome {
    let cell = Rc::new(OnceCell::new());
    let c = cell.clone();
    let init = lwt::spawn(async move {
        Ok(*c
            .get_or_init(|| async {
                lwt::sleep(ms(2)).await?;
                Ok(9)
            })
            .await?)
    });
    let c = cell.clone();
    let waiter = lwt::spawn(async move { Ok(*c.get_or_init(|| async { Ok(1) }).await?) });
    assert!(cell.set(5).unwrap_err().is_invalid_argument()); // an init is running
    waiter.cancel();
    assert!(waiter.await.unwrap_err().is_canceled());
    assert_eq!(init.await?, 9);
    assert!(cell.set(5).unwrap_err().is_invalid_argument()); // already set
    assert_eq!(cell.get(), Some(&9));
    Ok(())
}
