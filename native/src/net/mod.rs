//! Sockets (Lwt_unix's socket functions): TCP, UDP, Unix-domain, and DNS
//! lookups on the blocking pool.
//!
//! Every socket type is a cheap-to-clone handle: clones share one socket,
//! closed with the last clone, so sockets can be the values of promises.

mod tcp;
mod udp;
mod unix;

pub(crate) use tcp::Listening;
pub use tcp::{ReadHalf, TcpListener, TcpStream, WriteHalf};
pub use udp::UdpSocket;
pub use unix::{UnixListener, UnixStream};

use std::net::{SocketAddr, ToSocketAddrs};

use lwt::Promise;

/// Resolves `host` (a name or an address, with a port: `"localhost:80"`) on
/// the blocking pool (Lwt_unix's `getaddrinfo`).
///
/// ```
/// let addrs = lwt_native::run(lwt_native::net::lookup_host("127.0.0.1:80")).unwrap();
/// assert_eq!(addrs, ["127.0.0.1:80".parse().unwrap()]);
/// ```
pub fn lookup_host(host: &str) -> Promise<Vec<SocketAddr>> {
    let host = host.to_string();
    crate::detach_io(move || host.to_socket_addrs().map(|a| a.collect::<Vec<_>>()))
}

/// Connects to the first address of `host` (`"name:port"`) that accepts.
///
/// ```
/// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let port = l.local_addr().unwrap().port();
/// let s = lwt_native::run(lwt_native::net::connect_host(&format!("localhost:{port}")));
/// # let _ = s;
/// ```
pub fn connect_host(host: &str) -> Promise<TcpStream> {
    let host = host.to_string();
    lwt::spawn(async move {
        let addrs = lookup_host(&host).await?;
        let mut last = lwt::Error::msg(format!("no address for {host}"));
        for a in addrs {
            match TcpStream::connect(a).await {
                Ok(s) => return Ok(s),
                Err(e) => last = e,
            }
        }
        Err(last)
    })
}
