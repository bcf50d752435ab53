//! `lwt::Error`: the one rejection type.
//!
//! # Ground rules
//!
//! * One rejected promise is seen by many consumers (every callback, every
//!   `.await`), so an [`Error`] is a reference-counted handle: cloning it is a
//!   counter increment, never a copy of the message or the original error.
//! * It is `Send + Sync`: the error a loop returns can leave its thread, and
//!   `?` turns it into an `anyhow::Error` or a `Box<dyn Error + Send + Sync>`.
//!   The count is atomic (`Arc`); errors are made and cloned on the rejection
//!   path only, where an atomic increment costs nothing measurable.
//! * It is opaque: callers ask questions ([`Error::is_canceled`],
//!   [`Error::is_timeout`], ...) instead of matching on a public enum, so kinds
//!   can be added without breaking anyone.
//! * The original error is kept, not stringified away: [`Error::downcast_ref`]
//!   gives back the `io::Error` (or any error in the chain),
//!   [`Error::payload`] what was rejected with it.
//! * A payload that cannot leave its thread (a `JsValue`) stays in that
//!   thread's table (`local`), and the error keeps only a key to it:
//!   [`Error::with_local_payload`], [`Error::local_payload`]. On wasm32 that
//!   is how a JS rejection keeps its value; it costs one map entry per
//!   payload, freed with the last handle.
//! * Like `anyhow::Error`, it does not implement `std::error::Error` itself, so
//!   that `?` converts any error into it; it dereferences to
//!   `dyn std::error::Error` for `source()` and [`Error::chain`].

mod local;

use std::any::Any;
use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::sync::{Arc, OnceLock};

use local::Local;

/// A boxed error that can cross threads: what `?` converts from.
type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Why a promise was rejected.
///
/// Cheap to clone (one reference count), `Send + Sync`, opaque, with
/// predicates for the kinds the library itself produces, a message, a source
/// chain, and downcasting to the original error.
///
/// ```
/// use std::io;
///
/// let e = lwt::Error::new(io::Error::new(io::ErrorKind::NotFound, "no such file"));
/// assert_eq!(e.to_string(), "no such file");
/// assert_eq!(e.downcast_ref::<io::Error>().unwrap().kind(), io::ErrorKind::NotFound);
/// assert!(!e.is_canceled());
///
/// let c = lwt::Error::canceled();
/// assert!(c.is_canceled());
/// let c2 = c.clone(); // one reference count, nothing copied
/// assert!(c2.is_canceled());
///
/// // It can leave its thread.
/// let back = std::thread::spawn(move || e).join().unwrap();
/// assert!(back.downcast_ref::<io::Error>().is_some());
/// ```
///
/// # With `?`
///
/// `?` turns into an `Error` anything that converts into a
/// `Box<dyn std::error::Error + Send + Sync>`: every such `std` error
/// (`io::Error`, parse errors, ...), an `anyhow::Error`, the box itself, and a
/// `String` or `&str` message. The other way, `?` turns an `Error` into an
/// `anyhow::Error` (with the `anyhow` feature) or a `Box<dyn Error>`. An error
/// that came from an `Error` comes back as that very `Error`, kind included:
///
/// ```
/// fn parse(s: &str) -> Result<u16, lwt::Error> {
///     let n: u16 = s.parse()?; // ParseIntError -> lwt::Error
///     if n == 0 {
///         Err("zero is not a port")?; // a message
///     }
///     Ok(n)
/// }
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     assert_eq!(parse("80")?, 80); // lwt::Error -> Box<dyn Error>
///     let e = parse("x").unwrap_err();
///     assert!(e.downcast_ref::<std::num::ParseIntError>().is_some());
///     assert_eq!(parse("0").unwrap_err().to_string(), "zero is not a port");
///     Ok(())
/// }
/// ```
///
/// One direction Rust's coherence rules close: `?` from an `Error` into a
/// `Box<dyn Error + Send + Sync>` (that impl would make `Error` convert into
/// itself twice). Call [`Error::into_boxed_dyn_error`] there.
#[derive(Clone)]
pub struct Error(Arc<Inner>);

struct Inner {
    kind: Kind,
    message: Cow<'static, str>,
    source: Option<BoxError>,
    payload: Option<Payload>,
}

/// What an error carries beside its message and source.
enum Payload {
    /// A value any thread may look at.
    Shared(Box<dyn Any + Send + Sync>),
    /// A value kept in its thread's table.
    Local(Local),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Canceled,
    Timeout,
    AlreadyResolved,
    InvalidArgument,
    NoEngine,
    Closed,
    Panic,
    Failed,
}

impl Error {
    fn make(
        kind: Kind,
        message: impl Into<Cow<'static, str>>,
        source: Option<BoxError>,
        payload: Option<Payload>,
    ) -> Error {
        Error(Arc::new(Inner {
            kind,
            message: message.into(),
            source,
            payload,
        }))
    }

    fn of(kind: Kind, message: impl Into<Cow<'static, str>>) -> Error {
        Error::make(kind, message, None, None)
    }

    /// Wraps an error value; [`Error::downcast_ref`] gives it back.
    ///
    /// ```
    /// let e = lwt::Error::new(std::fmt::Error);
    /// assert!(e.downcast_ref::<std::fmt::Error>().is_some());
    /// ```
    pub fn new<E: StdError + Send + Sync + 'static>(error: E) -> Error {
        Error::from_boxed(Box::new(error))
    }

    /// An error from a boxed one: the very [`Error`] again if the box holds
    /// one (it went out through [`Error::into_boxed_dyn_error`] or `?`).
    fn from_boxed(error: BoxError) -> Error {
        match error.downcast::<Shared>() {
            Ok(shared) => shared.0,
            Err(error) => Error::make(Kind::Failed, error.to_string(), Some(error), None),
        }
    }

    /// An error that is only a message (Lwt's `Failure`).
    ///
    /// ```
    /// let e = lwt::Error::msg("disk full");
    /// assert_eq!(e.to_string(), "disk full");
    /// ```
    pub fn msg(message: impl fmt::Display) -> Error {
        Error::of(Kind::Failed, message.to_string())
    }

    /// An error carrying an arbitrary value that is not a `std::error::Error`
    /// (a status code, a response), with a message for humans. The value comes
    /// back, unchanged, through [`Error::payload`]. For a value that cannot
    /// leave its thread, see [`Error::with_local_payload`].
    ///
    /// ```
    /// let e = lwt::Error::with_payload("bad status", 503u16);
    /// assert_eq!(e.payload::<u16>(), Some(&503));
    /// assert_eq!(e.to_string(), "bad status");
    /// ```
    pub fn with_payload(message: impl fmt::Display, payload: impl Any + Send + Sync) -> Error {
        let payload = Payload::Shared(Box::new(payload));
        Error::make(Kind::Failed, message.to_string(), None, Some(payload))
    }

    /// An error carrying a value that cannot leave this thread (a `JsValue`,
    /// an `Rc`). The value stays in this thread's table, and the error, which
    /// is still `Send`, keeps a key to it: [`Error::local_payload`] gives the
    /// value back on this thread, and nothing elsewhere. The value is freed
    /// with the error's last handle (dropped on another thread: the next time
    /// this thread stores or frees a local payload, or when it ends).
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// let e = lwt::Error::with_local_payload("rejected by the page", Rc::new(7));
    /// assert_eq!(e.local_payload::<Rc<i32>>().as_deref(), Some(&7));
    /// let elsewhere = std::thread::spawn(move || e.local_payload::<Rc<i32>>().is_none());
    /// assert!(elsewhere.join().unwrap());
    /// ```
    pub fn with_local_payload(message: impl fmt::Display, payload: impl Any) -> Error {
        Error::with_local(Kind::Failed, message, Box::new(payload))
    }

    fn with_local(kind: Kind, message: impl fmt::Display, payload: Box<dyn Any>) -> Error {
        let payload = Local::store(payload).map(Payload::Local);
        Error::make(kind, message.to_string(), None, payload)
    }

    /// The rejection of a canceled promise (Lwt's `Canceled`). All canceled
    /// errors share one value: this is a reference-count increment, not an
    /// allocation.
    ///
    /// ```
    /// assert!(lwt::Error::canceled().is_canceled());
    /// ```
    pub fn canceled() -> Error {
        static CANCELED: OnceLock<Error> = OnceLock::new();
        CANCELED
            .get_or_init(|| Error::of(Kind::Canceled, "canceled"))
            .clone()
    }

    /// A cancellation that carries a value from outside: [`Error::is_canceled`]
    /// is true and [`Error::payload`] gives the value back.
    ///
    /// ```
    /// let e = lwt::Error::canceled_with("aborted by the user", 42u8);
    /// assert!(e.is_canceled());
    /// assert_eq!(e.payload::<u8>(), Some(&42));
    /// ```
    pub fn canceled_with(message: impl fmt::Display, payload: impl Any + Send + Sync) -> Error {
        let payload = Payload::Shared(Box::new(payload));
        Error::make(Kind::Canceled, message.to_string(), None, Some(payload))
    }

    /// A cancellation that carries a value that cannot leave this thread (the
    /// JS `AbortError` that aborted a fetch, say), kept as
    /// [`Error::with_local_payload`] keeps it.
    ///
    /// ```
    /// let e = lwt::Error::canceled_with_local("aborted by the page", std::rc::Rc::new(1));
    /// assert!(e.is_canceled());
    /// assert!(e.local_payload::<std::rc::Rc<i32>>().is_some());
    /// ```
    pub fn canceled_with_local(message: impl fmt::Display, payload: impl Any) -> Error {
        Error::with_local(Kind::Canceled, message, Box::new(payload))
    }

    /// The rejection of a promise that ran out of time (Lwt_unix's `Timeout`).
    ///
    /// ```
    /// assert!(lwt::Error::timeout().is_timeout());
    /// ```
    pub fn timeout() -> Error {
        Error::of(Kind::Timeout, "timed out")
    }

    /// A bad argument given to a library function (Lwt's `Invalid_argument`).
    ///
    /// ```
    /// let e = lwt::Error::invalid_argument("pick: the list is empty");
    /// assert!(e.is_invalid_argument());
    /// ```
    pub fn invalid_argument(message: impl fmt::Display) -> Error {
        Error::of(Kind::InvalidArgument, message.to_string())
    }

    /// A read from, or write to, something that is closed (a stream, a
    /// channel). Used by the concurrency library and the engines.
    ///
    /// ```
    /// assert!(lwt::Error::closed("stream closed").is_closed());
    /// ```
    pub fn closed(message: impl fmt::Display) -> Error {
        Error::of(Kind::Closed, message.to_string())
    }

    /// Resolving a promise that is already resolved, through `by` (the
    /// function the user called): Lwt's `Invalid_argument "Lwt.wakeup"`.
    pub(crate) fn already_resolved(by: &str) -> Error {
        Error::of(
            Kind::AlreadyResolved,
            format!("{by}: the promise is already resolved; a promise is resolved at most once"),
        )
    }

    /// What a fulfilled promise keeps once `Promise::take` moved its value
    /// out; other handles see it.
    pub(crate) fn taken() -> Error {
        Error::of(
            Kind::InvalidArgument,
            "Promise::take: the value was moved out by take(); a taken promise has no value to share",
        )
    }

    /// `Promise::take` on a value others can read too.
    pub(crate) fn shared_take() -> Error {
        Error::of(
            Kind::InvalidArgument,
            "Promise::take: the value is shared (another handle or callback reads it), \
             so it cannot be moved out; take needs the promise's only consumer",
        )
    }

    pub(crate) fn no_engine(what: &str) -> Error {
        // The core cannot install an engine of its own (it knows none), so
        // the message names the exact call for the target it runs on.
        #[cfg(target_arch = "wasm32")]
        const FIX: &str = "call lwt_wasm::install() once at start-up (lwt_wasm's own \
                           functions, spawn_js included, install it on first use), or use \
                           lwt::testing::VirtualEngine in a test";
        #[cfg(not(target_arch = "wasm32"))]
        const FIX: &str = "run the code inside lwt_native::run, or call \
                           lwt_native::install() first, or use \
                           lwt::testing::VirtualEngine in a test";
        Error::of(
            Kind::NoEngine,
            format!("{what} needs an engine, and none is installed on this thread: {FIX}"),
        )
    }

    /// A panic caught in a callback or a task (execution model, rule 10):
    /// `message` says where, and what the panic said.
    pub(crate) fn panicked(message: String) -> Error {
        Error::of(Kind::Panic, message)
    }

    /// Adds a message in front of this error. The result keeps this error's kind
    /// (a canceled error stays canceled) and has it as its `source()`.
    ///
    /// ```
    /// let e = lwt::Error::timeout().context("fetching /index.html");
    /// assert!(e.is_timeout());
    /// assert_eq!(e.to_string(), "fetching /index.html: timed out");
    /// assert_eq!(e.chain().count(), 2);
    /// ```
    pub fn context(self, message: impl fmt::Display) -> Error {
        let kind = self.0.kind;
        let message = format!("{message}: {}", self.0.message);
        Error::make(kind, message, Some(Box::new(Shared(self))), None)
    }

    /// True for the rejection of a canceled promise.
    ///
    /// ```
    /// let (p, _r) = lwt::task::<i32>();
    /// p.cancel();
    /// assert!(p.peek().unwrap().unwrap_err().is_canceled());
    /// ```
    pub fn is_canceled(&self) -> bool {
        self.0.kind == Kind::Canceled
    }

    /// True for a time-out ([`crate::timeout`], [`crate::with_timeout`]).
    ///
    /// ```
    /// assert!(lwt::Error::timeout().is_timeout());
    /// assert!(!lwt::Error::canceled().is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        self.0.kind == Kind::Timeout
    }

    /// True when a resolver was used on a promise that is already resolved.
    /// Such an error is also an invalid-argument one (Lwt raises
    /// `Invalid_argument "Lwt.wakeup"`), and its message names the method.
    ///
    /// ```
    /// let (_p, r) = lwt::wait::<i32>();
    /// r.resolve(1).unwrap();
    /// let e = r.resolve(2).unwrap_err();
    /// assert!(e.is_already_resolved() && e.is_invalid_argument());
    /// assert!(e.message().starts_with("Resolver::resolve:"));
    /// ```
    pub fn is_already_resolved(&self) -> bool {
        self.0.kind == Kind::AlreadyResolved
    }

    /// True for a bad argument to a library function, including resolving a
    /// promise twice ([`Error::is_already_resolved`]).
    ///
    /// ```
    /// let p = lwt::pick(Vec::<lwt::Promise<i32>>::new());
    /// assert!(p.peek().unwrap().unwrap_err().is_invalid_argument());
    /// ```
    pub fn is_invalid_argument(&self) -> bool {
        matches!(self.0.kind, Kind::InvalidArgument | Kind::AlreadyResolved)
    }

    /// True when something needed an engine (time, `pause` turns) and none was
    /// installed.
    ///
    /// ```
    /// let p = lwt::sleep(std::time::Duration::from_secs(1));
    /// assert!(p.peek().unwrap().unwrap_err().is_no_engine());
    /// ```
    pub fn is_no_engine(&self) -> bool {
        self.0.kind == Kind::NoEngine
    }

    /// True for a read past the end of input (Lwt's `End_of_file`): the
    /// error carries an `std::io::Error` of kind `UnexpectedEof`, as the
    /// channels of [`crate::io`] and the engines' readers give.
    ///
    /// ```
    /// let e = lwt::Error::new(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
    /// assert!(e.is_end_of_file());
    /// assert!(!lwt::Error::msg("eof").is_end_of_file());
    /// ```
    pub fn is_end_of_file(&self) -> bool {
        self.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::UnexpectedEof)
    }

    /// True for an operation on something closed.
    ///
    /// ```
    /// assert!(lwt::Error::closed("closed").is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.0.kind == Kind::Closed
    }

    /// True for a panic the resolution loop caught: a `bind`/`map`/...
    /// callback or a task body panicked, and the promise it was producing was
    /// rejected with this error. The message contains the panic's message
    /// when that was a string. Natively only: on wasm32 a panic aborts.
    ///
    /// ```
    /// # std::panic::set_hook(Box::new(|_| {})); // keep the doctest's stderr quiet
    /// let p = lwt::Promise::resolved(1).map(|_: i32| -> i32 { panic!("no luck") });
    /// let e = p.peek().unwrap().unwrap_err();
    /// assert!(e.is_panic());
    /// assert!(e.message().contains("no luck"));
    /// ```
    pub fn is_panic(&self) -> bool {
        self.0.kind == Kind::Panic
    }

    /// The message, without the sources.
    ///
    /// ```
    /// assert_eq!(lwt::Error::msg("boom").message(), "boom");
    /// ```
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The first error of type `E` in this error's chain ([`Error::chain`]):
    /// the error given to [`Error::new`] or converted by `?`, through any
    /// [`Error::context`] layers, or one of its own sources.
    ///
    /// ```
    /// use std::io;
    ///
    /// let e = lwt::Error::new(io::Error::other("disk")).context("saving");
    /// assert_eq!(e.downcast_ref::<io::Error>().unwrap().to_string(), "disk");
    /// assert!(e.downcast_ref::<std::fmt::Error>().is_none());
    /// ```
    pub fn downcast_ref<E: StdError + 'static>(&self) -> Option<&E> {
        self.chain().find_map(|e| e.downcast_ref::<E>())
    }

    /// The payload given to [`Error::with_payload`] or
    /// [`Error::canceled_with`], if it is a `P`, through any
    /// [`Error::context`] layers.
    ///
    /// ```
    /// let e = lwt::Error::with_payload("status", 404u16).context("GET /");
    /// assert_eq!(e.payload::<u16>(), Some(&404));
    /// assert_eq!(e.payload::<u32>(), None);
    /// ```
    pub fn payload<P: Any>(&self) -> Option<&P> {
        self.layers().find_map(|inner| match &inner.payload {
            Some(Payload::Shared(p)) => p.downcast_ref::<P>(),
            _ => None,
        })
    }

    /// A clone of the payload given to [`Error::with_local_payload`] or
    /// [`Error::canceled_with_local`], if it is a `P` and this is the thread
    /// that made the error; through any [`Error::context`] layers.
    ///
    /// ```
    /// let e = lwt::Error::with_local_payload("x", std::rc::Rc::new("js"));
    /// assert_eq!(*e.context("outer").local_payload::<std::rc::Rc<&str>>().unwrap(), "js");
    /// ```
    pub fn local_payload<P: Any + Clone>(&self) -> Option<P> {
        self.layers().find_map(|inner| match &inner.payload {
            Some(Payload::Local(key)) => key.with(|v| v.downcast_ref::<P>().cloned()).flatten(),
            _ => None,
        })
    }

    /// This error's own layers: itself, then the errors it wraps through
    /// [`Error::context`].
    fn layers(&self) -> impl Iterator<Item = &Inner> {
        std::iter::successors(Some(&*self.0), |inner| {
            let source = inner.source.as_deref()?;
            source.downcast_ref::<Shared>().map(|s| &*s.0 .0)
        })
    }

    /// This error and then its sources, outermost first.
    ///
    /// ```
    /// let e = lwt::Error::msg("inner").context("outer");
    /// let messages: Vec<String> = e.chain().map(|e| e.to_string()).collect();
    /// assert_eq!(messages, ["outer: inner", "inner"]);
    /// ```
    pub fn chain(&self) -> impl Iterator<Item = &(dyn StdError + 'static)> {
        let first: &(dyn StdError + 'static) = &**self;
        std::iter::successors(Some(first), |e: &&(dyn StdError + 'static)| (*e).source())
    }

    /// True when both handles are the same error value.
    ///
    /// ```
    /// let e = lwt::Error::msg("x");
    /// assert!(e.same_as(&e.clone()));
    /// assert!(!e.same_as(&lwt::Error::msg("x")));
    /// ```
    pub fn same_as(&self, other: &Error) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// This error as a `Box<dyn Error + Send + Sync>`, the one conversion `?`
    /// cannot make (see [`Error`]). Converting the box back, with `?` or
    /// `From`, gives this very error again.
    ///
    /// ```
    /// use std::error::Error as StdError;
    ///
    /// fn run() -> Result<(), Box<dyn StdError + Send + Sync>> {
    ///     let p = lwt::Promise::<()>::rejected(lwt::Error::timeout());
    ///     p.peek().unwrap().map_err(lwt::Error::into_boxed_dyn_error)?;
    ///     Ok(())
    /// }
    /// let boxed = run().unwrap_err();
    /// assert!(lwt::Error::from(boxed).is_timeout());
    /// ```
    pub fn into_boxed_dyn_error(self) -> Box<dyn StdError + Send + Sync + 'static> {
        Box::new(Shared(self))
    }
}

impl PartialEq for Error {
    /// Two handles on one error are equal. Otherwise two errors are equal when
    /// they have the same kind and message, and what they carry compares
    /// equal too: no payload on either side or the very same payload (a
    /// payload is `dyn Any`, so only its identity can be compared); and no
    /// source on either side, or equal errors under [`Error::context`], or
    /// original errors ([`Error::new`]) that print the same, `Debug` included.
    ///
    /// ```
    /// use lwt::Error;
    /// assert_eq!(Error::msg("foo"), Error::msg("foo"));
    /// assert_ne!(Error::msg("foo"), Error::invalid_argument("foo"));
    /// assert_ne!(Error::msg("timed out"), Error::timeout());
    /// assert_eq!(Error::timeout().context("a"), Error::timeout().context("a"));
    /// assert_ne!(Error::with_payload("p", 1), Error::with_payload("p", 1));
    /// let e = Error::with_payload("p", 1);
    /// assert_eq!(e, e.clone());
    /// ```
    fn eq(&self, other: &Error) -> bool {
        if self.same_as(other) {
            return true;
        }
        let (a, b) = (&*self.0, &*other.0);
        let payloads = match (&a.payload, &b.payload) {
            (None, None) => true,
            (Some(Payload::Shared(x)), Some(Payload::Shared(y))) => {
                let (x, y): (&dyn Any, &dyn Any) = (&**x, &**y);
                x.type_id() == y.type_id() && std::ptr::addr_eq(x, y)
            }
            (Some(Payload::Local(x)), Some(Payload::Local(y))) => x.same_as(y),
            _ => false,
        };
        let sources = match (&a.source, &b.source) {
            (None, None) => true,
            (Some(x), Some(y)) => match (x.downcast_ref::<Shared>(), y.downcast_ref::<Shared>()) {
                (Some(Shared(x)), Some(Shared(y))) => x == y,
                (None, None) => format!("{x:?}") == format!("{y:?}"),
                _ => false,
            },
            _ => false,
        };
        a.kind == b.kind && a.message == b.message && payloads && sources
    }
}

impl StdError for Inner {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        let source: &(dyn StdError + 'static) = self.source.as_deref()?;
        Some(source)
    }
}

impl fmt::Display for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(s) = &self.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl std::ops::Deref for Error {
    type Target = dyn StdError + Send + Sync + 'static;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// `?` into an [`Error`] from anything that becomes a
/// `Box<dyn Error + Send + Sync>`: `std` errors, `anyhow::Error`, the box
/// itself, `String` and `&str`.
impl<E> From<E> for Error
where
    E: Into<BoxError> + 'static,
{
    fn from(error: E) -> Error {
        #[cfg(feature = "anyhow")]
        let error = match anyhow_compat::take(error) {
            Ok(e) => return e,
            Err(error) => error,
        };
        Error::from_boxed(error.into())
    }
}

/// An [`Error`] seen as a `std::error::Error`, for the source chain of
/// [`Error::context`] and for the boxes and `anyhow::Error`s it becomes.
struct Shared(Error);

impl fmt::Display for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl StdError for Shared {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0 .0.source()
    }
}

impl From<Error> for Box<dyn StdError + 'static> {
    fn from(e: Error) -> Self {
        Box::new(Shared(e))
    }
}

impl From<Error> for Box<dyn StdError + Send + 'static> {
    fn from(e: Error) -> Self {
        Box::new(Shared(e))
    }
}

#[cfg(feature = "anyhow")]
mod anyhow_compat {
    //! `anyhow::Error` both ways, keeping what each side can downcast to.

    use std::any::Any;

    use super::{Error, Shared};

    /// `?` from an [`Error`] in a function returning `anyhow::Result`. The
    /// `anyhow::Error` prints as the `Error` did and chains to its sources;
    /// converting it back gives the very same `Error`.
    impl From<Error> for anyhow::Error {
        fn from(e: Error) -> anyhow::Error {
            anyhow::Error::new(Shared(e))
        }
    }

    /// `error` as an [`Error`] if it is an `anyhow::Error`, keeping the error
    /// it was made from (anyhow's own box would hide it from downcasts).
    pub(super) fn take<E: 'static>(error: E) -> Result<Error, E> {
        let mut slot = Some(error);
        let any: &mut dyn Any = &mut slot;
        if let Some(a) = any
            .downcast_mut::<Option<anyhow::Error>>()
            .and_then(Option::take)
        {
            let boxed = a.reallocate_into_boxed_dyn_error_without_backtrace();
            return Ok(Error::from_boxed(boxed));
        }
        match slot {
            Some(error) => Err(error),
            // Only an `anyhow::Error` is ever taken out, and that returned.
            None => Ok(Error::msg("an error that was lost in conversion")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{local, Error};

    #[test]
    fn equality_compares_the_kind() {
        assert_ne!(Error::msg("foo"), Error::invalid_argument("foo"));
        assert_ne!(Error::invalid_argument("x"), Error::closed("x"));
        assert_eq!(Error::closed("x"), Error::closed("x"));
        assert_ne!(
            Error::already_resolved("f"),
            Error::invalid_argument(Error::already_resolved("f").message())
        );
    }

    #[test]
    fn equality_compares_what_errors_carry() {
        let io = || std::io::Error::other("disk");
        assert_eq!(Error::new(io()), Error::new(io()));
        assert_ne!(Error::new(io()), Error::msg("disk"));
        assert_ne!(
            Error::with_payload("p", ()),
            Error::with_payload("p", ((),))
        );
        assert_ne!(Error::msg("m").context("c"), Error::msg("c: m"));
        let local = Error::with_local_payload("l", 1);
        assert_eq!(local, local.clone());
        assert_ne!(local, Error::with_local_payload("l", 1));
    }

    #[test]
    fn an_error_is_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Error>();
    }

    #[test]
    fn a_local_payload_is_freed_with_its_last_handle() {
        let before = local::held();
        let e = Error::with_local_payload("x", std::rc::Rc::new(5));
        let e2 = e.clone().context("outer");
        assert_eq!(local::held(), before + 1);
        drop(e);
        assert_eq!(local::held(), before + 1);
        drop(e2);
        assert_eq!(local::held(), before);
    }

    #[test]
    fn a_local_payload_dropped_elsewhere_is_freed_by_its_thread() {
        let before = local::held();
        let e = Error::with_local_payload("x", std::rc::Rc::new(5));
        std::thread::spawn(move || drop(e)).join().unwrap();
        assert_eq!(local::held(), before + 1, "the value waits for its thread");
        drop(Error::with_local_payload("y", 0u8));
        assert_eq!(local::held(), before, "freed at the next store or free");
    }

    #[test]
    fn a_box_round_trip_keeps_the_very_error() {
        let e = Error::timeout();
        let boxed = e.clone().into_boxed_dyn_error();
        assert_eq!(boxed.to_string(), "timed out");
        assert!(Error::from(boxed).same_as(&e));
        let plain: Box<dyn std::error::Error> = e.clone().into();
        assert_eq!(plain.to_string(), "timed out");
    }

    #[test]
    fn strings_convert_as_messages() {
        let e: Error = "plain".into();
        assert_eq!(e.to_string(), "plain");
        assert!(!e.is_canceled());
        let e: Error = String::from("owned").into();
        assert_eq!(e.message(), "owned");
    }
}
