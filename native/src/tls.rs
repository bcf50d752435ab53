//! TLS over the loop's streams (cargo feature `tls`): rustls, with its
//! `ring` crypto provider, through `futures-rustls`.
//!
//! The loop's [`TcpStream`] and [`UnixStream`](crate::net::UnixStream)
//! speak the `futures_io` traits, which is what `futures-rustls` takes, so a
//! TLS stream is a [`ServerTlsStream`] or [`ClientTlsStream`] around one of
//! them: it reads and writes through `futures_io::AsyncRead` and
//! `AsyncWrite` (`futures::AsyncReadExt` and friends), and hyper takes it
//! wrapped in `lwt_native::hyper::Io` (feature `hyper`; see `examples/https_hello.rs`).
//!
//! * [`TlsAcceptor`]: the server's handshake on an accepted stream;
//! * [`TlsConnector`]: the client's handshake, checking the server's
//!   certificate against the roots it was given, for a server name;
//! * [`connect`]: TCP connect, then the client handshake.
//!
//! A handshake is bounded in time ([`DEFAULT_HANDSHAKE_TIMEOUT`], or
//! `with_handshake_timeout`), so a peer that connects and says nothing does
//! not hold a task forever. A failed handshake is an [`lwt::Error`] that says
//! which side failed and why; when rustls gave the reason, the error
//! downcasts to that [`rustls::Error`] (an untrusted certificate is
//! `rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)`),
//! otherwise to the `io::Error` (a peer that closed mid-handshake is
//! `UnexpectedEof`). A failed handshake consumes its stream: the socket is
//! closed with it, and nothing else about the acceptor or the listener
//! changes, so a server's accept loop simply goes on with the next client.
//! With the `hyper` feature too, `lwt_native::hyper::serve_tls` is that
//! accept loop for hyper: a task per connection for its handshake, failures
//! handed to a callback, graceful shutdown.
//!
//! [`rustls`] is re-exported, so that configurations are built with the
//! version this module was compiled against.
//!
//! ```
//! use lwt_native::tls::{TlsAcceptor, TlsConnector};
//! # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
//! # let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
//! // `cert_pem` and `key_pem`: a certificate for "localhost" and its key, in PEM.
//! let acceptor = TlsAcceptor::from_pem(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap();
//! let connector = TlsConnector::from_root_pem(cert_pem.as_bytes()).unwrap();
//!
//! lwt_native::run(async move {
//!     use futures::{AsyncReadExt, AsyncWriteExt};
//!     let listener = lwt_native::net::TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
//!     let addr = listener.local_addr()?;
//!     let server = lwt::spawn(async move {
//!         let (tcp, _peer) = listener.accept().await?;
//!         let mut tls = acceptor.accept(tcp).await?;
//!         tls.write_all(b"hello over TLS").await?;
//!         tls.close().await?;
//!         Ok(())
//!     });
//!     let mut tls = lwt_native::tls::connect(addr, "localhost", &connector).await?;
//!     let mut got = String::new();
//!     tls.read_to_string(&mut got).await?;
//!     assert_eq!(got, "hello over TLS");
//!     server.await
//! }).unwrap();
//! ```

use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use lwt::Error;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use crate::net::TcpStream;

pub use futures_rustls::client::TlsStream as ClientTlsStream;
pub use futures_rustls::server::TlsStream as ServerTlsStream;
pub use rustls;

/// How long a handshake may take unless told otherwise: 10 seconds.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The `ring` provider, which every configuration of this module uses.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificates of a PEM file's contents, in order; an error if there
/// is none or one is malformed.
fn certs_from_pem(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::invalid_argument(format!("{what}: bad PEM: {e}")))?;
    if certs.is_empty() {
        return Err(Error::invalid_argument(format!(
            "{what}: no CERTIFICATE block in the PEM data"
        )));
    }
    Ok(certs)
}

/// The error of a failed handshake: rustls's own reason when there is one
/// (so that it downcasts to `rustls::Error`), else the I/O error, with
/// `what` in front.
fn handshake_error(e: io::Error, what: impl std::fmt::Display) -> Error {
    let rustls_reason = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .cloned();
    let base = match rustls_reason {
        Some(reason) => Error::new(reason),
        None if e.kind() == io::ErrorKind::UnexpectedEof => Error::new(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the peer closed the connection during the handshake",
        )),
        None => Error::new(e),
    };
    base.context(what)
}

/// Runs `handshake` for at most `limit` on the loop's clock; a handshake
/// that takes longer is dropped (with its stream) and is a time-out error.
async fn bounded<T>(
    handshake: impl Future<Output = io::Result<T>>,
    limit: Duration,
    what: impl std::fmt::Display,
) -> Result<T, Error> {
    let mut handshake = pin!(handshake);
    let mut timer = lwt::sleep(limit);
    // Releases the timer however this ends: the handshake won, or this
    // future was dropped (its task aborted, a server shutting down).
    let _release = timer.clone().abort_on_drop();
    let result = unless(handshake.as_mut(), &mut timer).await;
    match result {
        Some(Ok(stream)) => Ok(stream),
        Some(Err(e)) => Err(handshake_error(e, what)),
        None => Err(Error::timeout().context(format!("{what} (after {limit:?})"))),
    }
}

/// `work`'s output, or `None` if `other` resolves (either way) first; `work`
/// is polled first, so it wins a tie.
pub(crate) async fn unless<T>(
    work: impl Future<Output = T>,
    other: &mut lwt::Promise<()>,
) -> Option<T> {
    let mut work = pin!(work);
    poll_fn(|cx| {
        if let Poll::Ready(r) = work.as_mut().poll(cx) {
            return Poll::Ready(Some(r));
        }
        if Pin::new(&mut *other).poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}

/// The server side of TLS: a rustls server configuration and a handshake
/// time limit. Cheap to clone (the configuration is shared).
///
/// ```
/// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
/// # let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
/// use std::time::Duration;
/// let acceptor = lwt_native::tls::TlsAcceptor::from_pem(cert_pem.as_bytes(), key_pem.as_bytes())
///     .unwrap()
///     .with_handshake_timeout(Duration::from_secs(3));
/// assert_eq!(acceptor.handshake_timeout(), Duration::from_secs(3));
/// ```
#[derive(Clone)]
pub struct TlsAcceptor {
    config: Arc<ServerConfig>,
    timeout: Duration,
}

impl std::fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsAcceptor")
            .field("handshake_timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl TlsAcceptor {
    /// An acceptor with `config` (built by the caller, with any provider,
    /// client authentication or ALPN protocols it likes).
    ///
    /// ```
    /// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// use lwt_native::tls::rustls;
    /// use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    /// let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
    /// let mut config = rustls::ServerConfig::builder_with_provider(
    ///         std::sync::Arc::new(rustls::crypto::ring::default_provider()))
    ///     .with_safe_default_protocol_versions().unwrap()
    ///     .with_no_client_auth()
    ///     .with_single_cert(vec![cert.cert.der().clone()], key)
    ///     .unwrap();
    /// config.alpn_protocols = vec![b"http/1.1".to_vec()];
    /// let _acceptor = lwt_native::tls::TlsAcceptor::new(std::sync::Arc::new(config));
    /// ```
    pub fn new(config: Arc<ServerConfig>) -> TlsAcceptor {
        TlsAcceptor {
            config,
            timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// The same acceptor offering `protocols` by ALPN, in the server's
    /// order of preference: `&[b"h2", b"http/1.1"]` for a server that speaks
    /// both (see [`Http::Auto`](crate::hyper::Http::Auto)). A client that
    /// offers none of them fails its handshake (rustls's
    /// `NoApplicationProtocol`); one that offers no ALPN at all is accepted
    /// without a protocol.
    ///
    /// ```
    /// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// # let (c, k) = (cert.cert.pem(), cert.signing_key.serialize_pem());
    /// let a = lwt_native::tls::TlsAcceptor::from_pem(c.as_bytes(), k.as_bytes())
    ///     .unwrap()
    ///     .with_alpn_protocols(&[b"h2", b"http/1.1"]);
    /// assert_eq!(a.alpn_protocols(), [b"h2".to_vec(), b"http/1.1".to_vec()]);
    /// ```
    pub fn with_alpn_protocols(self, protocols: &[&[u8]]) -> TlsAcceptor {
        let mut config = (*self.config).clone();
        config.alpn_protocols = protocols.iter().map(|p| p.to_vec()).collect();
        TlsAcceptor::new(Arc::new(config)).with_handshake_timeout(self.timeout)
    }

    /// The protocols this acceptor offers by ALPN (none unless set).
    ///
    /// ```
    /// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// # let (c, k) = (cert.cert.pem(), cert.signing_key.serialize_pem());
    /// let a = lwt_native::tls::TlsAcceptor::from_pem(c.as_bytes(), k.as_bytes()).unwrap();
    /// assert!(a.alpn_protocols().is_empty());
    /// ```
    pub fn alpn_protocols(&self) -> &[Vec<u8>] {
        &self.config.alpn_protocols
    }

    /// An acceptor that presents `cert_chain_pem` (the server's
    /// certificate first, then any intermediates) with the private key
    /// `key_pem` (PKCS#8, PKCS#1 or SEC1), TLS 1.2 and 1.3, no client
    /// authentication. Malformed PEM or a key that does not fit is an
    /// invalid-argument error.
    ///
    /// ```
    /// let bad = lwt_native::tls::TlsAcceptor::from_pem(b"not PEM", b"not PEM");
    /// assert!(bad.unwrap_err().is_invalid_argument());
    /// ```
    pub fn from_pem(cert_chain_pem: &[u8], key_pem: &[u8]) -> Result<TlsAcceptor, Error> {
        let certs = certs_from_pem(cert_chain_pem, "server certificate")?;
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| Error::invalid_argument(format!("server private key: {e}")))?;
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(Error::new)?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| Error::invalid_argument(format!("server certificate and key: {e}")))?;
        Ok(TlsAcceptor::new(Arc::new(config)))
    }

    /// The same acceptor with handshakes bounded to `limit`.
    ///
    /// ```
    /// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// # let (c, k) = (cert.cert.pem(), cert.signing_key.serialize_pem());
    /// let a = lwt_native::tls::TlsAcceptor::from_pem(c.as_bytes(), k.as_bytes()).unwrap();
    /// let a = a.with_handshake_timeout(std::time::Duration::from_millis(500));
    /// assert_eq!(a.handshake_timeout().as_millis(), 500);
    /// ```
    pub fn with_handshake_timeout(mut self, limit: Duration) -> TlsAcceptor {
        self.timeout = limit;
        self
    }

    /// How long a handshake may take.
    ///
    /// ```
    /// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// # let (c, k) = (cert.cert.pem(), cert.signing_key.serialize_pem());
    /// let a = lwt_native::tls::TlsAcceptor::from_pem(c.as_bytes(), k.as_bytes()).unwrap();
    /// assert_eq!(a.handshake_timeout(), lwt_native::tls::DEFAULT_HANDSHAKE_TIMEOUT);
    /// ```
    pub fn handshake_timeout(&self) -> Duration {
        self.timeout
    }

    /// The server's handshake on `stream` (an accepted [`TcpStream`], a
    /// [`UnixStream`](crate::net::UnixStream)...): the TLS stream once the
    /// handshake is done, or an error saying why it failed (a peer that is
    /// not speaking TLS, a client that rejected the certificate, a time-out).
    /// Dropping the future drops the stream.
    ///
    /// ```
    /// lwt_native::run(async {
    ///     # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    ///     # let (c, k) = (cert.cert.pem(), cert.signing_key.serialize_pem());
    ///     let acceptor = lwt_native::tls::TlsAcceptor::from_pem(c.as_bytes(), k.as_bytes())?;
    ///     let (ours, theirs) = lwt_native::net::UnixStream::pair()?;
    ///     theirs.write_all(b"GET / HTTP/1.1\r\n\r\n").await?; // not TLS
    ///     let err = acceptor.accept(ours).await.unwrap_err();
    ///     assert!(err.to_string().starts_with("TLS handshake (server side) failed"), "{err}");
    ///     Ok(())
    /// }).unwrap();
    /// ```
    pub async fn accept<S>(&self, stream: S) -> Result<ServerTlsStream<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        bounded(
            futures_rustls::TlsAcceptor::from(self.config.clone()).accept(stream),
            self.timeout,
            "TLS handshake (server side) failed",
        )
        .await
    }
}

/// The client side of TLS: a rustls client configuration (which roots to
/// trust) and a handshake time limit. Cheap to clone.
///
/// ```
/// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
/// # let ca_pem = cert.cert.pem();
/// let connector = lwt_native::tls::TlsConnector::from_root_pem(ca_pem.as_bytes()).unwrap();
/// assert_eq!(connector.handshake_timeout(), lwt_native::tls::DEFAULT_HANDSHAKE_TIMEOUT);
/// ```
#[derive(Clone)]
pub struct TlsConnector {
    config: Arc<ClientConfig>,
    timeout: Duration,
}

impl std::fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConnector")
            .field("handshake_timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl TlsConnector {
    /// A connector with `config` (built by the caller: its roots, client
    /// certificate, ALPN protocols...).
    ///
    /// ```
    /// use lwt_native::tls::rustls;
    /// let config = rustls::ClientConfig::builder_with_provider(
    ///         std::sync::Arc::new(rustls::crypto::ring::default_provider()))
    ///     .with_safe_default_protocol_versions().unwrap()
    ///     .with_root_certificates(rustls::RootCertStore::empty())
    ///     .with_no_client_auth();
    /// let _connector = lwt_native::tls::TlsConnector::new(std::sync::Arc::new(config));
    /// ```
    pub fn new(config: Arc<ClientConfig>) -> TlsConnector {
        TlsConnector {
            config,
            timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// The same connector asking for `protocols` by ALPN, in the client's
    /// order of preference (`&[b"h2"]` for HTTP/2 over TLS). The protocol
    /// the server picked is the stream's
    /// `get_ref().1.alpn_protocol()`.
    ///
    /// ```
    /// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// let c = lwt_native::tls::TlsConnector::from_root_pem(cert.cert.pem().as_bytes())
    ///     .unwrap()
    ///     .with_alpn_protocols(&[b"h2"]);
    /// assert_eq!(c.alpn_protocols(), [b"h2".to_vec()]);
    /// ```
    pub fn with_alpn_protocols(self, protocols: &[&[u8]]) -> TlsConnector {
        let mut config = (*self.config).clone();
        config.alpn_protocols = protocols.iter().map(|p| p.to_vec()).collect();
        TlsConnector::new(Arc::new(config)).with_handshake_timeout(self.timeout)
    }

    /// The protocols this connector asks for by ALPN (none unless set).
    ///
    /// ```
    /// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// let c = lwt_native::tls::TlsConnector::from_root_pem(cert.cert.pem().as_bytes()).unwrap();
    /// assert!(c.alpn_protocols().is_empty());
    /// ```
    pub fn alpn_protocols(&self) -> &[Vec<u8>] {
        &self.config.alpn_protocols
    }

    /// A connector that trusts exactly the certificates of `roots_pem` (a
    /// private CA, or a self-signed server certificate), TLS 1.2 and 1.3.
    /// Malformed or empty PEM is an invalid-argument error.
    ///
    /// ```
    /// let e = lwt_native::tls::TlsConnector::from_root_pem(b"").unwrap_err();
    /// assert!(e.is_invalid_argument(), "{e}");
    /// ```
    pub fn from_root_pem(roots_pem: &[u8]) -> Result<TlsConnector, Error> {
        let mut roots = RootCertStore::empty();
        for cert in certs_from_pem(roots_pem, "trusted roots")? {
            roots
                .add(cert)
                .map_err(|e| Error::invalid_argument(format!("trusted roots: {e}")))?;
        }
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(Error::new)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(TlsConnector::new(Arc::new(config)))
    }

    /// The same connector with handshakes bounded to `limit`.
    ///
    /// ```
    /// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// let c = lwt_native::tls::TlsConnector::from_root_pem(cert.cert.pem().as_bytes()).unwrap();
    /// let c = c.with_handshake_timeout(std::time::Duration::from_secs(1));
    /// assert_eq!(c.handshake_timeout().as_secs(), 1);
    /// ```
    pub fn with_handshake_timeout(mut self, limit: Duration) -> TlsConnector {
        self.timeout = limit;
        self
    }

    /// How long a handshake may take.
    ///
    /// ```
    /// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    /// let c = lwt_native::tls::TlsConnector::from_root_pem(cert.cert.pem().as_bytes()).unwrap();
    /// assert_eq!(c.handshake_timeout(), lwt_native::tls::DEFAULT_HANDSHAKE_TIMEOUT);
    /// ```
    pub fn handshake_timeout(&self) -> Duration {
        self.timeout
    }

    /// The client's handshake on `stream` for `server_name` (a DNS name or
    /// an IP address, which the server's certificate must be valid for):
    /// the TLS stream once it is done, or an error saying why it failed (an
    /// untrusted certificate, a name mismatch, a peer that is not a TLS
    /// server, a time-out). A name that is neither a DNS name nor an IP
    /// address is an invalid-argument error.
    ///
    /// ```
    /// lwt_native::run(async {
    ///     # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    ///     let connector = lwt_native::tls::TlsConnector::from_root_pem(cert.cert.pem().as_bytes())?;
    ///     let (ours, _theirs) = lwt_native::net::UnixStream::pair()?;
    ///     let err = connector.connect("not a name!", ours).await.unwrap_err();
    ///     assert!(err.is_invalid_argument(), "{err}");
    ///     Ok(())
    /// }).unwrap();
    /// ```
    pub async fn connect<S>(
        &self,
        server_name: &str,
        stream: S,
    ) -> Result<ClientTlsStream<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let name = ServerName::try_from(server_name.to_string()).map_err(|e| {
            Error::invalid_argument(format!("TLS server name {server_name:?}: {e}"))
        })?;
        bounded(
            futures_rustls::TlsConnector::from(self.config.clone()).connect(name, stream),
            self.timeout,
            format!("TLS handshake with {server_name:?} (client side) failed"),
        )
        .await
    }
}

/// Connects to `addr` over TCP (with `TCP_NODELAY`), then runs the client
/// handshake for `server_name` with `connector`.
///
/// ```
/// lwt_native::run(async {
///     # let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
///     let connector = lwt_native::tls::TlsConnector::from_root_pem(cert.cert.pem().as_bytes())?;
///     // Nothing listens on port 1 of the loopback address.
///     let refused = lwt_native::tls::connect("127.0.0.1:1".parse().unwrap(), "localhost", &connector);
///     assert!(refused.await.is_err());
///     Ok(())
/// }).unwrap();
/// ```
pub async fn connect(
    addr: SocketAddr,
    server_name: &str,
    connector: &TlsConnector,
) -> Result<ClientTlsStream<TcpStream>, Error> {
    let tcp = TcpStream::connect(addr).await?;
    let _ = tcp.set_nodelay(true);
    connector.connect(server_name, tcp).await
}
