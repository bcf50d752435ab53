//! Buffered channels and establish_server.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

mod common;

use common::bounded;
use lwt_native::io::{
    establish_server, establish_server_with, InputChannel, OutputChannel, Server, ServerOptions,
};
use lwt_native::net::TcpStream;
use lwt_native::run;

fn local() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[test]
fn channels_over_tcp_lines_and_exact_reads() {
    run(async {
        let server = establish_server(local(), |_peer, ic, oc| {
            lwt::spawn(async move {
                // A line, then a length-prefixed body, then echo lines upper-cased.
                let header = ic.read_line().await?.unwrap();
                let n: usize = header.parse()?;
                let body = ic.read_exactly(n).await?;
                oc.write_all(&body).await?;
                oc.write(b"\n").await?;
                while let Some(line) = ic.read_line().await? {
                    oc.write_line(&line.to_uppercase()).await?;
                }
                oc.flush().await
            })
        })?;
        let c = TcpStream::connect(server.local_addr()).await?;
        let oc = OutputChannel::new(c.clone());
        let ic = InputChannel::with_capacity(16, c.clone());
        oc.write(b"5\nhello").await?;
        let long = "x".repeat(10_000);
        oc.write_line("a").await?;
        oc.write_line(&long).await?;
        oc.close().await?;
        assert_eq!(ic.read_line().await?.as_deref(), Some("hello"));
        assert_eq!(ic.read_line().await?.as_deref(), Some("A"));
        assert_eq!(ic.read_line().await?.unwrap(), long.to_uppercase());
        assert_eq!(ic.read_to_end().await?, b"");
        server.shutdown().await
    })
    .unwrap();
}

#[test]
fn server_caps_concurrent_connections_and_shuts_down_gracefully() {
    run(async {
        let live = Rc::new(Cell::new(0));
        let peak = Rc::new(Cell::new(0));
        let (l, p) = (live.clone(), peak.clone());
        let opts = ServerOptions {
            max_connections: 3,
            ..ServerOptions::default()
        };
        let server = establish_server_with(local(), opts, move |_peer, _ic, oc| {
            let (l, p) = (l.clone(), p.clone());
            lwt::spawn(async move {
                l.set(l.get() + 1);
                p.set(p.get().max(l.get()));
                lwt::sleep(Duration::from_millis(20)).await?;
                l.set(l.get() - 1);
                oc.write_line("bye").await
            })
        })?;
        let addr = server.local_addr();
        let clients: Vec<_> = (0..10)
            .map(|_| {
                lwt::spawn(async move {
                    let c = TcpStream::connect(addr).await?;
                    InputChannel::new(c).read_line().await
                })
            })
            .collect();
        let replies = lwt::all(clients).await?;
        assert!(replies.iter().all(|r| r.as_deref() == Some("bye")));
        assert_eq!(peak.get(), 3);
        // Graceful: a connection in flight finishes; new ones are refused.
        let c = TcpStream::connect(addr).await?;
        lwt::sleep(Duration::from_millis(5)).await?;
        let done = server.shutdown();
        assert_eq!(
            InputChannel::new(c).read_line().await?.as_deref(),
            Some("bye")
        );
        done.await?;
        let refused = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(
            lwt_native::io_error_kind(&refused),
            Some(std::io::ErrorKind::ConnectionRefused)
        );
        Ok(())
    })
    .unwrap();
}

/// A handler is called inside the accept task's poll, as its connection is
/// accepted: `shutdown` called from there closes the listener before it
/// returns all the same, and leaves no accept waiting behind.
#[test]
fn a_shutdown_from_a_handler_closes_the_listener_at_once() {
    run(async {
        let slot: Rc<RefCell<Option<Server>>> = Rc::default();
        let refused = Rc::new(Cell::new(None));
        let (s, r) = (slot.clone(), refused.clone());
        let server = establish_server(local(), move |_peer, _ic, _oc| {
            // Taken out: the server's task holds this handler.
            if let Some(server) = s.borrow_mut().take() {
                drop(server.shutdown());
                // A blocking connect: the kernel completes it (into the
                // backlog) while the socket listens, and refuses it after.
                let addr = server.local_addr();
                r.set(Some(std::net::TcpStream::connect(addr).is_err()));
            }
            lwt::Promise::resolved(())
        })?;
        let addr = server.local_addr();
        *slot.borrow_mut() = Some(server);
        let c = TcpStream::connect(addr).await?;
        bounded({
            let refused = refused.clone();
            async move {
                while refused.get().is_none() {
                    lwt::sleep(Duration::from_millis(1)).await?;
                }
                Ok(())
            }
        })
        .await?;
        assert_eq!(
            refused.get(),
            Some(true),
            "the listener was still open after shutdown returned"
        );
        drop(c);
        // The connection's close runs on the loop: a few turns.
        let mut stats = lwt_native::io_stats();
        for _ in 0..200 {
            if stats == (0, 0) {
                break;
            }
            lwt::sleep(Duration::from_millis(5)).await?;
            stats = lwt_native::io_stats();
        }
        assert_eq!(
            stats,
            (0, 0),
            "(sources, waits) left: an accept waits on the listener"
        );
        Ok(())
    })
    .unwrap();
}

#[test]
fn writing_to_a_closed_peer_is_an_error_not_sigpipe() {
    // Put SIGPIPE back to its default (death) first: the write must still
    // only fail.
    // SAFETY: resetting a signal disposition to the default.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let e = run(async {
        let (a, b) = lwt_native::net::UnixStream::pair()?;
        drop(b);
        let chunk = vec![0u8; 1 << 16];
        loop {
            if let Err(e) = a.write_all(&chunk).await {
                return Ok(e);
            }
        }
    })
    .unwrap();
    assert_eq!(
        lwt_native::io_error_kind(&e),
        Some(std::io::ErrorKind::BrokenPipe)
    );
}

/// A writer whose `poll_write` is the closure; flush and close are done at
/// once.
struct WriteWith<F>(F);

impl<F> futures_io::AsyncWrite for WriteWith<F>
where
    F: FnMut(&[u8]) -> std::task::Poll<std::io::Result<usize>> + Unpin,
{
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        (self.0)(buf)
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_close(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[test]
fn dropping_a_channel_whose_writer_fails_tries_once() {
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    run(async move {
        // Fails with `BrokenPipe`, counting its calls, until the 1000th;
        // then it takes everything, so a loop of retries ends instead of
        // hanging the test.
        let oc = OutputChannel::new(WriteWith(move |buf: &[u8]| {
            c.set(c.get() + 1);
            std::task::Poll::Ready(if c.get() > 1000 {
                Ok(buf.len())
            } else {
                Err(std::io::ErrorKind::BrokenPipe.into())
            })
        }));
        oc.write(b"never sent").await?;
        drop(oc);
        lwt::sleep(Duration::from_millis(5)).await
    })
    .unwrap();
    assert_eq!(calls.get(), 1);
}

#[test]
fn a_flush_canceled_after_a_partial_write_sends_no_byte_twice() {
    let written = Rc::new(std::cell::RefCell::new(Vec::new()));
    let stuck = Rc::new(Cell::new(false));
    let (w, s) = (written.clone(), stuck.clone());
    run(async move {
        // Takes at most 3 bytes, then is stuck (pending) until `stuck` is
        // cleared.
        let stuck = s.clone();
        let oc = OutputChannel::new(WriteWith(move |buf: &[u8]| {
            if stuck.get() {
                return std::task::Poll::Pending;
            }
            let n = buf.len().min(3);
            w.borrow_mut().extend_from_slice(&buf[..n]);
            stuck.set(true);
            std::task::Poll::Ready(Ok(n))
        }));
        oc.write(b"abcdefgh").await?;
        {
            let flush = oc.flush();
            futures::pin_mut!(flush);
            // 3 bytes go, then the writer is stuck; dropping cancels.
            assert!(futures::poll!(flush).is_pending());
        }
        // Each flush sends 3 more bytes and is canceled, until done.
        for _ in 0..10 {
            s.set(false);
            let flush = oc.flush();
            futures::pin_mut!(flush);
            if futures::poll!(flush).is_ready() {
                break;
            }
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(&*written.borrow(), b"abcdefgh");
}

#[test]
fn dropping_a_channel_whose_flush_task_is_dropped_unfinished_returns() {
    run(async {
        // Never takes anything nor keeps the waker (so a task waiting on it
        // is freed as soon as nothing else holds it).
        let oc = OutputChannel::new(WriteWith(|_: &[u8]| std::task::Poll::Pending));
        oc.write(b"stuck").await?;
        drop(oc);
        Ok(())
    })
    .unwrap();
}

/// A reply written without `flush` reaches the peer on its own (auto-flush),
/// so waiting for the peer's answer does not hang.
#[test]
fn a_reply_written_without_flush_is_sent_on_its_own() {
    run(async {
        let server = establish_server(local(), |_peer, ic, oc| {
            lwt::spawn(async move {
                while let Some(line) = ic.read_line().await? {
                    // No flush: the auto-flush sends it after this turn.
                    oc.write_line(&format!("got {line}")).await?;
                }
                Ok(())
            })
        })?;
        let (a, b) = lwt_native::net::UnixStream::pair()?;
        let (ic, oc) = (InputChannel::new(a.clone()), OutputChannel::new(a));
        let (peer_in, peer_out) = (InputChannel::new(b.clone()), OutputChannel::new(b));
        let peer = lwt::spawn(async move {
            let q = peer_in.read_line().await?;
            peer_out
                .write_line(&format!("answer to {}", q.unwrap_or_default()))
                .await?;
            Ok(())
        });
        oc.write_line("question").await?;
        let answer = bounded({
            let ic = ic.clone();
            async move { ic.read_line().await }
        })
        .await?;
        assert_eq!(answer.as_deref(), Some("answer to question"));
        peer.await?;
        // The same over TCP, through the server.
        let (ic, oc) = lwt_native::io::open_connection(server.local_addr()).await?;
        oc.write_line("one").await?;
        let reply = bounded({
            let ic = ic.clone();
            async move { ic.read_line().await }
        })
        .await?;
        assert_eq!(reply.as_deref(), Some("got one"));
        oc.close().await?;
        server.shutdown().await
    })
    .unwrap();
}

/// File channels seek: `set_position` moves reads and writes to a byte of
/// the file, `position` follows.
#[test]
fn file_channels_have_positions() {
    run(async {
        lwt_native::io::with_temp_file(|path, oc| async move {
            oc.write(b"0123456789").await?;
            assert_eq!(oc.position(), 10);
            oc.set_position(2).await?;
            assert_eq!(oc.position(), 2);
            oc.write(b"ab").await?;
            oc.flush().await?;
            assert_eq!(std::fs::read(&path)?, b"01ab456789");
            assert_eq!(lwt_native::io::file_length(&path).await?, 10);
            let f = lwt_native::fs::File::open(&path).await?;
            let ic = f.input_channel()?;
            assert_eq!(ic.read_exactly(3).await?, b"01a");
            assert_eq!(ic.position(), 3);
            ic.set_position(8).await?;
            assert_eq!(ic.read_to_end().await?, b"89");
            assert_eq!(ic.position(), 10);
            ic.set_position(0).await?;
            assert_eq!(ic.read_u16_le().await?, u16::from_le_bytes(*b"01"));
            let e = ic.read_exactly(100).await.unwrap_err();
            assert!(e.is_end_of_file(), "{e}");
            // A socket's channel cannot seek: an error, and it still works.
            let (a, b) = lwt_native::net::UnixStream::pair()?;
            let sock = InputChannel::new(a);
            assert!(sock
                .set_position(0)
                .await
                .unwrap_err()
                .is_invalid_argument());
            b.write_all(b"x\n").await?;
            assert_eq!(sock.read_line().await?.as_deref(), Some("x"));
            Ok(())
        })
        .await
    })
    .unwrap();
}

/// Temporary files and directories are removed when the function is done,
/// also when it fails; their names differ.
#[test]
fn temporary_files_and_directories_are_removed() {
    run(async {
        let (p1, p2) = lwt_native::io::with_temp_file(|p1, _| async move {
            let p2 = lwt_native::io::with_temp_file(|p2, _| async move { Ok(p2) }).await?;
            assert!(lwt_native::io::file_exists(&p1).await?);
            Ok((p1, p2))
        })
        .await?;
        assert_ne!(p1, p2);
        assert!(!lwt_native::io::file_exists(&p1).await?);
        assert!(!lwt_native::io::file_exists(&p2).await?);
        let mut kept = None;
        let e = lwt_native::io::with_temp_file(|p, oc| {
            kept = Some(p);
            async move {
                oc.write(b"half").await?;
                Err::<(), _>(lwt::Error::msg("failed halfway"))
            }
        })
        .await
        .unwrap_err();
        assert_eq!(e.to_string(), "failed halfway");
        assert!(!lwt_native::io::file_exists(kept.unwrap()).await?);
        let mut kept = None;
        let e = lwt_native::io::with_temp_dir(|d| {
            kept = Some(d.clone());
            async move {
                lwt_native::fs::create_dir_all(d.join("x/y")).await?;
                lwt_native::fs::write(d.join("x/y/z"), "deep").await?;
                Err::<(), _>(lwt::Error::msg("dir failed"))
            }
        })
        .await
        .unwrap_err();
        assert_eq!(e.to_string(), "dir failed");
        assert!(!kept.unwrap().exists());
        // A directory has no file length; a missing file neither.
        let e = lwt_native::io::file_length(std::env::temp_dir())
            .await
            .unwrap_err();
        assert_eq!(
            lwt_native::io_error_kind(&e),
            Some(std::io::ErrorKind::IsADirectory)
        );
        let e = lwt_native::io::file_length("/no/such/file")
            .await
            .unwrap_err();
        assert_eq!(
            lwt_native::io_error_kind(&e),
            Some(std::io::ErrorKind::NotFound)
        );
        Ok(())
    })
    .unwrap();
}

/// A channel dropped right after a write (its auto-flush pending) still
/// sends the bytes, then closes its writer: the peer reads end of input
/// although a clone of the socket is still open.
#[test]
fn a_channel_dropped_after_a_write_sends_and_closes() {
    run(async {
        let (a, b) = lwt_native::net::UnixStream::pair()?;
        let oc = OutputChannel::new(a.clone());
        oc.write_line("sent on drop").await?;
        drop(oc);
        let ic = InputChannel::new(b);
        let all = bounded(async move { ic.read_to_string().await }).await?;
        assert_eq!(all, "sent on drop\n");
        drop(a);
        Ok(())
    })
    .unwrap();
}
