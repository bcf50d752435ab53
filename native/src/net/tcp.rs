//! TCP: [`TcpListener`] and [`TcpStream`].

use std::cell::RefCell;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use lwt::{Error, Promise};

use crate::engine::reactor::{io_err, Dir, Registered};

/// A TCP socket listening for connections (Lwt_unix's `socket` + `bind` +
/// `listen`). A cheap-to-clone handle; the socket closes with the last clone.
///
/// ```
/// use lwt_native::net::{TcpListener, TcpStream};
/// lwt_native::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
///     let client = TcpStream::connect(listener.local_addr()?);
///     let (_stream, peer) = listener.accept().await?;
///     assert_eq!(peer, client.await?.local_addr()?);
///     Ok(())
/// }).unwrap();
/// ```
#[derive(Clone)]
pub struct TcpListener {
    io: Rc<Registered<mio::net::TcpListener>>,
}

impl std::fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl TcpListener {
    /// Binds a listening socket to `addr` (port 0: any free port).
    ///
    /// ```
    /// let l = lwt_native::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// assert_ne!(l.local_addr().unwrap().port(), 0);
    /// ```
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        TcpListener::from_std(std::net::TcpListener::bind(addr)?)
    }

    /// Wraps a bound, listening std listener.
    ///
    /// ```
    /// let std = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let l = lwt_native::net::TcpListener::from_std(std).unwrap();
    /// # drop(l);
    /// ```
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: Rc::new(Registered::new(mio::net::TcpListener::from_std(listener))?),
        })
    }

    /// The address the socket is bound to.
    ///
    /// ```
    /// let l = lwt_native::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// assert!(l.local_addr().unwrap().ip().is_loopback());
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// The next connection and its peer's address. Canceling the promise
    /// stops waiting and leaves the listener usable; errors (`EMFILE`, ...)
    /// reject it, carrying the `io::Error`.
    ///
    /// ```
    /// use lwt_native::net::{TcpListener, TcpStream};
    /// lwt_native::run(async {
    ///     let l = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    ///     let client = TcpStream::connect(l.local_addr()?);
    ///     let (server_side, _peer) = l.accept().await?;
    ///     let client = client.await?;
    ///     assert_eq!(server_side.peer_addr()?, client.local_addr()?);
    ///     Ok(())
    /// }).unwrap();
    /// ```
    pub fn accept(&self) -> Promise<(TcpStream, SocketAddr)> {
        let io = self.io.clone();
        lwt::spawn(async move {
            let (s, addr) = io.io(Dir::Read, |l| l.accept()).await?;
            Ok((TcpStream::from_mio(s).map_err(io_err)?, addr))
        })
    }
}

/// The listening socket of an accept loop (`hyper::serve`'s,
/// `io::establish_server`'s) and the accept it waits on, which whatever
/// stops the server closes at once, not the loop.
///
/// The loop would see the stop only when it is next polled, and the code
/// that asked for the stop may be code that the loop is running, from which
/// it cannot be polled again: a connection is started as soon as it is
/// accepted, inside the loop's poll (an `establish_server` handler is
/// called there; a hyper connection whose request is already buffered is
/// served there, its service called). Code asking for the shutdown from
/// there, or code it resumes, would otherwise find the listener still open
/// (and connections still completed into its backlog) until it returns, and
/// a loop aborted in that poll would leave its next accept waiting, the
/// socket open, for good.
pub(crate) struct Listening {
    listener: RefCell<Option<TcpListener>>,
    accept: RefCell<Option<Promise<(TcpStream, SocketAddr)>>>,
}

impl Listening {
    pub(crate) fn new(listener: TcpListener) -> Listening {
        Listening {
            listener: RefCell::new(Some(listener)),
            accept: RefCell::new(None),
        }
    }

    /// The next connection, or `None` once closed.
    pub(crate) fn accept(&self) -> Option<Promise<(TcpStream, SocketAddr)>> {
        // A clone for the call only: the loop keeps no handle to the socket
        // across its waits, or closing could not close it.
        let listener = self.listener.borrow().clone()?;
        let accept = listener.accept();
        let previous = self.accept.borrow_mut().replace(accept.clone());
        drop(previous);
        Some(accept)
    }

    /// Closes the socket now: cancels the pending accept (its task lets go
    /// of the socket) and drops the last handle. Nothing is borrowed while
    /// either runs.
    pub(crate) fn close(&self) {
        let accept = self.accept.borrow_mut().take();
        let listener = self.listener.borrow_mut().take();
        if let Some(accept) = accept {
            accept.cancel();
        }
        drop(listener);
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.close();
    }
}

/// A TCP connection (Lwt_unix's connected socket). Cheap to clone: clones
/// share the socket, which closes with the last one. Implements
/// [`futures_io::AsyncRead`] and [`futures_io::AsyncWrite`].
///
/// ```
/// use std::io::{Read, Write};
/// // An echo server of four bytes, on a thread of its own.
/// let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let addr = server.local_addr().unwrap();
/// let echo = std::thread::spawn(move || {
///     let (mut c, _) = server.accept().unwrap();
///     let mut buf = [0; 4];
///     c.read_exact(&mut buf).unwrap();
///     c.write_all(&buf).unwrap();
/// });
/// lwt_native::run(async move {
///     let s = lwt_native::net::TcpStream::connect(addr).await?;
///     s.write_all(b"ping").await?;
///     let mut buf = [0; 4];
///     s.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///     Ok(())
/// }).unwrap();
/// echo.join().unwrap();
/// ```
#[derive(Clone)]
pub struct TcpStream {
    io: Rc<Registered<mio::net::TcpStream>>,
}

impl std::fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

impl TcpStream {
    pub(crate) fn from_mio(s: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: Rc::new(Registered::new(s)?),
        })
    }

    /// Connects to `addr`. A refused, unreachable or failed connection
    /// rejects the promise with the `io::Error` (see
    /// [`crate::io_error_kind`]). Canceling it closes the half-open socket.
    ///
    /// ```
    /// use lwt_native::net::TcpStream;
    /// let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    /// // (the listener is dropped: nobody listens there now)
    /// let e = lwt_native::run(TcpStream::connect(closed)).unwrap_err();
    /// assert_eq!(lwt_native::io_error_kind(&e), Some(std::io::ErrorKind::ConnectionRefused));
    /// ```
    pub fn connect(addr: SocketAddr) -> Promise<TcpStream> {
        lwt::spawn(async move {
            let s = mio::net::TcpStream::connect(addr).map_err(io_err)?;
            let stream = TcpStream::from_mio(s).map_err(io_err)?;
            loop {
                stream.io.ready(Dir::Write).await?;
                let s = stream.io.get();
                if let Some(e) = s.take_error().map_err(io_err)? {
                    return Err(io_err(e));
                }
                match s.peer_addr() {
                    Ok(_) => return Ok(stream),
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                        // Not connected yet: the writable edge is still to come.
                        stream.io.clear(Dir::Write);
                    }
                    Err(e) => return Err(io_err(e)),
                }
            }
        })
    }

    /// [`TcpStream::connect`], or a rejection with an `io::Error` of kind
    /// `TimedOut` after `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let p = lwt_native::net::TcpStream::connect_timeout(l.local_addr().unwrap(), Duration::from_secs(5));
    /// assert!(lwt_native::run(p).is_ok());
    /// ```
    pub fn connect_timeout(addr: SocketAddr, timeout: Duration) -> Promise<TcpStream> {
        lwt::with_timeout(timeout, &TcpStream::connect(addr)).catch(|e| {
            Promise::rejected(if e.is_timeout() {
                io_err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))
            } else {
                e
            })
        })
    }

    /// Reads into `buf`; `Ok(0)` at end of stream.
    ///
    /// ```
    /// use lwt_native::net::TcpStream;
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let addr = l.local_addr().unwrap();
    /// std::thread::spawn(move || { use std::io::Write; l.accept().unwrap().0.write_all(b"hi").unwrap() });
    /// let got = lwt_native::run(async move {
    ///     let s = TcpStream::connect(addr).await?;
    ///     let mut buf = [0; 8];
    ///     let n = s.read(&mut buf).await?;
    ///     Ok(buf[..n].to_vec())
    /// }).unwrap();
    /// assert_eq!(got, b"hi");
    /// ```
    pub async fn read(&self, buf: &mut [u8]) -> Result<usize, Error> {
        self.io.read_bytes(buf).await
    }

    /// Reads exactly `buf.len()` bytes; an early end of stream is an error of
    /// kind `UnexpectedEof`.
    ///
    /// ```
    /// use lwt_native::net::TcpStream;
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let addr = l.local_addr().unwrap();
    /// std::thread::spawn(move || { use std::io::Write; l.accept().unwrap().0.write_all(b"abc").unwrap() });
    /// let got = lwt_native::run(async move {
    ///     let s = TcpStream::connect(addr).await?;
    ///     let mut buf = [0; 3];
    ///     s.read_exact(&mut buf).await?;
    ///     Ok(buf)
    /// }).unwrap();
    /// assert_eq!(&got, b"abc");
    /// ```
    pub async fn read_exact(&self, buf: &mut [u8]) -> Result<(), Error> {
        self.io.read_exact(buf).await
    }

    /// Up to `max` bytes, as an owned buffer (empty at end of stream): a
    /// promise, for `bind` chains.
    ///
    /// ```
    /// use lwt_native::net::TcpStream;
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let addr = l.local_addr().unwrap();
    /// std::thread::spawn(move || { use std::io::Write; l.accept().unwrap().0.write_all(b"x").unwrap() });
    /// let p = TcpStream::connect(addr).bind(|s| s.read_some(16));
    /// assert_eq!(lwt_native::run(p).unwrap(), b"x");
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

    /// Writes some of `buf`, returning how much.
    ///
    /// ```
    /// use lwt_native::net::TcpStream;
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let addr = l.local_addr().unwrap();
    /// let n = lwt_native::run(async move {
    ///     let s = TcpStream::connect(addr).await?;
    ///     s.write(b"hello").await
    /// }).unwrap();
    /// assert!(n > 0);
    /// # drop(l);
    /// ```
    pub async fn write(&self, buf: &[u8]) -> Result<usize, Error> {
        self.io.write_bytes(buf).await
    }

    /// Writes all of `buf`. Writing to a closed peer is an error
    /// (`BrokenPipe` or `ConnectionReset`), never a `SIGPIPE`.
    ///
    /// ```
    /// use lwt_native::net::TcpStream;
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let addr = l.local_addr().unwrap();
    /// lwt_native::run(async move {
    ///     let s = TcpStream::connect(addr).await?;
    ///     s.write_all(b"hello").await
    /// }).unwrap();
    /// # drop(l);
    /// ```
    pub async fn write_all(&self, buf: &[u8]) -> Result<(), Error> {
        self.io.write_all(buf).await
    }

    /// [`TcpStream::write_all`] of an owned buffer, as a promise.
    ///
    /// ```
    /// use lwt_native::net::TcpStream;
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let p = TcpStream::connect(l.local_addr().unwrap()).bind(|s| s.send_all(b"data".to_vec()));
    /// lwt_native::run(p).unwrap();
    /// ```
    pub fn send_all(&self, data: Vec<u8>) -> Promise<()> {
        let me = self.clone();
        lwt::spawn(async move { me.write_all(&data).await })
    }

    /// A connected `std` socket, registered with this thread's loop (made
    /// non-blocking): how a connection handed over by another thread's loop
    /// (see [`TcpStream::into_std`]) joins this one.
    ///
    /// ```
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let std_stream = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    /// lwt_native::run(async move {
    ///     let s = lwt_native::net::TcpStream::from_std(std_stream)?;
    ///     assert_eq!(s.peer_addr()?, l.local_addr()?);
    ///     Ok(())
    /// }).unwrap();
    /// ```
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    /// Takes the connection off this thread's loop as a `std` socket (still
    /// non-blocking), to hand it to another thread, whose loop takes it with
    /// [`TcpStream::from_std`]. Nothing read or written is lost: bytes not
    /// read yet stay in the socket. `Err` gives the stream back when another
    /// clone or half of it is alive (the loop could not let go of it); a
    /// promise that still holds it as its value counts, such as the
    /// [`TcpListener::accept`] promise it came from: drop that first.
    ///
    /// ```
    /// use lwt_native::net::{TcpListener, TcpStream};
    /// let (tx, rx) = std::sync::mpsc::channel::<std::net::TcpStream>();
    /// let other = std::thread::spawn(move || {
    ///     let s = rx.recv().unwrap();
    ///     lwt_native::run(async move {
    ///         TcpStream::from_std(s)?.write_all(b"from the other loop").await
    ///     })
    ///     .unwrap();
    /// });
    /// lwt_native::run(async move {
    ///     let l = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    ///     let client = TcpStream::connect(l.local_addr()?);
    ///     let (accepted, _) = l.accept().await?;
    ///     let kept = accepted.clone();
    ///     let accepted = accepted.into_std().expect_err("a clone is alive");
    ///     drop(kept);
    ///     tx.send(accepted.into_std().expect("the only handle")).unwrap();
    ///     let mut buf = [0; 19];
    ///     client.await?.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"from the other loop");
    ///     Ok(())
    /// })
    /// .unwrap();
    /// other.join().unwrap();
    /// ```
    pub fn into_std(self) -> Result<std::net::TcpStream, TcpStream> {
        match Rc::try_unwrap(self.io) {
            Ok(registered) => Ok(registered.into_inner().into()),
            Err(io) => Err(TcpStream { io }),
        }
    }

    /// A second handle to the same connection, as a `std` socket (a
    /// duplicated descriptor, non-blocking), for another thread's loop to
    /// take with [`TcpStream::from_std`] while handles to it may still be
    /// alive here (say, in a promise's value). Both reach one socket: stop
    /// reading and writing through this one, and drop it; the connection
    /// closes with the last descriptor.
    ///
    /// ```
    /// lwt_native::run(async {
    ///     let l = lwt_native::net::TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    ///     let client = lwt_native::net::TcpStream::connect(l.local_addr()?);
    ///     let (accepted, _) = l.accept().await?;
    ///     let moved = accepted.try_clone_std()?;
    ///     drop(accepted);
    ///     let moved = lwt_native::net::TcpStream::from_std(moved)?;
    ///     moved.write_all(b"ok").await?;
    ///     let mut buf = [0; 2];
    ///     client.await?.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"ok");
    ///     Ok(())
    /// }).unwrap();
    /// ```
    pub fn try_clone_std(&self) -> io::Result<std::net::TcpStream> {
        use std::os::fd::AsFd;
        let fd = self.io.get().as_fd().try_clone_to_owned()?;
        Ok(std::net::TcpStream::from(fd))
    }

    /// Shuts down the reading, writing or both halves of the connection.
    ///
    /// ```
    /// use lwt_native::net::TcpStream;
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let s = lwt_native::run(TcpStream::connect(l.local_addr().unwrap())).unwrap();
    /// s.shutdown(std::net::Shutdown::Write).unwrap();
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get().shutdown(how)
    }

    /// The peer's address.
    ///
    /// ```
    /// use lwt_native::net::TcpStream;
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let s = lwt_native::run(TcpStream::connect(l.local_addr().unwrap())).unwrap();
    /// assert_eq!(s.peer_addr().unwrap(), l.local_addr().unwrap());
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }

    /// The local address.
    ///
    /// ```
    /// use lwt_native::net::TcpStream;
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let s = lwt_native::run(TcpStream::connect(l.local_addr().unwrap())).unwrap();
    /// assert!(s.local_addr().unwrap().ip().is_loopback());
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// Sets `TCP_NODELAY` (no Nagle delay for small writes).
    ///
    /// ```
    /// use lwt_native::net::TcpStream;
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let s = lwt_native::run(TcpStream::connect(l.local_addr().unwrap())).unwrap();
    /// s.set_nodelay(true).unwrap();
    /// assert!(s.nodelay().unwrap());
    /// ```
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.io.get().set_nodelay(on)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// ```
    /// use lwt_native::net::TcpStream;
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let s = lwt_native::run(TcpStream::connect(l.local_addr().unwrap())).unwrap();
    /// let _ = s.nodelay().unwrap();
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get().nodelay()
    }

    /// Splits the stream into a reading and a writing half, usable from two
    /// tasks at once. The socket closes when both halves (and all clones) are
    /// dropped.
    ///
    /// ```
    /// use lwt_native::net::TcpStream;
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let s = lwt_native::run(TcpStream::connect(l.local_addr().unwrap())).unwrap();
    /// let (_read, _write) = s.split();
    /// ```
    pub fn split(&self) -> (ReadHalf, WriteHalf) {
        (ReadHalf(self.clone()), WriteHalf(self.clone()))
    }
}

/// The reading half of a [`TcpStream`] ([`TcpStream::split`]).
///
/// ```
/// use lwt_native::net::TcpStream;
/// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let s = lwt_native::run(TcpStream::connect(l.local_addr().unwrap())).unwrap();
/// let (r, _w) = s.split();
/// let _p = r.read_some(10);
/// ```
#[derive(Clone, Debug)]
pub struct ReadHalf(TcpStream);

/// The writing half of a [`TcpStream`] ([`TcpStream::split`]).
///
/// ```
/// use lwt_native::net::TcpStream;
/// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let s = lwt_native::run(TcpStream::connect(l.local_addr().unwrap())).unwrap();
/// let (_r, w) = s.split();
/// lwt_native::run(w.send_all(b"x".to_vec())).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct WriteHalf(TcpStream);

impl ReadHalf {
    /// See [`TcpStream::read`].
    ///
    /// ```
    /// # use lwt_native::net::TcpStream;
    /// # let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// # let s = lwt_native::run(TcpStream::connect(l.local_addr().unwrap())).unwrap();
    /// let (r, _w) = s.split();
    /// drop(l.accept().unwrap()); // the peer closes
    /// let n = lwt_native::run(async move { r.read(&mut [0; 4]).await }).unwrap();
    /// assert_eq!(n, 0);
    /// ```
    pub async fn read(&self, buf: &mut [u8]) -> Result<usize, Error> {
        self.0.read(buf).await
    }

    /// See [`TcpStream::read_some`].
    ///
    /// ```
    /// # use lwt_native::net::TcpStream;
    /// # let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// # let s = lwt_native::run(TcpStream::connect(l.local_addr().unwrap())).unwrap();
    /// let (r, _w) = s.split();
    /// drop(l.accept().unwrap());
    /// assert!(lwt_native::run(r.read_some(4)).unwrap().is_empty());
    /// ```
    pub fn read_some(&self, max: usize) -> Promise<Vec<u8>> {
        self.0.read_some(max)
    }
}

impl WriteHalf {
    /// See [`TcpStream::write_all`].
    ///
    /// ```
    /// # use lwt_native::net::TcpStream;
    /// # let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// # let s = lwt_native::run(TcpStream::connect(l.local_addr().unwrap())).unwrap();
    /// let (_r, w) = s.split();
    /// lwt_native::run(async move { w.write_all(b"abc").await }).unwrap();
    /// ```
    pub async fn write_all(&self, buf: &[u8]) -> Result<(), Error> {
        self.0.write_all(buf).await
    }

    /// See [`TcpStream::send_all`].
    ///
    /// ```
    /// # use lwt_native::net::TcpStream;
    /// # let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// # let s = lwt_native::run(TcpStream::connect(l.local_addr().unwrap())).unwrap();
    /// let (_r, w) = s.split();
    /// lwt_native::run(w.send_all(b"abc".to_vec())).unwrap();
    /// ```
    pub fn send_all(&self, data: Vec<u8>) -> Promise<()> {
        self.0.send_all(data)
    }

    /// Shuts down the writing side (the peer reads end of stream).
    ///
    /// ```
    /// # use lwt_native::net::TcpStream;
    /// # let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// # let s = lwt_native::run(TcpStream::connect(l.local_addr().unwrap())).unwrap();
    /// let (_r, w) = s.split();
    /// w.shutdown().unwrap();
    /// ```
    pub fn shutdown(&self) -> io::Result<()> {
        self.0.shutdown(Shutdown::Write)
    }
}

/// The types that reach a [`TcpStream`], for the `futures_io` impls.
trait AsStream {
    fn stream(&self) -> &TcpStream;
}

impl AsStream for TcpStream {
    fn stream(&self) -> &TcpStream {
        self
    }
}

impl AsStream for &TcpStream {
    fn stream(&self) -> &TcpStream {
        self
    }
}

impl AsStream for ReadHalf {
    fn stream(&self) -> &TcpStream {
        &self.0
    }
}

impl AsStream for WriteHalf {
    fn stream(&self) -> &TcpStream {
        &self.0
    }
}

macro_rules! async_read {
    ($($t:ty),*) => {$(
        impl futures_io::AsyncRead for $t {
            fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
                self.stream().io.poll_read_bytes(cx, buf)
            }
        }
    )*};
}

macro_rules! async_write {
    ($($t:ty),*) => {$(
        impl futures_io::AsyncWrite for $t {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                self.stream().io.poll_write_bytes(cx, buf)
            }
            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(match self.stream().shutdown(Shutdown::Write) {
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
                    r => r,
                })
            }
        }
    )*};
}

async_read!(TcpStream, &TcpStream, ReadHalf);
async_write!(TcpStream, &TcpStream, WriteHalf);

#[cfg(feature = "hyper")]
impl TcpStream {
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
