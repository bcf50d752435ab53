//! `cargo xtask JOB`: the project's one task runner.
//!
//! Every check CI makes is a job here, and `cargo xtask ci` runs them all, in
//! the order a failure is cheapest to find. Jobs that need a tool (the wasm32
//! target, wasm-bindgen-cli, Chromium, Node.js, npm packages) install it
//! first when it is missing and skip it when it is present: see [`tools`].
//! Nothing else in the repository installs anything.
//!
//! `cargo xtask help` lists the jobs.

use std::borrow::BorrowMut;
use std::collections::BTreeMap;
use std::env;
use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

#[path = "../../tests/bodies.rs"]
mod bodies;
mod cycles;
mod tools;

/// What a job returns: `Err` carries the message printed before exiting 1.
type Result<T = ()> = std::result::Result<T, String>;

/// One job: its name, what it checks, and how to run it.
struct Job {
    name: &'static str,
    about: &'static str,
    run: fn(&Ctx, &[String]) -> Result,
}

const JOBS: &[Job] = &[
    Job {
        name: "ci",
        about: "every job below but demo and bench-wasm, in order: what CI runs",
        run: ci,
    },
    Job {
        name: "tools",
        about: "install what the jobs need and is missing (LWT_FRESH_TOOLS=DIR: as on a fresh machine)",
        run: |_, _| tools::prepare_all(),
    },
    Job {
        name: "tools-later",
        about: "install only the debug-built cargo tools (wasm-pack, cargo-mutants, geckodriver) and binaryen's wasm-opt: what ci installs in the background",
        run: |_, _| tools::prepare_later(),
    },
    Job {
        name: "fmt",
        about: "cargo fmt --check over the workspace",
        run: fmt,
    },
    Job {
        name: "cycles",
        about: "no import cycles between sibling modules of any crate",
        run: |ctx, _| cycles::check_all(&ctx.root),
    },
    Job {
        name: "clippy",
        about: "clippy -D warnings: the workspace on the host (lwt-native also with its hyper, tls and tokio features), the core, lwt-wasm and the web app on wasm32",
        run: clippy,
    },
    Job {
        name: "cross",
        about: "check and clippy lwt-native for macOS (x86_64, aarch64) and FreeBSD (no linker: not run there)",
        run: cross,
    },
    Job {
        name: "docs",
        about: "cargo doc with RUSTDOCFLAGS=-D warnings (broken links fail)",
        run: docs,
    },
    Job {
        name: "package",
        about: "cargo package --workspace: the library crates package and build from their packages alone",
        run: package,
    },
    Job {
        name: "test",
        about: "native tests of every crate (lwt-native also with its hyper, tls and tokio features), their doc tests, the web app's crate tests",
        run: test,
    },
    Job {
        name: "conformance",
        about: "the conformance suite on [virtual] [native] [node] [chromium] [firefox] (default: all five)",
        run: conformance,
    },
    Job {
        name: "mutants",
        about: "cargo-mutants on the lines changed since [BASE] (default: the merge-base with origin/main, else main), within a time budget",
        run: mutants,
    },
    Job {
        name: "wasm-tests",
        about: "lwt-wasm's own tests in Node, headless Chromium and headless Firefox",
        run: wasm_tests,
    },
    Job {
        name: "shared-example",
        about: "examples/shared-crate: one library on lwt alone, run natively and in Node; both must print the same trace",
        run: shared_example,
    },
    Job {
        name: "e2e",
        about: "builds the web app and runs its end-to-end tests in [chromium] [firefox] (default: both)",
        run: e2e,
    },
    Job {
        name: "wasm-pack-example",
        about: "builds examples/wasm-pack-lib with wasm-pack into npm packages and tests them in Node and headless Chromium",
        run: wasm_pack_example,
    },
    Job {
        name: "www-build",
        about: "builds the web app into www/dist, and its server and CLI client",
        run: |ctx, _| www_build(ctx),
    },
    Job {
        name: "demo",
        about: "the main demo: builds the web app and serves it on 127.0.0.1:[PORT] (default 8080)",
        run: demo,
    },
    Job {
        name: "bench-wasm",
        about: "the minimal apps' sizes and the in-browser benchmarks in [chromium] [firefox] (default: both)",
        run: bench_wasm,
    },
];

/// The engines of the conformance suite: the name of each, its test target
/// in `tests/tests/`, and whether it runs on wasm32 in a browser.
const ENGINES: &[(&str, &str)] = &[
    ("virtual", "virtual"),
    ("native", "native"),
    ("node", "wasm"),
    ("chromium", "wasm"),
    ("firefox", "wasm"),
];

/// The wasm host an engine of [`ENGINES`] runs on.
fn wasm_host(engine: &str) -> tools::Host {
    match engine {
        "chromium" => tools::Host::Chromium,
        "firefox" => tools::Host::Firefox,
        _ => tools::Host::Node,
    }
}

/// The space left on the file system holding `dir`, as `df` reports it
/// ("41.2 GiB"), or `None` when `df` is missing or says something else.
fn free_disk(dir: &Path) -> Option<String> {
    let out = Command::new("df").arg("-Pk").arg(dir).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    // POSIX format: a header line, then "fs blocks used available capacity mount".
    let kib: u64 = text
        .lines()
        .nth(1)?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()?;
    Some(format!("{:.1} GiB", kib as f64 / (1024.0 * 1024.0)))
}

/// What every job sees: where the workspace is, when the run started.
pub struct Ctx {
    root: PathBuf,
    start: Instant,
}

impl Ctx {
    /// Prints a step heading with the seconds since the run began and the
    /// disk space left where the builds go (a full disk fails a build with a
    /// message that names neither).
    fn step(&self, what: &str) {
        let secs = self.start.elapsed().as_secs();
        match free_disk(&self.root) {
            Some(free) => println!("\n==> {what} ({secs}s, {free} free on disk)"),
            None => println!("\n==> {what} ({secs}s)"),
        }
        let _ = io::stdout().flush();
    }

    /// `program args...`, run in the workspace root.
    fn cmd(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args).current_dir(&self.root);
        cmd
    }

    /// `cargo args...`, run in the workspace root.
    fn cargo(&self, args: &[&str]) -> Command {
        self.cmd("cargo", args)
    }

    /// The target directory cargo builds into.
    fn target_dir(&self) -> PathBuf {
        env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.root.join("target"))
    }

    /// Where test logs are kept.
    fn logs(&self) -> Result<PathBuf> {
        let dir = self.target_dir().join("test-logs");
        fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        Ok(dir)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let Some(name) = args.first() else {
        help();
        return ExitCode::from(2);
    };
    if matches!(name.as_str(), "help" | "-h" | "--help") {
        help();
        return ExitCode::SUCCESS;
    }
    let Some(job) = JOBS.iter().find(|j| j.name == name) else {
        eprintln!("xtask: no job `{name}`");
        help();
        return ExitCode::from(2);
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ is inside the workspace")
        .to_path_buf();
    let ctx = Ctx {
        root,
        start: Instant::now(),
    };
    tools::set_up_paths();
    match (job.run)(&ctx, &args[1..]) {
        Ok(()) => {
            ctx.step(&format!("{name}: done"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "\nxtask {name}: FAILED after {}s: {e}",
                ctx.start.elapsed().as_secs()
            );
            ExitCode::FAILURE
        }
    }
}

fn help() {
    eprintln!("usage: cargo xtask JOB [ARGS]\n\njobs:");
    for job in JOBS {
        eprintln!("  {:<18} {}", job.name, job.about);
    }
}

/// Runs `cmd` (a `Command` or a `&mut Command`) with its output shown as it
/// comes; fails if it fails.
fn run(mut cmd: impl BorrowMut<Command>) -> Result {
    let cmd = cmd.borrow_mut();
    let status = cmd
        .status()
        .map_err(|e| format!("could not start {}: {e}", show(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", show(cmd)))
    }
}

/// Runs `cmd` with standard output and error merged, shown as they come and
/// also returned (and written to `log` when given). `Err` holds the output's
/// last lines when the command fails.
fn run_captured(mut cmd: Command, log: Option<&Path>) -> Result<String> {
    let (reader, writer) = io::pipe().map_err(|e| format!("pipe: {e}"))?;
    let writer2 = writer.try_clone().map_err(|e| format!("pipe: {e}"))?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer2)
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", show(&cmd)))?;
    // `cmd` holds the parent's copies of the pipe's writing end: drop it, so
    // that the reader sees the end of the output when the child exits.
    let described = show(&cmd);
    drop(cmd);
    let mut out = String::new();
    let mut file = match log {
        Some(path) => {
            Some(fs::File::create(path).map_err(|e| format!("creating {}: {e}", path.display()))?)
        }
        None => None,
    };
    for line in BufReader::new(reader).lines() {
        let line = line.unwrap_or_else(|e| format!("(unreadable output: {e})"));
        println!("{line}");
        if let Some(f) = file.as_mut() {
            let _ = writeln!(f, "{line}");
        }
        out.push_str(&line);
        out.push('\n');
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for {described}: {e}"))?;
    if status.success() {
        Ok(out)
    } else {
        Err(format!("{described} failed ({status})\n{out}"))
    }
}

/// A command as a shell would show it, for messages.
fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}

fn ci(ctx: &Ctx, _: &[String]) -> Result {
    ctx.step("tools: install what is missing");
    tools::prepare_first()?;
    // The tools only the later jobs need build meanwhile: the first jobs
    // leave a core idle often enough (linking, tests waiting on sockets and
    // timers) to save minutes on a fresh machine.
    let later = Background::start(ctx, "tools-later")?;
    fmt(ctx, &[])?;
    ctx.step("import cycles between sibling modules");
    cycles::check_all(&ctx.root)?;
    clippy(ctx, &[])?;
    cross(ctx, &[])?;
    docs(ctx, &[])?;
    package(ctx, &[])?;
    test(ctx, &[])?;
    ctx.step("tools: waiting for the background install");
    later.wait()?;
    conformance(ctx, &[])?;
    mutants(ctx, &[])?;
    wasm_tests(ctx, &[])?;
    shared_example(ctx, &[])?;
    e2e(ctx, &[])?;
    wasm_pack_example(ctx, &[])?;
    Ok(())
}

/// A job of this program run in a child process, its output kept in a log
/// file and shown when it is waited for. Dropped without [`Background::wait`]
/// (a job before it failed), the child is killed.
struct Background {
    child: Option<std::process::Child>,
    job: &'static str,
    log: PathBuf,
}

impl Background {
    fn start(ctx: &Ctx, job: &'static str) -> Result<Background> {
        let log = ctx.logs()?.join(format!("{job}.log"));
        let file =
            fs::File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let file2 = file
            .try_clone()
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let exe = env::current_exe().map_err(|e| format!("this program's path: {e}"))?;
        let mut cmd = Command::new(exe);
        cmd.arg(job)
            .current_dir(&ctx.root)
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(file2);
        // A group of its own, so that a kill reaches the cargo it runs too.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd
            .spawn()
            .map_err(|e| format!("could not start the job {job}: {e}"))?;
        println!(
            "{job}: running in the background, output in {}",
            log.display()
        );
        Ok(Background {
            child: Some(child),
            job,
            log,
        })
    }

    /// Waits for the job; prints its `tools:` lines, or its last lines if
    /// it failed.
    fn wait(mut self) -> Result {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let status = child
            .wait()
            .map_err(|e| format!("waiting for the job {}: {e}", self.job))?;
        let out = fs::read_to_string(&self.log).unwrap_or_default();
        if status.success() {
            for line in out.lines().filter(|l| l.starts_with("tools:")) {
                println!("{line}");
            }
            return Ok(());
        }
        let lines: Vec<&str> = out.lines().collect();
        for line in &lines[lines.len().saturating_sub(40)..] {
            println!("{line}");
        }
        Err(format!(
            "the background job {} failed ({status}); its whole output is in {}",
            self.job,
            self.log.display()
        ))
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = Command::new("kill")
                .args(["--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
        }
    }
}

fn fmt(ctx: &Ctx, _: &[String]) -> Result {
    ctx.step("cargo fmt --check");
    tools::rust_components()?;
    run(ctx.cargo(&["fmt", "--all", "--", "--check"]))?;
    run(ctx.cargo(&[
        "fmt",
        "--manifest-path",
        "examples/wasm-pack-lib/Cargo.toml",
        "--",
        "--check",
    ]))?;
    run(ctx.cargo(&[
        "fmt",
        "--all",
        "--manifest-path",
        "examples/shared-crate/Cargo.toml",
        "--",
        "--check",
    ]))
}

fn clippy(ctx: &Ctx, _: &[String]) -> Result {
    tools::rust_components()?;
    tools::wasm_target()?;
    ctx.step("clippy (host)");
    run(ctx.cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    ctx.step("clippy (lwt-native with its hyper, tls and tokio features)");
    run(ctx.cargo(&[
        "clippy",
        "-p",
        "lwt-native",
        "--all-targets",
        "--features",
        "hyper,tls,tokio",
        "--",
        "-D",
        "warnings",
    ]))?;
    ctx.step("clippy (lwt-core with its anyhow feature)");
    run(ctx.cargo(&[
        "clippy",
        "-p",
        "lwt-core",
        "--all-targets",
        "--features",
        "anyhow",
        "--",
        "-D",
        "warnings",
    ]))?;
    ctx.step("clippy (wasm32)");
    // The core's library must build for wasm32; its tests and benches are
    // native (proptest, criterion, tokio). The wasm crate's tests and the
    // browser app are wasm32 only.
    let wasm = "wasm32-unknown-unknown";
    run(ctx.cargo(&[
        "clippy", "-p", "lwt-core", "--target", wasm, "--lib", "--", "-D", "warnings",
    ]))?;
    run(ctx.cargo(&[
        "clippy",
        "-p",
        "lwt-wasm",
        "--target",
        wasm,
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(ctx.cargo(&[
        "clippy",
        "-p",
        "lwt-www-app",
        "--target",
        wasm,
        "--",
        "-D",
        "warnings",
    ]))
}

/// The other platforms lwt-native supports. Tests run on Linux only (this
/// machine has no linker for these); checking and linting every target
/// catches a platform break here.
const CROSS_TARGETS: &[&str] = &[
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-unknown-freebsd",
];

fn cross(ctx: &Ctx, _: &[String]) -> Result {
    tools::rust_components()?;
    for target in CROSS_TARGETS {
        tools::rust_target(target)?;
        ctx.step(&format!("clippy lwt-native for {target}"));
        run(ctx.cargo(&[
            "clippy",
            "-p",
            "lwt-native",
            "--target",
            target,
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))?;
    }
    Ok(())
}

fn docs(ctx: &Ctx, _: &[String]) -> Result {
    ctx.step("docs (RUSTDOCFLAGS=-D warnings)");
    run(ctx
        .cargo(&[
            "doc",
            "--workspace",
            "--no-deps",
            "--features",
            "lwt-native/hyper,lwt-native/tls,lwt-native/tokio,lwt-core/anyhow",
        ])
        .env("RUSTDOCFLAGS", "-D warnings"))
}

/// `cargo package --workspace` (each package built from its `.crate`
/// alone, against the other packages of this run rather than the registry),
/// less the members marked `publish = false`, which cargo would otherwise
/// package too.
fn package(ctx: &Ctx, _: &[String]) -> Result {
    let members = members(&ctx.root)?;
    let unpublished: Vec<&str> = members
        .iter()
        .filter(|m| !m.publish)
        .map(|m| m.name.as_str())
        .collect();
    ctx.step(&format!(
        "cargo package --workspace, less the unpublished {}",
        unpublished.join(", ")
    ));
    forget_unpacked_packages(&members)?;
    let mut cmd = ctx.cargo(&["package", "--workspace"]);
    for name in &unpublished {
        cmd.args(["--exclude", name]);
    }
    run(cmd)
}

/// Cargo verifies a package that depends on another member by unpacking
/// that member's `.crate` from a scratch registry into
/// `$CARGO_HOME/registry/src/<registry>-<hash>/<name>-<version>`, where the
/// hash comes from the scratch registry's path, which is the same on every
/// run in the same checkout. Cargo skips the unpacking when the directory is
/// already there, so a machine that packaged the same version before builds
/// the dependents against the old sources, and a new item of `lwt-core` is
/// "not found" in `lwt-native`. Removing our own packages' unpacked copies
/// first makes cargo unpack this run's; nothing else is touched.
fn forget_unpacked_packages(members: &[Member]) -> Result {
    let Ok(registries) = fs::read_dir(tools::cargo_home().join("registry").join("src")) else {
        return Ok(()); // nothing unpacked yet
    };
    for registry in registries.flatten() {
        for member in members.iter().filter(|m| m.publish) {
            let unpacked = registry
                .path()
                .join(format!("{}-{}", member.name, member.version));
            if unpacked.is_dir() {
                fs::remove_dir_all(&unpacked)
                    .map_err(|e| format!("removing {}: {e}", unpacked.display()))?;
                println!("removed the old unpacked copy {}", unpacked.display());
            }
        }
    }
    Ok(())
}

/// A workspace member as its manifest names it.
struct Member {
    name: String,
    version: String,
    /// `false` when the manifest says `publish = false`.
    publish: bool,
}

/// The workspace members, read from the root manifest's `members` list
/// (`version.workspace = true` reads the root's `[workspace.package]`).
fn members(root: &Path) -> Result<Vec<Member>> {
    let read = |path: &Path| {
        fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
    };
    let section = |manifest: &str, name: &str| -> String {
        manifest
            .split("\n[")
            .find(|s| s.starts_with(&format!("[{name}]")) || s.starts_with(&format!("{name}]")))
            .unwrap_or("")
            .to_string()
    };
    let field = |section: &str, key: &str| {
        section.lines().find_map(|line| {
            let (k, v) = line.split_once('=')?;
            (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
        })
    };
    let workspace = read(&root.join("Cargo.toml"))?;
    let workspace_version = field(&section(&workspace, "workspace.package"), "version");
    let list = workspace
        .split_once("members = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| list)
        .ok_or("the root Cargo.toml has no `members = [...]` list")?;
    let mut members = Vec::new();
    for member in list.split(',').map(|m| m.trim().trim_matches('"')) {
        if member.is_empty() {
            continue;
        }
        let package = section(&read(&root.join(member).join("Cargo.toml"))?, "package");
        let name =
            field(&package, "name").ok_or(format!("{member}/Cargo.toml names no package"))?;
        let version = match field(&package, "version.workspace").as_deref() {
            Some("true") => workspace_version.clone(),
            _ => field(&package, "version"),
        }
        .ok_or(format!("{member}/Cargo.toml gives no version"))?;
        let publish = field(&package, "publish").as_deref() != Some("false");
        members.push(Member {
            name,
            version,
            publish,
        });
    }
    Ok(members)
}

fn test(ctx: &Ctx, _: &[String]) -> Result {
    ctx.step("tests: every crate natively, and their doc tests");
    // The conformance suite's engine targets run in `conformance`, where
    // each engine's count is checked; its library's own tests run here.
    run(ctx.cargo(&["test", "--workspace", "--exclude", "lwt-conformance"]))?;
    ctx.step("tests: lwt-native with its hyper, tls and tokio features");
    run(ctx.cargo(&["test", "-p", "lwt-native", "--features", "hyper,tls,tokio"]))?;
    ctx.step("tests: lwt-core with its anyhow feature");
    run(ctx.cargo(&["test", "-p", "lwt-core", "--features", "anyhow"]))?;
    // (cargo takes `--doc` alone: no other target selection beside it.)
    run(ctx.cargo(&["test", "-p", "lwt-conformance", "--lib"]))?;
    run(ctx.cargo(&["test", "-p", "lwt-conformance", "--doc"]))
}

fn conformance(ctx: &Ctx, args: &[String]) -> Result {
    let wanted: Vec<&str> = if args.is_empty() {
        ENGINES.iter().map(|(name, _)| *name).collect()
    } else {
        args.iter().map(String::as_str).collect()
    };
    let bodies = bodies::scan(&ctx.root.join("tests/src"))
        .map_err(|e| format!("the conformance bodies: {e}"))?;
    let mut counts = BTreeMap::new();
    for engine in wanted {
        let Some((_, target)) = ENGINES.iter().find(|(name, _)| *name == engine) else {
            return Err(format!(
                "no engine `{engine}` (engines: virtual, native, node, chromium, firefox)"
            ));
        };
        ctx.step(&format!("conformance suite on the {engine} engine"));
        let mut cmd = ctx.cargo(&["test", "-p", "lwt-conformance", "--test", target]);
        if *target == "wasm" {
            tools::prepare_wasm_tests()?;
            if engine == "firefox" {
                tools::prepare_firefox()?;
            }
            cmd.arg("--target").arg("wasm32-unknown-unknown");
            tools::wasm_test_env(&mut cmd, wasm_host(engine));
        }
        let log = ctx.logs()?.join(format!("conformance-{engine}.log"));
        let out = run_captured(cmd, Some(&log))?;
        let (passed, ignored) = test_counts(&out)
            .ok_or_else(|| format!("the {engine} run printed no test result line"))?;
        println!(
            "conformance on {engine}: {passed} passed, {ignored} ignored (known failures), {} bodies",
            bodies.len()
        );
        let missing = not_run(&bodies, &out);
        if passed == 0 || passed + ignored < bodies.len() || !missing.is_empty() {
            return Err(format!(
                "the {engine} engine ran {} tests for {} conformance bodies; not run: {}",
                passed + ignored,
                bodies.len(),
                missing.join(", ")
            ));
        }
        counts.insert(engine, passed);
    }
    for (engine, passed) in counts {
        println!("conformance: {engine} {passed} passed");
    }
    Ok(())
}

/// The bodies whose test (`{module}_{name}`) has no `... ok` or
/// `... ignored` line in a test run's output.
fn not_run(bodies: &[bodies::Body], out: &str) -> Vec<String> {
    let ran: std::collections::BTreeSet<&str> = out
        .lines()
        .filter(|l| l.ends_with(" ... ok") || l.contains(" ... ignored"))
        .filter_map(|l| l.split(" ... ").next())
        .map(|test| test.rsplit([':', ' ']).next().unwrap_or(test))
        .collect();
    bodies
        .iter()
        .map(|b| format!("{}_{}", b.module, b.name))
        .filter(|test| !ran.contains(test.as_str()))
        .collect()
}

/// The (passed, ignored) counts of the first `test result:` line of cargo
/// test's (or wasm-bindgen-test-runner's) output.
fn test_counts(out: &str) -> Option<(usize, usize)> {
    let line = out.lines().find(|l| l.contains("test result:"))?;
    let count = |word: &str| {
        let before = line.split(&format!(" {word}")).next()?;
        before.rsplit(' ').next()?.parse::<usize>().ok()
    };
    Some((count("passed")?, count("ignored").unwrap_or(0)))
}

/// The `mutants` job's wall-clock budget, in seconds, unless
/// `LWT_MUTANTS_BUDGET` says otherwise: enough for the handful of mutants a
/// usual change makes, small beside the rest of `ci`.
const MUTANTS_BUDGET_SECS: u64 = 300;

/// cargo-mutants (settings in `.cargo/mutants.toml`) on the lines changed
/// since `BASE`: the merge-base of `HEAD` and `BASE`, diffed against the
/// working tree. With no `BASE` given, `origin/main`, else `main`; with
/// neither (a clone with no such branch) or no change, there are zero
/// mutants, which passes. A missed mutant fails the job. The run stops when
/// the budget is spent, saying how far it got: what was tested by then
/// still counts.
fn mutants(ctx: &Ctx, args: &[String]) -> Result {
    tools::cargo_mutants()?;
    let git = |args: &[&str]| -> Option<String> {
        let out = ctx.cmd("git", args).stderr(Stdio::null()).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let base = match args.first() {
        Some(base) => Some(base.clone()),
        None => ["origin/main", "main"]
            .into_iter()
            .find(|b| git(&["rev-parse", "--verify", "--quiet", b]).is_some())
            .map(str::to_string),
    };
    let Some(base) = base else {
        ctx.step("mutants: no origin/main and no main to diff against: zero mutants");
        return Ok(());
    };
    let merge_base = git(&["merge-base", "HEAD", &base])
        .map(|s| s.trim().to_string())
        .ok_or_else(|| {
            format!("mutants: `{base}` and HEAD have no merge-base (is `{base}` a commit?)")
        })?;
    let diff = git(&["diff", &merge_base])
        .ok_or_else(|| format!("mutants: git diff {merge_base} failed"))?;
    let dir = ctx.target_dir().join("mutants");
    fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    if diff.trim().is_empty() {
        ctx.step(&format!(
            "mutants: no change since {base} ({merge_base:.12}): zero mutants"
        ));
        return Ok(());
    }
    let patch = dir.join("in-diff.patch");
    fs::write(&patch, &diff).map_err(|e| format!("writing {}: {e}", patch.display()))?;
    let budget = env::var("LWT_MUTANTS_BUDGET")
        .ok()
        .and_then(|b| b.parse::<u64>().ok())
        .unwrap_or(MUTANTS_BUDGET_SECS);
    ctx.step(&format!(
        "mutants: the lines changed since {base} ({merge_base:.12}), within {budget}s"
    ));
    let out = dir.join("mutants.out");
    let _ = fs::remove_dir_all(&out);
    let mut cmd = ctx.cargo(&["mutants", "--in-diff"]);
    cmd.arg(&patch)
        .arg("--output")
        .arg(&dir)
        .args(["--jobs", "1", "--timeout", "120", "--build-timeout", "600"])
        // The copy cargo-mutants builds in shares this target directory, so
        // the dependencies built by the jobs before are not built again.
        .env("CARGO_TARGET_DIR", ctx.target_dir())
        // An interrupted run reports it in a line, not with a backtrace.
        .env("RUST_BACKTRACE", "0");
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", show(&cmd)))?;
    let deadline = Instant::now() + std::time::Duration::from_secs(budget);
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| format!("waiting for cargo mutants: {e}"))?
        {
            break Some(status);
        }
        if Instant::now() >= deadline {
            // The whole group: cargo-mutants and the cargo and tests it runs.
            let _ = Command::new("kill")
                .args(["-INT", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    let listed = |name: &str| -> Vec<String> {
        fs::read_to_string(out.join(name))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    };
    let missed = listed("missed.txt");
    let counts = format!(
        "{} caught, {} missed, {} unviable, {} timeouts",
        listed("caught.txt").len(),
        missed.len(),
        listed("unviable.txt").len(),
        listed("timeout.txt").len()
    );
    if !missed.is_empty() {
        return Err(format!(
            "mutants: {counts}; each missed mutant needs a test that fails on it (or a note at the code saying why it is equivalent):\n  {}",
            missed.join("\n  ")
        ));
    }
    match status {
        None => {
            println!("mutants: the {budget}s budget ran out: {counts} by then (LWT_MUTANTS_BUDGET=SECS for more)");
            Ok(())
        }
        // 0: all caught or unviable (or no mutant at all); 3: some timed
        // out, which a test run that hangs on a mutant is (listed above).
        Some(s) if s.success() || s.code() == Some(3) => {
            println!("mutants: {counts}");
            Ok(())
        }
        Some(s) => Err(format!(
            "mutants: cargo mutants failed ({s}): {counts}; see {}",
            out.join("debug.log").display()
        )),
    }
}

/// lwt-wasm's own tests on each host asked for (default: all three): its
/// `node` test binary in Node, its `browser` one in each browser. Each run
/// must pass some tests, and the browsers the same number.
fn wasm_tests(ctx: &Ctx, args: &[String]) -> Result {
    const HOSTS: &[(&str, &str, &str)] = &[
        ("node", "Node", "node"),
        ("chromium", "headless Chromium", "browser"),
        ("firefox", "headless Firefox", "browser"),
    ];
    let wanted: Vec<&str> = if args.is_empty() {
        HOSTS.iter().map(|(h, _, _)| *h).collect()
    } else {
        args.iter().map(String::as_str).collect()
    };
    tools::prepare_wasm_tests()?;
    let mut browser_counts = BTreeMap::new();
    for host in wanted {
        let Some((_, name, test)) = HOSTS.iter().find(|(h, _, _)| *h == host) else {
            return Err(format!("no host `{host}` (hosts: node, chromium, firefox)"));
        };
        if host == "firefox" {
            tools::prepare_firefox()?;
        }
        ctx.step(&format!("lwt-wasm tests in {name}"));
        let mut cmd = ctx.cargo(&[
            "test",
            "-p",
            "lwt-wasm",
            "--target",
            "wasm32-unknown-unknown",
            "--test",
            test,
        ]);
        tools::wasm_test_env(&mut cmd, wasm_host(host));
        let log = ctx.logs()?.join(format!("wasm-tests-{host}.log"));
        let out = run_captured(cmd, Some(&log))?;
        let (passed, ignored) = test_counts(&out)
            .ok_or_else(|| format!("the lwt-wasm tests in {name} printed no test result line"))?;
        if passed == 0 {
            return Err(format!("the lwt-wasm tests in {name} ran no test"));
        }
        println!("wasm-tests: {host} {passed} passed, {ignored} ignored");
        if *test == "browser" {
            browser_counts.insert(host, passed + ignored);
        }
    }
    same_counts("the lwt-wasm browser tests", &browser_counts)
}

/// `Err` unless every browser of `counts` ran as many of `what` as the others.
fn same_counts(what: &str, counts: &BTreeMap<&str, usize>) -> Result {
    let mut each = counts.iter();
    let Some((a, n)) = each.next() else {
        return Ok(());
    };
    match each.find(|(_, m)| *m != n) {
        Some((b, m)) => Err(format!(
            "{what}: {n} in {a}, {m} in {b}: each browser must run them all"
        )),
        None => Ok(()),
    }
}

fn www_build(ctx: &Ctx) -> Result {
    tools::wasm_target()?;
    tools::wasm_bindgen(&ctx.root)?;
    tools::wasm_pack()?;
    ctx.step(
        "www: the browser app (wasm-pack build --target web, profile wasm-size, then wasm-opt -Oz)",
    );
    let dist = ctx.root.join("www/dist");
    let _ = fs::remove_dir_all(&dist);
    fs::create_dir_all(&dist).map_err(|e| format!("creating www/dist: {e}"))?;
    // The pages import `pkg/lwt_www_app.js`: the names wasm-bindgen gives.
    let mut build = wasm_pack_build(ctx, "wasm-size", "web");
    build
        .args(["--no-typescript", "--no-pack", "--out-name", "lwt_www_app"])
        .arg("--out-dir")
        .arg(dist.join("pkg"))
        .arg(ctx.root.join("www/app"));
    run(build)?;
    for entry in
        fs::read_dir(ctx.root.join("www/static")).map_err(|e| format!("www/static: {e}"))?
    {
        let path = entry.map_err(|e| format!("www/static: {e}"))?.path();
        let to = dist.join(path.file_name().unwrap_or_default());
        fs::copy(&path, &to).map_err(|e| format!("copying {}: {e}", path.display()))?;
    }
    let wasm = dist.join("pkg/lwt_www_app_bg.wasm");
    let (built, optimized) = wasm_opt(&wasm, "-Oz")?;
    println!(
        "www: app: {built} bytes of wasm built, {optimized} after wasm-opt -Oz, {} gzipped (-9), in {}",
        gzip_size(&wasm)?,
        dist.display()
    );
    ctx.step("www: the server and the CLI client (release)");
    run(ctx.cargo(&[
        "build",
        "-q",
        "--release",
        "-p",
        "lwt-www-server",
        "-p",
        "lwt-www-client",
    ]))
}

/// `wasm-pack build --profile PROFILE --target TARGET --mode no-install
/// --no-opt`, with the wasm-bindgen-cli of the tools. wasm-pack's own
/// wasm-opt step is off (it would fetch a binaryen of its choosing):
/// callers run [`wasm_opt`] on what it wrote. The caller adds the output
/// options and the crate's path.
fn wasm_pack_build(ctx: &Ctx, profile: &str, target: &str) -> Command {
    ctx.cmd(
        "wasm-pack",
        &[
            "--quiet",
            "build",
            "--profile",
            profile,
            "--target",
            target,
            "--mode",
            "no-install",
            "--no-opt",
        ],
    )
}

/// The wasm features wasm-bindgen's output uses, which wasm-opt must be told
/// it may keep.
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// binaryen's `wasm-opt LEVEL` on `file`, in place (`-O` for speed, as
/// wasm-pack's release builds do; `-Oz` for size). Returns the size before
/// and after.
fn wasm_opt(file: &Path, level: &str) -> Result<(u64, u64)> {
    let size = |f: &Path| {
        fs::metadata(f)
            .map(|m| m.len())
            .map_err(|e| format!("{}: {e}", f.display()))
    };
    let before = size(file)?;
    run(Command::new(tools::wasm_opt()?)
        .arg(level)
        .args(WASM_FEATURES)
        .arg(file)
        .arg("-o")
        .arg(file))?;
    Ok((before, size(file)?))
}

/// The web app's end-to-end tests (`www/e2e`) in each browser asked for
/// (default: both), one `node --test` run per browser (`E2E_BROWSER`), the
/// same scenarios each time. Each run must pass all its tests, and the
/// browsers the same number; the seconds each took are printed.
fn e2e(ctx: &Ctx, args: &[String]) -> Result {
    const BROWSERS: &[(&str, &str)] = &[
        ("chromium", "headless Chromium"),
        ("firefox", "headless Firefox ESR"),
    ];
    let wanted: Vec<&str> = if args.is_empty() {
        BROWSERS.iter().map(|(b, _)| *b).collect()
    } else {
        args.iter().map(String::as_str).collect()
    };
    let mut chosen = Vec::new();
    for browser in wanted {
        let Some(&(b, name)) = BROWSERS.iter().find(|(b, _)| *b == browser) else {
            return Err(format!(
                "no browser `{browser}` (browsers: chromium, firefox)"
            ));
        };
        match b {
            "firefox" => tools::prepare_firefox()?,
            _ => tools::chromium()?,
        }
        chosen.push((b, name));
    }
    tools::node()?;
    www_build(ctx)?;
    let dir = ctx.root.join("www/e2e");
    tools::npm_packages(&dir, "selenium-webdriver")?;
    let _ = fs::remove_dir_all(dir.join("artifacts"));
    let mut counts = BTreeMap::new();
    for (browser, name) in chosen {
        ctx.step(&format!("www: end-to-end tests in {name}"));
        let mut cmd = Command::new("node");
        cmd.args(["--test", "--test-concurrency=1", "--test-reporter=tap"])
            .current_dir(&dir)
            .env("E2E_BROWSER", browser)
            .env("GECKODRIVER", tools::geckodriver_path())
            // Selenium must not look for drivers or browsers: both are given.
            .env("SE_OFFLINE", "true");
        let log = ctx.logs()?.join(format!("e2e-{browser}.log"));
        let started = Instant::now();
        let out = run_captured(cmd, Some(&log))?;
        let secs = started.elapsed().as_secs_f64();
        let (passed, failed) =
            tap_counts(&out).ok_or_else(|| format!("the e2e tests in {name} printed no counts"))?;
        if passed == 0 || failed != 0 {
            return Err(format!(
                "the e2e tests in {name}: {passed} passed, {failed} failed"
            ));
        }
        println!("e2e: {browser} {passed} passed in {secs:.1} s");
        counts.insert(browser, passed);
    }
    same_counts("the e2e tests", &counts)
}

/// The passed and failed counts of `node --test`'s TAP summary.
fn tap_counts(out: &str) -> Option<(usize, usize)> {
    let count = |word: &str| {
        out.lines()
            .rev()
            .find_map(|l| l.strip_prefix(&format!("# {word} "))?.trim().parse().ok())
    };
    Some((count("pass")?, count("fail")?))
}

/// `examples/wasm-pack-lib`, a user's own library on lwt and lwt-wasm (its
/// own workspace, as a user's project is): clippy on wasm32, then
/// `wasm-pack build` twice, `--target nodejs` into `pkg-node/` and `--target
/// web` into `www/pkg/`, then its tests: the first package required from
/// Node, the second imported by a plain page in headless Chromium.
fn wasm_pack_example(ctx: &Ctx, _: &[String]) -> Result {
    let dir = ctx.root.join("examples/wasm-pack-lib");
    tools::wasm_target()?;
    tools::wasm_bindgen(&ctx.root)?;
    tools::wasm_pack()?;
    tools::chromium()?;
    tools::node()?;
    same_wasm_bindgen(ctx, "examples/wasm-pack-lib")?;
    ctx.step("wasm-pack example: clippy (wasm32)");
    let mut clippy = ctx.cargo(&[
        "clippy",
        "--target",
        "wasm32-unknown-unknown",
        "--",
        "-D",
        "warnings",
    ]);
    clippy.current_dir(&dir);
    run(clippy)?;
    for (target, out) in [("nodejs", "pkg-node"), ("web", "www/pkg")] {
        ctx.step(&format!(
            "wasm-pack example: wasm-pack build --target {target} into {out}/"
        ));
        let _ = fs::remove_dir_all(dir.join(out));
        let mut build = wasm_pack_build(ctx, "release", target);
        build.arg("--out-dir").arg(dir.join(out)).arg(&dir);
        run(build)?;
        wasm_opt(&dir.join(out).join("lwt_wasm_pack_example_bg.wasm"), "-O")?;
    }
    tools::npm_packages(&dir, "playwright-core")?;
    ctx.step("wasm-pack example: its package from Node, and from a page in headless Chromium");
    run(Command::new("node")
        .args(["--test", "--test-concurrency=1"])
        .current_dir(&dir))
}

/// The wasm-bindgen-cli of the tools is the version of the workspace's
/// lock: an example's lock (`example` is its folder) must agree, or the two
/// would not match.
fn same_wasm_bindgen(ctx: &Ctx, example: &str) -> Result {
    let (ours, theirs) = (
        tools::locked_version(&ctx.root, "wasm-bindgen")?,
        tools::locked_version(&ctx.root.join(example), "wasm-bindgen")?,
    );
    if ours != theirs {
        return Err(format!(
            "{example}/Cargo.lock has wasm-bindgen {theirs}, the workspace's {ours}: run `cargo update -p wasm-bindgen --precise {ours}` in {example}"
        ));
    }
    Ok(())
}

/// `examples/shared-crate`, one library on `lwt` alone shared by two
/// programs (its own workspace, as a user's project is): clippy on the host
/// and on wasm32, the library's tests (virtual time), then the scenario run
/// twice, by the native binary on lwt-native and by the wasm build (cargo,
/// then `wasm-bindgen --target nodejs` into `web/pkg/`) on lwt-wasm in
/// Node. Each prints the scenario's trace; they must be the same lines, and
/// not none. The builds are debug builds into the example's target dir
/// (`target/` beside its `Cargo.toml` unless `CARGO_TARGET_DIR` says
/// otherwise), kept between runs.
fn shared_example(ctx: &Ctx, _: &[String]) -> Result {
    let example = "examples/shared-crate";
    let dir = ctx.root.join(example);
    let wasm = "wasm32-unknown-unknown";
    tools::wasm_target()?;
    tools::wasm_bindgen(&ctx.root)?;
    tools::node()?;
    same_wasm_bindgen(ctx, example)?;
    let cargo = |args: &[&str]| {
        let mut cmd = ctx.cargo(args);
        cmd.current_dir(&dir);
        cmd
    };
    ctx.step("shared example: clippy (host and wasm32), the library's tests (virtual time)");
    run(cargo(&[
        "clippy",
        "-p",
        "resilience",
        "-p",
        "resilience-native",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(cargo(&[
        "clippy",
        "-p",
        "resilience",
        "-p",
        "resilience-web",
        "--target",
        wasm,
        "--",
        "-D",
        "warnings",
    ]))?;
    run(cargo(&["test", "-p", "resilience"]))?;

    ctx.step("shared example: the native binary, on lwt-native");
    run(cargo(&["build", "-p", "resilience-native"]))?;
    let target = cargo_target_dir(&dir)?;
    let native = stdout_of(Command::new(target.join("debug/resilience-native")))?;

    ctx.step("shared example: the wasm build, on lwt-wasm in Node");
    run(cargo(&["build", "-p", "resilience-web", "--target", wasm]))?;
    let pkg = dir.join("web/pkg");
    let _ = fs::remove_dir_all(&pkg);
    let mut bindgen = Command::new("wasm-bindgen");
    bindgen
        .args(["--target", "nodejs", "--out-dir"])
        .arg(&pkg)
        .arg(target.join(wasm).join("debug/resilience_web.wasm"));
    run(bindgen)?;
    let mut node = Command::new("node");
    node.arg(dir.join("web/run.mjs")).arg(&pkg);
    let web = stdout_of(node)?;

    same_trace(&native, &web)?;
    println!(
        "shared example: native and Node printed the same {} lines",
        native.lines().count()
    );
    Ok(())
}

/// Runs `cmd`, its standard error shown as it comes, and returns its
/// standard output (shown too, once it is done); fails if it fails.
fn stdout_of(mut cmd: Command) -> Result<String> {
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start {}: {e}", show(&cmd)))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    print!("{text}");
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{} failed ({})", show(&cmd), out.status))
    }
}

/// The target directory cargo uses for the workspace in `dir`, as `cargo
/// metadata` reports it (so `CARGO_TARGET_DIR` and cargo's configuration
/// count as they do for the build).
fn cargo_target_dir(dir: &Path) -> Result<PathBuf> {
    let out = Command::new("cargo")
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(dir)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo metadata failed in {}", dir.display()));
    }
    let json = String::from_utf8_lossy(&out.stdout);
    let key = "\"target_directory\":\"";
    let start = json
        .find(key)
        .map(|i| i + key.len())
        .ok_or("cargo metadata gave no target_directory")?;
    let end = json[start..]
        .find('"')
        .map(|i| start + i)
        .ok_or("cargo metadata: target_directory is not a string")?;
    let path = &json[start..end];
    if path.contains('\\') {
        return Err(format!(
            "the target directory `{path}` has a character this check does not decode"
        ));
    }
    Ok(PathBuf::from(path))
}

/// Ok when the two traces have the same lines and at least one; else an
/// error naming the first line where they part.
fn same_trace(native: &str, web: &str) -> Result {
    let (a, b): (Vec<&str>, Vec<&str>) = (native.lines().collect(), web.lines().collect());
    if a.is_empty() || b.is_empty() {
        return Err(format!(
            "a trace is empty: native printed {} lines, Node {}",
            a.len(),
            b.len()
        ));
    }
    if a == b {
        return Ok(());
    }
    let n = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    Err(format!(
        "the traces differ at line {}: native `{}`, Node `{}` (native {} lines, Node {})",
        n + 1,
        a.get(n).unwrap_or(&"(no more lines)"),
        b.get(n).unwrap_or(&"(no more lines)"),
        a.len(),
        b.len()
    ))
}

fn demo(ctx: &Ctx, args: &[String]) -> Result {
    let port = args
        .first()
        .cloned()
        .or_else(|| env::var("PORT").ok())
        .unwrap_or_else(|| "8080".into());
    port.parse::<u16>()
        .map_err(|_| format!("the port must be a number from 0 to 65535, not `{port}`"))?;
    www_build(ctx)?;
    let release = ctx.target_dir().join("release");
    if port != "0" {
        println!(
            "www: chat from a terminal too: {} --url ws://127.0.0.1:{port}/ws --name you",
            release.join("lwt-www-client").display()
        );
    }
    ctx.step("www: serving (Ctrl-C stops)");
    run(Command::new(release.join("lwt-www-server"))
        .arg("--addr")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--root")
        .arg(ctx.root.join("www/dist")))
}

/// The wasm benchmarks: the minimal apps' sizes, then the in-browser
/// harness (`wasm/bench/bench.mjs`) in each browser asked for (default:
/// chromium then firefox).
fn bench_wasm(ctx: &Ctx, args: &[String]) -> Result {
    let browsers: Vec<&str> = if args.is_empty() {
        vec!["chromium", "firefox"]
    } else {
        args.iter().map(String::as_str).collect()
    };
    if let Some(b) = browsers
        .iter()
        .find(|b| !["chromium", "firefox"].contains(b))
    {
        return Err(format!("no browser `{b}` (browsers: chromium, firefox)"));
    }
    tools::prepare_wasm_tests()?;
    if browsers.contains(&"firefox") {
        tools::prepare_firefox()?;
    }
    let dir = ctx.root.join("wasm/bench");
    let wasm = "wasm32-unknown-unknown";
    ctx.step("wasm benchmarks: building the harness and the minimal apps");
    let cargo = |args: &[&str]| {
        let mut cmd = Command::new("cargo");
        cmd.args(args).current_dir(&dir);
        cmd
    };
    run(&mut cargo(&[
        "build",
        "--release",
        "--target",
        wasm,
        "-p",
        "harness",
    ]))?;
    run(&mut cargo(&[
        "build",
        "--profile",
        "size",
        "--target",
        wasm,
        "-p",
        "app-lwt",
        "-p",
        "app-wbf",
    ]))?;
    // Where cargo put the builds: `CARGO_TARGET_DIR` when set, else the
    // bench workspace's own `target/`.
    let target = env::var_os("CARGO_TARGET_DIR").map_or_else(|| dir.join("target"), PathBuf::from);
    let bindgen = |out: &str, wasm_file: &str| {
        let mut cmd = Command::new("wasm-bindgen");
        cmd.args(["--target", "web", "--out-dir", out])
            .arg(target.join(wasm_file))
            .current_dir(&dir);
        cmd
    };
    run(&mut bindgen(
        "pkg/harness",
        "wasm32-unknown-unknown/release/harness.wasm",
    ))?;
    let wasm_opt = tools::wasm_opt()?;
    println!("== minimal app sizes (bytes)");
    for app in ["app_lwt", "app_wbf"] {
        let out = format!("pkg/{}", app.replace('_', "-"));
        run(&mut bindgen(
            &out,
            &format!("wasm32-unknown-unknown/size/{app}.wasm"),
        ))?;
        let file = format!("{out}/{app}_bg.wasm");
        let measured = format!("{file}.opt");
        run(Command::new(&wasm_opt)
            .arg("-Oz")
            .args(WASM_FEATURES)
            .args([&file, "-o", &measured])
            .current_dir(&dir))?;
        let raw = fs::read(dir.join(&file)).map_err(|e| format!("{file}: {e}"))?;
        let opt = fs::read(dir.join(&measured)).map_err(|e| format!("{measured}: {e}"))?;
        let gz = gzip_size(&dir.join(&measured))?;
        println!("{app}: raw {} opt {} gzip {gz}", raw.len(), opt.len());
    }
    tools::npm_packages(&dir, "selenium-webdriver")?;
    for browser in browsers {
        ctx.step(&format!(
            "wasm benchmarks: the in-browser harness in {browser}"
        ));
        run(Command::new("node")
            .args(["bench.mjs", browser])
            .current_dir(&dir)
            .env("GECKODRIVER", tools::geckodriver_path())
            .env("SE_OFFLINE", "true"))?;
    }
    Ok(())
}

/// The size of `file` after `gzip -9`.
fn gzip_size(file: &Path) -> Result<usize> {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(file)
        .output()
        .map_err(|e| format!("gzip: {e}"))?;
    if !out.status.success() {
        return Err(format!("gzip {} failed", file.display()));
    }
    Ok(out.stdout.len())
}

#[cfg(test)]
mod tests {
    use super::{bodies::Body, members, not_run, same_counts, same_trace, tap_counts, test_counts};

    #[test]
    fn browsers_must_run_the_same_number() {
        let counts = |c: &[(&'static str, usize)]| c.iter().copied().collect();
        assert!(same_counts("t", &counts(&[])).is_ok());
        assert!(same_counts("t", &counts(&[("chromium", 4), ("firefox", 4)])).is_ok());
        let err = same_counts("t", &counts(&[("chromium", 4), ("firefox", 3)])).unwrap_err();
        assert!(err.contains("4 in chromium, 3 in firefox"), "{err}");
    }

    #[test]
    fn tap_counts_read_the_summary_of_node_test() {
        let out =
            "ok 1 - firefox: a\n# pass in the test name\n1..3\n# tests 3\n# pass 2\n# fail 1\n";
        assert_eq!(tap_counts(out), Some((2, 1)));
        assert_eq!(tap_counts("ok 1 - a\n1..1\n"), None);
    }

    #[test]
    fn the_apps_tests_and_xtask_are_not_packaged_and_the_libraries_are() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let members = members(&root).unwrap();
        let unpublished: Vec<&str> = members
            .iter()
            .filter(|m| !m.publish)
            .map(|m| m.name.as_str())
            .collect();
        for name in ["xtask", "lwt-conformance", "lwt-www-app", "lwt-www-server"] {
            assert!(unpublished.contains(&name), "{name}: {unpublished:?}");
        }
        for name in ["lwt-core", "lwt-native", "lwt-wasm", "lwt-patterns"] {
            assert!(!unpublished.contains(&name), "{name}: {unpublished:?}");
        }
        let version = |name: &str| {
            let member = members.iter().find(|m| m.name == name).unwrap();
            member.version.clone()
        };
        assert_eq!(version("xtask"), "0.0.0");
        // lwt-core takes the workspace's version, as lwt-native does.
        assert_eq!(version("lwt-core"), version("lwt-native"));
        assert_eq!(version("lwt-core").split('.').count(), 3);
    }

    #[test]
    fn traces_must_be_the_same_lines_and_not_none() {
        assert!(same_trace("a\nb\n", "a\nb\n").is_ok());
        assert!(same_trace("", "").unwrap_err().contains("empty"));
        let e = same_trace("a\nb\n", "a\nc\n").unwrap_err();
        assert!(
            e.contains("line 2") && e.contains("`b`") && e.contains("`c`"),
            "{e}"
        );
        let e = same_trace("a\n", "a\nb\n").unwrap_err();
        assert!(e.contains("(no more lines)"), "{e}");
    }

    /// The getting-started guide of lwt-wasm quotes the export of the
    /// shared-crate example: the quote must stay what the source says.
    #[test]
    fn the_wasm_guide_quotes_the_shared_example_as_it_is() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let guide = std::fs::read_to_string(root.join("wasm/docs/getting-started.md")).unwrap();
        let source =
            std::fs::read_to_string(root.join("examples/shared-crate/web/src/lib.rs")).unwrap();
        let start = "pub fn trace() -> js_sys::Promise {";
        let quote: Vec<&str> = guide
            .lines()
            .skip_while(|l| *l != start)
            .take_while(|l| !l.starts_with("```"))
            .collect();
        assert!(quote.len() > 5, "the guide quotes no `{start}`");
        let quote = quote.join("\n");
        assert!(
            source.contains(&quote),
            "wasm/docs/getting-started.md quotes `trace()` differently from examples/shared-crate/web/src/lib.rs:\n{quote}"
        );
    }

    #[test]
    fn counts_come_from_the_result_line() {
        let out = "running 3 tests\n\ntest result: ok. 230 passed; 0 failed; 6 ignored; 0 measured; 0 filtered out; finished in 1.2s\n";
        assert_eq!(test_counts(out), Some((230, 6)));
        assert_eq!(test_counts("no result here\n"), None);
    }

    #[test]
    fn a_body_without_an_ok_or_ignored_line_did_not_run() {
        let body = |module: &str, name: &str| Body {
            module: module.into(),
            name: name.into(),
        };
        let bodies = [body("core", "a"), body("core", "b"), body("sync", "c")];
        let out = "test virtual_engine::core_a ... ok\ntest core_b ... ignored, known failure: x\ntest sync_c ... FAILED\n";
        assert_eq!(not_run(&bodies, out), ["sync_c"]);
    }
}
