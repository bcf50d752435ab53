//! A timeout-bounded fan-out.

use std::time::Duration;

use lwt::{Error, Promise};

/// Starts `request` for every item at once and gives every outcome, in
/// order, once all are resolved or `limit` has passed: a request still
/// pending then is canceled and reported as a time-out. Canceling the result
/// cancels every request.
///
/// ```
/// use std::time::Duration;
/// let engine = lwt::testing::VirtualEngine::new();
/// let p = lwt_patterns::fan_out([10u64, 500, 20], Duration::from_millis(100), |ms| {
///     lwt::sleep(Duration::from_millis(ms)).map(move |()| ms)
/// });
/// let out = engine.run(&p).unwrap();
/// assert_eq!(out[0].as_ref().unwrap(), &10);
/// assert!(out[1].as_ref().unwrap_err().is_timeout());
/// assert_eq!(out[2].as_ref().unwrap(), &20);
/// ```
pub fn fan_out<I, T: Clone + 'static>(
    items: impl IntoIterator<Item = I>,
    limit: Duration,
    request: impl Fn(I) -> Promise<T>,
) -> Promise<Vec<Result<T, Error>>> {
    let outcomes: Vec<Promise<Result<T, Error>>> = items
        .into_iter()
        .map(|item| {
            lwt::with_timeout(limit, &request(item))
                .map(Ok)
                .catch(|e| Promise::resolved(Err(e)))
        })
        .collect();
    lwt::all(outcomes)
}
