//! Generates `__bodies!`: the list of every test body (each `pub async fn`
//! in the body modules named in `MODULES`), once per engine, with the bodies
//! listed for that engine in `known-failures.txt` marked
//! `#[ignore = "known failure: ..."]` (the reason escaped as a string
//! literal). Every `src/*.rs` must be a body module or in `NOT_BODIES`.

use std::fmt::Write as _;
use std::{env, fs, path::Path};

const MODULES: &[&str] = &[
    "core",
    "cancel",
    "combinators",
    "tasks",
    "time",
    "streams",
    "sync",
    "helpers",
    "patterns",
];

/// The modules of `src/` that hold no bodies.
const NOT_BODIES: &[&str] = &["lib", "log"];

/// The engines a known failure can name (`wasm` is Node and Chromium: they
/// run the same test binary).
const ENGINES: &[&str] = &["virtual", "native", "wasm"];

fn main() {
    // A body module missing from `MODULES` would silently drop its bodies.
    println!("cargo:rerun-if-changed=src");
    for entry in fs::read_dir("src").expect("src/") {
        let path = entry.expect("src/ entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(
                MODULES.contains(&stem.as_str()) || NOT_BODIES.contains(&stem.as_str()),
                "src/{stem}.rs is neither in MODULES nor in NOT_BODIES of tests/build.rs"
            );
            if NOT_BODIES.contains(&stem.as_str()) {
                let source = fs::read_to_string(&path).expect("src/ module");
                assert!(
                    !source.lines().any(|l| l.starts_with("pub async fn ")),
                    "src/{stem}.rs has bodies: list it in MODULES of tests/build.rs"
                );
            }
        }
    }

    let mut bodies = Vec::new();
    for module in MODULES {
        let path = format!("src/{module}.rs");
        println!("cargo:rerun-if-changed={path}");
        let source = fs::read_to_string(&path).expect("body module");
        for line in source.lines() {
            if let Some(rest) = line.strip_prefix("pub async fn ") {
                let name = rest.split('(').next().unwrap_or_default().trim();
                bodies.push((format!("{module}_{name}"), format!("{module}::{name}")));
            }
        }
    }

    println!("cargo:rerun-if-changed=known-failures.txt");
    let known = fs::read_to_string("known-failures.txt").unwrap_or_default();
    let mut failures: Vec<(String, String, String)> = Vec::new();
    for (n, line) in known.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(3, char::is_whitespace);
        let engine = parts.next().unwrap_or_default().to_string();
        let body = parts.next().unwrap_or_default().to_string();
        let reason = parts.next().unwrap_or_default().trim().to_string();
        assert!(
            ENGINES.contains(&engine.as_str()),
            "known-failures.txt:{}: unknown engine `{engine}`",
            n + 1
        );
        assert!(
            bodies.iter().any(|(name, _)| *name == body),
            "known-failures.txt:{}: unknown body `{body}`",
            n + 1
        );
        assert!(
            !reason.is_empty(),
            "known-failures.txt:{}: no reason",
            n + 1
        );
        failures.push((engine, body, reason));
    }

    let list = |engine: &str| {
        let mut list = String::new();
        for (name, path) in &bodies {
            let reason = failures
                .iter()
                .find(|(e, b, _)| e == engine && b == name)
                .map(|(_, _, r)| r);
            if let Some(reason) = reason {
                let reason = format!("known failure: {reason}");
                writeln!(list, "            #[ignore = {reason:?}]").unwrap();
            }
            writeln!(list, "            {name} => $crate::{path},").unwrap();
        }
        list
    };

    let mut code = String::from("#[doc(hidden)]\n#[macro_export]\nmacro_rules! __bodies {\n");
    for engine in ENGINES {
        write!(
            code,
            "    ($m:ident, {engine}) => {{\n        $m! {{\n{}        }}\n    }};\n",
            list(engine)
        )
        .unwrap();
    }
    code.push_str("}\n");
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("bodies.rs");
    fs::write(out, code).unwrap();
}
