//! The kqueue platforms' parts of the backend (macOS, FreeBSD): a process
//! filter for child exits, the fd count, errno's location.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The number of open file descriptors of this process: the descriptors
/// below the soft `RLIMIT_NOFILE` (at most 2^20 of them) that `fcntl`
/// knows. `/dev/fd` would be quicker, but FreeBSD lists only 0 to 2 there
/// unless `fdescfs` is mounted.
pub(crate) fn open_fd_count() -> io::Result<usize> {
    // SAFETY: `getrlimit` writes one `rlimit`, a struct we own, zeroed.
    let limit = unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err(io::Error::last_os_error());
        }
        limit.rlim_cur
    };
    let max = limit.min(1 << 20) as libc::c_int;
    // SAFETY: `F_GETFD` on any integer only reads that descriptor's flags,
    // failing with EBADF when it is not open.
    Ok((0..max)
        .filter(|&fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1)
        .count())
}

/// Where this thread's `errno` lives.
pub(crate) fn errno_location() -> *mut libc::c_int {
    // SAFETY: `__error` takes nothing and returns the calling thread's errno
    // address; it is async-signal-safe.
    unsafe { libc::__error() }
}

/// Readable once a child process has exited: a kqueue of its own holding one
/// `EVFILT_PROC`/`NOTE_EXIT` filter for the child. A kqueue is readable while
/// it has a pending event, so the loop's poller can wait on it like any fd.
pub(crate) struct ExitWatch(OwnedFd);

impl ExitWatch {
    /// Watches `pid`. An error (for example `ESRCH`, the child is already
    /// gone) means "poll instead".
    pub(crate) fn open(pid: u32) -> io::Result<ExitWatch> {
        // SAFETY: `kqueue` takes nothing and returns a new descriptor or -1.
        let kq = unsafe { libc::kqueue() };
        if kq < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `kq` was just made by the kernel and is owned by no one else.
        let kq = unsafe { OwnedFd::from_raw_fd(kq) };
        // SAFETY: a zeroed `kevent` is a valid value of this plain C struct;
        // the fields that matter are set next.
        let mut change: libc::kevent = unsafe { std::mem::zeroed() };
        change.ident = pid as libc::uintptr_t;
        change.filter = libc::EVFILT_PROC;
        change.flags = libc::EV_ADD | libc::EV_ONESHOT;
        change.fflags = libc::NOTE_EXIT;
        // SAFETY: one change record that we own, no event list (null, 0),
        // and no timeout (null): `kevent` only reads `change`.
        let r = unsafe {
            libc::kevent(
                kq.as_raw_fd(),
                &change,
                1,
                std::ptr::null_mut(),
                0,
                std::ptr::null(),
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(ExitWatch(kq))
    }
}

super::fd_source!(ExitWatch);
