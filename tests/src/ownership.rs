//! Who owns what: a pending task is owned by whatever can wake it (its
//! promise may be dropped, as `async_` and `dont_wait` do), and is freed once
//! it is done, aborted, or nothing can wake it any more.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures::channel::oneshot;
use lwt::{Error, Promise};

use crate::log::{ms, Log};
use crate::Outcome;

/// Set when dropped: proves a future (and so its task) was freed.
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

fn drop_flag() -> (DropFlag, Rc<Cell<bool>>) {
    let dropped = Rc::new(Cell::new(false));
    (DropFlag(dropped.clone()), dropped)
}

/// A hand-written waker source: the future of [`Bell::rung`] keeps its
/// waker here, and [`Bell::ring`] wakes it, as a foreign I/O source would.
#[derive(Clone, Default)]
struct Bell(Rc<RefCell<(bool, Option<Waker>)>>);

impl Bell {
    fn ring(&self) {
        let waker = {
            let mut s = self.0.borrow_mut();
            s.0 = true;
            s.1.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Drops the kept waker without waking it; true if there was one.
    fn forget_waker(&self) -> bool {
        let waker = self.0.borrow_mut().1.take();
        waker.is_some()
    }

    fn rung(&self) -> Rung {
        Rung(self.clone())
    }
}

struct Rung(Bell);

impl Future for Rung {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = (self.0).0.borrow_mut();
        if s.0 {
            Poll::Ready(())
        } else {
            s.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// A task awaiting a `futures` oneshot channel, its promise dropped at once,
/// still receives (it used to be freed with its promise: "receiver dropped").
pub async fn dropped_task_awaiting_a_channel() -> Outcome {
    let (tx, rx) = oneshot::channel::<u32>();
    let (done, finished) = lwt::wait::<u32>();
    drop(lwt::spawn(async move {
        let v = rx.await.map_err(Error::new)?;
        finished.resolve(v)
    }));
    lwt::sleep(ms(1)).await?;
    tx.send(7)
        .map_err(|_| Error::msg("the receiver was dropped with its task"))?;
    assert_eq!(done.await?, 7);
    Ok(())
}

/// Tasks started by `async_` and `dont_wait` (their promises dropped) that
/// await foreign futures complete.
pub async fn fire_and_forget_tasks_awaiting_channels() -> Outcome {
    let log = Log::default();
    let (tx1, rx1) = oneshot::channel::<&str>();
    let (tx2, rx2) = oneshot::channel::<&str>();
    let (done1, r1) = lwt::wait::<()>();
    let (done2, r2) = lwt::wait::<()>();
    let l = log.clone();
    lwt::async_(move || {
        lwt::spawn(async move {
            l.push(rx1.await.map_err(Error::new)?);
            r1.resolve(())
        })
    });
    let l = log.clone();
    let failed = Rc::new(Cell::new(false));
    let f = failed.clone();
    lwt::dont_wait(
        move || {
            lwt::spawn(async move {
                l.push(rx2.await.map_err(Error::new)?);
                r2.resolve(())
            })
        },
        move |_| f.set(true),
    );
    lwt::pause().await?;
    tx1.send("async_")
        .map_err(|_| Error::msg("the async_ task was freed"))?;
    tx2.send("dont_wait")
        .map_err(|_| Error::msg("the dont_wait task was freed"))?;
    lwt::join(vec![done1, done2]).await?;
    assert_eq!(log.take(), ["async_", "dont_wait"]);
    assert!(!failed.get());
    Ok(())
}

/// A task awaiting a hand-written future that keeps its waker, its promise
/// dropped, is woken later from a timer's callback and completes.
pub async fn dropped_task_woken_by_hand() -> Outcome {
    let bell = Bell::default();
    let (done, finished) = lwt::wait::<&str>();
    let b = bell.clone();
    drop(lwt::spawn(async move {
        b.rung().await;
        finished.resolve("rung")
    }));
    let b = bell.clone();
    lwt::sleep(ms(1)).on_success(move |()| b.ring());
    assert_eq!(done.await?, "rung");
    Ok(())
}

/// A task whose only waker is dropped without being woken can never run
/// again: it is freed (its future dropped) by the next turn.
pub async fn task_whose_waker_is_dropped_is_freed() -> Outcome {
    let bell = Bell::default();
    let (flag, dropped) = drop_flag();
    let b = bell.clone();
    drop(lwt::spawn(async move {
        let _flag = flag;
        b.rung().await;
        Ok(())
    }));
    lwt::pause().await?;
    assert!(!dropped.get(), "the task was freed while it could be woken");
    assert!(bell.forget_waker());
    lwt::pause().await?;
    assert!(dropped.get(), "the task outlived its last waker");
    Ok(())
}

/// An aborted task awaiting a foreign future is freed at once, though the
/// future's source still holds its waker; waking that waker does nothing.
pub async fn aborted_task_awaiting_a_foreign_future_is_freed() -> Outcome {
    let bell = Bell::default();
    let (flag, dropped) = drop_flag();
    let b = bell.clone();
    let t = lwt::spawn(async move {
        let _flag = flag;
        b.rung().await;
        Ok("rung")
    });
    lwt::pause().await?;
    t.abort();
    assert!(dropped.get());
    assert!(t.peek().unwrap().unwrap_err().is_canceled());
    bell.ring();
    lwt::pause().await?;
    assert!(t.peek().unwrap().unwrap_err().is_canceled());

    // The same with a channel: the receiver goes with the task.
    let (tx, rx) = oneshot::channel::<u8>();
    let t = lwt::spawn(async move { rx.await.map_err(Error::new) });
    t.abort();
    assert!(tx.send(1).is_err());
    Ok(())
}

/// A task whose future keeps its own waker (a cycle through the registry of
/// foreign wake-ups) is freed when it completes, and when it is aborted.
pub async fn task_holding_its_own_waker_is_freed() -> Outcome {
    struct OwnWaker {
        kept: Option<Waker>,
        gate: Promise<()>,
        _flag: DropFlag,
    }
    impl Future for OwnWaker {
        type Output = Result<(), Error>;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            self.kept = Some(cx.waker().clone());
            Pin::new(&mut self.gate).poll(cx)
        }
    }
    for abort in [false, true] {
        let (gate, open) = lwt::task::<()>();
        let (flag, dropped) = drop_flag();
        let t = lwt::spawn(OwnWaker {
            kept: None,
            gate,
            _flag: flag,
        });
        lwt::pause().await?;
        assert!(!dropped.get());
        if abort {
            t.abort();
        } else {
            drop(t);
            open.resolve(())?;
        }
        assert!(dropped.get());
    }
    Ok(())
}
