//! What a run of a program records: one [`Event`] per callback that ran.

/// How a promise ended, as a trace records it.
#[derive(Clone, Debug, PartialEq)]
pub enum Seen {
    /// Still pending (only the reference's own bookkeeping uses this).
    Pending,
    /// Fulfilled with a value.
    Fulfilled(i64),
    /// Rejected with `Canceled`.
    Canceled,
    /// Rejected with another error: its message.
    Failed(String),
}

impl Seen {
    /// How `r` is seen.
    pub fn of(r: &Result<i64, lwt::Error>) -> Seen {
        match r {
            Ok(v) => Seen::Fulfilled(*v),
            Err(e) if e.is_canceled() => Seen::Canceled,
            Err(e) => Seen::Failed(e.message().to_string()),
        }
    }
}

/// One callback that ran.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The callback the program attached to promise `p` when it made it.
    Settled(usize, Seen),
    /// The function of `Finalize` that made promise `p` ran.
    Finalized(usize),
    /// A resolver method, now or from a timer: resolver, and whether it
    /// was accepted (`false`: the promise was already resolved).
    Resolved(usize, bool),
    /// A push into the stream: whether it was accepted.
    Pushed(bool),
    /// The timer of slot `k` fired (an `At` op).
    Timer(u32),
}

/// The error message of rejection `code`.
pub fn error_message(code: u8) -> String {
    format!("e{code}")
}
