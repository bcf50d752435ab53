//! `lwt::Error`: the one rejection type.
//!
//! # Ground rules
//!
//! * One rejected promise is seen by many consumers (every callback, every
//!   `.await`), so an [`Error`] is a reference-counted handle: cloning it is a
//!   counter increment, never a copy of the message or the original error.
//! * It is opaque: callers ask questions ([`Error::is_canceled`],
//!   [`Error::is_timeout`], ...) instead of matching on a public enum, so kinds
//!   can be added without breaking anyone.
//! * The original error is kept, not stringified away: [`Error::downcast_ref`]
//!   gives back the `io::Error`, the `JsValue`, or whatever was rejected.
//! * Like `anyhow::Error`, it does not implement `std::error::Error` itself, so
//!   that `?` converts any error into it; it dereferences to
//!   `dyn std::error::Error` for `source()` and [`Error::chain`].

use std::any::Any;
use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::rc::Rc;

/// Why a promise was rejected.
///
/// Cheap to clone (one reference count), opaque, with predicates for the kinds
/// the library itself produces, a message, a source chain, and downcasting to
/// the original error.
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
/// ```
#[derive(Clone)]
pub struct Error(Rc<Inner>);

struct Inner {
    kind: Kind,
    message: Cow<'static, str>,
    source: Option<Box<dyn AnyError>>,
    payload: Option<Box<dyn Any>>,
}

/// An error that can also be seen as `Any`, for [`Error::downcast_ref`].
trait AnyError: StdError + 'static {
    fn as_any(&self) -> &dyn Any;
    fn as_std(&self) -> &(dyn StdError + 'static);
}

impl<E: StdError + 'static> AnyError for E {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_std(&self) -> &(dyn StdError + 'static) {
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Canceled,
    Timeout,
    AlreadyResolved,
    InvalidArgument,
    NoEngine,
    Closed,
    Failed,
}

impl Error {
    fn of(kind: Kind, message: impl Into<Cow<'static, str>>) -> Error {
        Error(Rc::new(Inner {
            kind,
            message: message.into(),
            source: None,
            payload: None,
        }))
    }

    /// Wraps an error value; [`Error::downcast_ref`] gives it back.
    ///
    /// ```
    /// let e = lwt::Error::new(std::fmt::Error);
    /// assert!(e.downcast_ref::<std::fmt::Error>().is_some());
    /// ```
    pub fn new<E: StdError + 'static>(error: E) -> Error {
        Error(Rc::new(Inner {
            kind: Kind::Failed,
            message: error.to_string().into(),
            source: Some(Box::new(error)),
            payload: None,
        }))
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
    /// (a `JsValue`, say), with a message for humans. The value comes back,
    /// unchanged, through [`Error::downcast_ref`].
    ///
    /// ```
    /// let e = lwt::Error::with_payload("bad status", 503u16);
    /// assert_eq!(e.downcast_ref::<u16>(), Some(&503));
    /// assert_eq!(e.to_string(), "bad status");
    /// ```
    pub fn with_payload(message: impl fmt::Display, payload: impl Any) -> Error {
        Error(Rc::new(Inner {
            kind: Kind::Failed,
            message: message.to_string().into(),
            source: None,
            payload: Some(Box::new(payload)),
        }))
    }

    /// The rejection of a canceled promise (Lwt's `Canceled`). All of a
    /// thread's canceled errors share one value: this is a reference-count
    /// increment, not an allocation.
    ///
    /// ```
    /// assert!(lwt::Error::canceled().is_canceled());
    /// ```
    pub fn canceled() -> Error {
        thread_local! {
            static CANCELED: Error = Error::of(Kind::Canceled, "canceled");
        }
        CANCELED
            .try_with(Error::clone)
            .unwrap_or_else(|_| Error::of(Kind::Canceled, "canceled"))
    }

    /// A cancellation that carries a value from outside (the JS `AbortError`
    /// that aborted a fetch, say): [`Error::is_canceled`] is true and
    /// [`Error::downcast_ref`] gives the value back.
    ///
    /// ```
    /// let e = lwt::Error::canceled_with("aborted by the page", 42u8);
    /// assert!(e.is_canceled());
    /// assert_eq!(e.downcast_ref::<u8>(), Some(&42));
    /// ```
    pub fn canceled_with(message: impl fmt::Display, payload: impl Any) -> Error {
        Error(Rc::new(Inner {
            kind: Kind::Canceled,
            message: message.to_string().into(),
            source: None,
            payload: Some(Box::new(payload)),
        }))
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

    pub(crate) fn no_engine(what: &str) -> Error {
        Error::of(
            Kind::NoEngine,
            format!(
                "{what} needs an engine, and none is installed on this thread \
                 (run inside lwt_native::run, lwt_wasm, or lwt::testing::VirtualEngine)"
            ),
        )
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
        Error(Rc::new(Inner {
            kind,
            message: format!("{message}: {}", self.0.message).into(),
            source: Some(Box::new(Shared(self))),
            payload: None,
        }))
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

    /// The message, without the sources.
    ///
    /// ```
    /// assert_eq!(lwt::Error::msg("boom").message(), "boom");
    /// ```
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The original error or payload, if it is an `E`.
    ///
    /// Looks at the payload given to [`Error::with_payload`] and the error given
    /// to [`Error::new`], through any [`Error::context`] layers. Deeper sources
    /// are reached with [`Error::chain`] and `std`'s own `downcast_ref`.
    ///
    /// ```
    /// let e = lwt::Error::new(std::fmt::Error).context("formatting");
    /// assert!(e.downcast_ref::<std::fmt::Error>().is_some());
    /// ```
    pub fn downcast_ref<E: Any>(&self) -> Option<&E> {
        if let Some(p) = &self.0.payload {
            if let Some(e) = p.downcast_ref::<E>() {
                return Some(e);
            }
        }
        let source = self.0.source.as_deref()?.as_any();
        if let Some(Shared(inner)) = source.downcast_ref::<Shared>() {
            return inner.downcast_ref::<E>();
        }
        source.downcast_ref::<E>()
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
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl PartialEq for Error {
    /// Two handles on one error are equal. Otherwise two errors are equal when
    /// they have the same kind and message, and what they carry compares
    /// equal too: no payload on either side or the very same payload (a
    /// payload is `dyn Any`, so only its identity can be compared); and no
    /// source on either side, or equal errors under [`Error::context`], or
    /// original errors ([`Error::new`]) of the same type.
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
            (Some(x), Some(y)) => {
                let (x, y): (&dyn Any, &dyn Any) = (&**x, &**y);
                x.type_id() == y.type_id() && std::ptr::addr_eq(x, y)
            }
            _ => false,
        };
        let sources = match (&a.source, &b.source) {
            (None, None) => true,
            (Some(x), Some(y)) => {
                let (x, y) = (x.as_any(), y.as_any());
                match (x.downcast_ref::<Shared>(), y.downcast_ref::<Shared>()) {
                    (Some(Shared(x)), Some(Shared(y))) => x == y,
                    (None, None) => (*x).type_id() == (*y).type_id(),
                    _ => false,
                }
            }
            _ => false,
        };
        a.kind == b.kind && a.message == b.message && payloads && sources
    }
}

impl StdError for Inner {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(AnyError::as_std)
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
    type Target = dyn StdError + 'static;
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

impl<E: StdError + 'static> From<E> for Error {
    fn from(error: E) -> Error {
        Error::new(error)
    }
}

/// An [`Error`] seen as a `std::error::Error`, for the source chain of
/// [`Error::context`] and for `Box<dyn Error>`.
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
        self.0 .0.source.as_deref().map(AnyError::as_std)
    }
}

impl From<Error> for Box<dyn StdError + 'static> {
    fn from(e: Error) -> Self {
        Box::new(Shared(e))
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

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
    }
}
