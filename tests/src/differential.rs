//! The differential check: random promise programs, each run on the engine
//! under test and by a reference interpreter of the execution model; the
//! two traces must be identical. The same bodies run on every engine of the
//! suite, so every engine's trace equals the reference's, hence each
//! other's.
//!
//! * [`program`]: the small language and its seeded generator (a seed
//!   reproduces a program on every target);
//! * [`real`]: runs a program on the installed engine through lwt's public
//!   API, recording which callback ran, in order, with which value or error;
//! * [`reference`](mod@reference): computes the expected trace without lwt;
//! * [`trace`]: what a trace is made of.
//!
//! A divergence fails the body with the seed, the program and both traces;
//! [`replay`] runs one seed again, and a program that once diverged is kept
//! as a body of its own (`regression_*`).
//!
//! Timers never tie: each program arms at most one timer per slot, slots
//! [`QUANTUM`] apart, so their order is fixed on any engine whose lateness
//! stays under a quantum; every turn a timer's callbacks ask for runs long
//! before the next slot. The programs of a body run [`BATCH`] at a time on
//! the one engine, so a body takes about one program's time per batch.

use std::future::Future;
use std::time::Duration;

use crate::Outcome;

pub mod program;
pub mod real;
pub mod reference;
pub mod trace;

use program::Program;

/// The time between two timer slots of a program: well above the lateness
/// of a real engine's timers on a loaded machine.
pub const QUANTUM: Duration = Duration::from_millis(50);

/// The time a batch has to start, before its first timer slot: a few
/// quanta, so that starting a batch on a loaded machine (50 programs took
/// 57 ms in Chromium at load 10, once) still ends long before any timer of
/// it is due. Starting later than that fails the body, never a retry.
pub const START: Duration = Duration::from_millis(200);

/// The programs of [`differential_programs`] (at most a few hundred in a
/// browser and Node, where the build is slower, thousands elsewhere).
pub const PROGRAMS: u64 = if cfg!(target_arch = "wasm32") {
    400
} else {
    2000
};

/// The programs started at once: few enough that starting them all takes
/// well under [`START`] (the time the turns their ops ask for must be done
/// by), even in a debug build on a loaded machine: about 10 ms natively
/// (250) and 20 ms in Chromium (50) on a quiet one, measured.
pub const BATCH: usize = if cfg!(target_arch = "wasm32") {
    50
} else {
    200
};

/// The first seed; `LWT_DIFF_SEED` at build time picks others.
pub fn first_seed() -> u64 {
    option_env!("LWT_DIFF_SEED")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

/// Runs the programs of `seeds` at once on the installed engine and checks
/// each trace against the reference's; the error names every program that
/// diverged (the first three in full).
///
/// (Not an `async fn`: every `pub async fn` of a body module is a body.)
pub fn check(seeds: impl IntoIterator<Item = u64>) -> impl Future<Output = Outcome> {
    let programs: Vec<Program> = seeds.into_iter().map(Program::generate).collect();
    async move { check_programs(programs).await }
}

async fn check_programs(programs: Vec<Program>) -> Outcome {
    let mut diverged = Vec::new();
    let mut report = String::new();
    for batch in programs.chunks(BATCH) {
        // The batch starts within START: the turns its ops ask for at once
        // come before its first timer slot.
        let base = lwt::now()? + START;
        let running: Vec<real::Running> = batch
            .iter()
            .map(|p| real::start(p, base, QUANTUM))
            .collect();
        let late = lwt::now()?.saturating_duration_since(base);
        // Whatever happens, the batch ends before the body does: nothing of
        // it is left on the engine.
        lwt::join(running.iter().map(real::Running::end)).await?;
        if late > Duration::ZERO {
            return Err(lwt::Error::msg(format!(
                "starting {} programs took more than {START:?} (by {late:?}): \
                 their timers could tie; lower BATCH",
                batch.len()
            )));
        }
        let lateness = running.iter().map(real::Running::lateness).max();
        for (program, run) in batch.iter().zip(running) {
            let got = run.finish();
            let want = reference::expected(program);
            if got != want {
                if diverged.len() < 3 {
                    let at = got.iter().zip(&want).take_while(|(g, w)| g == w).count();
                    report.push_str(&format!(
                        "\n(the batch's timers fired up to {lateness:?} late, for a quantum of {QUANTUM:?}: \
                         past half a quantum, an overloaded machine can explain a divergence)\n\
                         {program:?}first difference at event {at}\n  engine:    {got:?}\n  reference: {want:?}\n"
                    ));
                }
                diverged.push(program.seed);
            }
        }
    }
    if diverged.is_empty() {
        Ok(())
    } else {
        Err(lwt::Error::msg(format!(
            "{} of {} programs diverged from the reference (seeds {diverged:?}):{report}",
            diverged.len(),
            programs.len()
        )))
    }
}

/// Runs the program of one seed on the installed engine against the
/// reference.
///
/// ```
/// let engine = lwt::testing::VirtualEngine::new();
/// engine.block_on(lwt_conformance::differential::replay(7)).unwrap();
/// ```
pub fn replay(seed: u64) -> impl Future<Output = Outcome> {
    check([seed])
}

/// [`PROGRAMS`] random programs, every trace equal to the reference's.
pub async fn differential_programs() -> Outcome {
    let first = first_seed();
    check(first..first + PROGRAMS).await
}

// ------------------------------------------------------------ regressions

/// Found by the differential check: a chain of yields with a pause waiting.
/// The browser resolved the whole chain first (microtasks run before the
/// next task), the native engine one more link than the virtual one; now
/// every engine resolves yields until none is left before the next turn's
/// pauses.
pub async fn regression_yield_chain_before_pause() -> Outcome {
    use program::{Action, Op::*};
    let now = Program {
        seed: 0,
        ops: vec![
            Wait,
            Resolve(0, 1),
            YieldAfter(0),
            YieldAfter(1),
            YieldAfter(2),
            YieldAfter(3),
            Pause,
            PauseAfter(2),
        ],
    };
    let after_a_timer = Program {
        seed: 0,
        ops: vec![
            Task,
            At(1, Action::Resolve(0, 1)),
            YieldAfter(0),
            YieldAfter(1),
            YieldAfter(2),
            YieldAfter(3),
            PauseAfter(0),
            PauseAfter(2),
            Pause,
        ],
    };
    // Events: p0 .. p3 of the yield chain, then the pauses.
    let want = reference::expected(&now);
    let order: Vec<usize> = want
        .iter()
        .filter_map(|e| match e {
            trace::Event::Settled(p, _) => Some(*p),
            _ => None,
        })
        .collect();
    assert_eq!(order, [0, 1, 2, 3, 4, 5, 6]);
    check_programs(vec![now, after_a_timer]).await
}
