//! Generates `__bodies!`: the list of every test body (each `pub async fn`
//! in the body modules named in `bodies.rs`), once per engine, with the bodies
//! listed for that engine in `known-failures.txt` marked
//! `#[ignore = "known failure: ..."]` (the reason escaped as a string
//! literal). Which bodies exist is decided by `bodies.rs`, shared with
//! `cargo xtask`.

use std::fmt::Write as _;
use std::{env, fs, path::Path};

#[path = "bodies.rs"]
mod bodies;

/// The engines a known failure can name (`wasm` is Node, Chromium and Firefox: they
/// run the same test binary).
const ENGINES: &[&str] = &["virtual", "native", "wasm"];

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=bodies.rs");
    let bodies: Vec<(String, String)> = bodies::scan(Path::new("src"))
        .unwrap_or_else(|e| panic!("the conformance bodies: {e}"))
        .into_iter()
        .map(|b| {
            (
                format!("{}_{}", b.module, b.name),
                format!("{}::{}", b.module, b.name),
            )
        })
        .collect();

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
