//! `establish_server`: accept loop, connection cap, graceful shutdown.
//!
//! # Ground rules
//!
//! * One task accepts; each connection runs its handler as its own promise.
//!   At the cap, the accept task waits for a connection to finish before it
//!   accepts again (the kernel's backlog holds the rest).
//! * Running out of descriptors (`EMFILE`, `ENFILE`) or memory on accept
//!   does not spin: the accept task sleeps [`ServerOptions::accept_backoff`]
//!   and tries again, so the server serves again once descriptors free up.
//!   Per-connection accept errors (`ECONNABORTED`) are skipped.
//! * [`Server::shutdown`] stops accepting, closes the listening socket, and
//!   resolves when the handlers in flight have finished.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use lwt::{Error, Promise};

use crate::io::connect::CloseOnDrop;
use crate::io::{InputChannel, OutputChannel};
use crate::net::{Listening, TcpListener, TcpStream};

/// Options of [`establish_server_with`].
///
/// ```
/// let o = lwt_native::io::ServerOptions::default();
/// assert_eq!(o.max_connections, 1024);
/// ```
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// The most connections handled at once.
    pub max_connections: usize,
    /// How long to wait before accepting again after running out of file
    /// descriptors or memory.
    pub accept_backoff: Duration,
    /// Buffer size of the channels given to the handler.
    pub buffer_size: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            max_connections: 1024,
            accept_backoff: Duration::from_millis(50),
            buffer_size: crate::io::DEFAULT_BUFFER_SIZE,
        }
    }
}

struct State {
    active: RefCell<HashMap<u64, Promise<()>>>,
    next: Cell<u64>,
    /// Resolved when a connection finishes, for an accept task at the cap.
    slot_free: RefCell<Option<lwt::Resolver<()>>>,
    accepted: Cell<u64>,
}

/// A running server (Lwt_io's `server`).
///
/// ```
/// # lwt_native::run(async {
/// let server = lwt_native::io::establish_server("127.0.0.1:0".parse().unwrap(), |_peer, ic, oc| {
///     lwt::spawn(async move {
///         while let Some(line) = ic.read_line().await? {
///             oc.write_line(&line).await?;
///             oc.flush().await?;
///         }
///         Ok(())
///     })
/// })?;
/// // A client of the echo server, on the same loop.
/// use lwt_native::io::{InputChannel, OutputChannel};
/// let s = lwt_native::net::TcpStream::connect(server.local_addr()).await?;
/// let (ic, oc) = (InputChannel::new(s.clone()), OutputChannel::new(s));
/// oc.write_line("hello").await?;
/// oc.flush().await?;
/// assert_eq!(ic.read_line().await?.as_deref(), Some("hello"));
/// drop((ic, oc)); // the socket closes: the handler reads the end and returns
/// server.shutdown().await
/// # }).unwrap();
/// ```
pub struct Server {
    addr: SocketAddr,
    accept_task: Promise<()>,
    listening: Rc<Listening>,
    state: Rc<State>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}

impl Server {
    /// The address the server listens on.
    ///
    /// ```
    /// let s = lwt_native::io::establish_server("127.0.0.1:0".parse().unwrap(), |_, _, _| {
    ///     lwt::Promise::resolved(())
    /// }).unwrap();
    /// assert_ne!(s.local_addr().port(), 0);
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections being handled now.
    ///
    /// ```
    /// let s = lwt_native::io::establish_server("127.0.0.1:0".parse().unwrap(), |_, _, _| {
    ///     lwt::Promise::resolved(())
    /// }).unwrap();
    /// assert_eq!(s.active_connections(), 0);
    /// ```
    pub fn active_connections(&self) -> usize {
        self.state.active.borrow().len()
    }

    /// Connections accepted so far.
    ///
    /// ```
    /// let s = lwt_native::io::establish_server("127.0.0.1:0".parse().unwrap(), |_, _, _| {
    ///     lwt::Promise::resolved(())
    /// }).unwrap();
    /// assert_eq!(s.accepted(), 0);
    /// ```
    pub fn accepted(&self) -> u64 {
        self.state.accepted.get()
    }

    /// Stops accepting, closes the listening socket, and resolves once every
    /// connection in flight has finished (Lwt_io's `shutdown_server`).
    ///
    /// ```
    /// let s = lwt_native::io::establish_server("127.0.0.1:0".parse().unwrap(), |_, _, _| {
    ///     lwt::Promise::resolved(())
    /// }).unwrap();
    /// lwt_native::run(s.shutdown()).unwrap();
    /// ```
    pub fn shutdown(&self) -> Promise<()> {
        // Closed here, not by the accept task: a handler calling this runs
        // inside that task's poll (see `Listening`).
        self.listening.close();
        self.accept_task.cancel();
        self.accept_task.abort();
        let active: Vec<Promise<()>> = self.state.active.borrow().values().cloned().collect();
        lwt::join(active.iter().map(|p| p.catch(|_| Promise::resolved(()))))
    }
}

/// Listens on `addr` and calls `handler` with each connection's peer
/// address and channels (Lwt_io's
/// `establish_server_with_client_address`). When the handler's promise
/// resolves or rejects, the server closes both channels (as Lwt's does),
/// even if the handler kept clones: buffered output is sent first, then the
/// client reads end of input and the socket closes. A handler's error, and
/// then an error closing, go to [`lwt::report_unhandled`]. At most 1,024 connections at
/// once; see [`establish_server_with`].
///
/// ```
/// use lwt_native::io::{establish_server, InputChannel};
/// let reply = lwt_native::run(async {
///     let server = establish_server("127.0.0.1:0".parse().unwrap(), |_peer, ic, oc| {
///         lwt::spawn(async move {
///             let name = ic.read_line().await?.unwrap_or_default();
///             oc.write_line(&format!("hello, {name}")).await
///         })
///     })?;
///     let c = lwt_native::net::TcpStream::connect(server.local_addr()).await?;
///     c.write_all(b"lwt\n").await?;
///     let reply = InputChannel::new(c).read_line().await?;
///     server.shutdown().await?;
///     Ok(reply)
/// }).unwrap();
/// assert_eq!(reply.as_deref(), Some("hello, lwt"));
/// ```
pub fn establish_server<F>(addr: SocketAddr, handler: F) -> io::Result<Server>
where
    F: Fn(SocketAddr, InputChannel, OutputChannel) -> Promise<()> + 'static,
{
    establish_server_with(addr, ServerOptions::default(), handler)
}

fn is_resource_exhaustion(e: &Error) -> bool {
    let Some(err) = e.downcast_ref::<io::Error>() else {
        return false;
    };
    matches!(
        err.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// [`establish_server`] with options (connection cap, back-off, buffers).
///
/// ```
/// use lwt_native::io::{establish_server_with, ServerOptions};
/// let opts = ServerOptions { max_connections: 2, ..ServerOptions::default() };
/// let s = establish_server_with("127.0.0.1:0".parse().unwrap(), opts, |_, _, _| {
///     lwt::Promise::resolved(())
/// }).unwrap();
/// lwt_native::run(s.shutdown()).unwrap();
/// ```
pub fn establish_server_with<F>(
    addr: SocketAddr,
    options: ServerOptions,
    handler: F,
) -> io::Result<Server>
where
    F: Fn(SocketAddr, InputChannel, OutputChannel) -> Promise<()> + 'static,
{
    establish_server_on(TcpListener::bind(addr)?, options, handler)
}

/// [`establish_server_with`] on a listener you bound, for example one of
/// [`crate::loops::Loops::listen`]'s `SO_REUSEPORT` listeners, one per loop.
///
/// ```
/// use lwt_native::io::{establish_server_on, ServerOptions};
/// let l = lwt_native::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
/// let s = establish_server_on(l, ServerOptions::default(), |_, _, _| lwt::Promise::resolved(())).unwrap();
/// lwt_native::run(s.shutdown()).unwrap();
/// ```
pub fn establish_server_on<F>(
    listener: TcpListener,
    options: ServerOptions,
    handler: F,
) -> io::Result<Server>
where
    F: Fn(SocketAddr, InputChannel, OutputChannel) -> Promise<()> + 'static,
{
    let addr = listener.local_addr()?;
    let state = Rc::new(State {
        active: RefCell::new(HashMap::new()),
        next: Cell::new(0),
        slot_free: RefCell::new(None),
        accepted: Cell::new(0),
    });
    let st = state.clone();
    let listening = Rc::new(Listening::new(listener));
    let l = listening.clone();
    let accept_task = lwt::spawn(async move {
        loop {
            if st.active.borrow().len() >= options.max_connections.max(1) {
                let (p, r) = lwt::task();
                *st.slot_free.borrow_mut() = Some(r);
                p.await?;
                continue;
            }
            let Some(accept) = l.accept() else {
                // Shut down from inside this task's poll (a handler).
                return Err(Error::canceled());
            };
            let (stream, peer) = match accept.await {
                Ok(c) => c,
                Err(e) if e.is_canceled() => return Err(e),
                Err(e) if is_resource_exhaustion(&e) => {
                    lwt::sleep(options.accept_backoff).await?;
                    continue;
                }
                Err(_) => continue,
            };
            st.accepted.set(st.accepted.get() + 1);
            let _ = stream.set_nodelay(true);
            let id = st.next.get();
            st.next.set(id + 1);
            let conn = serve(&handler, peer, stream, options.buffer_size);
            st.active.borrow_mut().insert(id, conn.clone());
            let st2 = st.clone();
            conn.on_termination(move || {
                let removed = st2.active.borrow_mut().remove(&id);
                drop(removed);
                let waiting = st2.slot_free.borrow_mut().take();
                if let Some(r) = waiting {
                    let _ = r.resolve(());
                }
            });
        }
    });
    Ok(Server {
        addr,
        accept_task,
        listening,
        state,
    })
}

fn serve<F>(handler: &F, peer: SocketAddr, stream: TcpStream, buffer_size: usize) -> Promise<()>
where
    F: Fn(SocketAddr, InputChannel, OutputChannel) -> Promise<()>,
{
    let ic = InputChannel::with_capacity(buffer_size, stream.clone());
    let oc = OutputChannel::with_capacity(buffer_size, stream);
    // The server keeps clones of the channels, and closes them when the
    // handler's promise is done, even if the handler kept its own: the
    // output sends what it buffers, the client reads end of input, and the
    // socket closes with the last of the two.
    let closing = CloseOnDrop(Some((ic.clone(), oc.clone())));
    let handled = handler(peer, ic, oc);
    lwt::spawn(async move {
        if let Err(e) = handled.await {
            if !e.is_canceled() {
                lwt::report_unhandled(&e);
            }
        }
        if let Err(e) = closing.close().await {
            // As Lwt's server: a failure to close goes to the hook.
            if crate::io_error_kind(&e) != Some(io::ErrorKind::NotConnected) {
                lwt::report_unhandled(&e);
            }
        }
        Ok(())
    })
}
