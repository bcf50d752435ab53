//! Child processes (Lwt_process): spawn with pipes, wait without blocking
//! the loop, kill, time-outs, and no zombies.
//!
//! # Ground rules
//!
//! * A child is started with `std::process::Command` (so every std option
//!   works); its piped stdin/stdout/stderr become non-blocking pipes on the
//!   poller ([`PipeWriter`], [`PipeReader`]).
//! * Waiting uses a descriptor that becomes readable when the child exits (a
//!   pidfd on Linux 5.3+, a kqueue process filter on macOS and FreeBSD): no
//!   `SIGCHLD` handler, no thread per child. Where there is none, the
//!   loop polls `try_wait` with a growing back-off (1 ms to 100 ms).
//! * No zombies: dropping a [`Child`] that was not reaped leaves a task that
//!   reaps it when it exits (it is not killed: use [`Child::kill`]).

use std::cell::RefCell;
use std::ffi::OsStr;
use std::io;
use std::pin::Pin;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use lwt::{Error, Promise};

use crate::engine::reactor::{io_err, Dir, Registered};

/// The reading end of a pipe (a child's stdout or stderr). Cheap to clone;
/// implements [`futures_io::AsyncRead`].
///
/// ```
/// let mut cmd = std::process::Command::new("echo");
/// cmd.arg("out").stdout(std::process::Stdio::piped());
/// let mut child = lwt_native::process::spawn(&mut cmd).unwrap();
/// let stdout = child.stdout.take().unwrap();
/// assert_eq!(lwt_native::run(stdout.read_to_end()).unwrap(), b"out\n");
/// ```
#[derive(Clone)]
pub struct PipeReader(Rc<Registered<mio::unix::pipe::Receiver>>);

/// The writing end of a pipe (a child's stdin). Cheap to clone; implements
/// [`futures_io::AsyncWrite`]. The pipe closes with the last clone.
///
/// ```
/// use std::process::{Command, Stdio};
/// let mut cmd = Command::new("cat");
/// cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
/// let mut child = lwt_native::process::spawn(&mut cmd).unwrap();
/// let stdin = child.stdin.take().unwrap();
/// let stdout = child.stdout.take().unwrap();
/// let out = lwt_native::run(async move {
///     stdin.write_all(b"through cat").await?;
///     drop(stdin); // end of input
///     stdout.read_to_end().await
/// }).unwrap();
/// assert_eq!(out, b"through cat");
/// ```
#[derive(Clone)]
pub struct PipeWriter(Rc<Registered<mio::unix::pipe::Sender>>);

impl std::fmt::Debug for PipeReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PipeReader")
    }
}

impl std::fmt::Debug for PipeWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PipeWriter")
    }
}

impl PipeReader {
    fn new(r: mio::unix::pipe::Receiver) -> io::Result<PipeReader> {
        r.set_nonblocking(true)?;
        Ok(PipeReader(Rc::new(Registered::new(r)?)))
    }

    /// Reads into `buf`; `Ok(0)` at end of input.
    ///
    /// ```
    /// let mut cmd = std::process::Command::new("true");
    /// cmd.stdout(std::process::Stdio::piped());
    /// let mut child = lwt_native::process::spawn(&mut cmd).unwrap();
    /// let out = child.stdout.take().unwrap();
    /// assert_eq!(lwt_native::run(async move { out.read(&mut [0; 8]).await }).unwrap(), 0);
    /// ```
    pub async fn read(&self, buf: &mut [u8]) -> Result<usize, Error> {
        self.0.read_bytes(buf).await
    }

    /// Everything up to the end of input.
    ///
    /// ```
    /// let mut cmd = std::process::Command::new("printf");
    /// cmd.arg("abc").stdout(std::process::Stdio::piped());
    /// let mut child = lwt_native::process::spawn(&mut cmd).unwrap();
    /// let out = child.stdout.take().unwrap();
    /// assert_eq!(lwt_native::run(out.read_to_end()).unwrap(), b"abc");
    /// ```
    pub fn read_to_end(&self) -> Promise<Vec<u8>> {
        let me = self.clone();
        lwt::spawn(async move {
            let mut all = Vec::new();
            let mut buf = vec![0; 16 * 1024];
            loop {
                let n = me.read(&mut buf).await?;
                if n == 0 {
                    return Ok(all);
                }
                all.extend_from_slice(&buf[..n]);
            }
        })
    }
}

impl PipeWriter {
    fn new(w: mio::unix::pipe::Sender) -> io::Result<PipeWriter> {
        w.set_nonblocking(true)?;
        Ok(PipeWriter(Rc::new(Registered::new(w)?)))
    }

    /// Writes some of `buf`.
    ///
    /// ```
    /// let mut cmd = std::process::Command::new("cat");
    /// cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::null());
    /// let mut child = lwt_native::process::spawn(&mut cmd).unwrap();
    /// let input = child.stdin.take().unwrap();
    /// assert_eq!(lwt_native::run(async move { input.write(b"x").await }).unwrap(), 1);
    /// ```
    pub async fn write(&self, buf: &[u8]) -> Result<usize, Error> {
        self.0.write_bytes(buf).await
    }

    /// Writes all of `buf`. A child that closed its input gives
    /// `BrokenPipe`, never `SIGPIPE`; a write of 0 bytes is `WriteZero`.
    ///
    /// ```
    /// let mut cmd = std::process::Command::new("cat");
    /// cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::null());
    /// let mut child = lwt_native::process::spawn(&mut cmd).unwrap();
    /// let input = child.stdin.take().unwrap();
    /// lwt_native::run(async move { input.write_all(b"data").await }).unwrap();
    /// ```
    pub async fn write_all(&self, buf: &[u8]) -> Result<(), Error> {
        self.0.write_all(buf).await
    }
}

impl futures_io::AsyncRead for PipeReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_read_bytes(cx, buf)
    }
}

impl futures_io::AsyncWrite for PipeWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_write_bytes(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

struct Inner {
    child: RefCell<std::process::Child>,
    status: RefCell<Option<ExitStatus>>,
    /// The pending wait, shared by all waiters.
    waiting: RefCell<Option<Promise<ExitStatus>>>,
}

impl Inner {
    fn try_wait(&self) -> io::Result<Option<ExitStatus>> {
        if let Some(s) = *self.status.borrow() {
            return Ok(Some(s));
        }
        let s = self.child.borrow_mut().try_wait()?;
        if let Some(s) = s {
            *self.status.borrow_mut() = Some(s);
        }
        Ok(s)
    }
}

/// Waits for the exit of `inner`'s process, without blocking the loop.
fn wait_exit(inner: Rc<Inner>) -> Promise<ExitStatus> {
    lwt::spawn(async move {
        if let Some(s) = inner.try_wait().map_err(io_err)? {
            return Ok(s);
        }
        let pid = inner.child.borrow().id();
        match crate::sys::ExitWatch::open(pid).and_then(Registered::new) {
            Ok(exit) => loop {
                exit.ready(Dir::Read).await?;
                if let Some(s) = inner.try_wait().map_err(io_err)? {
                    return Ok(s);
                }
                exit.clear(Dir::Read);
            },
            Err(_) => {
                let mut backoff = Duration::from_millis(1);
                loop {
                    lwt::sleep(backoff).await?;
                    if let Some(s) = inner.try_wait().map_err(io_err)? {
                        return Ok(s);
                    }
                    backoff = (backoff * 2).min(Duration::from_millis(100));
                }
            }
        }
    })
}

/// The wait for `inner`'s exit shared by all waiters (started if none is
/// pending or done), protected: canceling it leaves the shared wait alone.
fn shared_wait(inner: &Rc<Inner>) -> Promise<ExitStatus> {
    let existing = inner.waiting.borrow().clone();
    let shared = match existing {
        Some(p) if !p.is_rejected() => p,
        _ => {
            let p = wait_exit(inner.clone());
            *inner.waiting.borrow_mut() = Some(p.clone());
            p
        }
    };
    lwt::protected(&shared)
}

/// A running child process (Lwt_process's `process`).
///
/// ```
/// let mut cmd = std::process::Command::new("sh");
/// cmd.args(["-c", "exit 3"]);
/// let child = lwt_native::process::spawn(&mut cmd).unwrap();
/// assert_eq!(lwt_native::run(child.wait()).unwrap().code(), Some(3));
/// ```
pub struct Child {
    inner: Rc<Inner>,
    /// The child's standard input, if piped.
    pub stdin: Option<PipeWriter>,
    /// The child's standard output, if piped.
    pub stdout: Option<PipeReader>,
    /// The child's standard error, if piped.
    pub stderr: Option<PipeReader>,
}

impl std::fmt::Debug for Child {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Child").field("pid", &self.id()).finish()
    }
}

/// Starts `cmd`; its piped streams become non-blocking pipes on the loop.
///
/// ```
/// let mut cmd = std::process::Command::new("true");
/// let child = lwt_native::process::spawn(&mut cmd).unwrap();
/// assert!(lwt_native::run(child.wait()).unwrap().success());
/// ```
pub fn spawn(cmd: &mut Command) -> io::Result<Child> {
    crate::sys::ignore_sigpipe();
    let mut started = cmd.spawn()?;
    let (stdin, stdout, stderr) = (
        started.stdin.take(),
        started.stdout.take(),
        started.stderr.take(),
    );
    // Made before the pipes, so that if one cannot join the loop, dropping
    // it kills and reaps the process instead of leaving it behind.
    let mut child = Child {
        inner: Rc::new(Inner {
            child: RefCell::new(started),
            status: RefCell::new(None),
            waiting: RefCell::new(None),
        }),
        stdin: None,
        stdout: None,
        stderr: None,
    };
    let pipes = (|| {
        child.stdin = stdin.map(|s| PipeWriter::new(s.into())).transpose()?;
        child.stdout = stdout.map(|s| PipeReader::new(s.into())).transpose()?;
        child.stderr = stderr.map(|s| PipeReader::new(s.into())).transpose()?;
        io::Result::Ok(())
    })();
    match pipes {
        Ok(()) => Ok(child),
        Err(e) => {
            let _ = child.kill();
            Err(e)
        }
    }
}

impl Child {
    /// The process id.
    ///
    /// ```
    /// let child = lwt_native::process::spawn(&mut std::process::Command::new("true")).unwrap();
    /// assert!(child.id() > 0);
    /// # lwt_native::run(child.wait()).unwrap();
    /// ```
    pub fn id(&self) -> u32 {
        self.inner.child.borrow().id()
    }

    /// The exit status, once the child has exited; the loop is never
    /// blocked. Several waits share one. Canceling a wait leaves the child
    /// running.
    ///
    /// ```
    /// let child = lwt_native::process::spawn(&mut std::process::Command::new("true")).unwrap();
    /// let (a, b) = (child.wait(), child.wait());
    /// assert_eq!(lwt_native::run(a).unwrap(), lwt_native::run(b).unwrap());
    /// ```
    pub fn wait(&self) -> Promise<ExitStatus> {
        shared_wait(&self.inner)
    }

    /// The exit status if the child has exited, without waiting.
    ///
    /// ```
    /// let child = lwt_native::process::spawn(&mut std::process::Command::new("sleep").arg("10")).unwrap();
    /// assert!(child.try_wait().unwrap().is_none());
    /// child.kill().unwrap();
    /// # lwt_native::run(child.wait()).unwrap();
    /// ```
    pub fn try_wait(&self) -> io::Result<Option<ExitStatus>> {
        self.inner.try_wait()
    }

    /// Sends `SIGKILL` (no effect once the child was reaped).
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    /// let child = lwt_native::process::spawn(&mut std::process::Command::new("sleep").arg("10")).unwrap();
    /// child.kill().unwrap();
    /// assert_eq!(lwt_native::run(child.wait()).unwrap().signal(), Some(9));
    /// ```
    pub fn kill(&self) -> io::Result<()> {
        self.signal(libc::SIGKILL)
    }

    /// Sends signal `sig` (no effect once the child was reaped).
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    /// let child = lwt_native::process::spawn(&mut std::process::Command::new("sleep").arg("10")).unwrap();
    /// child.signal(libc::SIGTERM).unwrap();
    /// assert_eq!(lwt_native::run(child.wait()).unwrap().signal(), Some(libc::SIGTERM));
    /// ```
    pub fn signal(&self, sig: i32) -> io::Result<()> {
        if self.inner.try_wait()?.is_some() {
            return Ok(());
        }
        crate::sys::kill(self.id(), sig)
    }

    /// [`Child::wait`], but after `timeout` the child is killed, reaped,
    /// and the promise rejected with an `io::Error` of kind `TimedOut`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let child = lwt_native::process::spawn(&mut std::process::Command::new("sleep").arg("10")).unwrap();
    /// let e = lwt_native::run(child.wait_timeout(Duration::from_millis(20))).unwrap_err();
    /// assert_eq!(lwt_native::io_error_kind(&e), Some(std::io::ErrorKind::TimedOut));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Promise<ExitStatus> {
        let inner = self.inner.clone();
        let wait = self.wait();
        lwt::spawn(async move {
            match lwt::with_timeout(timeout, &wait).await {
                Err(e) if e.is_timeout() => {
                    let pid = inner.child.borrow().id();
                    if inner.try_wait().map_err(io_err)?.is_none() {
                        let _ = crate::sys::kill(pid, libc::SIGKILL);
                    }
                    shared_wait(&inner).await?;
                    Err(io_err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the child process timed out",
                    )))
                }
                r => r,
            }
        })
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        // No zombies: reap the child when it exits.
        if self.inner.status.borrow().is_none() && Rc::strong_count(&self.inner) == 1 {
            let reaper = wait_exit(self.inner.clone());
            reaper.on_failure(|_| {});
        }
    }
}

/// Runs `cmd` to completion with its stdout and stderr captured (stdin is
/// empty), like `Command::output` without blocking the loop.
///
/// ```
/// let mut cmd = std::process::Command::new("sh");
/// cmd.args(["-c", "echo out; echo err >&2; exit 1"]);
/// let out = lwt_native::run(lwt_native::process::output(&mut cmd)).unwrap();
/// assert_eq!(out.stdout, b"out\n");
/// assert_eq!(out.stderr, b"err\n");
/// assert_eq!(out.status.code(), Some(1));
/// ```
pub fn output(cmd: &mut Command) -> Promise<Output> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = match spawn(cmd) {
        Ok(c) => c,
        Err(e) => return Promise::rejected(io_err(e)),
    };
    lwt::spawn(async move {
        let out = child.stdout.clone().expect("piped").read_to_end();
        let err = child.stderr.clone().expect("piped").read_to_end();
        let (stdout, stderr) = lwt::both(&out, &err).await?;
        let status = child.wait().await?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    })
}

/// [`output`] for a program and its arguments.
///
/// ```
/// let out = lwt_native::run(lwt_native::process::output_of("echo", ["a", "b"])).unwrap();
/// assert_eq!(out.stdout, b"a b\n");
/// ```
pub fn output_of<I, S>(program: impl AsRef<OsStr>, args: I) -> Promise<Output>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    output(Command::new(program).args(args))
}
