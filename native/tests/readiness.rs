//! The reactor's readiness rules, seen through sockets: when a read makes
//! the system call at once and when it waits for the loop's event, and the
//! waits it holds meanwhile (`io_stats`).
//!
//! The socket pairs are local: a write on one end is in the other end's
//! buffer when it returns, and the loop takes events only in between turns,
//! so whether a read is resolved at once is deterministic.

use std::io::ErrorKind;
use std::task::Poll;
use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use lwt_native::net::UnixStream;
use lwt_native::{io_stats, run};

mod common;
use common::bounded;

/// A short read shows the buffer was drained: the next read waits for an
/// event, although the peer wrote more in between, rather than making the
/// system call first.
#[test]
fn a_short_read_makes_the_next_read_wait_for_an_event() {
    run(async {
        let (a, b) = UnixStream::pair()?;
        a.write_all(b"ab").await?;
        assert_eq!(b.read_some(1024).await?, b"ab");
        a.write_all(b"cd").await?;
        let (_, waits0) = io_stats();
        let next = b.read_some(1024);
        assert!(
            next.is_pending(),
            "the read after a short read did not wait for an event"
        );
        assert_eq!(io_stats().1, waits0 + 1, "the read waits on the reactor");
        assert_eq!(bounded(next).await?, b"cd");
        Ok(())
    })
    .unwrap();
}

/// A read that fills its buffer says nothing about what is left: the next
/// read makes the system call at once, and gets the rest.
#[test]
fn a_full_read_keeps_the_source_readable() {
    run(async {
        let (a, b) = UnixStream::pair()?;
        a.write_all(b"abcd").await?;
        assert_eq!(b.read_some(2).await?, b"ab");
        let (_, waits0) = io_stats();
        let next = b.read_some(2);
        assert_eq!(
            next.peek().map(|r| r.ok()),
            Some(Some(b"cd".to_vec())),
            "the read after a full read waited"
        );
        assert_eq!(io_stats().1, waits0);
        Ok(())
    })
    .unwrap();
}

/// The end of the stream is no short read: reading again gives the end at
/// once, without waiting for an event.
#[test]
fn the_end_of_a_stream_is_read_again_at_once() {
    run(async {
        let (a, b) = UnixStream::pair()?;
        drop(a);
        assert_eq!(b.read_some(16).await?, b"");
        let again = b.read_some(16);
        assert_eq!(
            again.peek().map(|r| r.ok()),
            Some(Some(Vec::new())),
            "the read after the end of stream waited"
        );
        Ok(())
    })
    .unwrap();
}

/// The rules above for `poll_read` (futures-io's `AsyncRead`): a short read
/// makes the next one wait, a full one does not, and the end is read again
/// at once.
#[test]
fn poll_read_follows_the_same_rules() {
    run(async {
        let (a, mut b) = UnixStream::pair()?;
        let mut buf = [0; 1024];
        a.write_all(b"ab").await?;
        assert_eq!(AsyncReadExt::read(&mut b, &mut buf).await?, 2);
        a.write_all(b"cd").await?;
        let (_, waits0) = io_stats();
        {
            let read = AsyncReadExt::read(&mut b, &mut buf);
            futures::pin_mut!(read);
            assert!(
                futures::poll!(read).is_pending(),
                "the poll after a short read did not wait for an event"
            );
        }
        assert_eq!(io_stats().1, waits0 + 1, "the poll waits on the reactor");
        let n = bounded({
            let mut b = b.clone();
            async move {
                let mut buf = [0; 1024];
                let n = AsyncReadExt::read(&mut b, &mut buf).await?;
                Ok(buf[..n].to_vec())
            }
        })
        .await?;
        assert_eq!(n, b"cd");
        // A full read: the rest comes at once.
        a.write_all(b"efgh").await?;
        let mut two = [0; 2];
        let n = bounded({
            let mut b = b.clone();
            async move { Ok(AsyncReadExt::read(&mut b, &mut two).await?) }
        })
        .await?;
        assert_eq!(n, 2);
        {
            let read = AsyncReadExt::read(&mut b, &mut two);
            futures::pin_mut!(read);
            match futures::poll!(read) {
                std::task::Poll::Ready(Ok(2)) => {}
                other => panic!("the poll after a full read: {other:?}"),
            }
        }
        assert_eq!(&two, b"gh");
        // The end, twice.
        drop(a);
        let n = bounded({
            let mut b = b.clone();
            async move { Ok(AsyncReadExt::read(&mut b, &mut [0; 16]).await?) }
        })
        .await?;
        assert_eq!(n, 0);
        {
            let mut buf = [0; 16];
            let read = AsyncReadExt::read(&mut b, &mut buf);
            futures::pin_mut!(read);
            match futures::poll!(read) {
                std::task::Poll::Ready(Ok(0)) => {}
                other => panic!("the poll after the end of stream: {other:?}"),
            }
        }
        Ok(())
    })
    .unwrap();
}

/// Two reads and a write waiting on one source are three waits held, and
/// each read is woken in its turn.
#[test]
fn two_reads_and_a_write_wait_on_one_source() {
    run(async {
        let (sources0, waits0) = io_stats();
        let (a, b) = UnixStream::pair()?;
        let r1 = b.read_some(16);
        let r2 = b.read_some(16);
        // More than the socket buffers hold: the peer does not read.
        let w = {
            let b = b.clone();
            lwt::spawn(async move { b.write_all(&vec![7u8; 4 << 20]).await })
        };
        assert!(r1.is_pending() && r2.is_pending() && w.is_pending());
        assert_eq!(io_stats(), (sources0 + 2, waits0 + 3));
        a.write_all(b"x").await?;
        let first = bounded(lwt::choose([r1.clone(), r2.clone()])).await?;
        assert_eq!(first, b"x");
        assert!(
            r1.is_pending() != r2.is_pending(),
            "one read got the byte, the other waits again"
        );
        a.write_all(b"y").await?;
        let both = bounded(lwt::all([r1, r2])).await?;
        let mut got = both.concat();
        got.sort();
        assert_eq!(got, b"xy");
        assert!(w.is_pending());
        drop((a, b));
        let e = bounded(w).await.unwrap_err();
        assert!(!e.is_timeout(), "the write was not ended by the close");
        assert_eq!(io_stats(), (sources0, waits0));
        Ok(())
    })
    .unwrap();
}

/// An error from `poll_write` (the peer is gone: `BrokenPipe`) is returned
/// by that poll: neither retried nor waited on. The body runs on its own
/// thread, so a poll that spins on the error fails the test instead of
/// hanging it.
#[test]
fn poll_write_to_a_closed_peer_fails_at_once() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let outcome = run(async {
            let (a, mut b) = UnixStream::pair()?;
            drop(a);
            let write = AsyncWriteExt::write(&mut b, b"anyone?");
            futures::pin_mut!(write);
            Ok(match futures::poll!(write) {
                Poll::Ready(Err(e)) => Ok(e.kind()),
                other => Err(format!("{other:?}")),
            })
        });
        let _ = done.send(outcome.map_err(|e| e.to_string()));
    });
    let outcome = finished
        .recv_timeout(Duration::from_secs(20))
        .expect("the poll returns instead of spinning on the error");
    assert_eq!(outcome.unwrap(), Ok(ErrorKind::BrokenPipe));
}

thread_local! {
    /// What [`RunOnWake`] runs, once.
    static ON_WAKE: std::cell::RefCell<Option<Box<dyn FnOnce()>>> = std::cell::RefCell::new(None);
}

/// A waker that runs [`ON_WAKE`] when woken: code run from inside the
/// loop's dispatch of an event.
struct RunOnWake;

impl futures::task::ArcWake for RunOnWake {
    fn wake_by_ref(_: &std::sync::Arc<Self>) {
        if let Some(f) = ON_WAKE.with(|w| w.borrow_mut().take()) {
            f();
        }
    }
}

/// A late event of a closed source does not land on a new source that took
/// its slot, however many sources took the slot in between. A poll's waker,
/// woken by an event earlier in the same batch, closes `a` (whose peer
/// closed: its event, later in the batch, says "read closed"), opens and
/// closes a listener, and opens a pair, whose first end takes the slot a
/// third time. Had the late "read closed" landed on that end, it would stay
/// readable after a short read (a closed direction is never cleared).
#[test]
fn a_late_event_never_reaches_a_later_source_in_its_slot() {
    run(async {
        let (mut x, x_peer) = UnixStream::pair()?;
        let (a, a_peer) = UnixStream::pair()?;
        let waker = futures::task::waker(std::sync::Arc::new(RunOnWake));
        let mut cx = std::task::Context::from_waker(&waker);
        let mut buf = [0; 16];
        let polled =
            futures_io::AsyncRead::poll_read(std::pin::Pin::new(&mut x), &mut cx, &mut buf);
        assert!(polled.is_pending());
        let reused = std::rc::Rc::new(std::cell::RefCell::new(None));
        let r = reused.clone();
        ON_WAKE.with(|w| {
            *w.borrow_mut() = Some(Box::new(move || {
                drop(a);
                drop(lwt_native::net::TcpListener::bind(
                    "127.0.0.1:0".parse().unwrap(),
                ));
                *r.borrow_mut() = Some(UnixStream::pair());
            }))
        });
        x_peer.write_all(b"go").await?;
        drop(a_peer);
        for _ in 0..10_000 {
            if reused.borrow().is_some() {
                break;
            }
            lwt::pause().await?;
        }
        let (c, d) = reused.borrow_mut().take().expect("the waker ran")?;
        d.write_all(b"ab").await?;
        assert_eq!(c.read_some(1024).await?, b"ab");
        d.write_all(b"cd").await?;
        let next = c.read_some(1024);
        assert!(
            next.is_pending(),
            "a short read left the new source readable: a late event reached it"
        );
        assert_eq!(bounded(next).await?, b"cd");
        Ok(())
    })
    .unwrap();
}

/// The event that brings a stream's last bytes also says the peer closed
/// it ("read closed"), and that is sticky: the short read of those bytes
/// leaves the source readable, so the end is read at once after them. No
/// edge would come for it.
#[test]
fn the_end_after_a_short_read_is_read_at_once() {
    run(async {
        let (a, b) = UnixStream::pair()?;
        let last = b.read_some(1024);
        assert!(last.is_pending(), "nothing written yet");
        a.write_all(b"ab").await?;
        drop(a);
        assert_eq!(bounded(last).await?, b"ab");
        let end = b.read_some(1024);
        assert_eq!(
            end.peek().map(|r| r.ok()),
            Some(Some(Vec::new())),
            "the end waited for an event after the short read"
        );
        Ok(())
    })
    .unwrap();
}

/// A write that fills the socket's buffer waits, and the writable edge
/// that comes when the peer reads wakes it: several megabytes through a
/// pair whose buffer holds far less, both ends on this loop.
#[test]
fn a_write_that_fills_the_buffer_is_woken_when_the_peer_reads() {
    run(async {
        let (a, b) = UnixStream::pair()?;
        let len = 4 << 20;
        let writer = lwt::spawn(async move {
            a.write_all(&vec![7u8; len]).await?;
            Ok(())
        });
        let mut got = 0;
        while got < len {
            let chunk = bounded(b.read_some(64 << 10)).await?;
            assert!(!chunk.is_empty() && chunk.iter().all(|&x| x == 7));
            got += chunk.len();
        }
        assert_eq!(got, len);
        bounded(writer).await?;
        Ok(())
    })
    .unwrap();
}
