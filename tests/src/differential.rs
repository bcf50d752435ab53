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
//! * [`reference`]: computes the expected trace without lwt;
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
pub const QUANTUM: Duration = Duration::from_millis(40);

/// The programs of [`differential_programs`] (at most a few hundred in a
/// browser and Node, where the build is slower, thousands elsewhere).
pub const PROGRAMS: u64 = if cfg!(target_arch = "wasm32") {
    400
} else {
    2000
};

/// The programs started at once: few enough that starting them all takes
/// well under half a [`QUANTUM`] (the turn their ops ask for must come
/// before their first timer), even in a debug build on a loaded machine.
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
        let started = lwt::now()?;
        let running: Vec<real::Running> = batch.iter().map(|p| real::start(p, QUANTUM)).collect();
        // The first program's timers run from `started`: the turn its ops
        // asked for must come well before its first slot.
        let building = lwt::now()? - started;
        if building > QUANTUM / 2 {
            return Err(lwt::Error::msg(format!(
                "starting {} programs took {building:?}, more than half a quantum ({QUANTUM:?}): \
                 their timers could tie; lower BATCH",
                batch.len()
            )));
        }
        lwt::join(running.iter().map(real::Running::end)).await?;
        for (program, run) in batch.iter().zip(running) {
            let got = run.finish();
            let want = reference::expected(program);
            if got != want {
                if diverged.len() < 3 {
                    let at = got.iter().zip(&want).take_while(|(g, w)| g == w).count();
                    report.push_str(&format!(
                        "\n{program:?}first difference at event {at}\n  engine:    {got:?}\n  reference: {want:?}\n"
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
