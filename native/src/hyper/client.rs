//! [`handshake`] and [`handshake_http2`]: hyper's client over a connection,
//! with the connection's task on the loop.

use std::error::Error as StdError;

use hyper::body::Body;
use hyper::client::conn::{http1, http2};
use hyper::rt::{Read, Write};

use super::exec::{spawn_owned, LwtExecutor};
use super::timer::LwtTimer;

/// Starts an HTTP/1.1 client on `io` (a [`TcpStream`](crate::net::TcpStream),
/// a [`UnixStream`](crate::net::UnixStream), an [`Io`](super::Io)...): the
/// connection runs as a task of the loop, and the returned `SendRequest`
/// sends requests on it, one at a time. The connection closes once the
/// `SendRequest` is dropped and the last response is read.
///
/// ```
/// use http_body_util::Empty;
/// use hyper::body::Bytes;
/// use std::io::{Read, Write};
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let addr = listener.local_addr().unwrap();
/// let peer = std::thread::spawn(move || {
///     let (mut s, _) = listener.accept().unwrap();
///     let mut req = [0; 1024];
///     let _ = s.read(&mut req).unwrap();
///     s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
/// });
/// let status = lwt_native::run(async move {
///     let stream = lwt_native::net::TcpStream::connect(addr).await?;
///     let mut client = lwt_native::hyper::handshake(stream).await?;
///     let req = hyper::Request::get("/").header("host", "x").body(Empty::<Bytes>::new()).unwrap();
///     Ok(client.send_request(req).await?.status())
/// }).unwrap();
/// assert_eq!(status, 204);
/// peer.join().unwrap();
/// ```
pub async fn handshake<T, B>(io: T) -> Result<http1::SendRequest<B>, hyper::Error>
where
    T: Read + Write + Unpin + 'static,
    B: Body + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let (sender, conn) = http1::handshake(io).await?;
    drop(spawn_owned(async move {
        let _ = conn.await;
        Ok(())
    }));
    Ok(sender)
}

/// Starts an HTTP/2 client on `io`, with prior knowledge (no upgrade from
/// HTTP/1), with [`LwtExecutor`] and [`LwtTimer`]. The `SendRequest` is
/// cheap to clone, and its clones send requests concurrently, as streams of
/// the one connection, which closes when the last clone is dropped.
///
/// ```
/// use std::convert::Infallible;
/// use http_body_util::{BodyExt, Empty, Full};
/// use hyper::body::Bytes;
/// use lwt_native::hyper::{handshake_http2, serve, Http};
///
/// lwt_native::run(async {
///     let listener = lwt_native::net::TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
///     let addr = listener.local_addr()?;
///     let svc = hyper::service::service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
///         let version = format!("{:?}", req.version());
///         Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(version))))
///     });
///     let (stop, stopper) = lwt::wait();
///     let server = serve(listener, Http::http2(), svc, stop);
///
///     let mut client = handshake_http2(lwt_native::net::TcpStream::connect(addr).await?).await?;
///     let req = hyper::Request::get("http://localhost/").body(Empty::<Bytes>::new()).unwrap();
///     let body = client.send_request(req).await?.into_body().collect().await?.to_bytes();
///     assert_eq!(body, "HTTP/2.0");
///     drop(client);
///     stopper.resolve(())?;
///     server.await
/// }).unwrap();
/// ```
pub async fn handshake_http2<T, B>(io: T) -> Result<http2::SendRequest<B>, hyper::Error>
where
    T: Read + Write + Unpin + 'static,
    B: Body + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let mut builder = http2::Builder::new(LwtExecutor);
    builder.timer(LwtTimer);
    let (sender, conn) = builder.handshake(io).await?;
    drop(spawn_owned(async move {
        let _ = conn.await;
        Ok(())
    }));
    Ok(sender)
}
