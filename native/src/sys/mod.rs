//! Platform code that mio does not cover.
//!
//! # Ground rules
//!
//! One backend per platform family, selected here once. Each backend exports:
//!
//! * `ignore_sigpipe()`: writing to a closed peer must give `EPIPE`, never
//!   kill the process;
//! * `open_fd_count()`: the number of open file descriptors (leak checks);
//! * the signal self-pipe (`signal_pipe`, `release_signal_pipe`,
//!   `install_handler`), for [`crate::signal`];
//! * `pidfd_open`, for waiting on children without blocking the loop.
//!
//! Only Unix is supported today.

#[cfg(unix)]
mod linux;
#[cfg(unix)]
pub(crate) use linux::*;
