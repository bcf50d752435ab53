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
