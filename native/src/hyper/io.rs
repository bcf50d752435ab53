//! hyper's I/O traits (`hyper::rt::Read`, `hyper::rt::Write`) for the loop's
//! streams, and [`Io`], the same for any `futures_io` stream.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use hyper::rt::ReadBufCursor;

use crate::net::{TcpStream, UnixStream};

/// Fills hyper's read buffer from a `futures_io` reader.
///
/// `futures_io` reads into initialized bytes, so the unfilled part is
/// initialized first (hyper remembers how much of it already is, and zeroes
/// only the rest); then the cursor is moved past what the read wrote.
fn poll_read_into<R: AsyncRead + ?Sized>(
    reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    mut buf: ReadBufCursor<'_>,
) -> Poll<io::Result<()>> {
    let dst = buf.initialize_unfilled();
    let room = dst.len();
    let read = reader.poll_read(cx, dst);
    // SAFETY: `initialize_unfilled` initialized all `room` bytes the read
    // was given, so whatever it reports is initialized.
    unsafe { filled(buf, room, read) }
}

/// Moves `buf`'s cursor past the `n` bytes a read into the first `room`
/// unfilled bytes reported, and passes on its error or `Pending`. A count
/// above `room` is an error, and the cursor stays.
///
/// # Safety
///
/// When `read` is `Ready(Ok(n))` with `n <= room`, the first `n` unfilled
/// bytes of `buf` must be initialized.
unsafe fn filled(
    mut buf: ReadBufCursor<'_>,
    room: usize,
    read: Poll<io::Result<usize>>,
) -> Poll<io::Result<()>> {
    let n = match read {
        Poll::Ready(Ok(n)) => n,
        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
        Poll::Pending => return Poll::Pending,
    };
    if n > room {
        return Poll::Ready(Err(io::Error::other(
            "a read reported more bytes than the buffer holds",
        )));
    }
    // SAFETY: `advance` needs the next `n` bytes of the cursor initialized:
    // the caller promises that for `n <= room`, checked just above.
    unsafe { buf.advance(n) };
    Poll::Ready(Ok(()))
}

/// A `futures_io` stream seen through hyper's I/O traits: what hyper's
/// connections take, for any `AsyncRead + AsyncWrite` (a TLS stream of
/// `futures-rustls`, a process's pipes, a test double...).
///
/// The loop's own [`TcpStream`] and [`UnixStream`] implement hyper's traits
/// directly and need no wrapper.
///
/// ```
/// use hyper::rt::{Read, Write};
/// fn takes_hyper_io<T: Read + Write + Unpin>(_io: T) {}
///
/// let (a, _b) = lwt_native::net::UnixStream::pair().unwrap();
/// let io = lwt_native::hyper::Io::new(a);
/// takes_hyper_io(io);
/// ```
#[derive(Debug)]
pub struct Io<T> {
    inner: T,
}

impl<T> Io<T> {
    /// Wraps `inner`.
    ///
    /// ```
    /// let (a, _b) = lwt_native::net::UnixStream::pair().unwrap();
    /// let _io = lwt_native::hyper::Io::new(a);
    /// ```
    pub fn new(inner: T) -> Io<T> {
        Io { inner }
    }

    /// The wrapped stream.
    ///
    /// ```
    /// let (a, _b) = lwt_native::net::UnixStream::pair().unwrap();
    /// let io = lwt_native::hyper::Io::new(a);
    /// let _stream: &lwt_native::net::UnixStream = io.get_ref();
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    ///
    /// ```
    /// let (a, _b) = lwt_native::net::UnixStream::pair().unwrap();
    /// let mut io = lwt_native::hyper::Io::new(a);
    /// let _stream: &mut lwt_native::net::UnixStream = io.get_mut();
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    ///
    /// ```
    /// let (a, _b) = lwt_native::net::UnixStream::pair().unwrap();
    /// let _a: lwt_native::net::UnixStream = lwt_native::hyper::Io::new(a).into_inner();
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead + Unpin> hyper::rt::Read for Io<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        poll_read_into(Pin::new(&mut self.get_mut().inner), cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for Io<T> {
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
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }
}

/// hyper's traits straight on the loop's streams, by way of their
/// `futures_io` impls.
macro_rules! hyper_io {
    ($($t:ty),*) => {$(
        impl hyper::rt::Read for $t {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                mut buf: ReadBufCursor<'_>,
            ) -> Poll<io::Result<()>> {
                // Straight into hyper's unfilled bytes, which are not zeroed
                // first (as `poll_read_into` must for a `futures_io` reader).
                // SAFETY: `as_mut` requires that no byte already initialized
                // is de-initialized through the slice; `recv` only writes
                // bytes it received into it.
                let dst = unsafe { buf.as_mut() };
                let room = dst.len();
                let read = self.get_mut().poll_recv_uninit(cx, dst);
                // SAFETY: `recv` initialized the bytes it reports.
                unsafe { filled(buf, room, read) }
            }
        }

        impl hyper::rt::Write for $t {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                AsyncWrite::poll_write(self, cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                AsyncWrite::poll_flush(self, cx)
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                AsyncWrite::poll_close(self, cx)
            }
        }
    )*};
}

hyper_io!(TcpStream, UnixStream);
