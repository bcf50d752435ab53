//! Synchronization primitives on promises, beside the waiter queue they
//! share (as tokio keeps its primitives beside their semaphore).
//!
//! # Ground rules
//!
//! 1. `waitq` is the one FIFO queue of cancelable waiters: [`Mutex`],
//!    [`MVar`], [`Condition`], [`Semaphore`] and [`Pool`] queue their blocked
//!    callers in it, and so do [`JoinSet`]'s `join_next`, [`watch`]'s
//!    `changed`, [`broadcast`]'s `recv`, [`OnceCell`]'s `get_or_init`
//!    and [`RwLock`]'s `read`/`write`, and [`Barrier`]'s parties; a canceled caller
//!    leaves the line. [`Switch`] needs
//!    no queue: it runs its hooks when turned off.
//! 2. A hand-off resolves the waiter after the primitive's borrow is
//!    dropped, with [`crate::Resolver::resolve_later`]: no borrow is held
//!    across user code, and releasing a long line of waiters is a loop.
//! 3. Each primitive uses only `waitq` and the promise API; [`Condition`]
//!    also uses [`Mutex`], and [`JoinSet`] uses [`crate::spawn`].

pub(crate) mod waitq;

mod barrier;
pub mod broadcast;
mod condition;
mod joinset;
mod mutex;
mod mvar;
mod once_cell;
mod pool;
mod rwlock;
mod semaphore;
mod switch;
pub mod watch;

pub use barrier::{Barrier, BarrierWaitResult};
pub use condition::Condition;
pub use joinset::{JoinNext, JoinSet, TaskHandle};
pub use mutex::Mutex;
pub use mvar::MVar;
pub use once_cell::OnceCell;
pub use pool::Pool;
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{Acquire, Permit, Semaphore};
pub use switch::Switch;
