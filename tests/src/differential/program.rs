//! The language of the differential check and its seeded generator.
//!
//! A program is a list of [`Op`]s run in order, synchronously, by the body
//! that starts it; each op that makes a promise appends it to the program's
//! promise list, and ops name earlier promises by their index in that list
//! (indices are always valid: the generator only names what exists). Timed
//! ops ([`Op::Sleep`], [`Op::At`]) name a *slot* `k`: their timer is armed
//! for `k` quanta after the program starts. Every slot is used at most once
//! per program, and the program's end is one slot after the last, so no
//! two timers of a program ever tie: the order of timers is fixed by
//! construction, on a virtual clock and on a real one alike, as long as the
//! quantum is larger than the engine's lateness.

use std::fmt;

/// The most timer slots a program uses (its end is the slot after).
pub const SLOTS: u32 = 8;

/// What a timer of [`Op::At`] does when it fires.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Fulfills resolver `r` (the `r`-th made by `Wait`/`Task`) with a value.
    Resolve(usize, i64),
    /// Rejects resolver `r` with the error `e{code}`.
    Reject(usize, u8),
    /// Cancels promise `i`.
    Cancel(usize),
    /// Pushes a value into the program's stream.
    Push(i64),
    /// Closes the program's stream.
    Close,
}

/// One step of a program. "New" marks the ops that make a promise.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// New: `lwt::wait()`; its resolver is the next resolver.
    Wait,
    /// New: `lwt::task()` (cancelable); its resolver is the next resolver.
    Task,
    /// New: `sleep(k quanta)`, fulfilled with `k`.
    Sleep(u32),
    /// Fulfills resolver `r` now.
    Resolve(usize, i64),
    /// Rejects resolver `r` now with `e{code}`.
    Reject(usize, u8),
    /// Arms a timer at slot `k` that performs the action.
    At(u32, Action),
    /// New: `p.bind(|v| resolved(v + k))`.
    Bind(usize, i64),
    /// New: `p.bind(|_| q)`, with `q` another promise of the program.
    BindTo(usize, usize),
    /// New: `p.map(|v| 2v + k)`.
    Map(usize, i64),
    /// New: `p.catch(|_| resolved(k))`.
    Catch(usize, i64),
    /// New: `p.finalize(f)`, where `f` records that it ran.
    Finalize(usize),
    /// New: `join(ps)`, mapped to 0.
    Join(Vec<usize>),
    /// New: `all(ps)`, its values folded into one ([`fold`]).
    All(Vec<usize>),
    /// New: `pick(ps)`.
    Pick(Vec<usize>),
    /// New: `choose(ps)`.
    Choose(Vec<usize>),
    /// New: `nchoose(ps)`, its values folded into one ([`fold`]).
    NChoose(Vec<usize>),
    /// Cancels promise `i` now.
    Cancel(usize),
    /// New: `protected(p)`.
    Protected(usize),
    /// New: `pause()`, mapped to 0.
    Pause,
    /// New: `p.bind(|v| pause().map(v))`.
    PauseAfter(usize),
    /// New: `p.bind(|v| yield_now().map(v))`.
    YieldAfter(usize),
    /// New: the stream's `next()`, an element or -1 at the end.
    Next,
    /// Pushes a value into the stream now.
    Push(i64),
    /// Closes the stream now.
    Close,
    /// New: `p.bind(|v| mutex.with_lock(|| pause().map(v)))`.
    Locked(usize),
}

impl Op {
    /// Whether the op appends a promise to the program's list.
    pub fn makes_promise(&self) -> bool {
        !matches!(
            self,
            Op::Resolve(..) | Op::Reject(..) | Op::At(..) | Op::Cancel(_) | Op::Push(_) | Op::Close
        )
    }
}

/// The values of `all` and `nchoose`, folded into one number in order.
///
/// ```
/// use lwt_conformance::differential::program::fold;
/// assert_ne!(fold(&[1, 2]), fold(&[2, 1]));
/// assert_eq!(fold(&[]), 7);
/// ```
pub fn fold(values: &[i64]) -> i64 {
    values
        .iter()
        .fold(7i64, |acc, v| acc.wrapping_mul(31).wrapping_add(*v))
}

/// A program: its seed and its ops.
#[derive(Clone, PartialEq)]
pub struct Program {
    /// The seed [`Program::generate`] made it from.
    pub seed: u64,
    /// The ops, run in order.
    pub ops: Vec<Op>,
}

impl Program {
    /// The slot of the program's end: after every timer it arms.
    pub fn end_slot(&self) -> u32 {
        self.ops
            .iter()
            .filter_map(|op| match op {
                Op::Sleep(k) | Op::At(k, _) => Some(*k),
                _ => None,
            })
            .max()
            .unwrap_or(0)
            + 1
    }

    /// The program `seed` stands for: the same seed, the same program, on
    /// every target.
    ///
    /// ```
    /// use lwt_conformance::differential::program::Program;
    /// assert!(Program::generate(5) == Program::generate(5));
    /// assert!(!Program::generate(5).ops.is_empty());
    /// ```
    pub fn generate(seed: u64) -> Program {
        Gen::new(seed).program(seed)
    }
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "program (seed {}):", self.seed)?;
        let mut n = 0;
        for op in &self.ops {
            if op.makes_promise() {
                writeln!(f, "  p{n} = {op:?}")?;
                n += 1;
            } else {
                writeln!(f, "  {op:?}")?;
            }
        }
        Ok(())
    }
}

/// splitmix64: small, seedable, the same on every target.
struct Gen {
    state: u64,
    promises: usize,
    resolvers: usize,
    slots: Vec<u32>,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        Gen {
            state: seed ^ 0x5eed_1a7e_d1ff_0000,
            promises: 0,
            resolvers: 0,
            slots: Vec::new(),
        }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn value(&mut self) -> i64 {
        self.below(19) as i64 - 9
    }

    fn promise(&mut self) -> usize {
        // Favour recent promises: chains grow deeper that way.
        let n = self.promises;
        if self.below(2) == 0 {
            n - 1 - self.below(n.min(4))
        } else {
            self.below(n)
        }
    }

    fn list(&mut self) -> Vec<usize> {
        let len = 1 + self.below(3);
        (0..len).map(|_| self.promise()).collect()
    }

    /// A slot no timer of the program uses yet.
    fn slot(&mut self) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let i = self.below(self.slots.len());
        Some(self.slots.swap_remove(i))
    }

    fn action(&mut self) -> Action {
        match self.below(5) {
            0 | 1 if self.resolvers > 0 => {
                Action::Resolve(self.below(self.resolvers), self.value())
            }
            2 if self.resolvers > 0 => {
                Action::Reject(self.below(self.resolvers), self.below(3) as u8)
            }
            3 if self.promises > 0 => Action::Cancel(self.promise()),
            4 => Action::Close,
            _ => Action::Push(self.value()),
        }
    }

    fn op(&mut self) -> Option<Op> {
        let have = self.promises > 0;
        let resolvers = self.resolvers;
        Some(match self.below(26) {
            0 | 1 => Op::Wait,
            2 | 3 => Op::Task,
            4 => Op::Sleep(self.slot()?),
            5 if resolvers > 0 => Op::Resolve(self.below(resolvers), self.value()),
            6 if resolvers > 0 => Op::Reject(self.below(resolvers), self.below(3) as u8),
            7 | 8 => {
                let k = self.slot()?;
                Op::At(k, self.action())
            }
            9 | 10 if have => Op::Bind(self.promise(), self.value()),
            11 if have => Op::BindTo(self.promise(), self.promise()),
            12 if have => Op::Map(self.promise(), self.value()),
            13 if have => Op::Catch(self.promise(), self.value()),
            14 if have => Op::Finalize(self.promise()),
            15 if have => Op::Join(self.list()),
            16 if have => Op::All(self.list()),
            17 if have => Op::Pick(self.list()),
            18 if have => Op::Choose(self.list()),
            19 if have => Op::NChoose(self.list()),
            20 if have => Op::Cancel(self.promise()),
            21 if have => Op::Protected(self.promise()),
            22 => match self.below(3) {
                0 => Op::Pause,
                1 if have => Op::PauseAfter(self.promise()),
                _ if have => Op::YieldAfter(self.promise()),
                _ => Op::Pause,
            },
            23 => match self.below(4) {
                0 => Op::Push(self.value()),
                1 if self.below(3) == 0 => Op::Close,
                _ => Op::Next,
            },
            24 if have => Op::Locked(self.promise()),
            _ => return None,
        })
    }

    fn program(&mut self, seed: u64) -> Program {
        self.slots = (1..=SLOTS).collect();
        let len = 4 + self.below(22);
        let mut ops = Vec::with_capacity(len);
        while ops.len() < len {
            let Some(op) = self.op() else { continue };
            if op.makes_promise() {
                self.promises += 1;
            }
            if matches!(op, Op::Wait | Op::Task) {
                self.resolvers += 1;
            }
            ops.push(op);
        }
        Program { seed, ops }
    }
}
