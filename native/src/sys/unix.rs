//! The Unix backend (see the module docs of `sys`).

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

/// The number of open file descriptors of this process.
pub(crate) fn open_fd_count() -> std::io::Result<usize> {
    Ok(std::fs::read_dir("/proc/self/fd")?
        .count()
        .saturating_sub(1))
}
