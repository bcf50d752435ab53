//! The engine's timers: the core's [`TimerQueue`] of closures and targets.
//!
//! # Ground rules
//!
//! The queue keeps the guarantees the engine relies on (see
//! `lwt::engine::TimerQueue`): timers fire in (deadline, arming order), so
//! equal deadlines fire FIFO; canceling drops the closure at once and
//! frees its slot, with lazy deletion and compaction keeping memory within a
//! constant factor of the live timers; a [`TimerId`] is a slot and a
//! generation, so a stale id cancels nothing. A heap and a `Vec` keep the
//! wasm binary smaller than ordered maps would.
//!
//! This file only adapts the queue to the names the engine uses.

use lwt::engine::{TimerFire, TimerId, TimerQueue};
use lwt::Instant;

/// What a timer runs when it fires: a closure, or a sleep's own node.
pub(crate) type Timer = TimerFire;

#[derive(Default)]
pub(crate) struct Timers(TimerQueue<Timer>);

impl Timers {
    /// Live timers.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn arm(&mut self, deadline: Instant, fire: Timer) -> TimerId {
        self.0.arm(deadline, fire)
    }

    /// Removes the timer `id`, if it is still armed, and gives back its
    /// closure (for the caller to drop outside any borrow).
    pub(crate) fn cancel(&mut self, id: TimerId) -> Option<Timer> {
        self.0.cancel(id)
    }

    /// The earliest live deadline, dropping dead entries from the top.
    pub(crate) fn earliest(&mut self) -> Option<Instant> {
        self.0.next_deadline()
    }

    /// Removes and returns the earliest timer due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        self.0.pop_due(now).map(|(_, fire)| fire)
    }
}
