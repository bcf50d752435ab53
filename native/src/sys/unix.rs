//! What every Unix backend shares: `SIGPIPE`, the signal self-pipe and
//! `kill`. The per-platform parts (the exit watcher, the fd count, errno's
//! location) are in `linux.rs` and `kqueue.rs`.

use std::sync::Once;

/// Ignores `SIGPIPE` for the process, once, unless someone installed a
/// handler already (the Rust runtime ignores it in binaries; test harnesses
/// and foreign hosts may not).
pub(crate) fn ignore_sigpipe() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: `sigaction` with a null new action only reads the current
        // disposition into `old`, a properly sized, zeroed struct we own.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_DFL
            {
                libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            }
        }
    });
}

use std::io;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

/// The write end of the signal self-pipe (-1 until made).
static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);
/// Signals whose handler is installed (bit n: signal n).
static INSTALLED: AtomicU64 = AtomicU64::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    let fd = SIGNAL_PIPE.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = sig as u8;
        // errno is read and written through its location:
        // `io::Error::last_os_error` could read it but not put it back.
        let errno = super::errno_location();
        // SAFETY: async-signal-safe: errno (a thread-local the platform's
        // `errno_location` points at) is saved and restored around a `write`
        // of one byte from a local to a non-blocking pipe.
        unsafe {
            let saved = *errno;
            libc::write(fd, &byte as *const u8 as *const libc::c_void, 1);
            *errno = saved;
        }
    }
}

/// Makes the self-pipe (once per process) and gives its read end; later
/// calls give `None`: one loop thread receives the signals.
pub(crate) fn signal_pipe() -> io::Result<Option<mio::unix::pipe::Receiver>> {
    if SIGNAL_PIPE.load(Ordering::SeqCst) >= 0 {
        return Ok(None);
    }
    let (tx, rx) = mio::unix::pipe::new()?;
    use std::os::fd::IntoRawFd;
    let fd = tx.into_raw_fd();
    if SIGNAL_PIPE
        .compare_exchange(-1, fd, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        // SAFETY: we own `fd` (just taken from the sender) and nobody saw it.
        unsafe { libc::close(fd) };
        return Ok(None);
    }
    Ok(Some(rx))
}

/// Closes the self-pipe made by [`signal_pipe`] when its read end could not
/// join the loop, so that a later call makes a new one.
pub(crate) fn release_signal_pipe() {
    let fd = SIGNAL_PIPE.swap(-1, Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: `fd` is the pipe's write end, owned by `SIGNAL_PIPE` and
        // taken out of it just now. No handler writes to it: handlers are
        // installed only once the read end has joined a loop.
        unsafe { libc::close(fd) };
    }
}

/// Installs the self-pipe handler for `sig` (once per signal).
pub(crate) fn install_handler(sig: i32) -> io::Result<()> {
    if !(1..64).contains(&sig) || sig == libc::SIGKILL || sig == libc::SIGSTOP {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("signal {sig} cannot be caught"),
        ));
    }
    let bit = 1u64 << sig;
    if INSTALLED.fetch_or(bit, Ordering::SeqCst) & bit != 0 {
        return Ok(());
    }
    // SAFETY: installs a handler that only does async-signal-safe work
    // (`on_signal`); the sigaction struct is zeroed then filled.
    let r = unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(sig, &sa, std::ptr::null_mut())
    };
    if r != 0 {
        INSTALLED.fetch_and(!bit, Ordering::SeqCst);
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sends `sig` to process `pid`.
pub(crate) fn kill(pid: u32, sig: i32) -> io::Result<()> {
    // SAFETY: `kill` takes plain integers.
    if unsafe { libc::kill(pid as libc::pid_t, sig) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
