//! Child processes: pipes, waiting, kill, time-outs, no zombies.

use std::process::{Command, Stdio};
use std::time::Duration;

use lwt_native::process;

/// How many children this process has, read from `/proc` (only the
/// zombies, state `Z`, if `zombies_only`).
fn children_of_this_process(zombies_only: bool) -> usize {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|stat| {
            // pid (comm) state ppid ...
            let after = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
            let mut f = after.split_whitespace();
            let state = f.next();
            (!zombies_only || state == Some("Z")) && f.next() == Some(me.as_str())
        })
        .count()
}

fn zombies_of_this_process() -> usize {
    children_of_this_process(true)
}

#[test]
fn pipes_wait_kill_and_timeout() {
    lwt_native::run(async {
        // A pipeline: printf | tr a-z A-Z, fed through the loop.
        let mut tr = Command::new("tr");
        tr.args(["a-z", "A-Z"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let tr = process::spawn(&mut tr)?;
        let stdin = tr.stdin.clone().unwrap();
        let stdout = tr.stdout.clone().unwrap();
        let reading = stdout.read_to_end();
        let out = process::output_of("printf", ["hello\\nworld\\n"]).await?;
        stdin.write_all(&out.stdout).await?;
        drop(stdin);
        let mut tr = tr;
        tr.stdin = None;
        assert_eq!(reading.await?, b"HELLO\nWORLD\n");
        assert!(tr.wait().await?.success());

        // Kill.
        let sleeper = process::spawn(Command::new("sleep").arg("30"))?;
        let wait = sleeper.wait();
        lwt::sleep(Duration::from_millis(10)).await?;
        assert!(wait.is_pending());
        sleeper.kill()?;
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(wait.await?.signal(), Some(libc::SIGKILL));

        // Time-out.
        let slow = process::spawn(Command::new("sleep").arg("30"))?;
        let e = slow
            .wait_timeout(Duration::from_millis(20))
            .await
            .unwrap_err();
        assert_eq!(
            lwt_native::io_error_kind(&e),
            Some(std::io::ErrorKind::TimedOut)
        );
        assert!(slow.try_wait()?.is_some());

        // Spawn failure.
        let e = process::output_of("/no/such/program", [""; 0])
            .await
            .unwrap_err();
        assert_eq!(
            lwt_native::io_error_kind(&e),
            Some(std::io::ErrorKind::NotFound)
        );

        // Dropped children are reaped when they exit.
        for _ in 0..5 {
            drop(process::spawn(&mut Command::new("true"))?);
        }
        // Wait until they are gone altogether (not merely not zombies yet:
        // a child that has not exited is no zombie either).
        let deadline = lwt::now()? + Duration::from_secs(5);
        while children_of_this_process(false) > 0 && lwt::now()? < deadline {
            lwt::sleep(Duration::from_millis(10)).await?;
        }
        assert_eq!(zombies_of_this_process(), 0);
        assert_eq!(children_of_this_process(false), 0);
        Ok(())
    })
    .unwrap();
}
