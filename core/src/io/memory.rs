//! In-memory bytes for channels (Lwt_io's `of_bytes`): [`SharedBytes`], and
//! the seekable reader and writer over them that the channels use.

use std::cell::RefCell;
use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};

/// A growable byte buffer shared by its clones: what an in-memory channel
/// reads from or writes into ([`crate::io::InputChannel::of_bytes`],
/// [`crate::io::OutputChannel::of_bytes`]).
///
/// ```
/// let bytes = lwt::io::SharedBytes::from(&b"abc"[..]);
/// let same = bytes.clone();
/// assert_eq!(same.to_vec(), b"abc");
/// assert_eq!(bytes.len(), 3);
/// ```
#[derive(Clone, Default)]
pub struct SharedBytes(Rc<RefCell<Vec<u8>>>);

impl std::fmt::Debug for SharedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedBytes")
            .field("len", &self.len())
            .finish()
    }
}

impl SharedBytes {
    /// An empty buffer.
    ///
    /// ```
    /// assert!(lwt::io::SharedBytes::new().is_empty());
    /// ```
    pub fn new() -> SharedBytes {
        SharedBytes::default()
    }

    /// A copy of the bytes.
    ///
    /// ```
    /// assert_eq!(lwt::io::SharedBytes::from(vec![1, 2]).to_vec(), [1, 2]);
    /// ```
    pub fn to_vec(&self) -> Vec<u8> {
        self.0.borrow().clone()
    }

    /// How many bytes it holds.
    ///
    /// ```
    /// assert_eq!(lwt::io::SharedBytes::from("four").len(), 4);
    /// ```
    pub fn len(&self) -> usize {
        self.0.borrow().len()
    }

    /// True when it holds no byte.
    ///
    /// ```
    /// assert!(!lwt::io::SharedBytes::from("x").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.borrow().is_empty()
    }
}

impl From<Vec<u8>> for SharedBytes {
    fn from(v: Vec<u8>) -> SharedBytes {
        SharedBytes(Rc::new(RefCell::new(v)))
    }
}

impl From<&[u8]> for SharedBytes {
    fn from(v: &[u8]) -> SharedBytes {
        SharedBytes::from(v.to_vec())
    }
}

impl From<&str> for SharedBytes {
    fn from(v: &str) -> SharedBytes {
        SharedBytes::from(v.as_bytes())
    }
}

impl From<String> for SharedBytes {
    fn from(v: String) -> SharedBytes {
        SharedBytes::from(v.into_bytes())
    }
}

/// A cursor over [`SharedBytes`]: reads and writes at its position, as
/// `std::io::Cursor<Vec<u8>>` does (a write past the end grows the bytes,
/// filling a gap with zeros). Never pending.
pub(crate) struct Memory {
    bytes: SharedBytes,
    pos: u64,
}

impl Memory {
    pub(crate) fn new(bytes: SharedBytes) -> Memory {
        Memory { bytes, pos: 0 }
    }
}

impl AsyncRead for Memory {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let n = {
            let data = self.bytes.0.borrow();
            let start = usize::try_from(self.pos)
                .unwrap_or(usize::MAX)
                .min(data.len());
            let n = buf.len().min(data.len() - start);
            buf[..n].copy_from_slice(&data[start..start + n]);
            n
        };
        self.pos += n as u64;
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for Memory {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let Ok(start) = usize::try_from(self.pos) else {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "position beyond the address space",
            )));
        };
        {
            let mut data = self.bytes.0.borrow_mut();
            if data.len() < start {
                data.resize(start, 0);
            }
            let overlap = buf.len().min(data.len() - start);
            data[start..start + overlap].copy_from_slice(&buf[..overlap]);
            data.extend_from_slice(&buf[overlap..]);
        }
        self.pos += buf.len() as u64;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncSeek for Memory {
    fn poll_seek(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let (base, offset) = match pos {
            SeekFrom::Start(p) => {
                self.pos = p;
                return Poll::Ready(Ok(p));
            }
            SeekFrom::End(o) => (self.bytes.len() as u64, o),
            SeekFrom::Current(o) => (self.pos, o),
        };
        match base.checked_add_signed(offset) {
            Some(p) => {
                self.pos = p;
                Poll::Ready(Ok(p))
            }
            None => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek to a negative or overflowing position",
            ))),
        }
    }
}
