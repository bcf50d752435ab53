//! [`Http::Auto`](super::Http::Auto): one server for HTTP/1 and HTTP/2 on the
//! same port. Over TLS the protocol comes from ALPN; otherwise (cleartext, or
//! a TLS client that offered no ALPN) from the first bytes: a client that
//! speaks HTTP/2 with prior knowledge starts with the connection preface,
//! anything else is HTTP/1. The bytes read to tell are given back to hyper
//! by [`Rewind`].

use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::rt::{Read, ReadBuf, ReadBufCursor, Write};
use lwt::Promise;

/// What an HTTP/2 client with prior knowledge sends first (RFC 9113, 3.4).
pub(crate) const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How long [`Http::auto`](super::Http::auto) waits for the first bytes of
/// a connection: the same as hyper's default header-read time-out for
/// HTTP/1, so a silent client is held no longer than without detection.
pub const DEFAULT_DETECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The protocol a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Protocol {
    Http1,
    Http2,
}

/// The protocol an ALPN identifier names, if it is one of the two.
#[cfg(feature = "tls")]
pub(crate) fn from_alpn(id: &[u8]) -> Option<Protocol> {
    match id {
        b"h2" => Some(Protocol::Http2),
        b"http/1.1" | b"http/1.0" => Some(Protocol::Http1),
        _ => None,
    }
}

/// A stream with a few bytes already read from it put back in front.
#[derive(Debug)]
pub(crate) struct Rewind<I> {
    read: [u8; H2_PREFACE.len()],
    /// `read[start..end]` is yet to be handed out.
    start: usize,
    end: usize,
    inner: I,
}

/// How sniffing a connection ended.
pub(crate) enum Sniffed<I> {
    /// The protocol, and the stream with what was read put back.
    Speaks(Protocol, Rewind<I>),
    /// The server is shutting down, the client sent nothing in time, or it
    /// closed or failed before saying enough: the connection is dropped.
    Dropped,
}

/// Reads from `io` until its first bytes tell HTTP/2's preface from
/// anything else (at most 24 bytes, fewer as soon as one differs), for at
/// most `limit`, or until `stop` resolves.
pub(crate) async fn sniff<I: Read + Unpin>(
    mut io: I,
    stop: &mut Promise<()>,
    limit: Duration,
) -> Sniffed<I> {
    let mut read = [0u8; H2_PREFACE.len()];
    let mut end = 0;
    let mut timer = lwt::sleep(limit);
    let _release = timer.clone().abort_on_drop();
    let outcome = poll_fn(|cx| loop {
        if Pin::new(&mut *stop).poll(cx).is_ready() || Pin::new(&mut timer).poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        let mut buf = ReadBuf::new(&mut read[end..]);
        match Pin::new(&mut io).poll_read(cx, buf.unfilled()) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(_)) => return Poll::Ready(None),
            Poll::Ready(Ok(())) => {
                let n = buf.filled().len();
                if n == 0 {
                    // Closed before the bytes told anything.
                    return Poll::Ready(None);
                }
                end += n;
                if read[..end] != H2_PREFACE[..end] {
                    return Poll::Ready(Some(Protocol::Http1));
                }
                if end == H2_PREFACE.len() {
                    return Poll::Ready(Some(Protocol::Http2));
                }
            }
        }
    })
    .await;
    match outcome {
        Some(protocol) => Sniffed::Speaks(
            protocol,
            Rewind {
                read,
                start: 0,
                end,
                inner: io,
            },
        ),
        None => Sniffed::Dropped,
    }
}

impl<I: Read + Unpin> Read for Rewind<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.start < this.end {
            let n = (this.end - this.start).min(buf.remaining());
            buf.put_slice(&this.read[this.start..this.start + n]);
            this.start += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<I: Write + Unpin> Write for Rewind<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }
}
