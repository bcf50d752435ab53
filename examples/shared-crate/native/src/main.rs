//! The shared scenario of `resilience` on the native engine: prints its
//! trace, one line per event, the same lines `resilience-web` prints in Node.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Before anything installs the engine: the error the core gives
    // without one names the calls that install it here.
    let first = match resilience::check_no_engine(&["lwt_native::run", "lwt_native::install()"]) {
        Ok(line) => line,
        Err(e) => {
            eprintln!("resilience-native: {e}");
            return ExitCode::FAILURE;
        }
    };
    // `scenario()` starts its timers at once (a spawned task runs until its
    // first await), so it is called inside `run`, once the engine is there.
    match lwt_native::run(async { resilience::scenario().await }) {
        Ok(lines) => {
            println!("{first}");
            for line in lines {
                println!("{line}");
            }
            println!("{}", resilience::timers_left(lwt_native::timer_count()));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("resilience-native: the scenario failed: {e}");
            ExitCode::FAILURE
        }
    }
}
