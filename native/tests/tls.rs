//! TLS on lwt-native (feature `tls`): rustls over the loop's TCP streams,
//! with certificates made at test time by rcgen. Each test runs on a fresh
//! thread, one at a time, bounded in time, and checks that it leaves no file
//! descriptor and no armed timer behind.
//!
//! Linux only: rcgen, a Linux dev-dependency (see native/Cargo.toml), makes
//! the certificates.

#![cfg(target_os = "linux")]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

mod common;

use common::leak_checked;
use futures::{AsyncReadExt, AsyncWriteExt};
use lwt::{Error, Promise};
use lwt_native::net::{TcpListener, TcpStream};
use lwt_native::tls::rustls::{self, CertificateError};
use lwt_native::tls::{connect, TlsAcceptor, TlsConnector};

/// A self-signed certificate for "localhost": (certificate PEM, key PEM).
fn self_signed() -> (String, String) {
    let c = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    (c.cert.pem(), c.signing_key.serialize_pem())
}

/// A certificate authority with its own name (so that two of them differ in
/// issuer, not only in key).
fn ca(name: &str) -> rcgen::CertifiedIssuer<'static, rcgen::KeyPair> {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap()).unwrap()
}

/// A certificate for "localhost" issued by `ca`: (certificate PEM, key PEM).
fn issued_by(ca: &rcgen::CertifiedIssuer<'static, rcgen::KeyPair>) -> (String, String) {
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, ca).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn listener() -> Result<TcpListener, Error> {
    Ok(TcpListener::bind("127.0.0.1:0".parse().unwrap())?)
}

/// What the server saw of each client: the line it read, or the error of
/// its handshake or of reading.
type Seen = Rc<RefCell<Vec<Result<String, Error>>>>;

/// An echo server over TLS for `clients` connections, one task per
/// connection: reads what the client sends until it closes, answers
/// "echo: " and the text, closes. Every outcome goes into `seen`.
fn tls_echo_server(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    clients: usize,
    seen: Seen,
) -> Promise<()> {
    lwt::spawn(async move {
        let mut conns = Vec::new();
        for _ in 0..clients {
            let (tcp, _peer) = listener.accept().await?;
            let acceptor = acceptor.clone();
            let seen = seen.clone();
            conns.push(lwt::spawn(async move {
                let outcome = async {
                    let mut tls = acceptor.accept(tcp).await?;
                    let mut text = String::new();
                    tls.read_to_string(&mut text).await?;
                    tls.write_all(format!("echo: {text}").as_bytes()).await?;
                    tls.close().await?;
                    Ok::<_, Error>(text)
                }
                .await;
                seen.borrow_mut().push(outcome);
                Ok(())
            }));
        }
        lwt::join(conns).await
    })
}

/// Sends `text` over TLS, closes the writing side, reads the answer.
async fn tls_round_trip(
    addr: std::net::SocketAddr,
    connector: &TlsConnector,
    text: &str,
) -> Result<String, Error> {
    let mut tls = connect(addr, "localhost", connector).await?;
    tls.write_all(text.as_bytes()).await?;
    tls.close().await?;
    let mut answer = String::new();
    tls.read_to_string(&mut answer).await?;
    Ok(answer)
}

#[test]
fn client_and_server_round_trip() {
    leak_checked(|| async {
        let (cert, key) = self_signed();
        let acceptor = TlsAcceptor::from_pem(cert.as_bytes(), key.as_bytes())?;
        let connector = TlsConnector::from_root_pem(cert.as_bytes())?;
        let l = listener()?;
        let addr = l.local_addr()?;
        let seen = Seen::default();
        let server = tls_echo_server(l, acceptor, 2, seen.clone());
        assert_eq!(
            tls_round_trip(addr, &connector, "hello").await?,
            "echo: hello"
        );
        // A larger message, over several TLS records.
        let big = "x".repeat(100_000);
        assert_eq!(
            tls_round_trip(addr, &connector, &big).await?,
            format!("echo: {big}")
        );
        server.await?;
        let seen = seen.borrow();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].as_ref().unwrap(), "hello");
        Ok(())
    });
}

#[test]
fn an_untrusted_certificate_fails_on_the_client_and_the_server_goes_on() {
    leak_checked(|| async {
        let (ours, theirs) = (
            ca("Test CA (trusted by the server's clients)"),
            ca("Another CA"),
        );
        let (cert, key) = issued_by(&ours);
        let acceptor = TlsAcceptor::from_pem(cert.as_bytes(), key.as_bytes())?;
        let good = TlsConnector::from_root_pem(ours.pem().as_bytes())?;
        let distrustful = TlsConnector::from_root_pem(theirs.pem().as_bytes())?;
        let l = listener()?;
        let addr = l.local_addr()?;
        let seen = Seen::default();
        let server = tls_echo_server(l, acceptor, 2, seen.clone());

        let err = tls_round_trip(addr, &distrustful, "rejected")
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("TLS handshake with \"localhost\" (client side) failed"),
            "{err}"
        );
        assert!(
            matches!(
                err.downcast_ref::<rustls::Error>(),
                Some(rustls::Error::InvalidCertificate(
                    CertificateError::UnknownIssuer
                ))
            ),
            "{err:?}"
        );
        // The next client, trusting the server, is served.
        assert_eq!(tls_round_trip(addr, &good, "next").await?, "echo: next");
        server.await?;
        let seen = seen.borrow();
        let failed = seen[0].as_ref().unwrap_err();
        assert!(
            failed
                .to_string()
                .starts_with("TLS handshake (server side) failed"),
            "{failed}"
        );
        assert_eq!(seen[1].as_ref().unwrap(), "next");
        Ok(())
    });
}

#[test]
fn a_peer_that_is_not_tls_fails_the_handshake_and_the_server_goes_on() {
    leak_checked(|| async {
        let (cert, key) = self_signed();
        let acceptor = TlsAcceptor::from_pem(cert.as_bytes(), key.as_bytes())?;
        let connector = TlsConnector::from_root_pem(cert.as_bytes())?;
        let l = listener()?;
        let addr = l.local_addr()?;
        let seen = Seen::default();
        let server = tls_echo_server(l, acceptor, 3, seen.clone());

        // Plain HTTP to a TLS server: its handshake fails, and it says why.
        let plain = TcpStream::connect(addr).await?;
        plain
            .write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n")
            .await?;
        let mut rest = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            match plain.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => rest.extend_from_slice(&buf[..n]),
            }
        }
        drop(plain);

        // A client that connects and closes before saying anything.
        drop(TcpStream::connect(addr).await?);

        assert_eq!(
            tls_round_trip(addr, &connector, "still here").await?,
            "echo: still here"
        );
        server.await?;
        let seen = seen.borrow();
        assert_eq!(seen.len(), 3);
        let errors: Vec<String> = seen
            .iter()
            .filter_map(|r| r.as_ref().err().map(|e| e.to_string()))
            .collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        for e in &errors {
            assert!(e.starts_with("TLS handshake (server side) failed"), "{e}");
        }
        assert!(
            errors
                .iter()
                .any(|e| e.contains("closed the connection during the handshake")),
            "{errors:?}"
        );
        assert!(seen
            .iter()
            .any(|r| r.as_ref().is_ok_and(|t| t == "still here")));
        Ok(())
    });
}

#[test]
fn a_client_that_says_nothing_times_out_on_the_server() {
    leak_checked(|| async {
        let (cert, key) = self_signed();
        let acceptor = TlsAcceptor::from_pem(cert.as_bytes(), key.as_bytes())?
            .with_handshake_timeout(Duration::from_millis(100));
        let l = listener()?;
        let addr = l.local_addr()?;
        let silent = TcpStream::connect(addr).await?;
        let (tcp, _) = l.accept().await?;
        let err = acceptor.accept(tcp).await.unwrap_err();
        assert!(err.is_timeout(), "{err}");
        assert!(
            err.to_string()
                .starts_with("TLS handshake (server side) failed"),
            "{err}"
        );
        // The server dropped the connection: the client reads end of file.
        let mut buf = [0u8; 16];
        assert_eq!(silent.read(&mut buf).await?, 0);
        Ok(())
    });
}

#[test]
fn a_tls_client_to_a_plain_server_fails_clearly() {
    leak_checked(|| async {
        let (cert, _key) = self_signed();
        let connector = TlsConnector::from_root_pem(cert.as_bytes())?;
        let l = listener()?;
        let addr = l.local_addr()?;
        let server = lwt::spawn(async move {
            let (s, _) = l.accept().await?;
            s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await?;
            Ok(())
        });
        let err = connect(addr, "localhost", &connector).await.unwrap_err();
        assert!(
            err.to_string()
                .starts_with("TLS handshake with \"localhost\" (client side) failed"),
            "{err}"
        );
        server.await
    });
}

/// `hyper::serve_tls`: hyper over TLS from a listener, one task per
/// connection, handshake failures reported and survived.
#[cfg(feature = "hyper")]
mod serve_tls {
    use std::cell::RefCell;
    use std::convert::Infallible;
    use std::rc::Rc;
    use std::time::{Duration, Instant};

    use http_body_util::{BodyExt, Empty, Full};
    use hyper::body::Bytes;
    use hyper::{Request, Response};
    use lwt::{Error, Promise};
    use lwt_native::hyper::{handshake, serve_tls, Http, Io};
    use lwt_native::net::TcpStream;
    use lwt_native::tls::rustls;
    use lwt_native::tls::{connect, TlsAcceptor, TlsConnector};

    use super::common::leak_checked_hyper;
    use super::{ca, issued_by, listener};

    /// [`leak_checked_hyper`] (hyper's client connection tasks end a turn
    /// or two after their last user).
    fn leak_checked<F, Fut>(body: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(), Error>> + 'static,
    {
        leak_checked_hyper(body)
    }

    /// The handshake errors the server reported, in order.
    type Failures = Rc<RefCell<Vec<Error>>>;

    /// A hello server over TLS with `acceptor`; its handshake errors go to
    /// the returned list. Returns (address, server, stopper, failures).
    fn hello_server(
        acceptor: TlsAcceptor,
    ) -> Result<
        (
            std::net::SocketAddr,
            Promise<()>,
            lwt::Resolver<()>,
            Failures,
        ),
        Error,
    > {
        let l = listener()?;
        let addr = l.local_addr()?;
        let hello = hyper::service::service_fn(|_req: Request<hyper::body::Incoming>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("hello over TLS"))))
        });
        let failures = Failures::default();
        let seen = failures.clone();
        let (stop, stopper) = lwt::wait();
        let server = serve_tls(l, acceptor, Http::http1(), hello, stop, move |_peer, e| {
            seen.borrow_mut().push(e)
        });
        Ok((addr, server, stopper, failures))
    }

    /// GET / over TLS with `connector`, twice on one keep-alive connection.
    async fn get_twice(addr: std::net::SocketAddr, connector: &TlsConnector) -> Result<(), Error> {
        let tls = connect(addr, "localhost", connector).await?;
        let mut client = handshake(Io::new(tls)).await?;
        for _ in 0..2 {
            let req = Request::get("/")
                .header("host", "localhost")
                .body(Empty::<Bytes>::new())
                .unwrap();
            let body = client
                .send_request(req)
                .await?
                .into_body()
                .collect()
                .await?;
            assert_eq!(body.to_bytes(), "hello over TLS");
        }
        Ok(())
    }

    /// Reads until the server closes; the bytes read.
    async fn read_until_closed(s: &TcpStream) -> Result<Vec<u8>, Error> {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = s.read(&mut buf).await?;
            if n == 0 {
                return Ok(all);
            }
            all.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn bad_peers_fail_their_own_connection_and_good_clients_are_served() {
        leak_checked(|| async {
            let (ours, other) = (ca("Test CA (serve_tls)"), ca("Another CA (serve_tls)"));
            let (cert, key) = issued_by(&ours);
            let acceptor = TlsAcceptor::from_pem(cert.as_bytes(), key.as_bytes())?;
            let good = TlsConnector::from_root_pem(ours.pem().as_bytes())?;
            let untrusting = TlsConnector::from_root_pem(other.pem().as_bytes())?;
            let (addr, server, stopper, failures) = hello_server(acceptor)?;

            get_twice(addr, &good).await?;

            // A peer speaking plain HTTP: its connection is closed.
            let plain = TcpStream::connect(addr).await?;
            plain
                .write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n")
                .await?;
            let answer = read_until_closed(&plain).await?;
            assert!(
                !answer.starts_with(b"HTTP/"),
                "served plain HTTP: {answer:?}"
            );
            drop(plain);

            // A client that does not trust the certificate.
            let err = connect(addr, "localhost", &untrusting).await.unwrap_err();
            assert!(
                matches!(
                    err.downcast_ref::<rustls::Error>(),
                    Some(rustls::Error::InvalidCertificate(_))
                ),
                "{err}"
            );

            // The server goes on.
            get_twice(addr, &good).await?;

            // Both failures were reported, each as a server-side handshake
            // error (the untrusting client's alert, or its closing, may
            // reach the server after its connect returned: waited for,
            // bounded).
            let start = Instant::now();
            while failures.borrow().len() < 2 && start.elapsed() < Duration::from_secs(5) {
                lwt::sleep(Duration::from_millis(10)).await?;
            }
            {
                let failures = failures.borrow();
                assert_eq!(failures.len(), 2, "{failures:?}");
                for e in failures.iter() {
                    assert!(
                        e.to_string()
                            .starts_with("TLS handshake (server side) failed"),
                        "{e}"
                    );
                }
            }
            stopper.resolve(())?;
            server.await
        });
    }

    #[test]
    fn a_silent_client_is_closed_by_the_handshake_timeout() {
        leak_checked(|| async {
            let (ours, _) = (ca("Test CA (silent)"), ());
            let (cert, key) = issued_by(&ours);
            let acceptor = TlsAcceptor::from_pem(cert.as_bytes(), key.as_bytes())?
                .with_handshake_timeout(Duration::from_millis(200));
            let good = TlsConnector::from_root_pem(ours.pem().as_bytes())?;
            let (addr, server, stopper, failures) = hello_server(acceptor)?;

            let start = Instant::now();
            let silent = TcpStream::connect(addr).await?;
            // Real sockets, so the real clock: closed after ~200 ms, well
            // within the bound.
            let got = lwt::with_timeout(
                Duration::from_secs(5),
                &lwt::spawn(async move { read_until_closed(&silent).await }),
            )
            .await?;
            assert!(got.is_empty());
            assert!(start.elapsed() >= Duration::from_millis(200));
            assert_eq!(failures.borrow().len(), 1);
            assert!(
                failures.borrow()[0].is_timeout(),
                "{}",
                failures.borrow()[0]
            );

            get_twice(addr, &good).await?;
            stopper.resolve(())?;
            server.await
        });
    }

    #[test]
    fn shutdown_drops_a_handshake_in_progress() {
        leak_checked(|| async {
            let (ours, _) = (ca("Test CA (shutdown)"), ());
            let (cert, key) = issued_by(&ours);
            let acceptor = TlsAcceptor::from_pem(cert.as_bytes(), key.as_bytes())?;
            let (addr, server, stopper, failures) = hello_server(acceptor)?;
            let silent = TcpStream::connect(addr).await?;
            // Give the server a turn to accept it.
            lwt::sleep(Duration::from_millis(50)).await?;
            stopper.resolve(())?;
            lwt::with_timeout(Duration::from_secs(5), &server).await?;
            assert!(read_until_closed(&silent).await?.is_empty());
            assert!(failures.borrow().is_empty());
            Ok(())
        });
    }

    /// Serves the request's version over TLS with [`Http::auto`], the
    /// acceptor offering h2 and http/1.1 by ALPN.
    #[test]
    fn auto_serves_each_client_the_protocol_alpn_agreed() {
        use lwt_native::hyper::handshake_http2;
        leak_checked(|| async {
            let ca = ca("Test CA (ALPN)");
            let (cert, key) = issued_by(&ca);
            let acceptor = TlsAcceptor::from_pem(cert.as_bytes(), key.as_bytes())?
                .with_alpn_protocols(&[b"h2", b"http/1.1"]);
            let roots = ca.pem();
            let l = listener()?;
            let addr = l.local_addr()?;
            let version =
                hyper::service::service_fn(|req: Request<hyper::body::Incoming>| async move {
                    let v = format!("{:?}", req.version());
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(v))))
                });
            let failures = Failures::default();
            let seen = failures.clone();
            let (stop, stopper) = lwt::wait();
            let server = serve_tls(l, acceptor, Http::auto(), version, stop, move |_peer, e| {
                seen.borrow_mut().push(e)
            });
            let req = || {
                Request::get("https://localhost/")
                    .header("host", "localhost")
                    .body(Empty::<Bytes>::new())
                    .unwrap()
            };
            let body = |b: hyper::body::Incoming| async move {
                let b = b.collect().await?.to_bytes();
                Ok::<_, Error>(String::from_utf8_lossy(&b).into_owned())
            };

            // Asks for h2: HTTP/2, agreed in the handshake.
            let h2 = TlsConnector::from_root_pem(roots.as_bytes())?.with_alpn_protocols(&[b"h2"]);
            let tls = connect(addr, "localhost", &h2).await?;
            assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
            let mut c = handshake_http2(Io::new(tls)).await?;
            assert_eq!(
                body(c.send_request(req()).await?.into_body()).await?,
                "HTTP/2.0"
            );
            drop(c);

            // Asks for http/1.1 (or offers both, preferring it): HTTP/1.1.
            let h1 = TlsConnector::from_root_pem(roots.as_bytes())?
                .with_alpn_protocols(&[b"http/1.1", b"h2"]);
            let tls = connect(addr, "localhost", &h1).await?;
            assert_eq!(
                tls.get_ref().1.alpn_protocol(),
                Some(&b"h2"[..]),
                "the server's preference wins"
            );
            drop(tls);
            let h1 =
                TlsConnector::from_root_pem(roots.as_bytes())?.with_alpn_protocols(&[b"http/1.1"]);
            let tls = connect(addr, "localhost", &h1).await?;
            let mut c = handshake(Io::new(tls)).await?;
            assert_eq!(
                body(c.send_request(req()).await?.into_body()).await?,
                "HTTP/1.1"
            );
            drop(c);

            // No ALPN at all: told apart by the first bytes, both ways.
            let plain = TlsConnector::from_root_pem(roots.as_bytes())?;
            let tls = connect(addr, "localhost", &plain).await?;
            assert_eq!(tls.get_ref().1.alpn_protocol(), None);
            let mut c = handshake(Io::new(tls)).await?;
            assert_eq!(
                body(c.send_request(req()).await?.into_body()).await?,
                "HTTP/1.1"
            );
            drop(c);
            let tls = connect(addr, "localhost", &plain).await?;
            let mut c = handshake_http2(Io::new(tls)).await?;
            assert_eq!(
                body(c.send_request(req()).await?.into_body()).await?,
                "HTTP/2.0"
            );
            drop(c);

            // A protocol the server does not offer fails that handshake only.
            let other =
                TlsConnector::from_root_pem(roots.as_bytes())?.with_alpn_protocols(&[b"spdy/3"]);
            assert!(connect(addr, "localhost", &other).await.is_err());
            lwt::sleep(Duration::from_millis(50)).await?;
            assert_eq!(failures.borrow().len(), 1);

            stopper.resolve(())?;
            lwt::with_timeout(Duration::from_secs(5), &server).await
        });
    }
}
