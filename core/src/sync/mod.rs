//! Synchronization primitives on promises, beside the waiter queue they share.

pub(crate) mod waitq;

mod condition;
mod mutex;
mod mvar;
mod pool;
mod semaphore;
mod switch;

pub use condition::Condition;
pub use mutex::Mutex;
pub use mvar::MVar;
pub use pool::Pool;
pub use semaphore::{Acquire, Permit, Semaphore};
pub use switch::Switch;
