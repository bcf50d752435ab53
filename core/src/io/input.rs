//! [`InputChannel`]: a buffered reader, and its [`Lines`].
//!
//! Every read is a poll function over the channel's state ([`InState`]),
//! run while the channel's lock is held; the state is borrowed inside one
//! poll only, never across an `.await`.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_io::{AsyncRead, AsyncSeek};

use super::lock::{self, Acquire, EndAtomic, Guard, Wrapper};
use super::memory::{Memory, SharedBytes};
use super::{closed, end_of_file, io_error, not_seekable, NoSeek, Source, DEFAULT_BUFFER_SIZE};
use crate::Error;

struct InState {
    reader: Option<Box<dyn Source>>,
    seekable: bool,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// The position just after the last byte read from `reader`.
    offset: u64,
    closed: bool,
    /// The waker of the read waiting on `reader`, woken by `close`.
    waker: Option<Waker>,
}

struct InChan {
    main: Rc<Wrapper>,
    st: RefCell<InState>,
}

/// A buffered input channel (Lwt_io's `input_channel`). Clones are handles
/// to the same channel; its operations run one at a time (see
/// [`crate::io`]).
///
/// ```
/// use lwt::io::InputChannel;
/// let ic = InputChannel::of_bytes("one\ntwo\r\nthree");
/// let p = lwt::spawn(async move {
///     let mut lines = Vec::new();
///     while let Some(line) = ic.read_line().await? {
///         lines.push(line);
///     }
///     Ok(lines)
/// });
/// assert_eq!(p.peek().unwrap().unwrap(), ["one", "two", "three"]);
/// ```
#[derive(Clone)]
pub struct InputChannel {
    ch: Rc<InChan>,
    /// The lock this handle's operations take: the channel's, or that of
    /// the `atomic` that gave this handle.
    w: Rc<Wrapper>,
}

impl std::fmt::Debug for InputChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.ch.st.borrow();
        f.debug_struct("InputChannel")
            .field("buffered", &(st.end - st.start))
            .field("closed", &st.closed)
            .finish()
    }
}

impl InState {
    fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn available(&self) -> usize {
        self.end - self.start
    }

    /// Reads more into the buffer; `Ok(0)` at end of input.
    fn poll_fill(&mut self, cx: &mut Context<'_>, what: &str) -> Poll<Result<usize, Error>> {
        let Some(reader) = self.reader.as_mut().filter(|_| !self.closed) else {
            return Poll::Ready(Err(closed(what, "input")));
        };
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
        match Pin::new(reader).poll_read(cx, &mut self.buf[end..]) {
            Poll::Pending => {
                self.waker = Some(cx.waker().clone());
                Poll::Pending
            }
            Poll::Ready(Ok(0)) => {
                self.eof = true;
                Poll::Ready(Ok(0))
            }
            Poll::Ready(Ok(n)) => {
                self.end += n;
                self.offset += n as u64;
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(io_error(e))),
        }
    }

    /// Fills until `n` bytes are buffered or the input ends; gives how many
    /// are buffered (fewer than `n` only at the end).
    fn poll_ensure(
        &mut self,
        cx: &mut Context<'_>,
        n: usize,
        what: &str,
    ) -> Poll<Result<usize, Error>> {
        while self.available() < n {
            match self.poll_fill(cx, what) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(0)) => break,
                Poll::Ready(Ok(_)) => {}
            }
        }
        Poll::Ready(Ok(self.available()))
    }

    /// Takes up to `out.len()` buffered bytes into `out`.
    fn take_into(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.available());
        out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
        self.start += n;
        n
    }

    fn poll_read_line(
        &mut self,
        cx: &mut Context<'_>,
        scanned: &mut usize,
    ) -> Poll<Result<Option<String>, Error>> {
        loop {
            if let Some(i) = self.buffered()[*scanned..].iter().position(|&b| b == b'\n') {
                let line_end = self.start + *scanned + i;
                let mut line = &self.buf[self.start..line_end];
                if line.last() == Some(&b'\r') {
                    line = &line[..line.len() - 1];
                }
                let s = String::from_utf8_lossy(line).into_owned();
                self.start = line_end + 1;
                *scanned = 0;
                return Poll::Ready(Ok(Some(s)));
            }
            *scanned = self.available();
            match self.poll_fill(cx, "read_line") {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(0)) => {
                    *scanned = 0;
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
}

macro_rules! read_numbers {
    ($($name:ident: $t:ty, $from:ident, $to:ident, $order:literal;)*) => {$(
        #[doc = concat!("Reads a `", stringify!($t), "` in ", $order, " byte order (Lwt_io's `",
            $order, "` module); fewer bytes left is an end-of-file error.")]
        ///
        /// ```
        #[doc = concat!("let v: ", stringify!($t), " = 42 as ", stringify!($t), ";")]
        #[doc = concat!("let bytes = v.", stringify!($to), "().to_vec();")]
        /// let ic = lwt::io::InputChannel::of_bytes(bytes);
        #[doc = concat!("let p = lwt::spawn(async move { ic.", stringify!($name), "().await });")]
        /// assert_eq!(p.peek().unwrap().unwrap(), v);
        /// ```
        pub async fn $name(&self) -> Result<$t, Error> {
            let mut b = [0u8; std::mem::size_of::<$t>()];
            self.read_exactly_as(&mut b, stringify!($name)).await?;
            Ok(<$t>::$from(b))
        }
    )*};
}

impl InputChannel {
    fn make(capacity: usize, reader: Box<dyn Source>, seekable: bool) -> InputChannel {
        let main = Wrapper::new();
        InputChannel {
            ch: Rc::new(InChan {
                main: main.clone(),
                st: RefCell::new(InState {
                    reader: Some(reader),
                    seekable,
                    buf: vec![0; capacity.max(16)],
                    start: 0,
                    end: 0,
                    eof: false,
                    offset: 0,
                    closed: false,
                    waker: None,
                }),
            }),
            w: main,
        }
    }

    /// A channel reading from `reader`, with a buffer of
    /// [`DEFAULT_BUFFER_SIZE`]. It cannot seek; see
    /// [`InputChannel::seekable`].
    ///
    /// ```
    /// let _ic = lwt::io::InputChannel::new(&b"bytes"[..]);
    /// ```
    pub fn new(reader: impl AsyncRead + Unpin + 'static) -> InputChannel {
        InputChannel::with_capacity(DEFAULT_BUFFER_SIZE, reader)
    }

    /// A channel with a buffer of `capacity` bytes (at least 16).
    ///
    /// ```
    /// let _ic = lwt::io::InputChannel::with_capacity(64, &b"bytes"[..]);
    /// ```
    pub fn with_capacity(
        capacity: usize,
        reader: impl AsyncRead + Unpin + 'static,
    ) -> InputChannel {
        InputChannel::make(capacity, Box::new(NoSeek(reader)), false)
    }

    /// A channel over a reader that can seek, so that
    /// [`InputChannel::set_position`] works (a file, say).
    ///
    /// ```
    /// # struct Cursor(std::io::Cursor<Vec<u8>>);
    /// # impl futures_io::AsyncRead for Cursor {
    /// #     fn poll_read(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>, b: &mut [u8]) -> std::task::Poll<std::io::Result<usize>> {
    /// #         std::task::Poll::Ready(std::io::Read::read(&mut self.0, b))
    /// #     }
    /// # }
    /// # impl futures_io::AsyncSeek for Cursor {
    /// #     fn poll_seek(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>, p: std::io::SeekFrom) -> std::task::Poll<std::io::Result<u64>> {
    /// #         std::task::Poll::Ready(std::io::Seek::seek(&mut self.0, p))
    /// #     }
    /// # }
    /// let ic = lwt::io::InputChannel::seekable(Cursor(std::io::Cursor::new(b"0123456789".to_vec())));
    /// let p = lwt::spawn(async move {
    ///     ic.set_position(6).await?;
    ///     ic.read_exactly(2).await
    /// });
    /// assert_eq!(p.peek().unwrap().unwrap(), b"67");
    /// ```
    pub fn seekable(reader: impl AsyncRead + AsyncSeek + Unpin + 'static) -> InputChannel {
        InputChannel::make(DEFAULT_BUFFER_SIZE, Box::new(reader), true)
    }

    /// A channel reading `bytes` from their start (Lwt_io's `of_bytes
    /// ~mode:input`). It never waits, seeks, and reads what the bytes hold
    /// when it reads (a clone of [`SharedBytes`] written meanwhile shows).
    ///
    /// ```
    /// let ic = lwt::io::InputChannel::of_bytes("abc");
    /// let p = lwt::spawn(async move { ic.read_to_string().await });
    /// assert_eq!(p.peek().unwrap().unwrap(), "abc");
    /// ```
    pub fn of_bytes(bytes: impl Into<SharedBytes>) -> InputChannel {
        InputChannel::make(
            DEFAULT_BUFFER_SIZE,
            Box::new(Memory::new(bytes.into())),
            true,
        )
    }

    /// Runs one operation, `poll`, under the channel's lock.
    async fn op<T>(
        &self,
        what: &'static str,
        mut poll: impl FnMut(&mut InState, &mut Context<'_>) -> Poll<Result<T, Error>>,
    ) -> Result<T, Error> {
        let _guard = lock::acquire(&self.w, what).await?;
        poll_fn(|cx| {
            let mut st = self.ch.st.borrow_mut();
            if st.closed {
                return Poll::Ready(Err(closed(what, "input")));
            }
            poll(&mut st, cx)
        })
        .await
    }

    /// The next line, without its `\n` (or `\r\n`); `None` at end of input.
    /// A last line without a newline is returned as is (Lwt_io's
    /// `read_line_opt`). Invalid UTF-8 is replaced (U+FFFD).
    ///
    /// ```
    /// let ic = lwt::io::InputChannel::of_bytes("hello\nworld\n");
    /// let p = lwt::spawn(async move { ic.read_line().await });
    /// assert_eq!(p.peek().unwrap().unwrap().as_deref(), Some("hello"));
    /// ```
    pub async fn read_line(&self) -> Result<Option<String>, Error> {
        let mut scanned = 0;
        self.op("read_line", |st, cx| st.poll_read_line(cx, &mut scanned))
            .await
    }

    /// Exactly `n` bytes; an end of input before is an end-of-file error
    /// (Lwt_io's `read ~count` made exact).
    ///
    /// ```
    /// let ic = lwt::io::InputChannel::of_bytes("abcdef");
    /// let p = lwt::spawn(async move { ic.read_exactly(4).await });
    /// assert_eq!(p.peek().unwrap().unwrap(), b"abcd");
    /// ```
    pub async fn read_exactly(&self, n: usize) -> Result<Vec<u8>, Error> {
        let mut out = vec![0; n];
        self.read_exactly_as(&mut out, "read_exactly").await?;
        Ok(out)
    }

    async fn read_exactly_as(&self, buf: &mut [u8], what: &'static str) -> Result<(), Error> {
        let mut done = 0;
        self.op(what, |st, cx| {
            while done < buf.len() {
                if st.available() == 0 {
                    match st.poll_fill(cx, what) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Ready(Ok(0)) => return Poll::Ready(Err(end_of_file(what))),
                        Poll::Ready(Ok(_)) => {}
                    }
                }
                done += st.take_into(&mut buf[done..]);
            }
            Poll::Ready(Ok(()))
        })
        .await
    }

    /// Fills all of `buf`; an end of input before is an end-of-file error,
    /// and the bytes read until then are in `buf` (Lwt_io's
    /// `read_into_exactly`).
    ///
    /// ```
    /// let ic = lwt::io::InputChannel::of_bytes("abcdef");
    /// let p = lwt::spawn(async move {
    ///     let mut buf = [0u8; 3];
    ///     ic.read_into_exactly(&mut buf).await?;
    ///     let mut rest = [0u8; 4];
    ///     let eof = ic.read_into_exactly(&mut rest).await.unwrap_err();
    ///     Ok((buf, eof.is_end_of_file()))
    /// });
    /// assert_eq!(p.peek().unwrap().unwrap(), (*b"abc", true));
    /// ```
    pub async fn read_into_exactly(&self, buf: &mut [u8]) -> Result<(), Error> {
        self.read_exactly_as(buf, "read_into_exactly").await
    }

    /// Reads up to `buf.len()` bytes into `buf`: what is buffered, or one
    /// read if nothing is; `0` at end of input, or for an empty `buf`
    /// (Lwt_io's `read_into`).
    ///
    /// ```
    /// let ic = lwt::io::InputChannel::of_bytes("xyz");
    /// let p = lwt::spawn(async move {
    ///     let mut buf = [0u8; 8];
    ///     let n = ic.read_into(&mut buf).await?;
    ///     Ok(buf[..n].to_vec())
    /// });
    /// assert_eq!(p.peek().unwrap().unwrap(), b"xyz");
    /// ```
    pub async fn read_into(&self, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.op("read_into", |st, cx| {
            if st.available() == 0 {
                match st.poll_fill(cx, "read_into") {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Ready(Ok(_)) => {}
                }
            }
            Poll::Ready(Ok(st.take_into(buf)))
        })
        .await
    }

    /// Up to `max` bytes: what is buffered, or one read if nothing is;
    /// empty at end of input (Lwt_io's `read ~count`).
    ///
    /// ```
    /// let ic = lwt::io::InputChannel::of_bytes("xyz");
    /// let p = lwt::spawn(async move { ic.read(2).await });
    /// assert_eq!(p.peek().unwrap().unwrap(), b"xy");
    /// ```
    pub async fn read(&self, max: usize) -> Result<Vec<u8>, Error> {
        let mut out = vec![0; max];
        let n = self.read_into(&mut out).await?;
        out.truncate(n);
        Ok(out)
    }

    /// Everything up to the end of input (Lwt_io's `read` without a count).
    ///
    /// ```
    /// let ic = lwt::io::InputChannel::of_bytes("all of it");
    /// let p = lwt::spawn(async move { ic.read_to_end().await });
    /// assert_eq!(p.peek().unwrap().unwrap(), b"all of it");
    /// ```
    pub async fn read_to_end(&self) -> Result<Vec<u8>, Error> {
        self.op("read_to_end", |st, cx| loop {
            match st.poll_fill(cx, "read_to_end") {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(0)) => {
                    let out = st.buffered().to_vec();
                    st.start = st.end;
                    return Poll::Ready(Ok(out));
                }
                Poll::Ready(Ok(_)) => {}
            }
        })
        .await
    }

    /// Everything up to the end of input, as text (invalid UTF-8 is an
    /// error of kind `InvalidData`).
    ///
    /// ```
    /// let ic = lwt::io::InputChannel::of_bytes("text");
    /// let p = lwt::spawn(async move { ic.read_to_string().await });
    /// assert_eq!(p.peek().unwrap().unwrap(), "text");
    /// ```
    pub async fn read_to_string(&self) -> Result<String, Error> {
        let bytes = self.read_to_end().await?;
        String::from_utf8(bytes)
            .map_err(|e| io_error(io::Error::new(io::ErrorKind::InvalidData, e)))
    }

    /// The next byte, `None` at end of input (Lwt_io's `read_char_opt`: an
    /// OCaml `char` is a byte).
    ///
    /// ```
    /// let ic = lwt::io::InputChannel::of_bytes("a");
    /// let p = lwt::spawn(async move { Ok((ic.read_byte_opt().await?, ic.read_byte_opt().await?)) });
    /// assert_eq!(p.peek().unwrap().unwrap(), (Some(b'a'), None));
    /// ```
    pub async fn read_byte_opt(&self) -> Result<Option<u8>, Error> {
        self.op("read_byte", |st, cx| {
            match st.poll_ensure(cx, 1, "read_byte") {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Ready(Ok(0)) => Poll::Ready(Ok(None)),
                Poll::Ready(Ok(_)) => {
                    let b = st.buf[st.start];
                    st.start += 1;
                    Poll::Ready(Ok(Some(b)))
                }
            }
        })
        .await
    }

    /// The next byte; at end of input an end-of-file error (Lwt_io's
    /// `read_char`).
    ///
    /// ```
    /// let ic = lwt::io::InputChannel::of_bytes("z");
    /// let p = lwt::spawn(async move {
    ///     let z = ic.read_byte().await?;
    ///     Ok((z, ic.read_byte().await.unwrap_err().is_end_of_file()))
    /// });
    /// assert_eq!(p.peek().unwrap().unwrap(), (b'z', true));
    /// ```
    pub async fn read_byte(&self) -> Result<u8, Error> {
        self.read_byte_opt()
            .await?
            .ok_or_else(|| end_of_file("read_byte"))
    }

    /// The next character, decoded from UTF-8; `None` at end of input.
    /// Bytes that are not UTF-8 are an error of kind `InvalidData`, and the
    /// first of them is consumed (so reading on makes progress); a
    /// character cut by the end of input is an end-of-file error.
    ///
    /// ```
    /// let ic = lwt::io::InputChannel::of_bytes("é!");
    /// let p = lwt::spawn(async move {
    ///     Ok((ic.read_char_opt().await?, ic.read_char_opt().await?, ic.read_char_opt().await?))
    /// });
    /// assert_eq!(p.peek().unwrap().unwrap(), (Some('é'), Some('!'), None));
    /// ```
    pub async fn read_char_opt(&self) -> Result<Option<char>, Error> {
        self.op("read_char", |st, cx| {
            let first = match st.poll_ensure(cx, 1, "read_char") {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok(None)),
                Poll::Ready(Ok(_)) => st.buf[st.start],
            };
            let width = match first {
                0x00..=0x7f => 1,
                0xc2..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf4 => 4,
                _ => 0,
            };
            let invalid = |st: &mut InState| {
                st.start += 1;
                Poll::Ready(Err(io_error(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "read_char: the input is not UTF-8",
                ))))
            };
            if width == 0 {
                return invalid(st);
            }
            match st.poll_ensure(cx, width, "read_char") {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(n)) if n < width => {
                    return Poll::Ready(Err(end_of_file("read_char")));
                }
                Poll::Ready(Ok(_)) => {}
            }
            match std::str::from_utf8(&st.buf[st.start..st.start + width]) {
                Ok(s) => {
                    let c = s.chars().next();
                    st.start += width;
                    Poll::Ready(Ok(c))
                }
                Err(_) => invalid(st),
            }
        })
        .await
    }

    /// The next character, decoded from UTF-8; at end of input an
    /// end-of-file error (see [`InputChannel::read_char_opt`]).
    ///
    /// ```
    /// let ic = lwt::io::InputChannel::of_bytes("λ");
    /// let p = lwt::spawn(async move { ic.read_char().await });
    /// assert_eq!(p.peek().unwrap().unwrap(), 'λ');
    /// ```
    pub async fn read_char(&self) -> Result<char, Error> {
        self.read_char_opt()
            .await?
            .ok_or_else(|| end_of_file("read_char"))
    }

    read_numbers! {
        read_i16_le: i16, from_le_bytes, to_le_bytes, "little-endian";
        read_i16_be: i16, from_be_bytes, to_be_bytes, "big-endian";
        read_u16_le: u16, from_le_bytes, to_le_bytes, "little-endian";
        read_u16_be: u16, from_be_bytes, to_be_bytes, "big-endian";
        read_i32_le: i32, from_le_bytes, to_le_bytes, "little-endian";
        read_i32_be: i32, from_be_bytes, to_be_bytes, "big-endian";
        read_u32_le: u32, from_le_bytes, to_le_bytes, "little-endian";
        read_u32_be: u32, from_be_bytes, to_be_bytes, "big-endian";
        read_i64_le: i64, from_le_bytes, to_le_bytes, "little-endian";
        read_i64_be: i64, from_be_bytes, to_be_bytes, "big-endian";
        read_u64_le: u64, from_le_bytes, to_le_bytes, "little-endian";
        read_u64_be: u64, from_be_bytes, to_be_bytes, "big-endian";
        read_f32_le: f32, from_le_bytes, to_le_bytes, "little-endian";
        read_f32_be: f32, from_be_bytes, to_be_bytes, "big-endian";
        read_f64_le: f64, from_le_bytes, to_le_bytes, "little-endian";
        read_f64_be: f64, from_be_bytes, to_be_bytes, "big-endian";
    }

    /// The position of the next byte to read: bytes read since the channel
    /// was made, or from the position last set (Lwt_io's `position`).
    ///
    /// ```
    /// let ic = lwt::io::InputChannel::of_bytes("abcdef");
    /// let p = lwt::spawn(async move {
    ///     ic.read_exactly(2).await?;
    ///     Ok(ic.position())
    /// });
    /// assert_eq!(p.peek().unwrap().unwrap(), 2);
    /// ```
    pub fn position(&self) -> u64 {
        let st = self.ch.st.borrow();
        st.offset - st.available() as u64
    }

    /// Moves to byte `pos` of the input (Lwt_io's `set_position`); what was
    /// buffered is dropped. On a channel that cannot seek (made with
    /// [`InputChannel::new`]) it is an invalid-argument error and the
    /// channel is left as it was.
    ///
    /// ```
    /// let ic = lwt::io::InputChannel::of_bytes("0123456789");
    /// let p = lwt::spawn(async move {
    ///     ic.set_position(7).await?;
    ///     let tail = ic.read_to_end().await?;
    ///     let pipe = lwt::io::InputChannel::new(&b"no seeking"[..]);
    ///     Ok((tail, pipe.set_position(1).await.unwrap_err().is_invalid_argument()))
    /// });
    /// assert_eq!(p.peek().unwrap().unwrap(), (b"789".to_vec(), true));
    /// ```
    pub async fn set_position(&self, pos: u64) -> Result<(), Error> {
        let mut started = false;
        self.op("set_position", |st, cx| {
            if !st.seekable {
                return Poll::Ready(Err(not_seekable("set_position")));
            }
            if !started {
                st.start = 0;
                st.end = 0;
                st.eof = false;
                started = true;
            }
            let Some(reader) = st.reader.as_mut() else {
                return Poll::Ready(Err(closed("set_position", "input")));
            };
            match Pin::new(reader).poll_seek(cx, SeekFrom::Start(pos)) {
                Poll::Pending => {
                    st.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(io_error(e))),
                Poll::Ready(Ok(p)) => {
                    st.offset = p;
                    Poll::Ready(Ok(()))
                }
            }
        })
        .await
    }

    /// Closes the channel at once (Lwt_io's `close` on an input channel):
    /// the reader is dropped, a read waiting on it fails, and so does every
    /// later operation, with an error for which [`Error::is_closed`] holds.
    /// Closing again does nothing. The temporary channel of an
    /// [`InputChannel::atomic`] cannot be closed (an invalid-argument error).
    ///
    /// ```
    /// let ic = lwt::io::InputChannel::of_bytes("unread");
    /// let p = lwt::spawn(async move {
    ///     ic.close().await?;
    ///     Ok((ic.is_closed(), ic.read_line().await.unwrap_err().is_closed()))
    /// });
    /// assert_eq!(p.peek().unwrap().unwrap(), (true, true));
    /// ```
    pub async fn close(&self) -> Result<(), Error> {
        if !Rc::ptr_eq(&self.w, &self.ch.main) {
            return Err(Error::invalid_argument(
                "close: cannot close the temporary channel of `atomic`",
            ));
        }
        self.abort();
        Ok(())
    }

    /// Closes the channel without waiting (see [`InputChannel::close`]).
    pub(crate) fn abort(&self) {
        let (reader, waker) = {
            let mut st = self.ch.st.borrow_mut();
            st.closed = true;
            st.start = 0;
            st.end = 0;
            (st.reader.take(), st.waker.take())
        };
        drop(reader);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// True once the channel is closed.
    ///
    /// ```
    /// assert!(!lwt::io::InputChannel::of_bytes("").is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.ch.st.borrow().closed
    }

    /// Runs `f` with exclusive use of the channel (Lwt_io's `atomic`): `f`
    /// gets a temporary handle to it, and other handles' operations wait
    /// until `f`'s future is done. After that, the temporary handle fails
    /// with an invalid-argument error.
    ///
    /// ```
    /// let ic = lwt::io::InputChannel::of_bytes("k1\nv1\nk2\nv2\n");
    /// let other = ic.clone();
    /// let pair = lwt::spawn({
    ///     let ic = ic.clone();
    ///     async move {
    ///         ic.atomic(|ic| async move {
    ///             lwt::pause().await?; // the other reader must wait
    ///             Ok((ic.read_line().await?, ic.read_line().await?))
    ///         })
    ///         .await
    ///     }
    /// });
    /// let next = lwt::spawn(async move { other.read_line().await });
    /// lwt::wakeup_paused();
    /// assert_eq!(pair.peek().unwrap().unwrap(), (Some("k1".into()), Some("v1".into())));
    /// assert_eq!(next.peek().unwrap().unwrap().as_deref(), Some("k2"));
    /// ```
    pub async fn atomic<T, F, Fut>(&self, f: F) -> Result<T, Error>
    where
        F: FnOnce(InputChannel) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let _guard = lock::acquire(&self.w, "atomic").await?;
        if self.is_closed() {
            return Err(closed("atomic", "input"));
        }
        let tmp = Wrapper::new();
        self.w.set_atomic(tmp.clone());
        let _end = EndAtomic(tmp.clone());
        f(InputChannel {
            ch: self.ch.clone(),
            w: tmp,
        })
        .await
    }

    /// The lines of the channel, as a `futures_core::Stream` (Lwt_io's
    /// `read_lines`).
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::pin::Pin;
    /// use futures_core::Stream;
    /// let mut lines = lwt::io::InputChannel::of_bytes("1\n2\n3\n").lines();
    /// let p = lwt::spawn(async move {
    ///     let mut n = 0;
    ///     while let Some(line) = poll_fn(|cx| Pin::new(&mut lines).poll_next(cx)).await {
    ///         n += line?.parse::<u32>()?;
    ///     }
    ///     Ok(n)
    /// });
    /// assert_eq!(p.peek().unwrap().unwrap(), 6);
    /// ```
    pub fn lines(self) -> Lines {
        Lines {
            ic: self,
            acquire: None,
            guard: None,
            scanned: 0,
        }
    }
}

/// The stream of [`InputChannel::lines`]: each line is read under the
/// channel's lock.
///
/// ```
/// let _lines: lwt::io::Lines = lwt::io::InputChannel::of_bytes("").lines();
/// ```
pub struct Lines {
    ic: InputChannel,
    acquire: Option<Acquire>,
    guard: Option<Guard>,
    scanned: usize,
}

impl std::fmt::Debug for Lines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lines").field("ic", &self.ic).finish()
    }
}

impl futures_core::Stream for Lines {
    type Item = Result<String, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.guard.is_none() {
            let acquire = this
                .acquire
                .get_or_insert_with(|| lock::acquire(&this.ic.w, "lines"));
            match Pin::new(acquire).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(r) => {
                    this.acquire = None;
                    match r {
                        Ok(g) => this.guard = Some(g),
                        Err(e) => return Poll::Ready(Some(Err(e))),
                    }
                }
            }
        }
        let r = {
            let mut st = this.ic.ch.st.borrow_mut();
            if st.closed {
                Poll::Ready(Err(closed("lines", "input")))
            } else {
                st.poll_read_line(cx, &mut this.scanned)
            }
        };
        match r {
            Poll::Pending => Poll::Pending,
            Poll::Ready(r) => {
                this.guard = None;
                Poll::Ready(r.transpose())
            }
        }
    }
}
