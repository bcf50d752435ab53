//! Buffered channels (Lwt_io): [`InputChannel`], [`OutputChannel`], the
//! standard streams, and [`establish_server`].
//!
//! # Ground rules
//!
//! * A channel wraps any [`futures_io::AsyncRead`] / [`futures_io::AsyncWrite`]
//!   (sockets of this crate, pipes of child processes, files, or the
//!   ecosystem's), and adds a buffer. Operations take `&mut self`: one
//!   operation at a time per channel, checked by the compiler (Lwt_io takes
//!   a lock instead).
//! * The standard streams may be files, terminals or pipes, which are not
//!   all pollable, so their reads and writes run on the blocking pool
//!   ([`Blocking`]); the loop never blocks on them.
//! * Every operation is a poll function underneath, so it can also be a
//!   `Stream` ([`InputChannel::lines`]) without self-references.

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use lwt::{Error, Promise};

use crate::engine::reactor::io_err;

mod server;

pub use server::{establish_server, establish_server_with, Server, ServerOptions};

impl Drop for OutputChannel {
    /// Bytes still buffered are sent by a task of their own (as Lwt_io
    /// flushes channels it closes); errors then are dropped, and so are the
    /// bytes that could not be sent, also when the task itself is dropped
    /// unfinished (else dropping `rest` would start the same task again,
    /// forever).
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let buf = std::mem::take(&mut self.buf);
        let writer: Box<dyn AsyncWrite + Unpin> =
            std::mem::replace(&mut self.writer, Box::new(Sink));
        let mut rest = Unsent(OutputChannel {
            writer,
            capacity: buf.len(),
            buf,
        });
        let task = lwt::spawn(async move {
            let _ = rest.0.close().await;
            Ok(())
        });
        drop(task);
    }
}

/// The channel of a drop's flush task: whatever happens to the task, the
/// bytes it could not send are forgotten before the channel drops.
struct Unsent(OutputChannel);

impl Drop for Unsent {
    fn drop(&mut self) {
        self.0.buf.clear();
    }
}

/// A writer that takes everything (what a dropped channel is left with).
struct Sink;

impl AsyncWrite for Sink {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The default buffer size of channels (Lwt_io's `default_buffer_size`).
pub const DEFAULT_BUFFER_SIZE: usize = 4096;

/// A buffered input channel (Lwt_io's `input_channel`).
///
/// ```
/// use lwt_native::io::InputChannel;
/// let (a, b) = lwt_native::net::UnixStream::pair().unwrap();
/// let lines = lwt_native::run(async move {
///     a.write_all(b"one\ntwo\r\nthree").await?;
///     drop(a);
///     let mut ic = InputChannel::new(b);
///     let mut lines = Vec::new();
///     while let Some(line) = ic.read_line().await? {
///         lines.push(line);
///     }
///     Ok(lines)
/// }).unwrap();
/// assert_eq!(lines, ["one", "two", "three"]);
/// ```
pub struct InputChannel {
    reader: Box<dyn AsyncRead + Unpin>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
}

impl std::fmt::Debug for InputChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputChannel")
            .field("buffered", &(self.end - self.start))
            .finish()
    }
}

impl InputChannel {
    /// A channel reading from `reader`, with a buffer of
    /// [`DEFAULT_BUFFER_SIZE`].
    ///
    /// ```
    /// let (_a, b) = lwt_native::net::UnixStream::pair().unwrap();
    /// let _ic = lwt_native::io::InputChannel::new(b);
    /// ```
    pub fn new(reader: impl AsyncRead + Unpin + 'static) -> InputChannel {
        InputChannel::with_capacity(DEFAULT_BUFFER_SIZE, reader)
    }

    /// A channel with a buffer of `capacity` bytes.
    ///
    /// ```
    /// let (_a, b) = lwt_native::net::UnixStream::pair().unwrap();
    /// let _ic = lwt_native::io::InputChannel::with_capacity(64, b);
    /// ```
    pub fn with_capacity(
        capacity: usize,
        reader: impl AsyncRead + Unpin + 'static,
    ) -> InputChannel {
        InputChannel {
            reader: Box::new(reader),
            buf: vec![0; capacity.max(16)],
            start: 0,
            end: 0,
            eof: false,
        }
    }

    fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Reads more into the buffer; `Ok(0)` at end of input.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.eof {
            return Poll::Ready(Ok(0));
        }
        if self.start > 0 && self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let len = self.buf.len();
                self.buf.resize(len * 2, 0);
            }
        }
        let end = self.end;
        match Pin::new(&mut self.reader).poll_read(cx, &mut self.buf[end..]) {
            Poll::Ready(Ok(0)) => {
                self.eof = true;
                Poll::Ready(Ok(0))
            }
            Poll::Ready(Ok(n)) => {
                self.end += n;
                Poll::Ready(Ok(n))
            }
            other => other,
        }
    }

    fn poll_read_line(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<String>, Error>> {
        let mut scanned = 0;
        loop {
            if let Some(i) = self.buffered()[scanned..].iter().position(|&b| b == b'\n') {
                let line_end = self.start + scanned + i;
                let mut line = &self.buf[self.start..line_end];
                if line.last() == Some(&b'\r') {
                    line = &line[..line.len() - 1];
                }
                let s = String::from_utf8_lossy(line).into_owned();
                self.start = line_end + 1;
                return Poll::Ready(Ok(Some(s)));
            }
            scanned = self.end - self.start;
            match self.poll_fill(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(io_err(e))),
                Poll::Ready(Ok(0)) => {
                    if self.start == self.end {
                        return Poll::Ready(Ok(None));
                    }
                    let s = String::from_utf8_lossy(self.buffered()).into_owned();
                    self.start = self.end;
                    return Poll::Ready(Ok(Some(s)));
                }
                // The buffer may have moved; `scanned` counts from `start`.
                Poll::Ready(Ok(_)) => {}
            }
        }
    }

    /// The next line, without its `\n` (or `\r\n`); `None` at end of input.
    /// A last line without a newline is returned as is (Lwt_io's
    /// `read_line_opt`).
    ///
    /// ```
    /// let (a, b) = lwt_native::net::UnixStream::pair().unwrap();
    /// let line = lwt_native::run(async move {
    ///     a.write_all(b"hello\nworld\n").await?;
    ///     lwt_native::io::InputChannel::new(b).read_line().await
    /// }).unwrap();
    /// assert_eq!(line.as_deref(), Some("hello"));
    /// ```
    pub async fn read_line(&mut self) -> Result<Option<String>, Error> {
        poll_fn(|cx| self.poll_read_line(cx)).await
    }

    /// Exactly `n` bytes; an end of input before is an error of kind
    /// `UnexpectedEof` (Lwt_io's `read_into_exactly`).
    ///
    /// ```
    /// let (a, b) = lwt_native::net::UnixStream::pair().unwrap();
    /// let got = lwt_native::run(async move {
    ///     a.write_all(b"abcdef").await?;
    ///     lwt_native::io::InputChannel::new(b).read_exactly(4).await
    /// }).unwrap();
    /// assert_eq!(got, b"abcd");
    /// ```
    pub async fn read_exactly(&mut self, n: usize) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            if self.start == self.end {
                let got = poll_fn(|cx| self.poll_fill(cx)).await.map_err(io_err)?;
                if got == 0 {
                    return Err(io_err(io::ErrorKind::UnexpectedEof.into()));
                }
            }
            let take = (n - out.len()).min(self.end - self.start);
            out.extend_from_slice(&self.buf[self.start..self.start + take]);
            self.start += take;
        }
        Ok(out)
    }

    /// Up to `max` bytes: what is buffered, or one read if nothing is;
    /// empty at end of input (Lwt_io's `read ~count`).
    ///
    /// ```
    /// let (a, b) = lwt_native::net::UnixStream::pair().unwrap();
    /// let got = lwt_native::run(async move {
    ///     a.write_all(b"xyz").await?;
    ///     lwt_native::io::InputChannel::new(b).read(2).await
    /// }).unwrap();
    /// assert_eq!(got, b"xy");
    /// ```
    pub async fn read(&mut self, max: usize) -> Result<Vec<u8>, Error> {
        if self.start == self.end {
            poll_fn(|cx| self.poll_fill(cx)).await.map_err(io_err)?;
        }
        let take = max.min(self.end - self.start);
        let out = self.buf[self.start..self.start + take].to_vec();
        self.start += take;
        Ok(out)
    }

    /// Everything up to the end of input (Lwt_io's `read` without a count).
    ///
    /// ```
    /// let (a, b) = lwt_native::net::UnixStream::pair().unwrap();
    /// let all = lwt_native::run(async move {
    ///     a.write_all(b"all of it").await?;
    ///     drop(a);
    ///     lwt_native::io::InputChannel::new(b).read_to_end().await
    /// }).unwrap();
    /// assert_eq!(all, b"all of it");
    /// ```
    pub async fn read_to_end(&mut self) -> Result<Vec<u8>, Error> {
        loop {
            let n = poll_fn(|cx| self.poll_fill(cx)).await.map_err(io_err)?;
            if n == 0 {
                let out = self.buffered().to_vec();
                self.start = self.end;
                return Ok(out);
            }
        }
    }

    /// Everything up to the end of input, as text (invalid UTF-8 is an
    /// error of kind `InvalidData`).
    ///
    /// ```
    /// let (a, b) = lwt_native::net::UnixStream::pair().unwrap();
    /// let all = lwt_native::run(async move {
    ///     a.write_all(b"text").await?;
    ///     drop(a);
    ///     lwt_native::io::InputChannel::new(b).read_to_string().await
    /// }).unwrap();
    /// assert_eq!(all, "text");
    /// ```
    pub async fn read_to_string(&mut self) -> Result<String, Error> {
        let bytes = self.read_to_end().await?;
        String::from_utf8(bytes).map_err(|e| io_err(io::Error::new(io::ErrorKind::InvalidData, e)))
    }

    /// The lines of the channel, as a `futures_core::Stream` (Lwt_io's
    /// `read_lines`).
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::pin::Pin;
    /// use futures_core::Stream;
    /// let (a, b) = lwt_native::net::UnixStream::pair().unwrap();
    /// let n = lwt_native::run(async move {
    ///     a.write_all(b"1\n2\n3\n").await?;
    ///     drop(a);
    ///     let mut lines = lwt_native::io::InputChannel::new(b).lines();
    ///     let mut n = 0;
    ///     while let Some(line) = poll_fn(|cx| Pin::new(&mut lines).poll_next(cx)).await {
    ///         n += line?.parse::<u32>()?;
    ///     }
    ///     Ok(n)
    /// }).unwrap();
    /// assert_eq!(n, 6);
    /// ```
    pub fn lines(self) -> Lines {
        Lines(self)
    }
}

/// The stream of [`InputChannel::lines`].
///
/// ```
/// let (_a, b) = lwt_native::net::UnixStream::pair().unwrap();
/// let _lines: lwt_native::io::Lines = lwt_native::io::InputChannel::new(b).lines();
/// ```
#[derive(Debug)]
pub struct Lines(InputChannel);

impl futures_core::Stream for Lines {
    type Item = Result<String, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_read_line(cx).map(Result::transpose)
    }
}

/// A buffered output channel (Lwt_io's `output_channel`). Writes go to the
/// buffer and reach the writer when it is full or on [`OutputChannel::flush`].
///
/// ```
/// use lwt_native::io::{InputChannel, OutputChannel};
/// let (a, b) = lwt_native::net::UnixStream::pair().unwrap();
/// let line = lwt_native::run(async move {
///     let mut oc = OutputChannel::new(a);
///     oc.write_line("buffered").await?;
///     oc.flush().await?;
///     InputChannel::new(b).read_line().await
/// }).unwrap();
/// assert_eq!(line.as_deref(), Some("buffered"));
/// ```
pub struct OutputChannel {
    writer: Box<dyn AsyncWrite + Unpin>,
    buf: Vec<u8>,
    capacity: usize,
}

impl std::fmt::Debug for OutputChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputChannel")
            .field("buffered", &self.buf.len())
            .finish()
    }
}

impl OutputChannel {
    /// A channel writing to `writer`, with a buffer of
    /// [`DEFAULT_BUFFER_SIZE`].
    ///
    /// ```
    /// let (a, _b) = lwt_native::net::UnixStream::pair().unwrap();
    /// let _oc = lwt_native::io::OutputChannel::new(a);
    /// ```
    pub fn new(writer: impl AsyncWrite + Unpin + 'static) -> OutputChannel {
        OutputChannel::with_capacity(DEFAULT_BUFFER_SIZE, writer)
    }

    /// A channel with a buffer of `capacity` bytes.
    ///
    /// ```
    /// let (a, _b) = lwt_native::net::UnixStream::pair().unwrap();
    /// let _oc = lwt_native::io::OutputChannel::with_capacity(64, a);
    /// ```
    pub fn with_capacity(
        capacity: usize,
        writer: impl AsyncWrite + Unpin + 'static,
    ) -> OutputChannel {
        OutputChannel {
            writer: Box::new(writer),
            buf: Vec::with_capacity(capacity),
            capacity: capacity.max(1),
        }
    }

    /// Sends the buffer on. What the writer took leaves the buffer when the
    /// drain ends, also when it is canceled halfway (so no byte is sent
    /// twice), and in one move (so a large buffer written in many pieces
    /// is not shifted after each).
    async fn drain(&mut self) -> Result<(), Error> {
        /// The buffer and how much of it was sent: dropped, it forgets that.
        struct Sent<'a> {
            buf: &'a mut Vec<u8>,
            done: usize,
        }
        impl Drop for Sent<'_> {
            fn drop(&mut self) {
                self.buf.drain(..self.done);
            }
        }
        let OutputChannel { writer, buf, .. } = self;
        let mut sent = Sent { buf, done: 0 };
        poll_fn(|cx| {
            while sent.done < sent.buf.len() {
                match Pin::new(&mut *writer).poll_write(cx, &sent.buf[sent.done..]) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                    Poll::Ready(Ok(n)) => sent.done += n,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                }
            }
            Poll::Ready(Ok(()))
        })
        .await
        .map_err(io_err)
    }

    /// Writes all of `data` into the buffer, sending it on when the buffer
    /// fills (Lwt_io's `write` / `write_from_exactly`).
    ///
    /// ```
    /// let (a, _b) = lwt_native::net::UnixStream::pair().unwrap();
    /// lwt_native::run(async move {
    ///     let mut oc = lwt_native::io::OutputChannel::new(a);
    ///     oc.write(b"bytes").await?;
    ///     oc.flush().await
    /// }).unwrap();
    /// ```
    pub async fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.buf.len() + data.len() > self.capacity {
            self.drain().await?;
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= self.capacity {
            self.drain().await?;
        }
        Ok(())
    }

    /// Same as [`OutputChannel::write`] (named after `Write::write_all`).
    ///
    /// ```
    /// let (a, _b) = lwt_native::net::UnixStream::pair().unwrap();
    /// lwt_native::run(async move {
    ///     let mut oc = lwt_native::io::OutputChannel::new(a);
    ///     oc.write_all(b"bytes").await?;
    ///     oc.flush().await
    /// }).unwrap();
    /// ```
    pub async fn write_all(&mut self, data: &[u8]) -> Result<(), Error> {
        self.write(data).await
    }

    /// Writes `line` and a newline (Lwt_io's `write_line`).
    ///
    /// ```
    /// let (a, _b) = lwt_native::net::UnixStream::pair().unwrap();
    /// lwt_native::run(async move {
    ///     let mut oc = lwt_native::io::OutputChannel::new(a);
    ///     oc.write_line("a line").await?;
    ///     oc.flush().await
    /// }).unwrap();
    /// ```
    pub async fn write_line(&mut self, line: &str) -> Result<(), Error> {
        self.write(line.as_bytes()).await?;
        self.write(b"\n").await
    }

    /// Sends the buffered bytes on (Lwt_io's `flush`).
    ///
    /// ```
    /// let (a, _b) = lwt_native::net::UnixStream::pair().unwrap();
    /// lwt_native::run(async move { lwt_native::io::OutputChannel::new(a).flush().await }).unwrap();
    /// ```
    pub async fn flush(&mut self) -> Result<(), Error> {
        self.drain().await?;
        poll_fn(|cx| Pin::new(&mut self.writer).poll_flush(cx))
            .await
            .map_err(io_err)
    }

    /// Flushes, then closes the writer (a socket's writing side is shut
    /// down: the peer reads end of input).
    ///
    /// ```
    /// let (a, b) = lwt_native::net::UnixStream::pair().unwrap();
    /// let rest = lwt_native::run(async move {
    ///     let mut oc = lwt_native::io::OutputChannel::new(a);
    ///     oc.write(b"last words").await?;
    ///     oc.close().await?;
    ///     lwt_native::io::InputChannel::new(b).read_to_end().await
    /// }).unwrap();
    /// assert_eq!(rest, b"last words");
    /// ```
    pub async fn close(&mut self) -> Result<(), Error> {
        self.flush().await?;
        poll_fn(|cx| Pin::new(&mut self.writer).poll_close(cx))
            .await
            .map_err(io_err)
    }
}

/// An adapter that runs a blocking reader's or writer's calls on the
/// blocking pool, as [`futures_io::AsyncRead`] / [`futures_io::AsyncWrite`]:
/// for files, terminals, and the standard streams.
///
/// ```
/// use lwt_native::io::{Blocking, InputChannel};
/// let mut ic = InputChannel::new(Blocking::new(&b"from a slice\n"[..]));
/// let line = lwt_native::run(async move { ic.read_line().await }).unwrap();
/// assert_eq!(line.as_deref(), Some("from a slice"));
/// ```
pub struct Blocking<T: Send + 'static> {
    inner: Arc<Mutex<T>>,
    reading: Option<Promise<Arc<Vec<u8>>>>,
    leftover: Vec<u8>,
    writing: Option<Promise<usize>>,
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
///     let mut out = lwt_native::io::stdout();
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
///     let mut err = lwt_native::io::stderr();
///     err.write_line("a warning").await?;
///     err.flush().await
/// }).unwrap();
/// ```
pub fn stderr() -> OutputChannel {
    OutputChannel::new(Blocking::new(io::stderr()))
}
