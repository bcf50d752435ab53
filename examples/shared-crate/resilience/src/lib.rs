//! Calls to a flaky service, written once on `lwt` alone (no engine, no
//! `cfg`), the kind of code a server and its browser client share: each call
//! is retried with backoff, each attempt has a time limit, at most a few calls
//! are in flight at once, and a request sent to several replicas takes the
//! first answer and cancels the others.
//!
//! Two binaries run the same [`scenario`]: `resilience-native` on the native
//! engine (`lwt_native::run`) and `resilience-web` on the JS event loop
//! (`lwt_wasm::spawn_js`, in Node). Both print its [`Trace`], which records
//! what happened (attempt numbers, outcomes, cancellations), never a time, so
//! the two print the same lines. `cargo xtask shared-example` checks that.
//!
//! The operation a call makes is the caller's: a closure that gets the
//! attempt number and returns a [`Promise`]. Here the scenario's operations
//! are timers that succeed or fail, so the example needs no network.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use lwt::{Error, Promise, Semaphore};

/// What happened, one line per event, in order. Clones share the lines.
///
/// ```
/// let trace = resilience::Trace::new();
/// trace.push("started");
/// trace.clone().push("done");
/// assert_eq!(trace.lines(), ["started", "done"]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Trace {
    lines: Rc<RefCell<Vec<String>>>,
}

impl Trace {
    /// An empty trace.
    pub fn new() -> Trace {
        Trace::default()
    }

    /// Adds a line.
    pub fn push(&self, line: impl Into<String>) {
        self.lines.borrow_mut().push(line.into());
    }

    /// The lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.borrow().clone()
    }
}

/// How a [`Client`] retries a call.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Attempts in all, the first included (0 counts as 1).
    pub attempts: u32,
    /// The wait after the first failed attempt; it doubles after each
    /// further one.
    pub backoff: Duration,
    /// How long one attempt may take: then its operation is canceled and
    /// the attempt counts as failed.
    pub attempt_timeout: Duration,
}

impl Policy {
    /// The wait after `failed` failed attempts (1 after the first).
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = resilience::Policy {
    ///     attempts: 4,
    ///     backoff: Duration::from_millis(10),
    ///     attempt_timeout: Duration::from_secs(1),
    /// };
    /// assert_eq!(policy.delay(1), Duration::from_millis(10));
    /// assert_eq!(policy.delay(3), Duration::from_millis(40));
    /// ```
    pub fn delay(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(16);
        self.backoff.saturating_mul(1 << doublings)
    }
}

/// Calls to one service, each under a [`Policy`], at most `max_in_flight` at
/// once (a [`Semaphore`]'s permits). Clones share the limit and the counts.
#[derive(Clone, Debug)]
pub struct Client {
    policy: Policy,
    max_in_flight: usize,
    permits: Semaphore,
    in_flight: Rc<Cell<usize>>,
    most_in_flight: Rc<Cell<usize>>,
}

/// One call in flight, counted while it lives.
struct InFlight(Rc<Cell<usize>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

impl Client {
    /// A client with `policy`, letting at most `max_in_flight` calls (at
    /// least 1) run at once.
    pub fn new(policy: Policy, max_in_flight: usize) -> Client {
        let max_in_flight = max_in_flight.max(1);
        Client {
            policy,
            max_in_flight,
            permits: Semaphore::new(max_in_flight),
            in_flight: Rc::new(Cell::new(0)),
            most_in_flight: Rc::new(Cell::new(0)),
        }
    }

    /// The most calls that were ever in flight at once.
    pub fn most_in_flight(&self) -> usize {
        self.most_in_flight.get()
    }

    /// How many more calls could start now; `max_in_flight` when none runs.
    pub fn free_permits(&self) -> usize {
        self.permits.available_permits()
    }

    /// Calls `op(attempt)` (attempts numbered from 1) until a promise it
    /// returns is fulfilled, at most [`Policy::attempts`] times: each attempt
    /// is canceled if it takes longer than [`Policy::attempt_timeout`], and a
    /// failed one is followed by a wait of [`Policy::delay`]. The call first
    /// waits for a permit when `max_in_flight` calls are running. Every step
    /// goes into `trace`, each line starting with `name`.
    ///
    /// The result is the first success, or the last error with what was
    /// tried in front of it. Canceling the result cancels the attempt (or
    /// the wait) in progress, and the permit is given back.
    ///
    /// ```
    /// use std::time::Duration;
    /// let engine = lwt::testing::VirtualEngine::new();
    /// let client = resilience::Client::new(
    ///     resilience::Policy {
    ///         attempts: 3,
    ///         backoff: Duration::from_millis(10),
    ///         attempt_timeout: Duration::from_secs(1),
    ///     },
    ///     2,
    /// );
    /// let trace = resilience::Trace::new();
    /// let call = client.call("ping", &trace, |attempt| {
    ///     if attempt == 1 {
    ///         lwt::Promise::rejected(lwt::Error::msg("busy"))
    ///     } else {
    ///         lwt::Promise::resolved("pong")
    ///     }
    /// });
    /// assert_eq!(engine.run(&call).unwrap(), "pong");
    /// assert_eq!(
    ///     trace.lines(),
    ///     ["ping: attempt 1 failed: busy", "ping: retrying in 10 ms", "ping: attempt 2 ok"],
    /// );
    /// ```
    pub fn call<T: Clone + 'static>(
        &self,
        name: &str,
        trace: &Trace,
        mut op: impl FnMut(u32) -> Promise<T> + 'static,
    ) -> Promise<T> {
        let (client, trace, name) = (self.clone(), trace.clone(), name.to_owned());
        lwt::spawn(async move {
            let _permit = match client.permits.try_acquire() {
                Ok(permit) => permit,
                Err(_) => {
                    trace.push(format!("{name}: waiting for a permit"));
                    match client.permits.acquire().await {
                        Ok(permit) => permit,
                        Err(e) => {
                            trace.push(format!("{name}: {} while waiting for a permit", short(&e)));
                            return Err(e);
                        }
                    }
                }
            };
            let _counted = client.enter();
            let policy = client.policy;
            let mut attempt = 1;
            loop {
                let operation = op(attempt);
                let outcome = lwt::with_timeout(policy.attempt_timeout, &operation).await;
                let e = match outcome {
                    Ok(value) => {
                        trace.push(format!("{name}: attempt {attempt} ok"));
                        return Ok(value);
                    }
                    Err(e) => e,
                };
                // The loser of the race of `with_timeout` is canceled: the
                // operation when time ran out, the timer otherwise.
                let released = if is_canceled(&operation) {
                    "its operation canceled"
                } else {
                    "its operation still running"
                };
                if e.is_canceled() {
                    trace.push(format!(
                        "{name}: canceled during attempt {attempt}, {released}"
                    ));
                    return Err(e);
                }
                if e.is_timeout() {
                    trace.push(format!("{name}: attempt {attempt} timed out, {released}"));
                } else {
                    trace.push(format!("{name}: attempt {attempt} failed: {e}"));
                }
                if attempt >= policy.attempts.max(1) {
                    trace.push(format!("{name}: gave up after {attempt} attempts"));
                    return Err(e.context(format!("{name}: gave up after {attempt} attempts")));
                }
                let wait = policy.delay(attempt);
                trace.push(format!("{name}: retrying in {} ms", wait.as_millis()));
                if let Err(e) = lwt::sleep(wait).await {
                    trace.push(format!("{name}: {} while waiting to retry", short(&e)));
                    return Err(e);
                }
                attempt += 1;
            }
        })
    }

    /// Counts one more call in flight until the result is dropped.
    fn enter(&self) -> InFlight {
        let now = self.in_flight.get() + 1;
        debug_assert!(now <= self.max_in_flight, "the semaphore lets no more in");
        self.in_flight.set(now);
        self.most_in_flight.set(self.most_in_flight.get().max(now));
        InFlight(self.in_flight.clone())
    }
}

/// Asks every replica at once and takes the first answer ([`lwt::pick`]):
/// the others are canceled, which releases what they hold (their timers,
/// their requests). Each replica's fate goes into `trace`.
///
/// ```
/// use std::time::Duration;
/// let engine = lwt::testing::VirtualEngine::new();
/// let trace = resilience::Trace::new();
/// let near = lwt::sleep(Duration::from_millis(1)).map(|()| 1);
/// let far = lwt::sleep(Duration::from_secs(9)).map(|()| 2);
/// let first = resilience::first_answer("get", &trace, vec![("near", near), ("far", far.clone())]);
/// assert_eq!(engine.run(&first).unwrap(), 1);
/// assert!(far.peek().unwrap().unwrap_err().is_canceled());
/// assert_eq!(trace.lines(), ["get: replica near answered", "get: replica far canceled"]);
/// ```
pub fn first_answer<T: Clone + 'static>(
    name: &str,
    trace: &Trace,
    replicas: Vec<(&str, Promise<T>)>,
) -> Promise<T> {
    let mut asked = Vec::with_capacity(replicas.len());
    for (replica, p) in replicas {
        let (t, line) = (trace.clone(), format!("{name}: replica {replica}"));
        p.on_any(
            {
                let (t, line) = (t.clone(), line.clone());
                move |_| t.push(format!("{line} answered"))
            },
            move |e| {
                if e.is_canceled() {
                    t.push(format!("{line} canceled"));
                } else {
                    t.push(format!("{line} failed: {e}"));
                }
            },
        );
        asked.push(p);
    }
    lwt::pick(asked)
}

/// `canceled` for a cancellation, else the error's message.
fn short(e: &Error) -> String {
    if e.is_canceled() {
        "canceled".to_owned()
    } else {
        e.to_string()
    }
}

/// True when `p` was rejected with `Canceled`.
fn is_canceled<T: Clone>(p: &Promise<T>) -> bool {
    matches!(p.peek(), Some(Err(e)) if e.is_canceled())
}

/// The line both binaries print first: it checks that, before any engine is
/// installed, time gives a rejected promise (not a panic) whose no-engine
/// error names each of `install_calls` (`lwt_wasm::install()` on wasm32,
/// `lwt_native::run` and `lwt_native::install()` natively). The line itself
/// names neither, so the two traces stay the same.
///
/// ```
/// // No engine on this thread: the check passes with the native names.
/// let line = resilience::check_no_engine(&["lwt_native::run", "lwt_native::install()"]);
/// assert_eq!(line.unwrap(), "no engine: error names the install call");
/// assert!(resilience::check_no_engine(&["lwt_wasm::install()"]).is_err());
/// ```
pub fn check_no_engine(install_calls: &[&str]) -> Result<String, String> {
    let early = lwt::sleep(Duration::from_millis(1));
    let e = match early.peek() {
        Some(Err(e)) if e.is_no_engine() => e,
        other => return Err(format!("lwt::sleep without an engine gave {other:?}")),
    };
    let message = e.to_string();
    match install_calls.iter().find(|call| !message.contains(*call)) {
        Some(missing) => Err(format!(
            "the no-engine error does not name {missing}: {message}"
        )),
        None => Ok("no engine: error names the install call".to_owned()),
    }
}

/// The line both binaries print last: how many engine timers are still
/// armed once the scenario is over, as the engine counts them
/// (`lwt_native::timer_count()`, `lwt_wasm::stats().timers`). Every sleep
/// the scenario started either fired or was canceled, so it should be 0.
///
/// ```
/// assert_eq!(resilience::timers_left(0), "timers armed at the end: 0");
/// ```
pub fn timers_left(armed: usize) -> String {
    format!("timers armed at the end: {armed}")
}

/// A stand-in for a request: `result` after `after`, cancelable (canceling
/// it releases its timer).
fn reply<T: Clone + 'static>(after: Duration, result: Result<T, Error>) -> Promise<T> {
    lwt::spawn(async move {
        lwt::sleep(after).await?;
        result
    })
}

/// A reply that arrives quickly: 1 ms. Every race in the [`scenario`] puts
/// a quick reply against 200 ms or more, so its outcome does not depend on
/// how busy the machine is.
const QUICK: Duration = Duration::from_millis(1);

/// A reply that never comes in time: it is always canceled first.
const HANG: Duration = Duration::from_secs(30);

/// The scenario both binaries run, on whichever engine is installed: its
/// trace, one line per event.
///
/// 1. Three calls start at once through a client that lets two run: the
///    third waits for a permit. `profile` fails twice, then answers;
///    `search` hangs once and is timed out; `avatar` fails every attempt
///    and gives up.
/// 2. `price` is asked from two replicas: the first answer wins and the
///    other replica is canceled.
/// 3. `report` hangs, and its caller cancels it before the time limit: the
///    attempt is canceled and the permit comes back.
///
/// ```
/// let engine = lwt::testing::VirtualEngine::new();
/// let lines = engine.run(&resilience::scenario()).unwrap();
/// assert_eq!(lines.first().unwrap(), "profile: attempt 1 failed: busy");
/// assert_eq!(lines.last().unwrap(), "free permits at the end: 2 of 2");
/// ```
pub fn scenario() -> Promise<Vec<String>> {
    lwt::spawn(async {
        let client = Client::new(
            Policy {
                attempts: 3,
                backoff: Duration::from_millis(1),
                attempt_timeout: Duration::from_millis(200),
            },
            2,
        );
        let out = Trace::new();

        // 1. Three calls at once, two permits. Each call has its own trace,
        // so lines of calls running side by side never interleave.
        let traces = [Trace::new(), Trace::new(), Trace::new()];
        let profile = client.call("profile", &traces[0], |attempt| {
            if attempt < 3 {
                reply(QUICK, Err(Error::msg("busy")))
            } else {
                reply(QUICK, Ok("ada".to_owned()))
            }
        });
        let search = client.call("search", &traces[1], |attempt| {
            let hits = format!("{} hits", 3 * attempt);
            reply(if attempt == 1 { HANG } else { QUICK }, Ok(hits))
        });
        let avatar = client.call("avatar", &traces[2], |_| {
            reply(QUICK, Err::<String, _>(Error::msg("unavailable")))
        });
        let results = [profile.await, search.await, avatar.await];
        for (trace, result) in traces.iter().zip(results) {
            for line in trace.lines() {
                out.push(line);
            }
            out.push(outcome(result));
        }
        out.push(format!("most calls in flight: {}", client.most_in_flight()));

        // 2. Two replicas, the first answer wins, the other is canceled.
        let trace = Trace::new();
        let t = trace.clone();
        let price = client.call("price", &trace, move |_| {
            let near = reply(QUICK, Ok(7));
            let far = reply(HANG, Ok(8));
            first_answer("price", &t, vec![("near", near), ("far", far)])
        });
        let result = price.await;
        for line in trace.lines() {
            out.push(line);
        }
        out.push(outcome(result));

        // 3. The caller gives up on a call that hangs, long before its time
        // limit (1 ms against 200 ms).
        let trace = Trace::new();
        let report = client.call("report", &trace, |_| reply(HANG, Ok(0u32)));
        lwt::sleep(QUICK).await?;
        report.cancel();
        let result = report.await;
        for line in trace.lines() {
            out.push(line);
        }
        out.push(outcome(result));
        out.push(format!(
            "free permits at the end: {} of 2",
            client.free_permits()
        ));
        Ok(out.lines())
    })
}

/// `=> value` or `=> error: message`, for the trace.
fn outcome<T: std::fmt::Display>(result: Result<T, Error>) -> String {
    match result {
        Ok(value) => format!("=> {value}"),
        Err(e) if e.is_canceled() => "=> canceled".to_owned(),
        Err(e) => format!("=> error: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scenario on virtual time: the trace both binaries must print
    /// (after their first line, [`check_no_engine`]'s).
    #[test]
    fn the_scenario_traces_every_attempt_and_cancellation() {
        let engine = lwt::testing::VirtualEngine::new();
        let lines = engine.run(&scenario()).unwrap();
        let expected = [
            "profile: attempt 1 failed: busy",
            "profile: retrying in 1 ms",
            "profile: attempt 2 failed: busy",
            "profile: retrying in 2 ms",
            "profile: attempt 3 ok",
            "=> ada",
            "search: attempt 1 timed out, its operation canceled",
            "search: retrying in 1 ms",
            "search: attempt 2 ok",
            "=> 6 hits",
            "avatar: waiting for a permit",
            "avatar: attempt 1 failed: unavailable",
            "avatar: retrying in 1 ms",
            "avatar: attempt 2 failed: unavailable",
            "avatar: retrying in 2 ms",
            "avatar: attempt 3 failed: unavailable",
            "avatar: gave up after 3 attempts",
            "=> error: avatar: gave up after 3 attempts: unavailable",
            "most calls in flight: 2",
            "price: replica near answered",
            "price: replica far canceled",
            "price: attempt 1 ok",
            "=> 7",
            "report: canceled during attempt 1, its operation canceled",
            "=> canceled",
            "free permits at the end: 2 of 2",
        ];
        assert_eq!(lines, expected);
        // Every timer was released: the hanging replies were canceled.
        assert_eq!(engine.timer_count(), 0);
    }

    #[test]
    fn a_call_canceled_while_waiting_for_a_permit_leaves_the_line() {
        let engine = lwt::testing::VirtualEngine::new();
        let client = Client::new(
            Policy {
                attempts: 1,
                backoff: Duration::from_millis(1),
                attempt_timeout: Duration::from_secs(1),
            },
            1,
        );
        let trace = Trace::new();
        let first = client.call("a", &trace, |_| reply(QUICK, Ok(1)));
        let second = client.call("b", &trace, |_| reply(QUICK, Ok(2)));
        second.cancel();
        assert_eq!(engine.run(&first).unwrap(), 1);
        assert!(second.peek().unwrap().unwrap_err().is_canceled());
        assert_eq!(client.free_permits(), 1);
        assert_eq!(
            trace.lines(),
            [
                "b: waiting for a permit",
                "b: canceled while waiting for a permit",
                "a: attempt 1 ok"
            ]
        );
    }
}
