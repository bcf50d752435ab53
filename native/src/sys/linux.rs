//! The Linux parts of the backend: pidfds, `/proc`, errno's location.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The number of open file descriptors of this process (the entries of
/// `/proc/self/fd`, less the one the listing itself opens).
pub(crate) fn open_fd_count() -> io::Result<usize> {
    Ok(std::fs::read_dir("/proc/self/fd")?
        .count()
        .saturating_sub(1))
}

/// Where this thread's `errno` lives.
pub(crate) fn errno_location() -> *mut libc::c_int {
    // SAFETY: `__errno_location` takes nothing and returns the calling
    // thread's errno address; it is async-signal-safe.
    unsafe { libc::__errno_location() }
}

/// Readable once a child process has exited: a pidfd (Linux 5.3+).
pub(crate) struct ExitWatch(OwnedFd);

impl ExitWatch {
    /// `pidfd_open(pid)`. An error (an older kernel) means "poll instead".
    pub(crate) fn open(pid: u32) -> io::Result<ExitWatch> {
        // SAFETY: the pidfd_open system call takes a pid and flags and
        // returns a new descriptor or -1; no memory is passed.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a descriptor the kernel just gave us, owned by no
        // one else.
        Ok(ExitWatch(unsafe { OwnedFd::from_raw_fd(fd as RawFd) }))
    }
}

super::fd_source!(ExitWatch);
