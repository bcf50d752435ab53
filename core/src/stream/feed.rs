//! Pulling a [`Stream`]'s feed: iterators, promise-producing functions and
//! `futures` streams ([`Stream::from_stream`], [`Stream::from_try_stream`]).
//!
//! # Ground rules
//!
//! 1. A feed is pulled only when a reader waits with nothing to read (see
//!    `stream::pump`), and at most one pull is in flight: the feed is taken
//!    out of the source (`busy`) while it runs, so a re-entrant read cannot
//!    call it twice, and no borrow is held while user code runs.
//! 2. A pull's outcome is an element, the end, or an error. A shared pull
//!    ([`Stream::from_fn`]) hands it to every read waiting on it and an
//!    error does not end the stream (module `stream`, rule 7); otherwise an
//!    error ends the stream (module `stream`, rule 3).
//! 3. A `futures` stream is polled on a task (one poll per pull), so its
//!    waker works as any future's would.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use crate::stream::{end_with, pump, run_actions, Feed, PullFn, PullStream, Source, Src};
use crate::{Error, Stream};

/// Pulls the feed once. True if it produced something synchronously (so the
/// waiters should be served again).
pub(crate) fn feed_once<T: 'static>(src: &Src<T>) -> bool {
    enum Got<T: 'static> {
        Iter(Box<dyn Iterator<Item = T>>),
        Pull(PullFn<T>),
        Futures(PullStream<T>),
    }
    let got = {
        let mut s = src.borrow_mut();
        if s.end.is_some() {
            return false;
        }
        match &mut s.feed {
            Feed::Push => return false,
            Feed::Iter(it) => match it.take() {
                Some(it) => Got::Iter(it),
                None => return false,
            },
            Feed::Pull { f, busy, .. } => {
                if *busy {
                    return false;
                }
                match f.take() {
                    Some(f) => {
                        *busy = true;
                        Got::Pull(f)
                    }
                    None => return false,
                }
            }
            Feed::Futures { s: fs, busy } => {
                if *busy {
                    return false;
                }
                match fs.take() {
                    Some(fs) => {
                        *busy = true;
                        Got::Futures(fs)
                    }
                    None => return false,
                }
            }
        }
    };
    match got {
        Got::Iter(mut it) => {
            let next = it.next();
            let mut s = src.borrow_mut();
            s.feed = Feed::Iter(Some(it));
            match next {
                Some(v) => s.buf.push_back(v),
                None => {
                    drop(s);
                    end_with(src, Ok(()));
                }
            }
            true
        }
        Got::Pull(mut f) => {
            let p = f();
            if let Feed::Pull { f: slot, .. } = &mut src.borrow_mut().feed {
                *slot = Some(f);
            }
            let weak = Rc::downgrade(src);
            p.on_result(move |r| {
                let Some(src) = weak.upgrade() else { return };
                let shared = match &mut src.borrow_mut().feed {
                    Feed::Pull { busy, shared, .. } => {
                        *busy = false;
                        *shared
                    }
                    _ => false,
                };
                if shared {
                    deliver_shared(&src, r);
                } else {
                    deliver(&src, r);
                }
            });
            false
        }
        Got::Futures(fs) => {
            let weak = Rc::downgrade(src);
            crate::dont_wait(
                move || crate::spawn(poll_futures(weak, fs)),
                |e| crate::report_unhandled(&e),
            );
            false
        }
    }
}

/// Polls a `futures` stream once, on a task, and feeds the item to the source.
async fn poll_futures<T: 'static>(
    weak: Weak<RefCell<Source<T>>>,
    mut fs: PullStream<T>,
) -> Result<(), Error> {
    let item = std::future::poll_fn(|cx| fs.as_mut().poll_next(cx)).await;
    let Some(src) = weak.upgrade() else {
        return Ok(());
    };
    if let Feed::Futures { s, busy } = &mut src.borrow_mut().feed {
        *s = Some(fs);
        *busy = false;
    }
    match item {
        Some(Ok(v)) => {
            src.borrow_mut().buf.push_back(v);
            pump(&src);
        }
        Some(Err(e)) => end_with(&src, Err(e)),
        None => end_with(&src, Ok(())),
    }
    Ok(())
}

/// Feeds one pulled result (cloned out of the pull's promise) to the source.
fn deliver<T: 'static>(src: &Src<T>, r: &Result<Option<T>, Error>) {
    let cloner = src.borrow().cloner;
    match r {
        Ok(Some(v)) => {
            // A pulled value sits in a promise shared by its callbacks; the
            // pull functions that make such streams require `T: Clone` and
            // set the cloner.
            let cloner = cloner.expect("pulled streams have a cloner");
            src.borrow_mut().buf.push_back(cloner(v));
            pump(src);
        }
        Ok(None) => end_with(src, Ok(())),
        Err(e) => end_with(src, Err(e.clone())),
    }
}

/// Feeds the outcome of a shared pull (module `stream`, rule 7) to every
/// read waiting on it.
fn deliver_shared<T: 'static>(src: &Src<T>, r: &Result<Option<T>, Error>) {
    let result = match r {
        Ok(None) => return end_with(src, Ok(())),
        Ok(Some(v)) => {
            let cloner = src.borrow().cloner.expect("pulled streams have a cloner");
            Ok(cloner(v))
        }
        Err(e) => Err(e.clone()),
    };
    let actions = src.borrow_mut().serve_pulled(result);
    run_actions(actions);
    pump(src);
}

impl<T: 'static> Stream<T> {
    /// A stream fed by a `futures` stream of results: an `Err` item ends the
    /// stream with that error. The inner stream is polled on a task, when a
    /// reader waits.
    ///
    /// ```
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let inner = futures::stream::iter(vec![Ok(1), Err(lwt::Error::msg("bad"))]);
    /// let s = lwt::Stream::from_try_stream(inner);
    /// assert_eq!(engine.run(&s.next()).unwrap(), Some(1));
    /// assert_eq!(engine.run(&s.next()).unwrap_err().message(), "bad");
    /// ```
    pub fn from_try_stream<E: Into<Error>>(
        inner: impl futures_core::Stream<Item = Result<T, E>> + 'static,
    ) -> Stream<T> {
        struct MapErr<S>(Pin<Box<S>>);
        impl<T, E: Into<Error>, S: futures_core::Stream<Item = Result<T, E>>> futures_core::Stream
            for MapErr<S>
        {
            type Item = Result<T, Error>;
            fn poll_next(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<Option<Self::Item>> {
                self.0
                    .as_mut()
                    .poll_next(cx)
                    .map(|o| o.map(|r| r.map_err(Into::into)))
            }
        }
        let fs: PullStream<T> = Box::pin(MapErr(Box::pin(inner)));
        Stream::with_feed(
            Feed::Futures {
                s: Some(fs),
                busy: false,
            },
            None,
        )
    }

    /// A stream fed by any `futures` stream (its items cannot fail).
    ///
    /// ```
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let s = lwt::Stream::from_stream(futures::stream::iter(vec!['a', 'b']));
    /// assert_eq!(engine.run(&s.to_vec()).unwrap(), vec!['a', 'b']);
    /// ```
    pub fn from_stream(inner: impl futures_core::Stream<Item = T> + 'static) -> Stream<T> {
        struct Wrap<S>(Pin<Box<S>>);
        impl<T, S: futures_core::Stream<Item = T>> futures_core::Stream for Wrap<S> {
            type Item = Result<T, Error>;
            fn poll_next(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<Option<Self::Item>> {
                self.0.as_mut().poll_next(cx).map(|o| o.map(Ok))
            }
        }
        let fs: PullStream<T> = Box::pin(Wrap(Box::pin(inner)));
        Stream::with_feed(
            Feed::Futures {
                s: Some(fs),
                busy: false,
            },
            None,
        )
    }
}
