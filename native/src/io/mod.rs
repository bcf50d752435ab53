//! Lwt_io on this engine: the channels of [`lwt::io`] over sockets, pipes,
//! files and the standard streams, [`establish_server`], connections, and
//! temporary files.
//!
//! # Ground rules
//!
//! * The channels themselves ([`InputChannel`], [`OutputChannel`]) are the
//!   core's, engine-neutral ([`lwt::io`]): they wrap any
//!   [`futures_io::AsyncRead`] / [`futures_io::AsyncWrite`], such as this
//!   crate's sockets. This module adds what needs the operating system.
//! * The standard streams and files may not be pollable, so their reads and
//!   writes run on the blocking pool ([`Blocking`]); the loop never blocks
//!   on them. Files seek (through the pool too), so their channels have
//!   [`InputChannel::set_position`].
//! * Channels that this module opens for a function (the connections of
//!   [`with_connection`] and of a server's handler, the file of
//!   [`with_temp_file`]) are closed when the function's promise resolves or
//!   rejects, even if it kept a clone.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};
use lwt::Promise;

pub use lwt::io::{InputChannel, Lines, OutputChannel, SharedBytes, DEFAULT_BUFFER_SIZE};

mod connect;
mod files;
mod server;

pub use connect::{open_connection, with_connection};
pub use files::{
    file_exists, file_length, with_temp_dir, with_temp_dir_in, with_temp_file, with_temp_file_in,
};
pub use server::{
    establish_server, establish_server_on, establish_server_with, Server, ServerOptions,
};

/// An adapter that runs a blocking reader's or writer's calls on the
/// blocking pool, as [`futures_io::AsyncRead`] / [`futures_io::AsyncWrite`]:
/// for files, terminals, and the standard streams.
///
/// ```
/// use lwt_native::io::{Blocking, InputChannel};
/// let ic = InputChannel::new(Blocking::new(&b"from a slice\n"[..]));
/// let line = lwt_native::run(async move { ic.read_line().await }).unwrap();
/// assert_eq!(line.as_deref(), Some("from a slice"));
/// ```
pub struct Blocking<T: Send + 'static> {
    inner: Arc<Mutex<T>>,
    reading: Option<Promise<Arc<Vec<u8>>>>,
    leftover: Vec<u8>,
    writing: Option<Promise<usize>>,
    seeking: Option<Promise<u64>>,
}

impl<T: Send + 'static> std::fmt::Debug for Blocking<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Blocking")
    }
}

impl<T: Send + 'static> Blocking<T> {
    /// Wraps `inner`; its calls run on the pool.
    ///
    /// ```
    /// let _b = lwt_native::io::Blocking::new(std::io::sink());
    /// ```
    pub fn new(inner: T) -> Blocking<T> {
        Blocking {
            inner: Arc::new(Mutex::new(inner)),
            reading: None,
            leftover: Vec::new(),
            writing: None,
            seeking: None,
        }
    }
}

fn poll_promise<T: Clone + 'static>(
    p: &mut Promise<T>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<T>> {
    std::future::Future::poll(Pin::new(p), cx).map(|r| {
        r.map_err(|e| match crate::io_error_kind(&e) {
            Some(kind) => io::Error::new(kind, e.to_string()),
            None => io::Error::other(e.to_string()),
        })
    })
}

impl<T: Read + Send + 'static> AsyncRead for Blocking<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if !self.leftover.is_empty() {
            let n = buf.len().min(self.leftover.len());
            buf[..n].copy_from_slice(&self.leftover[..n]);
            self.leftover.drain(..n);
            return Poll::Ready(Ok(n));
        }
        let mut p = match self.reading.take() {
            Some(p) => p,
            None => {
                let inner = self.inner.clone();
                let len = buf.len();
                crate::detach_io(move || {
                    let mut v = vec![0; len];
                    let n = inner
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .read(&mut v)?;
                    v.truncate(n);
                    Ok(Arc::new(v))
                })
            }
        };
        match poll_promise(&mut p, cx) {
            Poll::Pending => {
                self.reading = Some(p);
                Poll::Pending
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(data)) => {
                let n = buf.len().min(data.len());
                buf[..n].copy_from_slice(&data[..n]);
                self.leftover.extend_from_slice(&data[n..]);
                Poll::Ready(Ok(n))
            }
        }
    }
}

impl<T: Write + Send + 'static> AsyncWrite for Blocking<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut p = match self.writing.take() {
            Some(p) => p,
            None => {
                let inner = self.inner.clone();
                let data = buf.to_vec();
                crate::detach_io(move || {
                    let mut w = inner.lock().unwrap_or_else(|e| e.into_inner());
                    w.write_all(&data)?;
                    w.flush()?;
                    Ok(data.len())
                })
            }
        };
        match poll_promise(&mut p, cx) {
            Poll::Pending => {
                self.writing = Some(p);
                Poll::Pending
            }
            r => r,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Every write is flushed on the pool.
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<T: Seek + Send + 'static> AsyncSeek for Blocking<T> {
    /// Seeks on the pool. A read still running is waited for and its bytes
    /// dropped, and so are bytes read ahead: what is read next is what is
    /// at the new position.
    fn poll_seek(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        if let Some(mut p) = self.reading.take() {
            if poll_promise(&mut p, cx).is_pending() {
                self.reading = Some(p);
                return Poll::Pending;
            }
        }
        self.leftover.clear();
        let mut p = match self.seeking.take() {
            Some(p) => p,
            None => {
                let inner = self.inner.clone();
                crate::detach_io(move || inner.lock().unwrap_or_else(|e| e.into_inner()).seek(pos))
            }
        };
        match poll_promise(&mut p, cx) {
            Poll::Pending => {
                self.seeking = Some(p);
                Poll::Pending
            }
            r => r,
        }
    }
}

/// The standard input, buffered (Lwt_io's `stdin`); reads run on the pool.
/// (The example is not run as a test: it would wait for a line typed.)
///
/// ```no_run
/// let line = lwt_native::run(async { lwt_native::io::stdin().read_line().await }).unwrap();
/// # let _ = line;
/// ```
pub fn stdin() -> InputChannel {
    InputChannel::new(Blocking::new(io::stdin()))
}

/// The standard output, buffered (Lwt_io's `stdout`): flush it.
///
/// ```
/// lwt_native::run(async {
///     let out = lwt_native::io::stdout();
///     out.write_line("hello from lwt-native").await?;
///     out.flush().await
/// }).unwrap();
/// ```
pub fn stdout() -> OutputChannel {
    OutputChannel::new(Blocking::new(io::stdout()))
}

/// The standard error, buffered (Lwt_io's `stderr`): flush it.
///
/// ```
/// lwt_native::run(async {
///     let err = lwt_native::io::stderr();
///     err.write_line("a warning").await?;
///     err.flush().await
/// }).unwrap();
/// ```
pub fn stderr() -> OutputChannel {
    OutputChannel::new(Blocking::new(io::stderr()))
}
