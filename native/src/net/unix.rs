//! Unix-domain stream sockets: [`UnixListener`], [`UnixStream`].

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use lwt::{Error, Promise};

use crate::engine::reactor::{io_err, Dir, Registered};

/// A Unix-domain socket listening for connections. Cheap to clone.
///
/// ```
/// use lwt_native::net::{UnixListener, UnixStream};
/// let path = std::env::temp_dir().join(format!("lwt-doc-{}.sock", std::process::id()));
/// let _ = std::fs::remove_file(&path);
/// let l = UnixListener::bind(&path).unwrap();
/// let got = lwt_native::run(async move {
///     let c = UnixStream::connect(&path)?;
///     c.write_all(b"hi").await?;
///     let s = l.accept().await?;
///     let mut buf = [0; 2];
///     s.read_exact(&mut buf).await?;
///     std::fs::remove_file(&path)?;
///     Ok(buf)
/// }).unwrap();
/// assert_eq!(&got, b"hi");
/// ```
#[derive(Clone)]
pub struct UnixListener {
    io: Rc<Registered<mio::net::UnixListener>>,
}

impl std::fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnixListener")
    }
}

impl UnixListener {
    /// Binds a listening socket at `path`.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("lwt-doc-bind-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let _l = lwt_native::net::UnixListener::bind(&path).unwrap();
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: Rc::new(Registered::new(mio::net::UnixListener::bind(path)?)?),
        })
    }

    /// The next connection.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("lwt-doc-acc-{}.sock", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let l = lwt_native::net::UnixListener::bind(&path).unwrap();
    /// let _c = lwt_native::net::UnixStream::connect(&path).unwrap();
    /// lwt_native::run(l.accept()).unwrap();
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn accept(&self) -> Promise<UnixStream> {
        let io = self.io.clone();
        lwt::spawn(async move {
            let (s, _) = io.io(Dir::Read, |l| l.accept()).await?;
            UnixStream::from_mio(s).map_err(io_err)
        })
    }
}

/// A Unix-domain stream connection. Cheap to clone; implements
/// [`futures_io::AsyncRead`] and [`futures_io::AsyncWrite`].
///
/// ```
/// let (a, b) = lwt_native::net::UnixStream::pair().unwrap();
/// let got = lwt_native::run(async move {
///     a.write_all(b"ping").await?;
///     b.read_some(8).await
/// }).unwrap();
/// assert_eq!(got, b"ping");
/// ```
#[derive(Clone)]
pub struct UnixStream {
    io: Rc<Registered<mio::net::UnixStream>>,
}

impl std::fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnixStream")
    }
}

impl UnixStream {
    fn from_mio(s: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: Rc::new(Registered::new(s)?),
        })
    }

    /// Connects to the socket at `path` (local connections complete at
    /// once, or fail at once).
    ///
    /// ```
    /// let e = lwt_native::net::UnixStream::connect("/no/such/socket").unwrap_err();
    /// assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    /// ```
    pub fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        UnixStream::from_mio(mio::net::UnixStream::connect(path)?)
    }

    /// A connected pair of sockets.
    ///
    /// ```
    /// let (_a, _b) = lwt_native::net::UnixStream::pair().unwrap();
    /// ```
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    /// Reads into `buf`; `Ok(0)` at end of stream.
    ///
    /// ```
    /// let (a, b) = lwt_native::net::UnixStream::pair().unwrap();
    /// drop(a);
    /// assert_eq!(lwt_native::run(async move { b.read(&mut [0; 4]).await }).unwrap(), 0);
    /// ```
    pub async fn read(&self, buf: &mut [u8]) -> Result<usize, Error> {
        self.io.read_bytes(buf).await
    }

    /// Reads exactly `buf.len()` bytes.
    ///
    /// ```
    /// let (a, b) = lwt_native::net::UnixStream::pair().unwrap();
    /// let mut buf = [0; 3];
    /// lwt_native::run(async move { a.write_all(b"abc").await?; b.read_exact(&mut buf).await?; Ok(buf) }).unwrap();
    /// ```
    pub async fn read_exact(&self, buf: &mut [u8]) -> Result<(), Error> {
        self.io.read_exact(buf).await
    }

    /// Up to `max` bytes as an owned buffer (empty at end of stream).
    ///
    /// ```
    /// let (a, b) = lwt_native::net::UnixStream::pair().unwrap();
    /// drop(a);
    /// assert!(lwt_native::run(b.read_some(4)).unwrap().is_empty());
    /// ```
    pub fn read_some(&self, max: usize) -> Promise<Vec<u8>> {
        let me = self.clone();
        lwt::spawn(async move {
            let mut buf = vec![0; max];
            let n = me.read(&mut buf).await?;
            buf.truncate(n);
            Ok(buf)
        })
    }

    /// Writes some of `buf`.
    ///
    /// ```
    /// let (a, _b) = lwt_native::net::UnixStream::pair().unwrap();
    /// assert_eq!(lwt_native::run(async move { a.write(b"abc").await }).unwrap(), 3);
    /// ```
    pub async fn write(&self, buf: &[u8]) -> Result<usize, Error> {
        self.io.write_bytes(buf).await
    }

    /// Writes all of `buf`.
    ///
    /// ```
    /// let (a, _b) = lwt_native::net::UnixStream::pair().unwrap();
    /// lwt_native::run(async move { a.write_all(b"abc").await }).unwrap();
    /// ```
    pub async fn write_all(&self, buf: &[u8]) -> Result<(), Error> {
        self.io.write_all(buf).await
    }

    /// Shuts down one or both directions.
    ///
    /// ```
    /// let (a, _b) = lwt_native::net::UnixStream::pair().unwrap();
    /// a.shutdown(std::net::Shutdown::Write).unwrap();
    /// ```
    pub fn shutdown(&self, how: std::net::Shutdown) -> io::Result<()> {
        self.io.get().shutdown(how)
    }
}

impl futures_io::AsyncRead for UnixStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_read_bytes(cx, buf)
    }
}

impl futures_io::AsyncWrite for UnixStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_write_bytes(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(std::net::Shutdown::Write))
    }
}

#[cfg(feature = "hyper")]
impl UnixStream {
    /// Reads into bytes that may be uninitialized (hyper's read buffer):
    /// see `Registered::poll_recv_uninit`.
    pub(crate) fn poll_recv_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_recv_uninit(cx, buf)
    }
}
