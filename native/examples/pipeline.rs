//! A child-process pipeline: `seq 1 20 | grep 1 | wc -l`, with the bytes
//! passing through the loop, and a time-out on the whole.
//!
//! ```text
//! cargo run -p lwt-native --example pipeline
//! ```
//!
//! Each child's stdout is read by a task and written to the next child's
//! stdin; dropping a stdin closes it, so each stage sees end of input.

use std::process::{Command, Stdio};
use std::time::Duration;

use lwt_native::process::{self, PipeReader, PipeWriter};

fn pump(from: PipeReader, to: PipeWriter) -> lwt::Promise<()> {
    lwt::spawn(async move {
        let mut buf = [0; 4096];
        loop {
            let n = from.read(&mut buf).await?;
            if n == 0 {
                return Ok(()); // `to` is dropped here: the next stage sees EOF
            }
            to.write_all(&buf[..n]).await?;
        }
    })
}

fn main() {
    let result = lwt_native::run(async {
        let mut seq = process::spawn(Command::new("seq").args(["1", "20"]).stdout(Stdio::piped()))?;
        let mut grep = process::spawn(
            Command::new("grep")
                .arg("1")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped()),
        )?;
        let mut wc = process::spawn(
            Command::new("wc")
                .arg("-l")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped()),
        )?;
        let a = pump(seq.stdout.take().unwrap(), grep.stdin.take().unwrap());
        let b = pump(grep.stdout.take().unwrap(), wc.stdin.take().unwrap());
        let counted = wc.stdout.take().unwrap().read_to_end();
        let all = lwt::spawn(async move {
            a.await?;
            b.await?;
            let out = counted.await?;
            for (name, child) in [("seq", &seq), ("grep", &grep), ("wc", &wc)] {
                println!("{name} exited: {}", child.wait().await?);
            }
            Ok(String::from_utf8_lossy(&out).trim().to_string())
        });
        let lines = lwt::with_timeout(Duration::from_secs(10), &all).await?;
        println!("numbers in 1..=20 containing a 1: {lines}");
        Ok(())
    });
    if let Err(e) = result {
        eprintln!("pipeline: {e}");
        std::process::exit(1);
    }
}
