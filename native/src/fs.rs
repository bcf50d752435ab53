//! Files and directories (Lwt_unix's file functions), on the blocking pool.
//!
//! # Ground rules
//!
//! Regular files are always "ready" to the poller, so their system calls
//! would block the loop: every operation here runs on the blocking pool
//! ([`crate::detach_io`]) and gives a promise. Errors reject it with the
//! `io::Error` ([`crate::io_error_kind`]).

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lwt::Promise;

use crate::detach_io;
use crate::io::{Blocking, InputChannel, OutputChannel};

fn owned(path: impl AsRef<Path>) -> PathBuf {
    path.as_ref().to_path_buf()
}

/// The whole file.
///
/// ```
/// let p = std::env::temp_dir().join(format!("lwt-doc-read-{}", std::process::id()));
/// std::fs::write(&p, b"contents").unwrap();
/// assert_eq!(lwt_native::run(lwt_native::fs::read(&p)).unwrap(), b"contents");
/// # std::fs::remove_file(&p).unwrap();
/// ```
pub fn read(path: impl AsRef<Path>) -> Promise<Vec<u8>> {
    let path = owned(path);
    detach_io(move || std::fs::read(path))
}

/// The whole file, as text (invalid UTF-8: kind `InvalidData`).
///
/// ```
/// let p = std::env::temp_dir().join(format!("lwt-doc-rts-{}", std::process::id()));
/// std::fs::write(&p, "text").unwrap();
/// assert_eq!(lwt_native::run(lwt_native::fs::read_to_string(&p)).unwrap(), "text");
/// # std::fs::remove_file(&p).unwrap();
/// ```
pub fn read_to_string(path: impl AsRef<Path>) -> Promise<String> {
    let path = owned(path);
    detach_io(move || std::fs::read_to_string(path))
}

/// Writes all of `data` to the file, creating or truncating it.
///
/// ```
/// let p = std::env::temp_dir().join(format!("lwt-doc-write-{}", std::process::id()));
/// lwt_native::run(lwt_native::fs::write(&p, b"new".to_vec())).unwrap();
/// assert_eq!(std::fs::read(&p).unwrap(), b"new");
/// # std::fs::remove_file(&p).unwrap();
/// ```
pub fn write(path: impl AsRef<Path>, data: impl Into<Vec<u8>>) -> Promise<()> {
    let path = owned(path);
    let data = data.into();
    detach_io(move || std::fs::write(path, data))
}

/// Metadata (size, type, times, permissions), following symbolic links.
///
/// ```
/// let m = lwt_native::run(lwt_native::fs::metadata("/")).unwrap();
/// assert!(m.is_dir());
/// ```
pub fn metadata(path: impl AsRef<Path>) -> Promise<std::fs::Metadata> {
    let path = owned(path);
    detach_io(move || std::fs::metadata(path))
}

/// The paths of a directory's entries, sorted.
///
/// ```
/// let d = std::env::temp_dir().join(format!("lwt-doc-rd-{}", std::process::id()));
/// std::fs::create_dir_all(&d).unwrap();
/// std::fs::write(d.join("a"), "").unwrap();
/// let entries = lwt_native::run(lwt_native::fs::read_dir(&d)).unwrap();
/// assert_eq!(entries, [d.join("a")]);
/// # std::fs::remove_dir_all(&d).unwrap();
/// ```
pub fn read_dir(path: impl AsRef<Path>) -> Promise<Vec<PathBuf>> {
    let path = owned(path);
    detach_io(move || {
        let mut v = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<io::Result<Vec<_>>>()?;
        v.sort();
        Ok(v)
    })
}

/// Renames (moves) `from` to `to`.
///
/// ```
/// let d = std::env::temp_dir();
/// let (a, b) = (d.join(format!("lwt-doc-mv-a-{}", std::process::id())), d.join(format!("lwt-doc-mv-b-{}", std::process::id())));
/// std::fs::write(&a, "").unwrap();
/// lwt_native::run(lwt_native::fs::rename(&a, &b)).unwrap();
/// assert!(b.exists() && !a.exists());
/// # std::fs::remove_file(&b).unwrap();
/// ```
pub fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> Promise<()> {
    let (from, to) = (owned(from), owned(to));
    detach_io(move || std::fs::rename(from, to))
}

/// Removes a file.
///
/// ```
/// let p = std::env::temp_dir().join(format!("lwt-doc-rm-{}", std::process::id()));
/// std::fs::write(&p, "").unwrap();
/// lwt_native::run(lwt_native::fs::remove_file(&p)).unwrap();
/// assert!(!p.exists());
/// ```
pub fn remove_file(path: impl AsRef<Path>) -> Promise<()> {
    let path = owned(path);
    detach_io(move || std::fs::remove_file(path))
}

/// Removes an empty directory.
///
/// ```
/// let p = std::env::temp_dir().join(format!("lwt-doc-rmdir-{}", std::process::id()));
/// std::fs::create_dir(&p).unwrap();
/// lwt_native::run(lwt_native::fs::remove_dir(&p)).unwrap();
/// assert!(!p.exists());
/// ```
pub fn remove_dir(path: impl AsRef<Path>) -> Promise<()> {
    let path = owned(path);
    detach_io(move || std::fs::remove_dir(path))
}

/// Creates a directory (its parent must exist).
///
/// ```
/// let p = std::env::temp_dir().join(format!("lwt-doc-mkdir-{}", std::process::id()));
/// lwt_native::run(lwt_native::fs::create_dir(&p)).unwrap();
/// assert!(p.is_dir());
/// # std::fs::remove_dir(&p).unwrap();
/// ```
pub fn create_dir(path: impl AsRef<Path>) -> Promise<()> {
    let path = owned(path);
    detach_io(move || std::fs::create_dir(path))
}

/// Creates a directory and its missing parents.
///
/// ```
/// let p = std::env::temp_dir().join(format!("lwt-doc-mkdirs-{}", std::process::id()));
/// lwt_native::run(lwt_native::fs::create_dir_all(p.join("x/y"))).unwrap();
/// assert!(p.join("x/y").is_dir());
/// # std::fs::remove_dir_all(&p).unwrap();
/// ```
pub fn create_dir_all(path: impl AsRef<Path>) -> Promise<()> {
    let path = owned(path);
    detach_io(move || std::fs::create_dir_all(path))
}

/// Copies a file's contents and permissions; gives the number of bytes.
///
/// ```
/// let d = std::env::temp_dir();
/// let (a, b) = (d.join(format!("lwt-doc-cp-a-{}", std::process::id())), d.join(format!("lwt-doc-cp-b-{}", std::process::id())));
/// std::fs::write(&a, "12345").unwrap();
/// assert_eq!(lwt_native::run(lwt_native::fs::copy(&a, &b)).unwrap(), 5);
/// # std::fs::remove_file(&a).unwrap(); std::fs::remove_file(&b).unwrap();
/// ```
pub fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> Promise<u64> {
    let (from, to) = (owned(from), owned(to));
    detach_io(move || std::fs::copy(from, to))
}

/// An open file. A cheap-to-clone handle; clones share the file and its
/// position. Each operation runs on the blocking pool.
///
/// ```
/// use lwt_native::fs::File;
/// let p = std::env::temp_dir().join(format!("lwt-doc-file-{}", std::process::id()));
/// let got = lwt_native::run(async move {
///     let f = File::create(&p).await?;
///     f.write_all(b"hello".to_vec()).await?;
///     f.seek(std::io::SeekFrom::Start(0)).await?;
///     let got = f.read(100).await?;
///     lwt_native::fs::remove_file(&p).await?;
///     Ok(got)
/// }).unwrap();
/// assert_eq!(got, b"hello");
/// ```
#[derive(Clone, Debug)]
pub struct File(Arc<Mutex<std::fs::File>>);

impl File {
    /// Opens a file with `options`.
    ///
    /// ```
    /// let mut o = std::fs::OpenOptions::new();
    /// o.read(true);
    /// let f = lwt_native::run(lwt_native::fs::File::open_with("/dev/null", o)).unwrap();
    /// # drop(f);
    /// ```
    pub fn open_with(path: impl AsRef<Path>, options: std::fs::OpenOptions) -> Promise<File> {
        let path = owned(path);
        detach_io(move || options.open(path).map(|f| File(Arc::new(Mutex::new(f)))))
    }

    /// Opens a file for reading.
    ///
    /// ```
    /// let f = lwt_native::run(lwt_native::fs::File::open("/dev/null")).unwrap();
    /// assert!(lwt_native::run(f.read(10)).unwrap().is_empty());
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Promise<File> {
        let mut o = std::fs::OpenOptions::new();
        o.read(true);
        File::open_with(path, o)
    }

    /// Creates (or truncates) a file for reading and writing.
    ///
    /// ```
    /// let p = std::env::temp_dir().join(format!("lwt-doc-create-{}", std::process::id()));
    /// let _f = lwt_native::run(lwt_native::fs::File::create(&p)).unwrap();
    /// # std::fs::remove_file(&p).unwrap();
    /// ```
    pub fn create(path: impl AsRef<Path>) -> Promise<File> {
        let mut o = std::fs::OpenOptions::new();
        o.read(true).write(true).create(true).truncate(true);
        File::open_with(path, o)
    }

    fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut std::fs::File) -> io::Result<T> + Send + 'static,
    ) -> Promise<T> {
        let file = self.0.clone();
        detach_io(move || f(&mut file.lock().unwrap_or_else(|e| e.into_inner())))
    }

    /// Up to `max` bytes from the current position (empty at the end).
    ///
    /// ```
    /// let f = lwt_native::run(lwt_native::fs::File::open("/dev/zero")).unwrap();
    /// assert_eq!(lwt_native::run(f.read(3)).unwrap(), [0, 0, 0]);
    /// ```
    pub fn read(&self, max: usize) -> Promise<Vec<u8>> {
        self.with(move |f| {
            let mut v = vec![0; max];
            let n = f.read(&mut v)?;
            v.truncate(n);
            Ok(v)
        })
    }

    /// Writes all of `data` at the current position.
    ///
    /// ```
    /// let mut o = std::fs::OpenOptions::new();
    /// o.write(true);
    /// let f = lwt_native::run(lwt_native::fs::File::open_with("/dev/null", o)).unwrap();
    /// lwt_native::run(f.write_all(b"gone".to_vec())).unwrap();
    /// ```
    pub fn write_all(&self, data: Vec<u8>) -> Promise<()> {
        self.with(move |f| f.write_all(&data))
    }

    /// Moves the position; gives the new one.
    ///
    /// ```
    /// let f = lwt_native::run(lwt_native::fs::File::open("/dev/null")).unwrap();
    /// assert_eq!(lwt_native::run(f.seek(std::io::SeekFrom::Start(0))).unwrap(), 0);
    /// ```
    pub fn seek(&self, pos: SeekFrom) -> Promise<u64> {
        self.with(move |f| f.seek(pos))
    }

    /// Flushes data and metadata to the device (`fsync`).
    ///
    /// ```
    /// let p = std::env::temp_dir().join(format!("lwt-doc-sync-{}", std::process::id()));
    /// let f = lwt_native::run(lwt_native::fs::File::create(&p)).unwrap();
    /// lwt_native::run(f.sync_all()).unwrap();
    /// # std::fs::remove_file(&p).unwrap();
    /// ```
    pub fn sync_all(&self) -> Promise<()> {
        self.with(|f| f.sync_all())
    }

    /// The file's metadata.
    ///
    /// ```
    /// let f = lwt_native::run(lwt_native::fs::File::open("/dev/null")).unwrap();
    /// assert_eq!(lwt_native::run(f.metadata()).unwrap().len(), 0);
    /// ```
    pub fn metadata(&self) -> Promise<std::fs::Metadata> {
        self.with(|f| f.metadata())
    }

    /// A buffered input channel reading from the current position. It
    /// seeks: [`InputChannel::set_position`] moves to a byte of the file;
    /// [`InputChannel::position`] counts from where the file was when the
    /// channel was made (its start, for a file just opened), until a
    /// position is set.
    ///
    /// ```
    /// let p = std::env::temp_dir().join(format!("lwt-doc-ic-{}", std::process::id()));
    /// std::fs::write(&p, "l1\nl2\n").unwrap();
    /// let q = p.clone();
    /// let line = lwt_native::run(async move {
    ///     let f = lwt_native::fs::File::open(&q).await?;
    ///     f.input_channel()?.read_line().await
    /// }).unwrap();
    /// assert_eq!(line.as_deref(), Some("l1"));
    /// # std::fs::remove_file(&p).unwrap();
    /// ```
    pub fn input_channel(&self) -> io::Result<InputChannel> {
        let f = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .try_clone()?;
        Ok(InputChannel::seekable(Blocking::new(f)))
    }

    /// A buffered output channel writing at the current position. It
    /// seeks, as [`File::input_channel`]'s does.
    ///
    /// ```
    /// let p = std::env::temp_dir().join(format!("lwt-doc-oc-{}", std::process::id()));
    /// let q = p.clone();
    /// lwt_native::run(async move {
    ///     let f = lwt_native::fs::File::create(&q).await?;
    ///     let oc = f.output_channel()?;
    ///     oc.write_line("written").await?;
    ///     oc.flush().await
    /// }).unwrap();
    /// assert_eq!(std::fs::read_to_string(&p).unwrap(), "written\n");
    /// # std::fs::remove_file(&p).unwrap();
    /// ```
    pub fn output_channel(&self) -> io::Result<OutputChannel> {
        let f = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .try_clone()?;
        Ok(OutputChannel::seekable(Blocking::new(f)))
    }
}
