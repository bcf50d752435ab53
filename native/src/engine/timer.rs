//! Timers: a timing wheel of 1 ms slots, with a sorted current slot and
//! lazy deletion.
//!
//! # Ground rules
//!
//! * Each armed timer owns a slot in a slab (its closure) and one *entry*
//!   `(deadline, sequence, slot)`. The sequence number grows with every
//!   arm (its low half is the slot's generation), so ordering entries by `(deadline, sequence)` fires
//!   equal deadlines in the order they were armed (FIFO among equals).
//! * Entries live in one of three places, by their *tick* (deadline in units
//!   of 2^20 ns, about 1 ms):
//!   - `current`: every entry whose tick is at most `cur_tick`, sorted by
//!     `(deadline, sequence)`, latest first, so the next one to fire is
//!     popped from the end. A timer armed for a tick already reached is
//!     inserted here at its sorted place.
//!   - the wheel: 4,096 unsorted slots for the ticks after `cur_tick`, with
//!     a bitmap of the non-empty ones. Arming is a push: O(1).
//!   - `overflow`: a heap for ticks beyond the wheel's horizon (~4.3 s),
//!     moved onto the wheel as it turns.
//!
//!   When `current` runs out, the wheel turns to its next non-empty slot,
//!   which is sorted once and becomes `current`. Deadlines are exact: the
//!   tick only groups; firing compares the full deadline with the clock,
//!   so a timer never fires early.
//! * Canceling frees the slab slot and drops the closure at once (O(1)); the
//!   entry goes stale and is skipped when reached. When stale entries
//!   outnumber live ones, all places are swept, so a program that arms and
//!   cancels time-outs forever holds O(live timers) memory.
//! * A [`TimerId`] carries the slab slot and its generation, packed by the
//!   core's codec ([`TimerId::from_parts`], the one `lwt::engine::TimerQueue`
//!   uses), so canceling a timer that already fired (and whose slot was
//!   reused) does nothing. The wheel itself stays here: it is tuned for a
//!   million armed timers and nanosecond deadlines on the loop's clock.
//! * Nothing here runs a closure: [`Timers::pop_due`] hands the closure out,
//!   and the loop runs it with no borrow held.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use std::rc::Rc;

use lwt::engine::{TimerFire as Fire, TimerId};

/// Where the timer's closure or target lives, for [`prefetch`] (named for
/// it, so that `.cargo/mutants.toml` leaves it unmutated with the hint).
fn prefetch_target(fire: &Fire) -> *const u8 {
    match fire {
        Fire::Call(f) => &**f as *const dyn FnOnce() as *const u8,
        Fire::Target(t) => Rc::as_ptr(t) as *const u8,
    }
}

/// An entry: (deadline in ns, sequence, slot). The slot's generation is
/// the sequence's low half.
type Entry = (u64, u64, u32);

/// True while the timer `e` was armed for is still armed: its slot holds a
/// closure, of the same arm.
fn live(slots: &[Slot], e: &Entry) -> bool {
    slots
        .get(e.2 as usize)
        .is_some_and(|s| s.generation == e.1 as u32 && s.fire.is_some())
}

/// A hint that `p`'s cache line will be read soon (x86-64 only; elsewhere
/// nothing).
#[inline(always)]
fn prefetch<T: ?Sized>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` is only a hint: it never faults and has no
    // effect a program can see, whatever the address (even dangling).
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

const TICK_SHIFT: u32 = 20;
const WHEEL: usize = 4096;
/// The largest emptied `current` buffer (in entries, 384 KiB) handed back
/// to the wheel for reuse; larger ones are freed.
const RECYCLE_MAX: usize = 16 * 1024;

struct Slot {
    generation: u32,
    /// While the slot is free: the next free one (`NO_SLOT` ends the list).
    /// The free list lives in the slab itself, so that freeing a slot never
    /// allocates (a growing list of its own would, while a million timers
    /// fire, and with glibc each regrowth of a big block consolidates the
    /// small blocks the fired timers freed).
    next_free: u32,
    fire: Option<Fire>,
}

/// The end of the free list.
const NO_SLOT: u32 = u32::MAX;

/// The armed timers of one loop.
pub(crate) struct Timers {
    current: Vec<Entry>,
    cur_tick: u64,
    wheel: Vec<Vec<Entry>>,
    bitmap: [u64; WHEEL / 64],
    overflow: BinaryHeap<Reverse<Entry>>,
    entries: usize,
    slots: Vec<Slot>,
    /// The first free slot, or `NO_SLOT`.
    free: u32,
    live: usize,
    /// Arms so far. A slot's generation is the (low half of the) number of
    /// the arm that took it, so an id or a wheel entry left from an earlier
    /// use of the slot never matches it again (until 2^32 arms later).
    seq: u64,
}

fn tick(deadline: u64) -> u64 {
    deadline >> TICK_SHIFT
}

fn key(e: &Entry) -> (u64, u64) {
    (e.0, e.1)
}

impl Timers {
    pub(crate) fn new() -> Timers {
        Timers {
            current: Vec::new(),
            cur_tick: 0,
            wheel: (0..WHEEL).map(|_| Vec::new()).collect(),
            bitmap: [0; WHEEL / 64],
            overflow: BinaryHeap::new(),
            entries: 0,
            slots: Vec::new(),
            free: NO_SLOT,
            live: 0,
            seq: 0,
        }
    }

    /// How many timers are armed.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// With nothing armed, moves the wheel to the present (`now` on the
    /// loop's clock), so that its horizon starts now; stale entries are
    /// dropped on the way. Call before [`Timers::arm`] when [`Timers::len`]
    /// is zero.
    pub(crate) fn catch_up(&mut self, now: u64) {
        // `<` or `<=`: the same. At the same tick, with nothing armed, a
        // reset drops only stale entries (an equivalent mutant).
        if self.live == 0 && self.cur_tick < tick(now) {
            self.reset_to(tick(now));
        }
    }

    /// Arms the closure `fire` for `deadline` (nanoseconds on the loop's
    /// clock).
    #[cfg(test)]
    pub(crate) fn arm(&mut self, deadline: u64, fire: Box<dyn FnOnce()>) -> TimerId {
        self.arm_fire(deadline, Fire::Call(fire))
    }

    /// Arms `fire` for `deadline` (nanoseconds on the loop's clock).
    pub(crate) fn arm_fire(&mut self, deadline: u64, fire: Fire) -> TimerId {
        self.seq += 1;
        let generation = self.seq as u32;
        let slot = Slot {
            generation,
            next_free: NO_SLOT,
            fire: Some(fire),
        };
        // `NO_SLOT` is past the end of any slab, so an empty list gets `None`.
        let index = match self.slots.get_mut(self.free as usize) {
            Some(free) => {
                let i = self.free;
                self.free = free.next_free;
                *free = slot;
                i
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        self.live += 1;
        self.place((deadline, self.seq, index));
        TimerId::from_parts(index, generation)
    }

    fn place(&mut self, e: Entry) {
        self.entries += 1;
        let t = tick(e.0);
        if t <= self.cur_tick {
            // Sorted, latest first: insert after every later entry. Keys
            // are unique (the sequence), so `>` and `>=` are the same here
            // (an equivalent mutant).
            let pos = self.current.partition_point(|x| key(x) > key(&e));
            self.current.insert(pos, e);
        } else if t - self.cur_tick < WHEEL as u64 {
            let i = (t as usize) % WHEEL;
            self.wheel[i].push(e);
            self.bitmap[i / 64] |= 1 << (i % 64);
        } else {
            self.overflow.push(Reverse(e));
        }
    }

    fn reset_to(&mut self, t: u64) {
        self.current.clear();
        // Only a shortcut: with `>=`, empty places are cleared for nothing
        // (an equivalent mutant).
        if self.entries > 0 {
            self.wheel.iter_mut().for_each(Vec::clear);
            self.bitmap = [0; WHEEL / 64];
            self.overflow.clear();
            self.entries = 0;
        }
        self.cur_tick = t;
    }

    fn is_live(&self, e: &Entry) -> bool {
        live(&self.slots, e)
    }

    /// Disarms a timer and returns its closure (for the caller to drop with
    /// no borrow held). Unknown or fired timers give `None`.
    pub(crate) fn cancel(&mut self, id: TimerId) -> Option<Fire> {
        let index = id.slot() as usize;
        let generation = id.generation();
        let slot = self.slots.get_mut(index)?;
        if slot.generation != generation || slot.fire.is_none() {
            return None;
        }
        let fire = self.release(index);
        if self.entries > 1024 && self.entries > 2 * self.live {
            self.compact();
        }
        fire
    }

    fn release(&mut self, index: usize) -> Option<Fire> {
        let slot = &mut self.slots[index];
        let fire = slot.fire.take();
        self.live -= 1;
        if self.live == 0 {
            // Empty: start the slab over, so the next timers take slots in
            // order (a free list in firing order scatters them in memory).
            // Old ids stay dead: generations come from the arm count.
            self.slots.clear();
            self.free = NO_SLOT;
        } else {
            slot.next_free = self.free;
            self.free = index as u32;
        }
        fire
    }

    /// Drops stale entries everywhere.
    fn compact(&mut self) {
        let slots = &self.slots;
        self.current.retain(|e| live(slots, e));
        for (i, w) in self.wheel.iter_mut().enumerate() {
            w.retain(|e| live(slots, e));
            if w.is_empty() {
                self.bitmap[i / 64] &= !(1 << (i % 64));
            }
        }
        let overflow = std::mem::take(&mut self.overflow).into_vec();
        self.overflow = overflow
            .into_iter()
            .filter(|Reverse(e)| live(slots, e))
            .collect();
        self.entries = self.current.len()
            + self.wheel.iter().map(Vec::len).sum::<usize>()
            + self.overflow.len();
    }

    /// The next non-empty wheel slot after `cur_tick`, as a tick.
    fn next_wheel_tick(&self) -> Option<u64> {
        let start = (self.cur_tick as usize + 1) % WHEEL;
        // Each word once, the first twice (its bits before `start`). More
        // steps only repeat words (`WHEEL * 64` is an equivalent mutant).
        for step in 0..=(WHEEL / 64) {
            let word = (start / 64 + step) % (WHEEL / 64);
            let mut bits = self.bitmap[word];
            if step == 0 {
                bits &= !0u64 << (start % 64);
            }
            if bits != 0 {
                let i = word * 64 + bits.trailing_zeros() as usize;
                let ahead = (i + WHEEL - start) % WHEEL;
                return Some(self.cur_tick + 1 + ahead as u64);
            }
        }
        None
    }

    /// Makes `current` non-empty (of live entries at its end) if any timer
    /// is armed, turning the wheel as far as needed.
    fn settle(&mut self) {
        loop {
            while let Some(e) = self.current.last() {
                if self.is_live(e) {
                    return;
                }
                self.current.pop();
                self.entries -= 1;
            }
            if self.live == 0 {
                return;
            }
            let next = match (self.next_wheel_tick(), self.overflow.peek()) {
                (Some(w), _) => w,
                (None, Some(Reverse(e))) => tick(e.0),
                (None, None) => return,
            };
            self.cur_tick = next;
            let i = (next as usize) % WHEEL;
            let mut slot = std::mem::take(&mut self.wheel[i]);
            self.bitmap[i / 64] &= !(1 << (i % 64));
            // Overflow entries that the wheel now reaches.
            while let Some(Reverse(e)) = self.overflow.peek() {
                let t = tick(e.0);
                if t - self.cur_tick >= WHEEL as u64 {
                    break;
                }
                let Some(Reverse(e)) = self.overflow.pop() else {
                    break;
                };
                if t <= self.cur_tick {
                    slot.push(e);
                } else {
                    let j = (t as usize) % WHEEL;
                    self.wheel[j].push(e);
                    self.bitmap[j / 64] |= 1 << (j % 64);
                }
            }
            slot.sort_unstable_by_key(|e| Reverse(key(e)));
            debug_assert!(self.current.is_empty());
            // The emptied `current` goes back to the wheel with its
            // capacity, rather than being freed: with glibc, freeing a
            // block of 64 KiB or more consolidates every small free block
            // first, and the fired timers leave hundreds of thousands of
            // them (a slot of 5,000 entries is 120 KB: 1M timers over
            // 200 ms ran 1.3-1.6x slower). Only buffers up to
            // `RECYCLE_MAX` entries are kept, so a burst's big buffer is
            // not held for good (both sides: the test
            // `an_emptied_current_buffer_goes_back_to_the_wheel_up_to_a_size`).
            let spent = std::mem::replace(&mut self.current, slot);
            if spent.capacity() <= RECYCLE_MAX {
                self.wheel[i] = spent;
            }
        }
    }

    /// The earliest deadline, if any timer is armed.
    pub(crate) fn next_deadline(&mut self) -> Option<u64> {
        self.settle();
        self.current.last().map(|e| e.0)
    }

    /// Removes and returns the earliest timer due at or before `now`.
    pub(crate) fn pop_due(&mut self, now: u64) -> Option<Fire> {
        self.settle();
        let e = *self.current.last()?;
        if e.0 > now {
            return None;
        }
        self.current.pop();
        self.entries -= 1;
        self.prefetch_next();
        self.release(e.2 as usize)
    }

    /// Asks the CPU to fetch what the next two timers to fire will touch,
    /// while this one fires: the slot of the one after next, and the
    /// closure of the next (its slot was fetched one pop ago). Timers fire
    /// in deadline order but sit in the slab in arming order, so without
    /// this each pop waits on a cache miss or two.
    fn prefetch_next(&self) {
        let n = self.current.len();
        if n >= 2 {
            if let Some(slot) = self.slots.get(self.current[n - 2].2 as usize) {
                prefetch(slot);
            }
        }
        if let Some(e) = self.current.last() {
            if let Some(Some(fire)) = self.slots.get(e.2 as usize).map(|s| s.fire.as_ref()) {
                prefetch(prefetch_target(fire));
            }
        }
    }

    /// Removes every timer, returning the closures.
    pub(crate) fn take_all(&mut self) -> Vec<Fire> {
        self.current.clear();
        self.wheel.iter_mut().for_each(Vec::clear);
        self.bitmap = [0; WHEEL / 64];
        self.overflow.clear();
        self.entries = 0;
        self.free = NO_SLOT;
        self.live = 0;
        std::mem::take(&mut self.slots)
            .into_iter()
            .filter_map(|s| s.fire)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    #[test]
    fn fifo_among_equal_deadlines_and_cancel() {
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut t = Timers::new();
        let mut ids = Vec::new();
        for (i, d) in [5u64, 1, 5, 1, 3].into_iter().enumerate() {
            let l = log.clone();
            ids.push(t.arm(d, Box::new(move || l.borrow_mut().push(i))));
        }
        assert!(t.cancel(ids[2]).is_some());
        assert!(t.cancel(ids[2]).is_none());
        assert_eq!(t.next_deadline(), Some(1));
        assert!(t.pop_due(0).is_none());
        while let Some(f) = t.pop_due(10) {
            f.run();
        }
        // deadline 1: armed 1st then 3rd; then 3; then 5 (index 2 canceled)
        assert_eq!(*log.borrow(), [1, 3, 4, 0]);
        assert_eq!(t.len(), 0);
        // canceling a fired timer whose slot was reused does nothing
        let again = t.arm(7, Box::new(|| {}));
        assert!(t.cancel(ids[0]).is_none());
        assert!(t.cancel(again).is_some());
    }

    #[test]
    fn ids_stay_distinct_when_the_arm_count_passes_u32() {
        // One timer at a time, armed and canceled, around the point where
        // the low half of the arm count wraps: every id is new, and a stale
        // one cancels nothing.
        let mut t = Timers::new();
        t.seq = u64::from(u32::MAX) - 4;
        let mut seen = Vec::new();
        for _ in 0..10 {
            let id = t.arm(100, Box::new(|| {}));
            assert!(!seen.contains(&id), "{id:?} handed out twice");
            for old in &seen {
                assert!(t.cancel(*old).is_none());
            }
            assert!(t.cancel(id).is_some());
            seen.push(id);
        }
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn ids_from_before_the_slab_emptied_stay_dead() {
        let mut t = Timers::new();
        let old: Vec<_> = (0..3).map(|i| t.arm(i, Box::new(|| {}))).collect();
        while let Some(f) = t.pop_due(10) {
            f.run();
        }
        assert_eq!(t.len(), 0);
        let new: Vec<_> = (0..3).map(|i| t.arm(20 + i, Box::new(|| {}))).collect();
        for id in &old {
            assert!(t.cancel(*id).is_none());
        }
        assert_eq!(t.len(), 3);
        assert!(t.cancel(new[1]).is_some());
        // Canceling everything empties the slab too; stale entries are skipped.
        assert!(t.cancel(new[0]).is_some());
        assert!(t.cancel(new[2]).is_some());
        let again = t.arm(25, Box::new(|| {}));
        assert_eq!(t.next_deadline(), Some(25));
        assert!(t.cancel(new[2]).is_none());
        assert!(t.pop_due(30).is_some());
        assert!(t.cancel(again).is_none());
    }

    #[test]
    fn compaction_keeps_live_timers() {
        let mut t = Timers::new();
        let ids: Vec<_> = (0..5000).map(|i| t.arm(i, Box::new(|| {}))).collect();
        for id in &ids[..4900] {
            t.cancel(*id);
        }
        assert!(t.entries < 5000);
        assert_eq!(t.len(), 100);
        assert_eq!(t.next_deadline(), Some(4900));
    }
}

#[cfg(test)]
mod wheel_tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// Random deadlines over several wheel turns and the overflow, armed
    /// while the wheel turns: fired in (deadline, arming) order, never early.
    #[test]
    fn matches_a_sorted_reference() {
        let mut t = Timers::new();
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut expected = Vec::new();
        let mut x: u64 = 12345;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut now = 0u64;
        let mut seq = 0u64;
        for round in 0..50 {
            for _ in 0..200 {
                let span = if round % 3 == 0 {
                    20_000_000_000
                } else {
                    5_000_000
                };
                let d = now + rand() % span;
                let l = log.clone();
                seq += 1;
                let s = seq;
                expected.push((d, s));
                if t.len() == 0 {
                    t.catch_up(now);
                }
                t.arm(d, Box::new(move || l.borrow_mut().push((d, s))));
            }
            now += rand() % 3_000_000_000;
            while let Some(f) = t.pop_due(now) {
                f.run();
            }
            assert!(log.borrow().iter().all(|&(d, _)| d <= now));
        }
        while let Some(d) = t.next_deadline() {
            now = d;
            while let Some(f) = t.pop_due(now) {
                f.run();
            }
        }
        expected.sort();
        let fired = log.borrow().clone();
        // Globally sorted only within what was armed before each pop; but
        // every timer fired once, and each fired at or after its deadline.
        let mut sorted = fired.clone();
        sorted.sort();
        assert_eq!(sorted, expected);
        assert_eq!(t.len(), 0);
    }
}

#[cfg(test)]
mod model_tests {
    //! The wheel against a sorted reference, step by step, and where each
    //! entry is kept (the wheel's costs rest on it).
    use super::*;
    use std::cell::RefCell;
    use std::collections::BTreeMap;
    use std::rc::Rc;

    const MS: u64 = 1 << TICK_SHIFT;

    /// What always holds: a bitmap bit is set exactly for a non-empty
    /// wheel slot, and `entries` counts every entry kept.
    fn check(t: &Timers) {
        for (i, w) in t.wheel.iter().enumerate() {
            let bit = t.bitmap[i / 64] >> (i % 64) & 1 == 1;
            assert_eq!(bit, !w.is_empty(), "bitmap bit {i}");
        }
        let kept = t.current.len() + t.wheel.iter().map(Vec::len).sum::<usize>() + t.overflow.len();
        assert_eq!(t.entries, kept);
    }

    /// Random arms (inside the current tick, on the wheel, past it),
    /// cancels and clock steps: the next deadline is always the reference's
    /// earliest, and timers fire one by one in (deadline, arming) order.
    #[test]
    fn every_step_matches_a_sorted_reference() {
        let mut t = Timers::new();
        let fired = Rc::new(RefCell::new(Vec::new()));
        let mut reference: BTreeMap<(u64, u64), TimerId> = BTreeMap::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rand = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut now = 0u64;
        let mut arms = 0u64;
        for _ in 0..3000 {
            match rand(10) {
                0..=5 => {
                    let ahead = match rand(4) {
                        0 => rand(MS),
                        1 => rand(64 * MS),
                        2 => rand(WHEEL as u64 * MS),
                        _ => rand(3 * WHEEL as u64 * MS),
                    };
                    if t.len() == 0 {
                        t.catch_up(now);
                    }
                    arms += 1;
                    let key = (now + ahead, arms);
                    let f = fired.clone();
                    let id = t.arm(key.0, Box::new(move || f.borrow_mut().push(key)));
                    reference.insert(key, id);
                }
                6 if !reference.is_empty() => {
                    let n = rand(reference.len() as u64) as usize;
                    let key = *reference.keys().nth(n).unwrap();
                    let id = reference.remove(&key).unwrap();
                    assert!(t.cancel(id).is_some());
                    assert!(t.cancel(id).is_none());
                }
                _ => {
                    now += rand(200 * MS);
                    while let Some(f) = t.pop_due(now) {
                        f.run();
                        let (key, _) = reference.pop_first().expect("fired with none armed");
                        assert_eq!(fired.borrow_mut().pop(), Some(key));
                        assert!(key.0 <= now, "fired early");
                    }
                }
            }
            assert_eq!(t.len(), reference.len());
            assert_eq!(t.next_deadline(), reference.keys().next().map(|k| k.0));
            check(&t);
        }
        while let Some(d) = t.next_deadline() {
            let f = t.pop_due(d).unwrap();
            f.run();
            assert_eq!(
                fired.borrow_mut().pop(),
                reference.pop_first().map(|(k, _)| k)
            );
        }
        assert!(reference.is_empty());
    }

    #[test]
    fn take_all_hands_out_every_armed_closure() {
        let mut t = Timers::new();
        let id = t.arm(0, Box::new(|| {}));
        t.arm(5 * MS, Box::new(|| {}));
        t.arm(10 * WHEEL as u64 * MS, Box::new(|| {}));
        drop(t.cancel(id));
        assert_eq!(t.take_all().len(), 2);
        assert_eq!((t.len(), t.next_deadline()), (0, None));
        assert!(t.slots.is_empty());
        check(&t);
    }

    #[test]
    fn an_emptied_current_buffer_goes_back_to_the_wheel_up_to_a_size() {
        // 5,000: a burst of 5,000 timers per 1 ms tick, the size this is
        // for, is kept.
        for (n, kept) in [(100, true), (5_000, true), (RECYCLE_MAX + 1, false)] {
            let mut t = Timers::new();
            for _ in 0..n {
                t.arm(MS, Box::new(|| {}));
            }
            t.arm(2 * MS, Box::new(|| {}));
            // Fires tick 1's timers; the last call turns the wheel to tick
            // 2, whose slot takes the buffer tick 1's timers were in.
            while let Some(fire) = t.pop_due(2 * MS - 1) {
                fire.run();
            }
            assert_eq!(t.len(), 1);
            let capacity = t.wheel[2].capacity();
            assert_eq!(capacity >= n, kept, "{n} timers: capacity {capacity}");
            assert_eq!(capacity == 0, !kept, "{n} timers: capacity {capacity}");
            check(&t);
        }
    }

    #[test]
    fn entries_go_to_current_the_wheel_or_the_overflow_by_tick() {
        let mut t = Timers::new();
        t.arm(MS - 1, Box::new(|| {}));
        assert_eq!((t.current.len(), t.overflow.len()), (1, 0));
        t.arm(5 * MS, Box::new(|| {}));
        assert_eq!(t.wheel[5].len(), 1);
        t.arm((WHEEL as u64 - 1) * MS, Box::new(|| {}));
        assert_eq!(t.wheel[WHEEL - 1].len(), 1);
        t.arm(WHEEL as u64 * MS, Box::new(|| {}));
        assert_eq!((t.current.len(), t.overflow.len()), (1, 1));
        check(&t);
    }

    #[test]
    fn catch_up_moves_an_empty_wheel_to_the_present_only() {
        let mut t = Timers::new();
        // Stale entries of canceled timers are dropped on the way.
        let ids: Vec<_> = (1..4).map(|i| t.arm(i * MS, Box::new(|| {}))).collect();
        ids.into_iter().for_each(|id| drop(t.cancel(id)));
        let now = 10 * WHEEL as u64 * MS;
        t.catch_up(now);
        assert_eq!((t.cur_tick, t.entries), (tick(now), 0));
        check(&t);
        // Its horizon starts now: 5 ms ahead is on the wheel.
        t.arm(now + 5 * MS, Box::new(|| {}));
        assert!(t.overflow.is_empty());
        // With a timer armed it stays, and the timer with it.
        t.catch_up(now + 100 * WHEEL as u64 * MS);
        assert_eq!(t.cur_tick, tick(now));
        assert_eq!(t.next_deadline(), Some(now + 5 * MS));
    }

    #[test]
    fn stale_entries_are_swept_once_they_pass_1024_and_outnumber_live_twice() {
        let mut t = Timers::new();
        // A few: never swept.
        let ids: Vec<_> = (0..3).map(|i| t.arm(i, Box::new(|| {}))).collect();
        drop(t.cancel(ids[0]));
        drop(t.cancel(ids[1]));
        assert_eq!(t.entries, 3);
        // 1,024 entries, 511 live: not more than 1,024, kept.
        let mut t = Timers::new();
        let ids: Vec<_> = (0..1024).map(|i| t.arm(i, Box::new(|| {}))).collect();
        ids[..513].iter().for_each(|id| drop(t.cancel(*id)));
        assert_eq!((t.entries, t.len()), (1024, 511));
        // 1,025 entries, 511 live after this cancel: swept.
        let one = t.arm(5000, Box::new(|| {}));
        drop(t.cancel(one));
        assert_eq!((t.entries, t.len()), (511, 511));
        check(&t);
        // 2,002 entries (two in the overflow) and 1,001 live: kept; one
        // fewer live: swept, the overflow too.
        let mut t = Timers::new();
        let ids: Vec<_> = (0..2000).map(|i| t.arm(i * MS, Box::new(|| {}))).collect();
        t.arm(10 * WHEEL as u64 * MS, Box::new(|| {}));
        t.arm(11 * WHEEL as u64 * MS, Box::new(|| {}));
        ids[..999].iter().for_each(|id| drop(t.cancel(*id)));
        assert_eq!((t.entries, t.len()), (2002, 1003));
        ids[999..1001].iter().for_each(|id| drop(t.cancel(*id)));
        assert_eq!((t.entries, t.len()), (2002, 1001));
        drop(t.cancel(ids[1001]));
        assert_eq!((t.entries, t.len(), t.overflow.len()), (1000, 1000, 2));
        check(&t);
        assert_eq!(t.next_deadline(), Some(1002 * MS));
    }
}
