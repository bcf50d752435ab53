//! Platform code that mio does not cover.
//!
//! # Ground rules
//!
//! One backend per platform, selected here and nowhere else: the rest of the
//! crate calls `crate::sys::*` and never tests the target itself. Every
//! backend exports, `pub(crate)`:
//!
//! * `ignore_sigpipe()`: writing to a closed peer must give `EPIPE`, never
//!   kill the process (called by [`crate::run`] and before spawning);
//! * `open_fd_count() -> io::Result<usize>`: the number of open file
//!   descriptors, for leak checks ([`crate::open_fd_count`]);
//! * the signal self-pipe, for [`crate::signal`]: `signal_pipe()` (its read
//!   end, once per process), `release_signal_pipe()` and
//!   `install_handler(sig)`;
//! * `ExitWatch`, a `mio::event::Source` made by `ExitWatch::open(pid)` that
//!   becomes readable when the child exits, so [`crate::process`] waits for
//!   children without blocking the loop (an error there means "poll");
//! * `errno_location()`, for the signal handler, which must save and restore
//!   `errno`;
//! * `kill(pid, sig)`, for [`crate::process`].
//!
//! The backends:
//!
//! | target | files | exit watcher | fd count |
//! |---|---|---|---|
//! | Linux | `unix.rs` + `linux.rs` | a pidfd (`pidfd_open`, Linux 5.3+) | `/proc/self/fd` |
//! | macOS, FreeBSD | `unix.rs` + `kqueue.rs` | a kqueue with an `EVFILT_PROC` filter | `fcntl` over the fd limit |
//!
//! `unix.rs` holds what they share (`SIGPIPE`, the signal self-pipe, `kill`).
//! Other targets stop at compile time with an error that names these.

mod unix;
pub(crate) use unix::*;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub(crate) use linux::*;

#[cfg(any(target_os = "macos", target_os = "freebsd"))]
mod kqueue;
#[cfg(any(target_os = "macos", target_os = "freebsd"))]
pub(crate) use kqueue::*;

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "freebsd")))]
compile_error!(
    "lwt-native supports Linux, macOS and FreeBSD; another target needs a \
     backend in native/src/sys/ (see the table in sys/mod.rs)"
);

/// Makes a type holding an `OwnedFd` in its field 0 a `mio::event::Source`
/// (readable interest on that descriptor).
macro_rules! fd_source {
    ($ty:ty) => {
        impl mio::event::Source for $ty {
            fn register(
                &mut self,
                r: &mio::Registry,
                t: mio::Token,
                i: mio::Interest,
            ) -> io::Result<()> {
                mio::unix::SourceFd(&self.0.as_raw_fd()).register(r, t, i)
            }
            fn reregister(
                &mut self,
                r: &mio::Registry,
                t: mio::Token,
                i: mio::Interest,
            ) -> io::Result<()> {
                mio::unix::SourceFd(&self.0.as_raw_fd()).reregister(r, t, i)
            }
            fn deregister(&mut self, r: &mio::Registry) -> io::Result<()> {
                mio::unix::SourceFd(&self.0.as_raw_fd()).deregister(r)
            }
        }
    };
}
use fd_source;
