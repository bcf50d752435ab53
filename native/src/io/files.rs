//! Temporary files and directories, and file questions (Lwt_io's
//! `with_temp_file`, `with_temp_dir`, `file_length`, `file_exists`).
//!
//! Temporary names are the prefix, 16 random hexadecimal digits and the
//! suffix; the file or directory is created exclusively (`O_EXCL`,
//! `mkdir`), so an existing name is never reused: a clash draws again, up
//! to 1,000 times. It is removed when the function's future is done,
//! whether it succeeded or failed, and also if that future is dropped
//! unfinished.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::path::{Path, PathBuf};

use lwt::{Error, Promise};

use crate::io::{Blocking, OutputChannel};

const ATTEMPTS: u32 = 1000;

/// A name for a temporary file or directory in `dir`.
fn temp_name(dir: &Path, prefix: &str) -> PathBuf {
    // Each `RandomState` is seeded afresh; hashing the process id and a
    // counter with it gives a new 64-bit draw every call.
    thread_local! {
        static COUNTER: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }
    let n = COUNTER.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    let mut h = RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u64(n);
    dir.join(format!("{prefix}{:016x}", h.finish()))
}

/// Removes a temporary path if the future using it is dropped unfinished.
struct Remove {
    path: Option<PathBuf>,
    dir: bool,
}

impl Remove {
    /// The path, no longer removed on drop: the caller removes it.
    fn disarm(&mut self) -> PathBuf {
        self.path.take().unwrap_or_default()
    }
}

impl Drop for Remove {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            // Rare (an aborted task): removing on the loop's thread is the
            // only way to be sure it is done.
            let _ = if self.dir {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}

/// Creates a new temporary file in the system's temporary directory, runs
/// `f` with its path and an output channel writing to it, then closes the
/// channel (flushing it) and removes the file, once `f`'s future is done,
/// whether it succeeded or failed (Lwt_io's `with_temp_file`). `f`'s error
/// comes first; then closing's, then removing's.
///
/// ```
/// let (path, text) = lwt_native::run(async {
///     lwt_native::io::with_temp_file(|path, oc| async move {
///         oc.write_line("scratch").await?;
///         oc.flush().await?;
///         let text = lwt_native::fs::read_to_string(&path).await?;
///         Ok((path, text))
///     })
///     .await
/// }).unwrap();
/// assert_eq!(text, "scratch\n");
/// assert!(!path.exists());
/// ```
pub async fn with_temp_file<T, F, Fut>(f: F) -> Result<T, Error>
where
    F: FnOnce(PathBuf, OutputChannel) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    with_temp_file_in(std::env::temp_dir(), f).await
}

/// [`with_temp_file`] in the directory `dir`.
///
/// ```
/// let dir = std::env::temp_dir();
/// let len = lwt_native::run(async move {
///     lwt_native::io::with_temp_file_in(dir, |path, oc| async move {
///         oc.write(b"12345").await?;
///         oc.flush().await?;
///         lwt_native::io::file_length(&path).await
///     })
///     .await
/// }).unwrap();
/// assert_eq!(len, 5);
/// ```
pub async fn with_temp_file_in<T, F, Fut>(dir: impl AsRef<Path>, f: F) -> Result<T, Error>
where
    F: FnOnce(PathBuf, OutputChannel) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let dir = dir.as_ref();
    let mut attempt = 0;
    let (path, file) = loop {
        let path = temp_name(dir, "lwt_io_temp_file_");
        let p = path.clone();
        let opened = crate::detach_io(move || {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(p)
                .map(|f| std::sync::Arc::new(std::sync::Mutex::new(Some(f))))
        });
        match opened.await {
            Ok(file) => break (path, file),
            Err(e)
                if attempt < ATTEMPTS
                    && crate::io_error_kind(&e) == Some(io::ErrorKind::AlreadyExists) =>
            {
                attempt += 1;
            }
            Err(e) => return Err(e.context(format!("with_temp_file in {}", dir.display()))),
        }
    };
    let mut remove = Remove {
        path: Some(path.clone()),
        dir: false,
    };
    // (A promise's value is shared, so the file comes in a slot to take.)
    let file = file.lock().unwrap_or_else(|e| e.into_inner()).take();
    let Some(file) = file else {
        let path = remove.disarm();
        let _ = crate::detach_io(move || std::fs::remove_file(path)).await;
        return Err(Error::msg("with_temp_file: the opened file was taken"));
    };
    let oc = OutputChannel::seekable(Blocking::new(file));
    let result = f(path, oc.clone()).await;
    let closed = if oc.is_closed() {
        Ok(())
    } else {
        oc.close().await
    };
    let path = remove.disarm();
    let removed = crate::detach_io(move || std::fs::remove_file(path)).await;
    let value = result?;
    closed?;
    removed.map(|()| value)
}

/// Creates a new temporary directory in the system's temporary directory,
/// runs `f` with its path, then removes it and everything in it, once
/// `f`'s future is done, whether it succeeded or failed (Lwt_io's
/// `with_temp_dir`). `f`'s error comes first, then removing's.
///
/// ```
/// let dir = lwt_native::run(async {
///     lwt_native::io::with_temp_dir(|dir| async move {
///         lwt_native::fs::write(dir.join("a.txt"), "a").await?;
///         lwt_native::fs::create_dir(dir.join("sub")).await?;
///         lwt_native::fs::write(dir.join("sub/b.txt"), "b").await?;
///         Ok(dir)
///     })
///     .await
/// }).unwrap();
/// assert!(!dir.exists());
/// ```
pub async fn with_temp_dir<T, F, Fut>(f: F) -> Result<T, Error>
where
    F: FnOnce(PathBuf) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    with_temp_dir_in(std::env::temp_dir(), f).await
}

/// [`with_temp_dir`] in the directory `parent`.
///
/// ```
/// let parent = std::env::temp_dir();
/// let inside = lwt_native::run(async move {
///     let p = parent.clone();
///     lwt_native::io::with_temp_dir_in(parent, |dir| async move { Ok(dir.starts_with(&p)) }).await
/// }).unwrap();
/// assert!(inside);
/// ```
pub async fn with_temp_dir_in<T, F, Fut>(parent: impl AsRef<Path>, f: F) -> Result<T, Error>
where
    F: FnOnce(PathBuf) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let parent = parent.as_ref();
    let mut attempt = 0;
    let path = loop {
        let path = temp_name(parent, "lwt_io_temp_dir_");
        let p = path.clone();
        match crate::detach_io(move || std::fs::create_dir(p)).await {
            Ok(()) => break path,
            Err(e)
                if attempt < ATTEMPTS
                    && crate::io_error_kind(&e) == Some(io::ErrorKind::AlreadyExists) =>
            {
                attempt += 1;
            }
            Err(e) => return Err(e.context(format!("with_temp_dir in {}", parent.display()))),
        }
    };
    let mut remove = Remove {
        path: Some(path.clone()),
        dir: true,
    };
    let result = f(path).await;
    let dir = remove.disarm();
    let removed = crate::detach_io(move || std::fs::remove_dir_all(dir)).await;
    let value = result?;
    removed.map(|()| value)
}

/// The length in bytes of the file at `path` (Lwt_io's `file_length`); a
/// directory is an error of kind `IsADirectory`, a missing file one of kind
/// `NotFound`.
///
/// ```
/// let p = std::env::temp_dir().join(format!("lwt-doc-length-{}", std::process::id()));
/// std::fs::write(&p, "seven!!").unwrap();
/// let q = p.clone();
/// let (len, dir_err) = lwt_native::run(async move {
///     let len = lwt_native::io::file_length(&q).await?;
///     let e = lwt_native::io::file_length(std::env::temp_dir()).await.unwrap_err();
///     Ok((len, lwt_native::io_error_kind(&e)))
/// }).unwrap();
/// assert_eq!(len, 7);
/// assert_eq!(dir_err, Some(std::io::ErrorKind::IsADirectory));
/// # std::fs::remove_file(&p).unwrap();
/// ```
pub fn file_length(path: impl AsRef<Path>) -> Promise<u64> {
    let path = path.as_ref().to_path_buf();
    crate::detach_io(move || {
        let m = std::fs::metadata(&path)?;
        if m.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                format!("file_length: {} is a directory", path.display()),
            ));
        }
        Ok(m.len())
    })
}

/// True when something exists at `path` (Lwt_unix's `file_exists`, which
/// Lwt_io re-exports): as in Lwt, any failure to look (a missing file, a
/// directory that may not be searched) answers false.
///
/// ```
/// let (yes, no) = lwt_native::run(async {
///     Ok((
///         lwt_native::io::file_exists(std::env::temp_dir()).await?,
///         lwt_native::io::file_exists("/no/such/file/here").await?,
///     ))
/// }).unwrap();
/// assert!(yes && !no);
/// ```
pub fn file_exists(path: impl AsRef<Path>) -> Promise<bool> {
    let path = path.as_ref().to_path_buf();
    crate::detach_io(move || Ok(std::fs::metadata(path).is_ok()))
}
