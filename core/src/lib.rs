//! Lwt's typed, composable promises, for Rust, on any engine.
//!
//! `lwt` is the promise core of lwt-rs: promises, the resolution loop,
//! cancellation, combinators, `async`/`.await`, time, and a virtual-time engine
//! for tests. It has no I/O and no clock of its own; an *engine* provides them
//! (`lwt-native` on mio, `lwt-wasm` on the browser's event loop), and the same
//! promise code runs on either.
//!
//! # Ground rules
//!
//! A reading guide, in the order of the design: each module named here uses
//! only those before it (a folder's files may also use their folder's
//! `mod.rs`). Read [`Promise::bind`] first, and the "Life of a bind" in the
//! sequential module beside it.
//!
//! 1. **The node** (`promise::node`). A promise is a node: pending, then
//!    fulfilled or rejected, once, or merged into another as a *proxy*. The
//!    node module defines those states (and the transient *tail*) and is the
//!    only place that changes them. (A promise made resolved holds its
//!    result in its handle instead, until it is shared or waited on: see
//!    [`Promise`].)
//! 2. **The resolution loop** (`promise::resolve`) is the one place callbacks
//!    run from. *Callbacks are eager*: resolving a promise runs its callbacks
//!    before `resolve` returns; attaching one to a resolved promise runs it at
//!    once. They run in the order they were attached (Lwt runs them in the
//!    reverse order; we do not). The loop bounds the stack: inside
//!    [`MAX_DEPTH`] nested callbacks it queues instead of recursing, so a
//!    chain of a million dependent promises resolves without overflow. That
//!    is the one exception to eagerness: there ([`depth`] `== MAX_DEPTH`),
//!    `resolve` returns before the callbacks ran, and `map` on a resolved
//!    promise comes back pending; both run before the outermost callback
//!    returns.
//! 3. **The public handles** (`promise`): [`Promise`] and [`Resolver`];
//!    [`wait`] and [`task`] make a pending promise and its resolver.
//! 4. **Sequential composition** (`sequential`): `bind`, `map`, `catch`, ...
//!    *Proxies*: when a `bind` callback returns a pending promise, the two are
//!    merged, so a tail-recursive promise loop holds O(1) memory.
//! 5. **Cancellation** (`cancel`) walks backwards from a promise to the
//!    cancelable promises it waits on and rejects them; the rejection flows
//!    forwards ([`Promise::cancel`]).
//! 6. **Concurrent composition** (`concurrent`): [`join`], [`all`], [`pick`],
//!    [`choose`], ...
//! 7. **Tasks** (`task`): [`spawn`] runs `async` code as a promise, polled
//!    inside the resolutions it awaits.
//! 8. **The engine contract** ([`engine`]): no I/O here. The [`Engine`] trait
//!    is the contract engines keep; beside it, `engine::turn` is what the
//!    core does with a turn ([`pause`], [`yield_now`],
//!    [`engine::run_turn`]) and `engine::wake` wakes tasks from foreign
//!    futures. **Time** (`time`): [`sleep`], [`timeout`] on whichever engine
//!    is installed, and `timeout`'s restartable [`Timeout`] (Lwt_timeout);
//!    [`testing::VirtualEngine`] drives tests with a manual clock.
//! 9. **Built on promises**: `sync/` ([`Mutex`], [`MVar`], [`Condition`],
//!    [`Semaphore`], [`Pool`], [`Switch`], beside the waiter queue they
//!    share), `stream/` ([`Stream`] and its feeds, reads and
//!    transformations), [`list`], [`result`], implicit storage ([`Key`]),
//!    [`async_`], and [`io`]'s buffered channels (Lwt_io without the
//!    operating system: over any reader or writer, or bytes in memory).
//!
//! Beneath all of these: `error` ([`Error`]) and `hook`
//! ([`set_async_exception_hook`]: where errors nobody can handle go, from
//! an unhandled rejection to a panic in an `on_*` callback), which use
//! nothing else.
//!
//! Throughout: **single-threaded.** [`Promise`] is `!Send`; there are no
//! locks (but one, for wake-ups from other threads). [`Error`] is the
//! exception: it is `Send + Sync`, so that what a loop returns can leave its
//! thread. Parallelism is the
//! engine's business (`lwt_native::detach`).
//!
//! The whole contract, rule by rule, is [`execution_model`]. Coming from tokio
//! or wasm-bindgen-futures? [`from_tokio`] maps their names to these.
//!
//! ```
//! // Lwt:  let p, r = Lwt.wait () in
//! //       let q = p >>= fun x -> Lwt.return (x * 2) in ...
//! let (p, r) = lwt::wait::<i32>();
//! let q = p.bind(|x| lwt::Promise::resolved(x * 2));
//! r.resolve(21).unwrap();
//! assert_eq!(q.peek().unwrap().unwrap(), 42);
//! ```
//!
//! # Lwt → lwt-rs
//!
//! | Lwt | lwt-rs |
//! |---|---|
//! | `'a Lwt.t`, `'a Lwt.u` | [`Promise<T>`], [`Resolver<T>`] |
//! | `Lwt.wait`, `Lwt.task` | [`wait`], [`task`] |
//! | `Lwt.return`, `Lwt.fail`, `Lwt.of_result` | [`Promise::resolved`], [`Promise::rejected`], [`from_result`] |
//! | `Lwt.wrap` | [`wrap`] |
//! | `Lwt.wakeup`, `Lwt.wakeup_exn`, `Lwt.wakeup_result` | [`Resolver::resolve`], [`Resolver::reject`], [`Resolver::resolve_with`] |
//! | `Lwt.wakeup_later` | [`Resolver::resolve_later`] |
//! | `Lwt.bind`, `>>=`, `let*` | [`Promise::bind`], or `.await` in [`spawn`] |
//! | `Lwt.map`, `>\|=` | [`Promise::map`] (by value: `p.clone().map(f)` keeps `p`) |
//! | `Lwt.state` on a value that is not `Clone` | [`Promise::with_result`] to look, [`Promise::take`] to move it out (one consumer) |
//! | `Lwt.catch`, `Lwt.try_bind`, `Lwt.finalize` | [`Promise::catch`], [`Promise::try_bind`], [`Promise::finalize`] |
//! | `Lwt.on_success`, `on_failure`, `on_termination`, `on_any`, `on_cancel` | [`Promise::on_success`], [`Promise::on_failure`], [`Promise::on_termination`], [`Promise::on_any`], [`Promise::on_cancel`] |
//! | `Lwt.join`, `Lwt.all`, `Lwt.both`, `<&>` | [`join`], [`all`], [`both`] |
//! | `Lwt.pick`, `Lwt.choose`, `<?>` | [`pick`], [`choose`] |
//! | `Lwt.npick`, `Lwt.nchoose`, `Lwt.nchoose_split` | [`npick`], [`nchoose`], [`nchoose_split`] |
//! | `Lwt.cancel`, `Lwt.protected`, `Lwt.no_cancel`, `Lwt.wrap_in_cancelable` | [`Promise::cancel`], [`protected`], [`no_cancel`], [`wrap_in_cancelable`] |
//! | `Lwt.Canceled` | [`Error::canceled`], [`Error::is_canceled`] |
//! | `Lwt.state`, `Lwt.is_sleeping`, `Lwt.poll` | [`Promise::state`], [`Promise::is_pending`], [`Promise::peek`] |
//! | `Lwt.async`, `Lwt.dont_wait`, `Lwt.async_exception_hook` | [`async_`], [`dont_wait`], [`set_async_exception_hook`] |
//! | an exception raised in a callback (`bind`'s `f` rejects the result, `on_*`'s goes to `async_exception_hook`) | a panic, caught natively: it rejects the result with [`Error::is_panic`], or goes to the hook from an `on_*` callback ([`execution_model`], rule 10) |
//! | `Lwt.ignore_result` | none: to run a promise for its effects, hand it to [`async_`] or [`dont_wait`] (a rejection then reaches a handler); [`Promise::ignore`] keeps waiting but drops the value |
//! | a fallible `Lwt.map` (`f` may raise) | [`Promise::and_then`] (`f` returns a `Result`), or [`Promise::bind`] with [`from_result`] |
//! | `Lwt.pause`, `Lwt.wakeup_paused`, `Lwt.paused_count`, `Lwt.register_pause_notifier` | [`pause`], [`wakeup_paused`], [`paused_count`], [`register_pause_notifier`] |
//! | `Lwt.new_key`, `Lwt.with_value`, `Lwt.get` | [`new_key`], [`with_value`], [`get`] |
//! | `Lwt_unix.sleep`, `Lwt_unix.timeout`, `Lwt_unix.with_timeout` | [`sleep`], [`timeout`], [`with_timeout`] |
//! | `Lwt_unix.auto_pause`, `Lwt_unix.auto_yield` | [`auto_pause`] ([`AutoPause::pause`]), on the engine's clock, so on every engine |
//! | `Lwt_timeout` (`create`, `start`, `stop`, `change`, `set_exn_handler`) | [`Timeout`] ([`Timeout::new`], [`Timeout::start`], [`Timeout::stop`], [`Timeout::change`], [`Timeout::set_exn_handler`]) |
//! | `Lwt_engine` | [`Engine`] |
//! | `Lwt_main.run` | `lwt_native::run` (in the native engine crate) |
//! | `Lwt_main.yield`, `Lwt_js.yield` | [`yield_now`] |
//! | `Lwt_mutex` (`create`, `lock`, `unlock`, `with_lock`, `is_locked`, `is_empty`) | [`Mutex`] ([`Mutex::new`], [`Mutex::lock`], [`Mutex::unlock`], [`Mutex::with_lock`], [`Mutex::is_locked`], [`Mutex::is_empty`]) |
//! | `Lwt_mvar` (`create`, `create_empty`, `put`, `take`, `take_available`, `is_empty`) | [`MVar`] ([`MVar::new`], [`MVar::new_empty`], [`MVar::put`], [`MVar::take`], [`MVar::take_available`], [`MVar::is_empty`]) |
//! | `Lwt_condition` (`wait`, `signal`, `broadcast`, `broadcast_exn`) | [`Condition`] ([`Condition::wait`], [`Condition::signal`], [`Condition::broadcast`], [`Condition::broadcast_error`]) |
//! | (tokio's `Semaphore`) | [`Semaphore`], [`Permit`] |
//! | `Lwt_stream` (`create`, `create_bounded`, `from`, `of_list`, `get`, `peek`, `junk`, `nget`, `npeek`, `last_new`, `is_empty`, `closed`, `is_closed`, `clone`) | [`Stream`] ([`Stream::create`], [`Stream::bounded`], [`Stream::from_fn`], [`Stream::from_iter`], [`Stream::next`], [`Stream::peek`], [`Stream::junk`], [`Stream::nget`], [`Stream::npeek`], [`Stream::last_new`], [`Stream::is_empty`], [`Stream::closed`], [`Stream::is_closed`], `Clone`), [`Push`], [`BoundedPush`] |
//! | `Lwt_stream.of_list`, `of_array`, `of_string` (closed at creation), `of_seq`, `from_direct` (lazy) | [`Stream::of_list`], [`Stream::from_iter`] |
//! | `Lwt_stream.return`, `return_lwt` | [`Stream::once`], [`Stream::from_promise`] |
//! | `Lwt_stream.get_while`, `get_while_s`, `junk_while`, `junk_while_s` | [`Stream::get_while`], [`Stream::get_while_s`], [`Stream::junk_while`], [`Stream::junk_while_s`] |
//! | `Lwt_stream.wrap_exn` | [`Stream::wrap_exn`] |
//! | `Lwt_stream.Full` (a second waiting `bounded_push#push`) | [`StreamFull`] |
//! | `Lwt_stream.map`, `map_s`, `filter`, `filter_map`, `fold`, `iter`, `iter_p`, `iter_n`, `append`, `concat`, `choose`, `combine` | [`Stream::map`], [`Stream::map_s`], [`Stream::filter`], [`Stream::filter_map`], [`Stream::fold`], [`Stream::iter`], [`Stream::iter_p`], [`Stream::iter_n`], [`Stream::append`], [`Stream::concat`], [`Stream::choose`], [`Stream::combine`] |
//! | `Lwt_list` (`iter_s`, `map_p`, `filter_n`, `fold_left_s`, `for_all_p`, `exists_s`, `find_s`, `partition_p`, ...) | [`list`] |
//! | `Lwt_list.iteri_s`, `iteri_p`, `mapi_s`, `mapi_p`, `rev_map_s`, `rev_map_p`, `fold_right_s` | [`list::iteri_s`], [`list::iteri_p`], [`list::mapi_s`], [`list::mapi_p`], [`list::rev_map_s`], [`list::rev_map_p`], [`list::fold_right_s`] |
//! | `Lwt_result` (`map`, `map_error`, `bind`, `bind_error`, `both`, `return`, `fail`) | [`result`] ([`result::map`], [`result::map_err`], [`result::and_then`], [`result::bind_error`], [`result::both`], [`result::ok`], [`result::err`], [`result::spawn`]) |
//! | `Lwt_result.catch`, `get_exn` | [`result::catch`] (a rejection becomes `Err`), [`result::get_exn`] (an `Err` becomes a rejection) |
//! | `Lwt_result.ok`, `error` (lifts) | [`result::lift_ok`], [`result::lift_err`] |
//! | `Lwt_result.bind_lwt`, `bind_lwt_error`, `bind_result`, `iter`, `iter_error` | [`result::bind_lwt`], [`result::bind_lwt_error`], [`result::bind_result`], [`result::iter`], [`result::iter_error`] |
//! | `Lwt_switch` (`create`, `add_hook`, `turn_off`, `with_switch`, `check`, `is_on`) | [`Switch`] |
//! | `Lwt_pool` (`create` with `?validate`, `?check`, `?dispose`; `use`, `clear`, `wait_queue_length`) | [`Pool`] ([`Pool::new`], [`Pool::with_validate`], [`Pool::with_check`], [`Pool::with_dispose`], [`Pool::use_`], [`Pool::clear`], [`Pool::wait_queue_length`]) |
//! | `Lwt_io.input_channel`, `output_channel`, `Lwt_io.make` | [`io::InputChannel`], [`io::OutputChannel`] ([`io::InputChannel::new`], [`io::InputChannel::with_capacity`], [`io::InputChannel::seekable`], and the same on [`io::OutputChannel`]); clones share one channel |
//! | `Lwt_io.of_bytes` | [`io::InputChannel::of_bytes`], [`io::OutputChannel::of_bytes`], over [`io::SharedBytes`] (on every engine) |
//! | `Lwt_io.read_line`, `read_line_opt`, `read ?count`, `read_lines`, `read_into`, `read_into_exactly` | [`io::InputChannel::read_line`], [`io::InputChannel::read`], [`io::InputChannel::read_to_end`], [`io::InputChannel::read_to_string`], [`io::InputChannel::read_exactly`], [`io::InputChannel::lines`], [`io::InputChannel::read_into`], [`io::InputChannel::read_into_exactly`] |
//! | `Lwt_io.write`, `write_line`, `write_from`, `write_from_exactly`, `flush`, `close`, `is_closed` | [`io::OutputChannel::write`], [`io::OutputChannel::write_line`], [`io::OutputChannel::write_from`], [`io::OutputChannel::write_from_exactly`], [`io::OutputChannel::flush`], [`io::OutputChannel::close`], [`io::OutputChannel::is_closed`] (and [`io::InputChannel::close`], [`io::InputChannel::is_closed`]) |
//! | `Lwt_io` auto-flushing (a flush scheduled with `Lwt.pause` after a write) | the same, in [`io::OutputChannel`]: many writes in one turn leave together |
//! | `Lwt_io.read_char`, `read_char_opt`, `write_char` | [`io::InputChannel::read_byte`], [`io::InputChannel::read_byte_opt`], [`io::OutputChannel::write_byte`]; UTF-8 characters: [`io::InputChannel::read_char`], [`io::InputChannel::read_char_opt`], [`io::OutputChannel::write_char`] |
//! | `Lwt_io.LE`, `Lwt_io.BE` (`read_int16`, `read_int32`, `read_int64`, `read_float32`, `read_float64`, and the `write_` ones) | [`io::InputChannel::read_i16_le`], [`io::InputChannel::read_u16_be`], ... [`io::InputChannel::read_f64_be`]; [`io::OutputChannel::write_i16_le`], ... [`io::OutputChannel::write_f64_be`] (`i16`, `u16`, `i32`, `u32`, `i64`, `u64`, `f32`, `f64`, each `_le` and `_be`) |
//! | `Lwt_io.position`, `set_position` | [`io::InputChannel::position`], [`io::InputChannel::set_position`], [`io::OutputChannel::position`], [`io::OutputChannel::set_position`] |
//! | `Lwt_io.atomic` | [`io::InputChannel::atomic`], [`io::OutputChannel::atomic`] |
//! | `End_of_file`, `Lwt_io.Channel_closed` | [`Error::is_end_of_file`], [`Error::is_closed`] |
//! | `Lwt_io.open_connection`, `with_connection`, `establish_server`, `with_temp_file`, `with_temp_dir`, `file_length`, `file_exists`, `stdin`, `stdout`, `stderr` | in `lwt_native::io` (the native engine crate) |
//!
//! # Differences from Lwt
//!
//! Where lwt-rs behaves differently from Lwt on purpose, and why:
//!
//! - **Callback order.** Callbacks attached to one promise run in the order
//!   they were attached; Lwt's de-facto order is the reverse. FIFO is what a
//!   reader of the code expects, and what JS promises do.
//! - **Several inputs already resolved.** [`pick`] and [`choose`] then take
//!   a rejected one if there is one, as Lwt does, and among those the first
//!   in argument order, so a program gives the same answer on every run and
//!   every engine; Lwt draws among them at random.
//! - **Unhandled rejections.** A rejection nobody handles goes to the hook of
//!   [`set_async_exception_hook`]; the default one reports it and the program
//!   goes on. Lwt's default exits the process, which would end a browser tab's
//!   whole app.
//! - **Panics in callbacks.** Natively, a `bind`/`map`/... closure that
//!   panics rejects its result ([`Error::is_panic`]) whether the source was
//!   pending or already resolved; Lwt's `bind` on a resolved promise lets
//!   the exception escape to the caller instead. One behaviour for both
//!   cases keeps the result independent of timing, which the depth bound
//!   already makes vary. On wasm32 panics abort the instance: nothing is
//!   caught there ([`execution_model`], rule 10).
//! - **[`Timeout`] (Lwt_timeout).** Durations are any [`std::time::Duration`]
//!   (Lwt counts whole seconds, at least one); the action gets the timeout
//!   as its argument, so that restarting itself needs no captured handle
//!   (a reference cycle in Rust; Lwt's garbage collector makes it harmless);
//!   and the action returns a `Result`, whose `Err` reaches the handler as a
//!   raised exception does in Lwt. [`Timeout::start`] fails when no engine
//!   is installed.
//! - **Stream errors.** Lwt's streams cannot carry errors; [`Stream`]s can
//!   end with one ([`Push::fail`]), so [`Stream::from_promise`] of a
//!   rejected promise ends with its error where Lwt's `return_lwt` ends
//!   empty. A rejected pull of [`Stream::from_fn`] does not end the stream,
//!   as in Lwt; the transformations (`map`, ...) end their output with the
//!   error of their input or function.
//! - **Dropping is not canceling, and canceling a task is not aborting it.**
//!   As in Lwt, only [`Promise::cancel`] cancels. A spawned task that is
//!   canceled sees `Err(canceled)` at its `.await` and may clean up;
//!   [`Promise::abort`] (tokio's meaning) drops its future at once.
//! - **Channels' characters and numbers.** An OCaml `char` is a byte, so
//!   Lwt_io's `read_char`/`write_char` are [`io::InputChannel::read_byte`]
//!   and [`io::OutputChannel::write_byte`]; `read_char`/`write_char` here
//!   are a Rust `char`, in UTF-8. Lwt_io's `LE` and `BE` modules are one
//!   method per type and byte order (`read_u32_le`), as Rust's
//!   `u32::from_le_bytes` names them, with unsigned types beside the
//!   signed ones; Lwt's `read_int` (OCaml's native `int`) has no
//!   counterpart, since Rust names every width.
//! - **In-memory channels grow.** [`io::OutputChannel::of_bytes`] writes
//!   into [`io::SharedBytes`] as `std::io::Cursor<Vec<u8>>` does: past the
//!   end it grows the bytes (Lwt's `of_bytes` is bounded by its buffer), and
//!   writes reach the bytes when flushed (or on their own after the turn),
//!   since an in-memory channel is a channel like any other here, not a
//!   buffer used in place.
//! - **Seeking is a constructor's choice.** Lwt_io's `set_position` needs a
//!   `seek` function given to `make`; here a channel seeks when made with
//!   `seekable` (or `of_bytes`, or from a native file), and
//!   `set_position` on any other is an invalid-argument error.

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod abort_guard;
mod cancel;
mod concurrent;
pub mod engine;
mod error;
mod hook;
pub mod io;
#[doc = include_str!("../docs/execution-model.md")]
pub mod execution_model {}
#[doc = include_str!("../docs/from-tokio.md")]
pub mod from_tokio {}
pub mod list;
mod promise;
pub mod result;
mod select;
mod sequential;
mod storage;
mod stream;
mod sync;
mod task;
pub mod testing;
mod time;
mod timeout;
mod unhandled;

pub use abort_guard::AbortOnDrop;
pub use cancel::{no_cancel, protected, wrap_in_cancelable};
pub use concurrent::{all, both, choose, join, nchoose, nchoose_split, npick, pick};
pub use engine::turn::{pause, paused_count, register_pause_notifier, wakeup_paused};
pub use engine::{yield_now, Engine};
pub use error::Error;
pub use hook::{report_unhandled, set_async_exception_hook};
pub use promise::resolve::{depth, MAX_DEPTH};
pub use promise::{from_result, task, wait, wrap, Promise, Resolver, State};
#[doc(hidden)]
pub use select::__private as __select;
pub use storage::{get, new_key, with_value, Key};
pub use stream::{BoundedPush, Push, Stream, StreamFull, StreamItems};
pub use sync::broadcast;
pub use sync::watch;
pub use sync::OnceCell;
pub use sync::{Acquire, Condition, MVar, Mutex, Permit, Pool, Semaphore, Switch};
pub use sync::{Barrier, BarrierWaitResult};
pub use sync::{JoinNext, JoinSet, TaskHandle};
pub use sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use task::{spawn, Take};
pub use time::{
    auto_pause, interval, now, sleep, sleep_until, timeout, with_timeout, AutoPause, Instant,
    Interval,
};
pub use timeout::Timeout;
pub use unhandled::{async_, dont_wait};
