//! The event log the suites use (the core's), and a short-sleep helper.

/// The core's event log of strings ([`lwt::testing::Log`]), under the name
/// the suites have always used.
///
/// ```
/// let log = lwt_conformance::log::Log::default();
/// let l = log.clone();
/// l.push("a");
/// assert_eq!(log.take(), ["a"]);
/// ```
pub type Log = lwt::testing::Log<String>;

/// Milliseconds, for short sleeps.
///
/// ```
/// assert_eq!(lwt_conformance::log::ms(3).as_millis(), 3);
/// ```
pub fn ms(n: u64) -> std::time::Duration {
    std::time::Duration::from_millis(n)
}
