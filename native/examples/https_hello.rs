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
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use lwt_native::hyper::{handshake, Io, LwtTimer};
use lwt_native::net::TcpListener;
use lwt_native::tls::{TlsAcceptor, TlsConnector};

fn main() -> Result<(), lwt::Error> {
    // In a real server these come from files (`std::fs::read`).
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
    let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
    let acceptor = TlsAcceptor::from_pem(cert_pem.as_bytes(), key_pem.as_bytes())?;
    let connector = TlsConnector::from_root_pem(cert_pem.as_bytes())?;

    lwt_native::run(async move {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
        let addr = listener.local_addr()?;
        println!("serving on https://localhost:{}/", addr.port());

        // The accept loop: each connection's handshake and HTTP in a task of
        // its own, so a slow or failed handshake holds up no other client.
        let server: lwt::Promise<()> = lwt::spawn(async move {
            // hyper's connection futures are not lwt promises: the tasks
            // awaiting them are kept here, and end with the server.
            let mut connections = Vec::new();
            loop {
                let (tcp, peer) = listener.accept().await?;
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                connections.retain(|c: &lwt::Promise<()>| c.is_pending());
                connections.push(lwt::spawn(async move {
                    let tls = match acceptor.accept(tcp).await {
                        Ok(tls) => tls,
                        Err(e) => {
                            eprintln!("{peer}: {e}");
                            return Ok(());
                        }
                    };
                    let hello = service_fn(|_req: Request<Incoming>| async {
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("hello over TLS"))))
                    });
                    let mut http = http1::Builder::new();
                    http.timer(LwtTimer);
                    if let Err(e) = http.serve_connection(Io::new(tls), hello).await {
                        eprintln!("{peer}: {e}");
                    }
                    Ok(())
                }));
            }
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

        // Stops the server: the listener and its connections are closed.
        server.abort();
        Ok(())
    })
}
