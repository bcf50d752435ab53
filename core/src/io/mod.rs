//! Buffered channels (Lwt_io), on any engine: [`InputChannel`],
//! [`OutputChannel`], and in-memory bytes to run them on ([`SharedBytes`]).
//!
//! # Ground rules
//!
//! * A channel wraps any [`futures_io::AsyncRead`] / [`futures_io::AsyncWrite`]
//!   (an engine's sockets, pipes and files, the ecosystem's, or
//!   [`SharedBytes`] in memory) and adds a buffer. Nothing here names an
//!   engine: the native engine's sockets and files get their channels from
//!   this module, and in-memory channels work the same on every engine.
//! * A channel is a cheap handle: clones share one channel. Each operation
//!   holds the channel's lock while it runs, so operations on one channel
//!   run one at a time, in the order they were called (Lwt_io's
//!   `primitive`); [`InputChannel::atomic`] holds it across several.
//! * Output flushes on its own (Lwt_io's auto-flush): when an operation ends
//!   and bytes are left in the buffer, a flush is scheduled after the
//!   current turn ([`crate::pause`]). Many writes in one turn are sent
//!   together; [`OutputChannel::flush`] sends at once.
//! * Errors: a read past the end of input is an error for which
//!   [`crate::Error::is_end_of_file`] holds (Lwt's `End_of_file`; the
//!   `io::Error` inside is of kind `UnexpectedEof`); an operation on a
//!   closed channel is one for which [`crate::Error::is_closed`] holds
//!   (Lwt's `Channel_closed`); [`InputChannel::set_position`] on a channel
//!   that cannot seek is [`crate::Error::is_invalid_argument`].
//!
//! ```
//! use lwt::io::{InputChannel, OutputChannel, SharedBytes};
//! let bytes = SharedBytes::new();
//! let p = lwt::spawn({
//!     let bytes = bytes.clone();
//!     async move {
//!         let oc = OutputChannel::of_bytes(bytes.clone());
//!         oc.write_line("hello").await?;
//!         oc.write_u32_be(7).await?;
//!         oc.flush().await?;
//!         let ic = InputChannel::of_bytes(bytes);
//!         Ok((ic.read_line().await?, ic.read_u32_be().await?))
//!     }
//! });
//! assert_eq!(p.peek().unwrap().unwrap(), (Some("hello".to_string()), 7));
//! ```

use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};

use crate::Error;

mod input;
mod lock;
mod memory;
mod output;

pub use input::{InputChannel, Lines};
pub use memory::SharedBytes;
pub use output::OutputChannel;

/// The default buffer size of channels (Lwt_io's `default_buffer_size`).
///
/// ```
/// assert_eq!(lwt::io::DEFAULT_BUFFER_SIZE, 4096);
/// ```
pub const DEFAULT_BUFFER_SIZE: usize = 4096;

/// What an input channel reads from: a reader, seekable or not.
trait Source: AsyncRead + AsyncSeek + Unpin {}
impl<T: AsyncRead + AsyncSeek + Unpin> Source for T {}

/// What an output channel writes to: a writer, seekable or not.
trait Sink: AsyncWrite + AsyncSeek + Unpin {}
impl<T: AsyncWrite + AsyncSeek + Unpin> Sink for T {}

/// A reader or writer that cannot seek (the channels check first, so its
/// seek is never reached; it still fails rather than pretend).
struct NoSeek<T>(T);

impl<T: AsyncRead + Unpin> AsyncRead for NoSeek<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for NoSeek<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

impl<T> AsyncSeek for NoSeek<T> {
    fn poll_seek(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        _pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this channel cannot seek",
        )))
    }
}

/// An I/O failure as a rejection (the `io::Error` is kept).
fn io_error(e: io::Error) -> Error {
    Error::new(e)
}

/// The end of input, reached by `what` (see [`Error::is_end_of_file`]).
fn end_of_file(what: &str) -> Error {
    Error::new(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("{what}: end of input"),
    ))
}

fn closed(what: &str, mode: &str) -> Error {
    Error::closed(format!("{what}: the {mode} channel is closed"))
}

fn not_seekable(what: &str) -> Error {
    Error::invalid_argument(format!(
        "{what}: the channel cannot seek (make it with `seekable` or `of_bytes`)"
    ))
}
