//! HTTPS on lwt-native: hyper over rustls. Makes a self-signed certificate
//! for "localhost" (with rcgen), serves "hello over TLS" on a free loopback
//! port, fetches it with hyper's client over a TLS connection that trusts
//! that certificate, prints the answer and exits.
//!
//! ```text
//! cargo run -p lwt-native --features tls,hyper --example https_hello
//! ```

use std::convert::Infallible;

use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use lwt_native::hyper::{handshake, serve_tls, Http, Io};
use lwt_native::net::TcpListener;
use lwt_native::tls::{TlsAcceptor, TlsConnector};

fn main() -> Result<(), lwt::Error> {
    // In a real server these come from files (`std::fs::read`).
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
    let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
    // Offers HTTP/2 and HTTP/1.1 by ALPN; `Http::auto()` below serves each
    // connection in the protocol its handshake agreed on.
    let acceptor = TlsAcceptor::from_pem(cert_pem.as_bytes(), key_pem.as_bytes())?
        .with_alpn_protocols(&[b"h2", b"http/1.1"]);
    let connector = TlsConnector::from_root_pem(cert_pem.as_bytes())?;

    lwt_native::run(async move {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
        let addr = listener.local_addr()?;
        println!("serving on https://localhost:{}/", addr.port());

        // Each connection's handshake and HTTP run in a task of their own,
        // so a slow or failed handshake holds up no other client; a failed
        // one closes its connection and is printed.
        let hello = service_fn(|_req: Request<Incoming>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("hello over TLS"))))
        });
        let (stop, stopper) = lwt::wait();
        let server = serve_tls(listener, acceptor, Http::auto(), hello, stop, |peer, e| {
            eprintln!("{peer}: {e}")
        });

        let tls = lwt_native::tls::connect(addr, "localhost", &connector).await?;
        let mut client = handshake(Io::new(tls)).await?;
        let req = Request::get("/")
            .header("host", "localhost")
            .body(Empty::<Bytes>::new())
            .map_err(lwt::Error::new)?;
        let resp = client.send_request(req).await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        println!("{status}: {}", String::from_utf8_lossy(&body));
        drop(client);

        // Stops the server gracefully: no more connections are accepted,
        // and it ends once the open ones have closed.
        stopper.resolve(())?;
        server.await
    })
}
