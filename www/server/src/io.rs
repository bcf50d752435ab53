//! [`Conn`]: a connection's socket with a write deadline, through hyper's
//! I/O traits (for HTTP) and `futures-io`'s (for the WebSocket after it).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use lwt::Promise;
use lwt_native::net::TcpStream;

/// A socket whose writes must make progress: a write or flush that stays
/// blocked (the client reads nothing) for `limit` fails with `TimedOut`,
/// which ends the response or the WebSocket session, and so the connection.
/// The timer runs only while a write is blocked and is released as soon as
/// one goes through.
pub(crate) struct Conn {
    inner: TcpStream,
    limit: Duration,
    blocked: Option<Promise<()>>,
}

impl Conn {
    pub(crate) fn new(inner: TcpStream, limit: Duration) -> Conn {
        Conn {
            inner,
            limit,
            blocked: None,
        }
    }

    /// The socket, its deadline released.
    pub(crate) fn into_inner(self) -> TcpStream {
        // A clone, since a type with a `Drop` cannot be taken apart: the
        // drop of `self` leaves it the only handle.
        let inner = self.inner.clone();
        drop(self);
        inner
    }

    /// Passes `poll` on, arming the deadline while it is pending and
    /// releasing it once it is not.
    fn guard<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if poll.is_ready() {
            if let Some(t) = self.blocked.take() {
                t.cancel();
            }
            return poll;
        }
        let limit = self.limit;
        let timer = self.blocked.get_or_insert_with(|| lwt::sleep(limit));
        match Pin::new(timer).poll(cx) {
            Poll::Ready(Ok(())) => {
                self.blocked = None;
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("the client read nothing for {limit:?}"),
                )))
            }
            _ => Poll::Pending,
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(t) = self.blocked.take() {
            t.cancel();
        }
    }
}

impl hyper::rt::Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        hyper::rt::Read::poll_read(Pin::new(&mut self.inner), cx, buf)
    }
}

impl hyper::rt::Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let p = hyper::rt::Write::poll_write(Pin::new(&mut self.inner), cx, buf);
        self.guard(cx, p)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let p = hyper::rt::Write::poll_flush(Pin::new(&mut self.inner), cx);
        self.guard(cx, p)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        hyper::rt::Write::poll_shutdown(Pin::new(&mut self.inner), cx)
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        AsyncRead::poll_read(Pin::new(&mut self.inner), cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let p = AsyncWrite::poll_write(Pin::new(&mut self.inner), cx, buf);
        self.guard(cx, p)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let p = AsyncWrite::poll_flush(Pin::new(&mut self.inner), cx);
        self.guard(cx, p)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let p = AsyncWrite::poll_close(Pin::new(&mut self.inner), cx);
        self.guard(cx, p)
    }
}
