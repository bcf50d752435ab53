//! [`OutputChannel`]: a buffered writer that flushes on its own after the
//! current turn (Lwt_io's auto-flush).
//!
//! * When an operation ends (its lock released) with bytes left in the
//!   buffer, and no auto-flush is scheduled, one is: a task that waits for
//!   [`crate::pause`] and then flushes under the lock of the innermost
//!   wrapper, if nothing holds it; if something does, the operation that
//!   holds it schedules again when it ends. Errors of an auto-flush are
//!   dropped (as Lwt's `safe_flush_total`): the next operation meets them.
//! * What the writer took leaves the buffer as it is taken (`sent`), also
//!   when a flush is canceled halfway, so no byte is sent twice.
//! * The last handle dropped with bytes still buffered sends them from a
//!   task of its own (the auto-flush, or one the drop starts), then closes
//!   the writer, unless the writer failed before (it is not retried).

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_io::{AsyncSeek, AsyncWrite};

use super::lock::{self, EndAtomic, Guard, Wrapper};
use super::memory::{Memory, SharedBytes};
use super::{closed, io_error, not_seekable, NoSeek, Sink, DEFAULT_BUFFER_SIZE};
use crate::Error;

struct OutState {
    writer: Option<Box<dyn Sink>>,
    seekable: bool,
    buf: Vec<u8>,
    /// How much of `buf` the writer took already.
    sent: usize,
    capacity: usize,
    /// The position just after the last byte the writer took.
    offset: u64,
    closed: bool,
    /// The writer failed once: a drop does not retry it.
    broken: bool,
}

struct OutChan {
    main: Rc<Wrapper>,
    st: RefCell<OutState>,
    auto_flushing: Cell<bool>,
    /// False for the channel a drop makes to send what was left.
    auto_flush: bool,
}

/// A buffered output channel (Lwt_io's `output_channel`). Writes go to the
/// buffer; it is sent when full, on [`OutputChannel::flush`], and on its own
/// after the current turn (see [`crate::io`]). Clones are handles to the
/// same channel.
///
/// ```
/// use lwt::io::{OutputChannel, SharedBytes};
/// let bytes = SharedBytes::new();
/// let oc = OutputChannel::of_bytes(bytes.clone());
/// let p = lwt::spawn(async move {
///     oc.write_line("buffered").await?;
///     oc.flush().await
/// });
/// p.peek().unwrap().unwrap();
/// assert_eq!(bytes.to_vec(), b"buffered\n");
/// ```
#[derive(Clone)]
pub struct OutputChannel {
    ch: Rc<OutChan>,
    w: Rc<Wrapper>,
}

impl std::fmt::Debug for OutputChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.ch.st.borrow();
        f.debug_struct("OutputChannel")
            .field("buffered", &st.pending())
            .field("closed", &st.closed)
            .finish()
    }
}

impl OutState {
    fn pending(&self) -> usize {
        self.buf.len() - self.sent
    }

    fn writer(&mut self, what: &str) -> Result<&mut Box<dyn Sink>, Error> {
        match self.writer.as_mut() {
            Some(w) if !self.closed => Ok(w),
            _ => Err(closed(what, "output")),
        }
    }

    /// Appends to the buffer (forgetting what was sent first).
    fn append(&mut self, data: &[u8]) {
        if self.sent > 0 {
            self.buf.drain(..self.sent);
            self.sent = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Sends the buffer on.
    fn poll_drain(&mut self, cx: &mut Context<'_>, what: &str) -> Poll<Result<(), Error>> {
        while self.sent < self.buf.len() {
            let writer = match self.writer.as_mut() {
                Some(w) if !self.closed => w,
                _ => return Poll::Ready(Err(closed(what, "output"))),
            };
            match Pin::new(writer).poll_write(cx, &self.buf[self.sent..]) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(0)) => {
                    self.broken = true;
                    return Poll::Ready(Err(io_error(io::ErrorKind::WriteZero.into())));
                }
                Poll::Ready(Ok(n)) => {
                    self.sent += n;
                    self.offset += n as u64;
                }
                Poll::Ready(Err(e)) => {
                    self.broken = true;
                    return Poll::Ready(Err(io_error(e)));
                }
            }
        }
        self.buf.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }

    /// Sends the buffer on, then flushes the writer.
    fn poll_flush(&mut self, cx: &mut Context<'_>, what: &str) -> Poll<Result<(), Error>> {
        match self.poll_drain(cx, what) {
            Poll::Ready(Ok(())) => {}
            other => return other,
        }
        let writer = match self.writer(what) {
            Ok(w) => w,
            Err(e) => return Poll::Ready(Err(e)),
        };
        Pin::new(writer).poll_flush(cx).map_err(io_error)
    }
}

/// A held lock of an output channel: released, it schedules an auto-flush.
struct OutGuard {
    guard: Option<Guard>,
    ch: Rc<OutChan>,
}

impl Drop for OutGuard {
    fn drop(&mut self) {
        drop(self.guard.take());
        schedule_auto_flush(&self.ch);
    }
}

fn schedule_auto_flush(ch: &Rc<OutChan>) {
    if !ch.auto_flush || ch.auto_flushing.get() {
        return;
    }
    {
        let st = ch.st.borrow();
        if st.closed || st.pending() == 0 {
            return;
        }
    }
    if !lock::deepest(&ch.main).is_idle() {
        // The operation holding the lock schedules when it ends.
        return;
    }
    ch.auto_flushing.set(true);
    let ch = ch.clone();
    let task = crate::spawn(async move {
        let turn = crate::pause().await;
        ch.auto_flushing.set(false);
        turn?;
        let w = lock::deepest(&ch.main);
        if !w.is_idle() {
            return Ok(());
        }
        let _guard = lock::acquire(&w, "auto-flush").await?;
        let _ = poll_fn(|cx| {
            let mut st = ch.st.borrow_mut();
            if st.closed {
                return Poll::Ready(Ok(()));
            }
            st.poll_flush(cx, "auto-flush")
        })
        .await;
        if Rc::strong_count(&ch) == 1 {
            // Every handle was dropped meanwhile: end as a drop with bytes
            // buffered does, closing the writer.
            let _ = poll_fn(|cx| {
                let mut st = ch.st.borrow_mut();
                let open = !st.closed;
                let r = match st.writer.as_mut().filter(|_| open) {
                    Some(w) => Pin::new(w).poll_close(cx),
                    None => Poll::Ready(Ok(())),
                };
                if r.is_ready() {
                    st.closed = true;
                }
                r
            })
            .await;
        }
        Ok(())
    });
    drop(task);
}

impl Drop for OutChan {
    fn drop(&mut self) {
        let st = self.st.get_mut();
        if st.closed || st.broken || st.pending() == 0 {
            return;
        }
        let Some(writer) = st.writer.take() else {
            return;
        };
        let mut buf = std::mem::take(&mut st.buf);
        buf.drain(..st.sent);
        let rest = Unsent(OutputChannel::make(
            buf.len(),
            writer,
            st.seekable,
            buf,
            false,
        ));
        let task = crate::spawn(async move {
            let _ = rest.0.close().await;
            Ok(())
        });
        drop(task);
    }
}

/// The channel of a drop's flush task: whatever happens to the task, the
/// bytes it could not send are forgotten before the channel drops (else
/// dropping it would start the same task again, forever).
struct Unsent(OutputChannel);

impl Drop for Unsent {
    fn drop(&mut self) {
        let mut st = self.0.ch.st.borrow_mut();
        st.buf.clear();
        st.sent = 0;
    }
}

macro_rules! write_numbers {
    ($($name:ident: $t:ty, $to:ident, $order:literal;)*) => {$(
        #[doc = concat!("Writes a `", stringify!($t), "` in ", $order, " byte order (Lwt_io's `",
            $order, "` module).")]
        ///
        /// ```
        /// let bytes = lwt::io::SharedBytes::new();
        /// let oc = lwt::io::OutputChannel::of_bytes(bytes.clone());
        #[doc = concat!("let v: ", stringify!($t), " = 42 as ", stringify!($t), ";")]
        #[doc = concat!("let p = lwt::spawn(async move { oc.", stringify!($name),
            "(v).await?; oc.flush().await });")]
        /// p.peek().unwrap().unwrap();
        #[doc = concat!("assert_eq!(bytes.to_vec(), v.", stringify!($to), "());")]
        /// ```
        pub async fn $name(&self, v: $t) -> Result<(), Error> {
            self.write_as(&v.$to(), stringify!($name)).await
        }
    )*};
}

impl OutputChannel {
    fn make(
        capacity: usize,
        writer: Box<dyn Sink>,
        seekable: bool,
        buf: Vec<u8>,
        auto_flush: bool,
    ) -> OutputChannel {
        let main = Wrapper::new();
        OutputChannel {
            ch: Rc::new(OutChan {
                main: main.clone(),
                st: RefCell::new(OutState {
                    writer: Some(writer),
                    seekable,
                    buf,
                    sent: 0,
                    capacity: capacity.max(1),
                    offset: 0,
                    closed: false,
                    broken: false,
                }),
                auto_flushing: Cell::new(false),
                auto_flush,
            }),
            w: main,
        }
    }

    /// A channel writing to `writer`, with a buffer of
    /// [`DEFAULT_BUFFER_SIZE`]. It cannot seek; see
    /// [`OutputChannel::seekable`].
    ///
    /// ```
    /// let _oc = lwt::io::OutputChannel::new(Vec::<u8>::new());
    /// ```
    pub fn new(writer: impl AsyncWrite + Unpin + 'static) -> OutputChannel {
        OutputChannel::with_capacity(DEFAULT_BUFFER_SIZE, writer)
    }

    /// A channel with a buffer of `capacity` bytes (at least 1).
    ///
    /// ```
    /// let _oc = lwt::io::OutputChannel::with_capacity(64, Vec::<u8>::new());
    /// ```
    pub fn with_capacity(
        capacity: usize,
        writer: impl AsyncWrite + Unpin + 'static,
    ) -> OutputChannel {
        OutputChannel::make(
            capacity,
            Box::new(NoSeek(writer)),
            false,
            Vec::with_capacity(capacity),
            true,
        )
    }

    /// A channel over a writer that can seek, so that
    /// [`OutputChannel::set_position`] works (a file, say).
    ///
    /// ```
    /// # struct Cursor(std::rc::Rc<std::cell::RefCell<std::io::Cursor<Vec<u8>>>>);
    /// # impl futures_io::AsyncWrite for Cursor {
    /// #     fn poll_write(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>, b: &[u8]) -> std::task::Poll<std::io::Result<usize>> {
    /// #         std::task::Poll::Ready(std::io::Write::write(&mut *self.0.borrow_mut(), b))
    /// #     }
    /// #     fn poll_flush(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> { std::task::Poll::Ready(Ok(())) }
    /// #     fn poll_close(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> { std::task::Poll::Ready(Ok(())) }
    /// # }
    /// # impl futures_io::AsyncSeek for Cursor {
    /// #     fn poll_seek(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>, p: std::io::SeekFrom) -> std::task::Poll<std::io::Result<u64>> {
    /// #         std::task::Poll::Ready(std::io::Seek::seek(&mut *self.0.borrow_mut(), p))
    /// #     }
    /// # }
    /// let file = std::rc::Rc::new(std::cell::RefCell::new(std::io::Cursor::new(Vec::new())));
    /// let oc = lwt::io::OutputChannel::seekable(Cursor(file.clone()));
    /// let p = lwt::spawn(async move {
    ///     oc.write(b"hello").await?;
    ///     oc.set_position(0).await?;
    ///     oc.write(b"J").await?;
    ///     oc.flush().await
    /// });
    /// p.peek().unwrap().unwrap();
    /// assert_eq!(file.borrow().get_ref(), b"Jello");
    /// ```
    pub fn seekable(writer: impl AsyncWrite + AsyncSeek + Unpin + 'static) -> OutputChannel {
        OutputChannel::make(
            DEFAULT_BUFFER_SIZE,
            Box::new(writer),
            true,
            Vec::with_capacity(DEFAULT_BUFFER_SIZE),
            true,
        )
    }

    /// A channel writing into `bytes` from their start (Lwt_io's `of_bytes
    /// ~mode:output`): it overwrites what is there and grows the bytes past
    /// their end. It seeks. Written bytes reach `bytes` when flushed (or on
    /// their own after the turn).
    ///
    /// ```
    /// let bytes = lwt::io::SharedBytes::from("xxxxx");
    /// let oc = lwt::io::OutputChannel::of_bytes(bytes.clone());
    /// let p = lwt::spawn(async move {
    ///     oc.write(b"ab").await?;
    ///     oc.flush().await
    /// });
    /// p.peek().unwrap().unwrap();
    /// assert_eq!(bytes.to_vec(), b"abxxx");
    /// ```
    pub fn of_bytes(bytes: impl Into<SharedBytes>) -> OutputChannel {
        OutputChannel::make(
            DEFAULT_BUFFER_SIZE,
            Box::new(Memory::new(bytes.into())),
            true,
            Vec::with_capacity(DEFAULT_BUFFER_SIZE),
            true,
        )
    }

    /// Runs one operation, `poll`, under the channel's lock.
    async fn op<T>(
        &self,
        what: &'static str,
        mut poll: impl FnMut(&mut OutState, &mut Context<'_>) -> Poll<Result<T, Error>>,
    ) -> Result<T, Error> {
        let guard = lock::acquire(&self.w, what).await?;
        let _guard = OutGuard {
            guard: Some(guard),
            ch: self.ch.clone(),
        };
        poll_fn(|cx| {
            let mut st = self.ch.st.borrow_mut();
            if st.closed {
                return Poll::Ready(Err(closed(what, "output")));
            }
            poll(&mut st, cx)
        })
        .await
    }

    async fn write_as(&self, data: &[u8], what: &'static str) -> Result<(), Error> {
        // 0: make room, 1: append, 2: send a full buffer on.
        let mut step = 0;
        self.op(what, |st, cx| {
            if step == 0 {
                if st.pending() + data.len() > st.capacity {
                    match st.poll_drain(cx, what) {
                        Poll::Ready(Ok(())) => {}
                        other => return other,
                    }
                }
                step = 1;
            }
            if step == 1 {
                st.append(data);
                step = 2;
            }
            if st.pending() >= st.capacity {
                return st.poll_drain(cx, what);
            }
            Poll::Ready(Ok(()))
        })
        .await
    }

    /// Writes all of `data` into the buffer, sending it on when the buffer
    /// fills (Lwt_io's `write`).
    ///
    /// ```
    /// let bytes = lwt::io::SharedBytes::new();
    /// let oc = lwt::io::OutputChannel::of_bytes(bytes.clone());
    /// let p = lwt::spawn(async move {
    ///     oc.write(b"bytes").await?;
    ///     oc.flush().await
    /// });
    /// p.peek().unwrap().unwrap();
    /// assert_eq!(bytes.to_vec(), b"bytes");
    /// ```
    pub async fn write(&self, data: &[u8]) -> Result<(), Error> {
        self.write_as(data, "write").await
    }

    /// Same as [`OutputChannel::write`] (named after `Write::write_all`).
    ///
    /// ```
    /// let oc = lwt::io::OutputChannel::of_bytes(lwt::io::SharedBytes::new());
    /// let p = lwt::spawn(async move { oc.write_all(b"bytes").await });
    /// p.peek().unwrap().unwrap();
    /// ```
    pub async fn write_all(&self, data: &[u8]) -> Result<(), Error> {
        self.write_as(data, "write_all").await
    }

    /// Writes all of `data` (Lwt_io's `write_from_exactly`, the slice
    /// standing for its buffer, offset and length).
    ///
    /// ```
    /// let bytes = lwt::io::SharedBytes::new();
    /// let oc = lwt::io::OutputChannel::of_bytes(bytes.clone());
    /// let p = lwt::spawn(async move {
    ///     oc.write_from_exactly(&b"0123456789"[2..5]).await?;
    ///     oc.flush().await
    /// });
    /// p.peek().unwrap().unwrap();
    /// assert_eq!(bytes.to_vec(), b"234");
    /// ```
    pub async fn write_from_exactly(&self, data: &[u8]) -> Result<(), Error> {
        self.write_as(data, "write_from_exactly").await
    }

    /// Writes as much of `data` as the buffer takes, sending the buffer on
    /// first if it is full; gives how many bytes it took, at least one
    /// unless `data` is empty (Lwt_io's `write_from`).
    ///
    /// ```
    /// let oc = lwt::io::OutputChannel::with_capacity(4, Vec::<u8>::new());
    /// let p = lwt::spawn(async move { oc.write_from(b"0123456789").await });
    /// assert_eq!(p.peek().unwrap().unwrap(), 4);
    /// ```
    pub async fn write_from(&self, data: &[u8]) -> Result<usize, Error> {
        if data.is_empty() {
            return Ok(0);
        }
        self.op("write_from", |st, cx| {
            if st.pending() >= st.capacity {
                match st.poll_drain(cx, "write_from") {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            }
            let n = data.len().min(st.capacity - st.pending());
            st.append(&data[..n]);
            Poll::Ready(Ok(n))
        })
        .await
    }

    /// Writes `line` and a newline (Lwt_io's `write_line`).
    ///
    /// ```
    /// let bytes = lwt::io::SharedBytes::new();
    /// let oc = lwt::io::OutputChannel::of_bytes(bytes.clone());
    /// let p = lwt::spawn(async move {
    ///     oc.write_line("a line").await?;
    ///     oc.flush().await
    /// });
    /// p.peek().unwrap().unwrap();
    /// assert_eq!(bytes.to_vec(), b"a line\n");
    /// ```
    pub async fn write_line(&self, line: &str) -> Result<(), Error> {
        let mut data = Vec::with_capacity(line.len() + 1);
        data.extend_from_slice(line.as_bytes());
        data.push(b'\n');
        self.write_as(&data, "write_line").await
    }

    /// Writes one byte (Lwt_io's `write_char`: an OCaml `char` is a byte).
    ///
    /// ```
    /// let bytes = lwt::io::SharedBytes::new();
    /// let oc = lwt::io::OutputChannel::of_bytes(bytes.clone());
    /// let p = lwt::spawn(async move {
    ///     oc.write_byte(b'!').await?;
    ///     oc.flush().await
    /// });
    /// p.peek().unwrap().unwrap();
    /// assert_eq!(bytes.to_vec(), b"!");
    /// ```
    pub async fn write_byte(&self, b: u8) -> Result<(), Error> {
        self.write_as(&[b], "write_byte").await
    }

    /// Writes one character, encoded in UTF-8.
    ///
    /// ```
    /// let bytes = lwt::io::SharedBytes::new();
    /// let oc = lwt::io::OutputChannel::of_bytes(bytes.clone());
    /// let p = lwt::spawn(async move {
    ///     oc.write_char('λ').await?;
    ///     oc.flush().await
    /// });
    /// p.peek().unwrap().unwrap();
    /// assert_eq!(bytes.to_vec(), "λ".as_bytes());
    /// ```
    pub async fn write_char(&self, c: char) -> Result<(), Error> {
        let mut b = [0u8; 4];
        self.write_as(c.encode_utf8(&mut b).as_bytes(), "write_char")
            .await
    }

    write_numbers! {
        write_i16_le: i16, to_le_bytes, "little-endian";
        write_i16_be: i16, to_be_bytes, "big-endian";
        write_u16_le: u16, to_le_bytes, "little-endian";
        write_u16_be: u16, to_be_bytes, "big-endian";
        write_i32_le: i32, to_le_bytes, "little-endian";
        write_i32_be: i32, to_be_bytes, "big-endian";
        write_u32_le: u32, to_le_bytes, "little-endian";
        write_u32_be: u32, to_be_bytes, "big-endian";
        write_i64_le: i64, to_le_bytes, "little-endian";
        write_i64_be: i64, to_be_bytes, "big-endian";
        write_u64_le: u64, to_le_bytes, "little-endian";
        write_u64_be: u64, to_be_bytes, "big-endian";
        write_f32_le: f32, to_le_bytes, "little-endian";
        write_f32_be: f32, to_be_bytes, "big-endian";
        write_f64_le: f64, to_le_bytes, "little-endian";
        write_f64_be: f64, to_be_bytes, "big-endian";
    }

    /// Sends the buffered bytes on and flushes the writer (Lwt_io's
    /// `flush`).
    ///
    /// ```
    /// let bytes = lwt::io::SharedBytes::new();
    /// let oc = lwt::io::OutputChannel::of_bytes(bytes.clone());
    /// let p = lwt::spawn(async move {
    ///     oc.write(b"now").await?;
    ///     oc.flush().await
    /// });
    /// p.peek().unwrap().unwrap();
    /// assert_eq!(bytes.to_vec(), b"now");
    /// ```
    pub async fn flush(&self) -> Result<(), Error> {
        self.op("flush", |st, cx| st.poll_flush(cx, "flush")).await
    }

    /// Flushes, then closes the writer (a socket's writing side is shut
    /// down: the peer reads end of input), in turn after the operations
    /// called before (Lwt_io's `close`). The writer is closed and dropped
    /// even when the flush fails; the flush's error is returned. Later
    /// operations fail with an error for which [`Error::is_closed`] holds;
    /// closing again does nothing. The temporary channel of an
    /// [`OutputChannel::atomic`] cannot be closed (an invalid-argument
    /// error).
    ///
    /// ```
    /// let bytes = lwt::io::SharedBytes::new();
    /// let oc = lwt::io::OutputChannel::of_bytes(bytes.clone());
    /// let p = lwt::spawn(async move {
    ///     oc.write(b"last words").await?;
    ///     oc.close().await?;
    ///     Ok(oc.write(b"more").await.unwrap_err().is_closed())
    /// });
    /// assert!(p.peek().unwrap().unwrap());
    /// assert_eq!(bytes.to_vec(), b"last words");
    /// ```
    pub async fn close(&self) -> Result<(), Error> {
        if !Rc::ptr_eq(&self.w, &self.ch.main) {
            return Err(Error::invalid_argument(
                "close: cannot close the temporary channel of `atomic`",
            ));
        }
        if self.is_closed() {
            return Ok(());
        }
        let guard = lock::acquire(&self.w, "close").await?;
        let _guard = OutGuard {
            guard: Some(guard),
            ch: self.ch.clone(),
        };
        let mut flushed = None;
        let result = poll_fn(|cx| {
            let mut st = self.ch.st.borrow_mut();
            if st.closed {
                return Poll::Ready(Ok(()));
            }
            if flushed.is_none() {
                match st.poll_flush(cx, "close") {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(r) => flushed = Some(r),
                }
            }
            let r = match st.writer.as_mut() {
                Some(w) => match Pin::new(w).poll_close(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(r) => r.map_err(io_error),
                },
                None => Ok(()),
            };
            st.closed = true;
            st.buf.clear();
            st.sent = 0;
            let writer = st.writer.take();
            drop(st);
            drop(writer);
            Poll::Ready(flushed.take().unwrap_or(Ok(())).and(r))
        })
        .await;
        result
    }

    /// True once the channel is closed.
    ///
    /// ```
    /// assert!(!lwt::io::OutputChannel::new(Vec::<u8>::new()).is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.ch.st.borrow().closed
    }

    /// The position of the next byte written: bytes written since the
    /// channel was made (buffered ones included), or from the position last
    /// set (Lwt_io's `position`).
    ///
    /// ```
    /// let oc = lwt::io::OutputChannel::new(Vec::<u8>::new());
    /// let p = lwt::spawn(async move {
    ///     oc.write(b"four").await?;
    ///     Ok(oc.position())
    /// });
    /// assert_eq!(p.peek().unwrap().unwrap(), 4);
    /// ```
    pub fn position(&self) -> u64 {
        let st = self.ch.st.borrow();
        st.offset + st.pending() as u64
    }

    /// Sends the buffer on, then moves to byte `pos` (Lwt_io's
    /// `set_position`). On a channel that cannot seek (made with
    /// [`OutputChannel::new`]) it is an invalid-argument error, and nothing
    /// is sent.
    ///
    /// ```
    /// let bytes = lwt::io::SharedBytes::new();
    /// let oc = lwt::io::OutputChannel::of_bytes(bytes.clone());
    /// let p = lwt::spawn(async move {
    ///     oc.write(b"hello world").await?;
    ///     oc.set_position(6).await?;
    ///     oc.write(b"there").await?;
    ///     oc.flush().await?;
    ///     let pipe = lwt::io::OutputChannel::new(Vec::<u8>::new());
    ///     Ok(pipe.set_position(0).await.unwrap_err().is_invalid_argument())
    /// });
    /// assert!(p.peek().unwrap().unwrap());
    /// assert_eq!(bytes.to_vec(), b"hello there");
    /// ```
    pub async fn set_position(&self, pos: u64) -> Result<(), Error> {
        self.op("set_position", |st, cx| {
            if !st.seekable {
                return Poll::Ready(Err(not_seekable("set_position")));
            }
            match st.poll_drain(cx, "set_position") {
                Poll::Ready(Ok(())) => {}
                other => return other,
            }
            let writer = match st.writer("set_position") {
                Ok(w) => w,
                Err(e) => return Poll::Ready(Err(e)),
            };
            match Pin::new(writer).poll_seek(cx, SeekFrom::Start(pos)) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Err(e)) => Poll::Ready(Err(io_error(e))),
                Poll::Ready(Ok(p)) => {
                    st.offset = p;
                    Poll::Ready(Ok(()))
                }
            }
        })
        .await
    }

    /// Runs `f` with exclusive use of the channel (Lwt_io's `atomic`): `f`
    /// gets a temporary handle to it, and other handles' operations wait
    /// until `f`'s future is done; so what `f` writes is not interleaved
    /// with other writers'. After that, the temporary handle fails with an
    /// invalid-argument error.
    ///
    /// ```
    /// let bytes = lwt::io::SharedBytes::new();
    /// let oc = lwt::io::OutputChannel::of_bytes(bytes.clone());
    /// let record = lwt::spawn({
    ///     let oc = oc.clone();
    ///     async move {
    ///         oc.atomic(|oc| async move {
    ///             oc.write(b"key=").await?;
    ///             lwt::pause().await?; // another writer must wait
    ///             oc.write(b"value\n").await
    ///         })
    ///         .await
    ///     }
    /// });
    /// let other = lwt::spawn({
    ///     let oc = oc.clone();
    ///     async move { oc.write(b"next\n").await }
    /// });
    /// lwt::wakeup_paused();
    /// let flushed = lwt::spawn(async move { oc.flush().await });
    /// assert!(record.peek().unwrap().is_ok() && other.peek().unwrap().is_ok());
    /// flushed.peek().unwrap().unwrap();
    /// assert_eq!(bytes.to_vec(), b"key=value\nnext\n");
    /// ```
    pub async fn atomic<T, F, Fut>(&self, f: F) -> Result<T, Error>
    where
        F: FnOnce(OutputChannel) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let guard = lock::acquire(&self.w, "atomic").await?;
        let _guard = OutGuard {
            guard: Some(guard),
            ch: self.ch.clone(),
        };
        if self.is_closed() {
            return Err(closed("atomic", "output"));
        }
        let tmp = Wrapper::new();
        self.w.set_atomic(tmp.clone());
        let _end = EndAtomic(tmp.clone());
        f(OutputChannel {
            ch: self.ch.clone(),
            w: tmp,
        })
        .await
    }
}
