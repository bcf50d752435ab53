//! One loop per core: N lwt-native loops, one per thread, each running the
//! same promise code (thread-per-core, as actix-rt or glommio do).
//!
//! Promises never cross threads, so each loop runs its own copy of the
//! program: [`Loops::spawn`] calls a `Send + Sync` closure once on every
//! loop's thread, with that loop's [`LoopCtx`]. Loops share a listening
//! address through `SO_REUSEPORT` ([`bind_reuse_port`]): each loop binds its
//! own listener on the same address and the kernel spreads new connections
//! over them. That is the default (and only) way here: no connection ever
//! moves between threads. Values move between loops through [`channel`],
//! whose [`Sender`] is `Send` and wakes the receiving loop.
//!
//! [`LoopsHandle::shutdown`] resolves every loop's [`LoopCtx::shutdown`]
//! promise (stop accepting, finish what is in flight) and
//! [`LoopsHandle::join`] waits for the threads; a loop that failed or
//! panicked is an `Err` there, not lost.
//!
//! ```
//! use lwt_native::loops::{bind_reuse_port, Loops};
//! let addr = "127.0.0.1:0".parse().unwrap();
//! // Pick a port once, then every loop binds it with SO_REUSEPORT.
//! let port = bind_reuse_port(addr).unwrap().local_addr().unwrap();
//! let handle = Loops::new(2)
//!     .spawn(move |ctx| async move {
//!         let listener = bind_reuse_port(port)?;
//!         ctx.shutdown().await?; // serve until shut down
//!         drop(listener);
//!         Ok(ctx.index())
//!     })
//!     .unwrap();
//! handle.shutdown();
//! assert_eq!(handle.join().unwrap(), vec![0, 1]);
//! ```

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use lwt::{Error, Promise};

use crate::net::TcpListener;
use crate::{remote_resolver, Handle, RemoteResolver};

/// A builder of N loops, one per thread.
#[derive(Debug, Clone)]
pub struct Loops {
    n: usize,
    name: String,
}

impl Default for Loops {
    /// As many loops as [`std::thread::available_parallelism`] (1 if unknown).
    fn default() -> Loops {
        Loops::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

impl Loops {
    /// `n` loops (at least 1).
    ///
    /// ```
    /// let v = lwt_native::loops::Loops::new(3).run(|ctx| async move { Ok(ctx.index() * 10) });
    /// assert_eq!(v.unwrap(), vec![0, 10, 20]);
    /// ```
    pub fn new(n: usize) -> Loops {
        Loops {
            n: n.max(1),
            name: "lwt-loop".to_string(),
        }
    }

    /// The number of loops.
    ///
    /// ```
    /// assert!(lwt_native::loops::Loops::default().count() >= 1);
    /// ```
    pub fn count(&self) -> usize {
        self.n
    }

    /// The threads' name prefix (`lwt-loop` by default; each gets `-INDEX`).
    ///
    /// ```
    /// let v = lwt_native::loops::Loops::new(1).name("web").run(|_| async {
    ///     Ok(std::thread::current().name().unwrap().to_string())
    /// });
    /// assert_eq!(v.unwrap(), vec!["web-0"]);
    /// ```
    pub fn name(mut self, prefix: &str) -> Loops {
        self.name = prefix.to_string();
        self
    }

    /// Starts the loops: on each thread, `f(ctx)` builds the program that
    /// loop runs (with [`crate::run`]) until it resolves. Returns once `f`
    /// has returned on every loop, so what `f` does before its `async`
    /// block (binding a listener, say) is done by then and
    /// [`LoopsHandle::shutdown`] reaches every loop.
    ///
    /// ```
    /// let h = lwt_native::loops::Loops::new(2)
    ///     .spawn(|ctx| async move { ctx.shutdown().await })
    ///     .unwrap();
    /// h.shutdown();
    /// assert_eq!(h.join().unwrap().len(), 2);
    /// ```
    pub fn spawn<T, F, Fut>(self, f: F) -> io::Result<LoopsHandle<T>>
    where
        T: Send + 'static,
        F: Fn(LoopCtx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, Error>> + 'static,
    {
        let f = Arc::new(f);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let mut threads = Vec::with_capacity(self.n);
        for index in 0..self.n {
            let f = f.clone();
            let ready_tx = ready_tx.clone();
            let thread = std::thread::Builder::new()
                .name(format!("{}-{index}", self.name))
                .spawn(move || {
                    crate::install();
                    let (stop, stopper) = remote_resolver::<()>();
                    let ctx = LoopCtx { index, stop };
                    let program = f(ctx);
                    let _ = ready_tx.send((index, Handle::current(), stopper));
                    drop(ready_tx);
                    // What the closure captured goes now, not when the loop
                    // ends (a captured `Sender` would keep a channel open).
                    drop(f);
                    crate::run(program)
                })?;
            threads.push(thread);
        }
        drop(ready_tx);
        let mut handles: Vec<Option<(Handle, RemoteResolver<()>)>> =
            (0..self.n).map(|_| None).collect();
        for (index, handle, stopper) in ready_rx.iter() {
            handles[index] = Some((handle, stopper));
        }
        let mut loops = Vec::with_capacity(self.n);
        let mut stoppers = Vec::with_capacity(self.n);
        for (h, s) in handles.into_iter().flatten() {
            loops.push(h);
            stoppers.push(s);
        }
        Ok(LoopsHandle {
            threads,
            loops,
            stoppers: Mutex::new(stoppers),
        })
    }

    /// Serves on `addr` from every loop: binds one `SO_REUSEPORT` listener
    /// per loop on the same address (port 0: one free port picked for all)
    /// and calls `f(listener, ctx)` on each loop to build its server. Returns
    /// the bound address and the loops' handle; the kernel spreads the
    /// connections over the loops. Made for
    /// [`crate::io::establish_server_on`] and `lwt_native::hyper::serve`
    /// (which takes the listener and a shutdown promise:
    /// [`LoopCtx::shutdown`]).
    ///
    /// ```
    /// use lwt_native::io::{establish_server_on, InputChannel, ServerOptions};
    /// use lwt_native::loops::Loops;
    /// let (addr, loops) = Loops::new(2)
    ///     .listen("127.0.0.1:0".parse().unwrap(), |listener, ctx| {
    ///         let server = establish_server_on(listener, ServerOptions::default(), |_, ic, oc| {
    ///             lwt::spawn(async move {
    ///                 let line = ic.read_line().await?.unwrap_or_default();
    ///                 oc.write_line(&line).await
    ///             })
    ///         });
    ///         async move {
    ///             let server = server?;
    ///             ctx.shutdown().await?;
    ///             server.shutdown().await
    ///         }
    ///     })
    ///     .unwrap();
    /// let echoed = lwt_native::run(async move {
    ///     let c = lwt_native::net::TcpStream::connect(addr).await?;
    ///     c.write_all(b"hi\n").await?;
    ///     InputChannel::new(c).read_line().await
    /// });
    /// assert_eq!(echoed.unwrap().as_deref(), Some("hi"));
    /// loops.shutdown();
    /// assert_eq!(loops.join().unwrap().len(), 2);
    /// ```
    pub fn listen<T, F, Fut>(
        self,
        addr: SocketAddr,
        f: F,
    ) -> io::Result<(SocketAddr, LoopsHandle<T>)>
    where
        T: Send + 'static,
        F: Fn(TcpListener, LoopCtx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, Error>> + 'static,
    {
        // A bound socket that does not listen holds the port (for port 0)
        // until every loop has bound it, and takes no connections.
        let holder = reuse_port_socket(addr)?;
        let addr = holder
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("lwt_native::loops::listen: not an IP address"))?;
        let handle = self.spawn(move |ctx| {
            let listener = bind_reuse_port(addr).map_err(Error::new);
            let program = listener.map(|l| f(l, ctx));
            async move { program?.await }
        })?;
        drop(holder);
        Ok((addr, handle))
    }

    /// [`Loops::spawn`] then [`LoopsHandle::join`]: runs `f` on every loop
    /// and returns the loops' results in index order once all have stopped.
    ///
    /// ```
    /// let v = lwt_native::loops::Loops::new(2).run(|_| async { Ok(1) }).unwrap();
    /// assert_eq!(v.iter().sum::<i32>(), 2);
    /// ```
    pub fn run<T, F, Fut>(self, f: F) -> Result<Vec<T>, Error>
    where
        T: Send + 'static,
        F: Fn(LoopCtx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, Error>> + 'static,
    {
        self.spawn(f).map_err(Error::new)?.join()
    }
}

/// What one loop knows about itself, given to the closure of
/// [`Loops::spawn`].
#[derive(Debug)]
pub struct LoopCtx {
    index: usize,
    stop: Promise<()>,
}

impl LoopCtx {
    /// This loop's index, `0..n`.
    ///
    /// ```
    /// let v = lwt_native::loops::Loops::new(1).run(|ctx| async move { Ok(ctx.index()) });
    /// assert_eq!(v.unwrap(), vec![0]);
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// A promise resolved when [`LoopsHandle::shutdown`] is called: stop
    /// accepting then, and let in-flight work finish (or put a deadline on
    /// it with [`lwt::with_timeout`]). Each call gives a new promise on the
    /// same event; canceling one does not cancel the others.
    ///
    /// ```
    /// let h = lwt_native::loops::Loops::new(1)
    ///     .spawn(|ctx| async move { ctx.shutdown().await.map(|()| "stopped") })
    ///     .unwrap();
    /// h.shutdown();
    /// assert_eq!(h.join().unwrap(), vec!["stopped"]);
    /// ```
    pub fn shutdown(&self) -> Promise<()> {
        // Protected: canceling this one (say, the loser of a `pick`) must
        // not cancel the loop's shared shutdown event.
        lwt::protected(&self.stop)
    }
}

/// The running loops of [`Loops::spawn`].
#[derive(Debug)]
pub struct LoopsHandle<T> {
    threads: Vec<JoinHandle<Result<T, Error>>>,
    loops: Vec<Handle>,
    stoppers: Mutex<Vec<RemoteResolver<()>>>,
}

impl<T> LoopsHandle<T> {
    /// The number of loops.
    ///
    /// ```
    /// let h = lwt_native::loops::Loops::new(2).spawn(|_| async { Ok(()) }).unwrap();
    /// assert_eq!(h.count(), 2);
    /// h.join().unwrap();
    /// ```
    pub fn count(&self) -> usize {
        self.threads.len()
    }

    /// The [`Handle`] of loop `index` (run closures on it from any thread),
    /// `None` past the last.
    ///
    /// ```
    /// let h = lwt_native::loops::Loops::new(1)
    ///     .spawn(|ctx| async move { ctx.shutdown().await })
    ///     .unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// h.handle(0).unwrap().run_on_loop(move || tx.send(std::thread::current().name().map(String::from)).unwrap());
    /// assert_eq!(rx.recv().unwrap().as_deref(), Some("lwt-loop-0"));
    /// assert!(h.handle(1).is_none());
    /// h.shutdown();
    /// h.join().unwrap();
    /// ```
    pub fn handle(&self, index: usize) -> Option<&Handle> {
        self.loops.get(index)
    }

    /// Resolves every loop's [`LoopCtx::shutdown`] promise (once; later
    /// calls do nothing). Does not wait: [`LoopsHandle::join`] does.
    pub fn shutdown(&self) {
        let stoppers =
            std::mem::take(&mut *self.stoppers.lock().unwrap_or_else(|e| e.into_inner()));
        for s in stoppers {
            s.resolve(());
        }
    }

    /// Waits for every loop to stop and returns their results in index
    /// order; the first loop that failed gives the `Err` (a panic is an
    /// [`Error::is_panic`]-style error naming the loop), after all threads
    /// are joined.
    ///
    /// ```
    /// let r = lwt_native::loops::Loops::new(2).run(|ctx| async move {
    ///     if ctx.index() == 1 { panic!("boom") }
    ///     Ok(())
    /// });
    /// assert!(r.unwrap_err().to_string().contains("loop 1"));
    /// ```
    pub fn join(self) -> Result<Vec<T>, Error> {
        // Keep the stoppers alive until the threads end: dropping one
        // unresolved would reject (and so end) a loop's shutdown promise.
        let _stoppers = self.stoppers;
        let mut out = Vec::with_capacity(self.threads.len());
        let mut first_err = None;
        for (index, t) in self.threads.into_iter().enumerate() {
            match t.join() {
                Ok(Ok(v)) => out.push(v),
                Ok(Err(e)) => {
                    first_err.get_or_insert(e.context(format!("lwt_native::loops: loop {index}")));
                }
                Err(p) => {
                    let msg = p
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| p.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "a panic".to_string());
                    first_err.get_or_insert(Error::msg(format!(
                        "lwt_native::loops: loop {index} panicked: {msg}"
                    )));
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }
}

/// Binds a TCP listener on `addr` with `SO_REUSEADDR` and `SO_REUSEPORT`
/// set before the bind, so that every loop can bind the same address and
/// the kernel spreads the connections over the listeners (Linux, the BSDs
/// and macOS; on macOS and the BSDs the last listener bound takes the new
/// connections rather than an even spread).
///
/// ```
/// let a = lwt_native::loops::bind_reuse_port("127.0.0.1:0".parse().unwrap()).unwrap();
/// let b = lwt_native::loops::bind_reuse_port(a.local_addr().unwrap()).unwrap();
/// assert_eq!(a.local_addr().unwrap(), b.local_addr().unwrap());
/// ```
pub fn bind_reuse_port(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = reuse_port_socket(addr)?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

fn reuse_port_socket(addr: SocketAddr) -> io::Result<socket2::Socket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&addr.into())?;
    Ok(socket)
}

struct ChanState<T> {
    queue: VecDeque<T>,
    waiter: Option<RemoteResolver<()>>,
    senders: usize,
    receiver: bool,
}

/// A `Send` channel to a loop: [`Sender`]s on any thread, one [`Receiver`]
/// on the loop that awaits the values; a send wakes that loop. Unbounded.
///
/// ```
/// use lwt_native::loops::{channel, Loops};
/// let (tx, rx) = channel::<usize>();
/// let rx = std::sync::Mutex::new(Some(rx));
/// let v = Loops::new(2).run(move |ctx| {
///     let tx = tx.clone();
///     let rx = if ctx.index() == 0 { rx.lock().unwrap().take() } else { None };
///     async move {
///         match rx {
///             // Loop 0 sums what loop 1 sends until every sender is gone.
///             Some(rx) => {
///                 drop(tx);
///                 let mut sum = 0;
///                 while let Some(n) = rx.recv().await { sum += n }
///                 Ok(sum)
///             }
///             None => {
///                 for n in 1..=4 { tx.send(n).unwrap() }
///                 Ok(0)
///             }
///         }
///     }
/// });
/// assert_eq!(v.unwrap(), vec![10, 0]);
/// ```
pub fn channel<T: Send + 'static>() -> (Sender<T>, Receiver<T>) {
    let state = Arc::new(Mutex::new(ChanState {
        queue: VecDeque::new(),
        waiter: None,
        senders: 1,
        receiver: true,
    }));
    (
        Sender {
            state: state.clone(),
        },
        Receiver { state },
    )
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The sending side of [`channel`]: `Send`, cloneable, usable from any thread.
pub struct Sender<T> {
    state: Arc<Mutex<ChanState<T>>>,
}

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        lock(&self.state).senders += 1;
        Sender {
            state: self.state.clone(),
        }
    }
}

impl<T: Send + 'static> Sender<T> {
    /// Queues `value` and wakes the receiving loop; gives the value back
    /// if the [`Receiver`] is gone.
    ///
    /// ```
    /// let (tx, rx) = lwt_native::loops::channel();
    /// std::thread::spawn(move || tx.send(5).unwrap());
    /// assert_eq!(lwt_native::run(async move { Ok(rx.recv().await) }).unwrap(), Some(5));
    /// ```
    pub fn send(&self, value: T) -> Result<(), T> {
        let waiter = {
            let mut s = lock(&self.state);
            if !s.receiver {
                return Err(value);
            }
            s.queue.push_back(value);
            s.waiter.take()
        };
        if let Some(w) = waiter {
            w.resolve(());
        }
        Ok(())
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waiter = {
            let mut s = lock(&self.state);
            s.senders -= 1;
            if s.senders == 0 {
                s.waiter.take()
            } else {
                None
            }
        };
        if let Some(w) = waiter {
            w.resolve(());
        }
    }
}

/// The receiving side of [`channel`], used on one loop.
pub struct Receiver<T> {
    state: Arc<Mutex<ChanState<T>>>,
}

impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Receiver<T> {
    /// The next value, waiting for one on this loop; `None` once every
    /// [`Sender`] is dropped and the queue is empty.
    ///
    /// ```
    /// let (tx, rx) = lwt_native::loops::channel::<u8>();
    /// tx.send(1).unwrap();
    /// drop(tx);
    /// let got = lwt_native::run(async move { Ok((rx.recv().await, rx.recv().await)) });
    /// assert_eq!(got.unwrap(), (Some(1), None));
    /// ```
    pub async fn recv(&self) -> Option<T> {
        loop {
            let wait = {
                let mut s = lock(&self.state);
                if let Some(v) = s.queue.pop_front() {
                    return Some(v);
                }
                if s.senders == 0 {
                    return None;
                }
                let (p, r) = remote_resolver::<()>();
                s.waiter = Some(r);
                p
            };
            // Woken by a send (resolved) or by the last sender's drop
            // (rejected): either way, look at the queue again.
            let _ = wait.await;
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // The values and the waiter are dropped after the lock is released:
        // a value's own drop may send on this very channel.
        let (queue, waiter) = {
            let mut s = lock(&self.state);
            s.receiver = false;
            (std::mem::take(&mut s.queue), s.waiter.take())
        };
        drop(queue);
        drop(waiter);
    }
}
