//! UDP: [`UdpSocket`].

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use lwt::{Error, Promise};

use crate::engine::reactor::{Dir, Registered};

/// A UDP socket (Lwt_unix's `SOCK_DGRAM` socket). Cheap to clone.
///
/// ```
/// use lwt_native::net::UdpSocket;
/// let got = lwt_native::run(async {
///     let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
///     let b = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
///     a.send_to(b"ping", b.local_addr()?).await?;
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await?;
///     assert_eq!(from, a.local_addr()?);
///     Ok(buf[..n].to_vec())
/// }).unwrap();
/// assert_eq!(got, b"ping");
/// ```
#[derive(Clone)]
pub struct UdpSocket {
    io: Rc<Registered<mio::net::UdpSocket>>,
}

impl std::fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl UdpSocket {
    /// Binds a socket to `addr` (port 0: any free port).
    ///
    /// ```
    /// let s = lwt_native::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// assert_ne!(s.local_addr().unwrap().port(), 0);
    /// ```
    pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: Rc::new(Registered::new(mio::net::UdpSocket::bind(addr)?)?),
        })
    }

    /// The local address.
    ///
    /// ```
    /// let s = lwt_native::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// assert!(s.local_addr().unwrap().ip().is_loopback());
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// Sets the default peer, for [`UdpSocket::send`] and [`UdpSocket::recv`].
    ///
    /// ```
    /// let a = lwt_native::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// let b = lwt_native::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// a.connect(b.local_addr().unwrap()).unwrap();
    /// ```
    pub fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        self.io.get().connect(addr)
    }

    /// Sends one datagram to `target`.
    ///
    /// ```
    /// let a = lwt_native::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// let n = lwt_native::run(async move { a.send_to(b"x", "127.0.0.1:9".parse().unwrap()).await }).unwrap();
    /// assert_eq!(n, 1);
    /// ```
    pub async fn send_to(&self, buf: &[u8], target: SocketAddr) -> Result<usize, Error> {
        self.io.io(Dir::Write, |s| s.send_to(buf, target)).await
    }

    /// Receives one datagram and its sender.
    ///
    /// ```
    /// # use lwt_native::net::UdpSocket;
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// let to = a.local_addr().unwrap();
    /// let (n, _) = lwt_native::run(async move {
    ///     a.send_to(b"self", to).await?;
    ///     a.recv_from(&mut [0; 8]).await
    /// }).unwrap();
    /// assert_eq!(n, 4);
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddr), Error> {
        self.io.io(Dir::Read, |s| s.recv_from(buf)).await
    }

    /// Sends one datagram to the connected peer.
    ///
    /// ```
    /// # use lwt_native::net::UdpSocket;
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// a.connect(a.local_addr().unwrap()).unwrap();
    /// let n = lwt_native::run(async move {
    ///     a.send(b"me").await?;
    ///     a.recv(&mut [0; 8]).await
    /// }).unwrap();
    /// assert_eq!(n, 2);
    /// ```
    pub async fn send(&self, buf: &[u8]) -> Result<usize, Error> {
        self.io.io(Dir::Write, |s| s.send(buf)).await
    }

    /// Receives one datagram from the connected peer.
    ///
    /// ```
    /// # use lwt_native::net::UdpSocket;
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// a.connect(a.local_addr().unwrap()).unwrap();
    /// let n = lwt_native::run(async move { a.send(b"abc").await?; a.recv(&mut [0; 8]).await }).unwrap();
    /// assert_eq!(n, 3);
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> Result<usize, Error> {
        self.io.io(Dir::Read, |s| s.recv(buf)).await
    }

    /// One datagram (up to `max` bytes) and its sender, as a promise.
    ///
    /// ```
    /// # use lwt_native::net::UdpSocket;
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    /// let me = a.local_addr().unwrap();
    /// let p = a.recv_some(8);
    /// lwt_native::run(async move { a.send_to(b"hey", me).await }).unwrap();
    /// assert_eq!(lwt_native::run(p).unwrap(), (b"hey".to_vec(), me));
    /// ```
    pub fn recv_some(&self, max: usize) -> Promise<(Vec<u8>, SocketAddr)> {
        let me = self.clone();
        lwt::spawn(async move {
            let mut buf = vec![0; max];
            let (n, from) = me.recv_from(&mut buf).await?;
            buf.truncate(n);
            Ok((buf, from))
        })
    }
}
