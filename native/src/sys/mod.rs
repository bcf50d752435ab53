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
//! * `PidFd`, a `mio::event::Source` made by `PidFd::open(pid)` that becomes
//!   readable when the child exits, so [`crate::process`] waits for children
//!   without blocking the loop;
//! * `kill(pid, sig)`, for [`crate::process`].
//!
//! Linux is the only backend today (`linux.rs`: `pidfd_open`,
//! `/proc/self/fd`, `__errno_location`). Other targets stop at compile time
//! with an error that says so.

#[cfg(target_os = "linux")]
mod unix;
#[cfg(target_os = "linux")]
pub(crate) use unix::*;

#[cfg(not(target_os = "linux"))]
compile_error!(
    "lwt-native supports Linux only for now; macOS and the BSDs are planned \
     (a backend in native/src/sys/, selected in sys/mod.rs)"
);
