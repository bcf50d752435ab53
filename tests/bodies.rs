//! Which conformance bodies exist: every `pub async fn` at the start of a
//! line in the body modules of `src/`. One implementation, used by this
//! crate's build script (which generates a test per body and engine) and by
//! `cargo xtask` (which checks that every engine ran them all).

use std::{fs, io, path::Path};

/// The modules of `src/` that hold bodies, in the order they are listed.
pub const MODULES: &[&str] = &[
    "core",
    "cancel",
    "combinators",
    "tasks",
    "time",
    "streams",
    "sync",
    "helpers",
    "patterns",
    "select",
    "joinset",
    "channels",
    "locks",
    "ownership",
    "lwt_io",
    "differential",
];

/// The modules of `src/` that hold no bodies.
pub const NOT_BODIES: &[&str] = &["lib", "log", "counting"];

/// One body: the module it is in and its function name.
pub struct Body {
    /// The module under `src/`, e.g. `core`.
    pub module: String,
    /// The function's name.
    pub name: String,
}

/// Every body under `src` (the crate's `src/` folder), in module order.
/// Fails when a file of `src/` is in neither list, or when a file listed as
/// holding no bodies has one: either would drop bodies silently.
pub fn scan(src: &Path) -> io::Result<Vec<Body>> {
    let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidData, msg);
    for entry in fs::read_dir(src)? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        let listed = MODULES.contains(&stem.as_ref());
        if !listed && !NOT_BODIES.contains(&stem.as_ref()) {
            return Err(invalid(format!(
                "src/{stem}.rs is in neither MODULES nor NOT_BODIES of tests/bodies.rs"
            )));
        }
        if !listed && !names(&fs::read_to_string(&path)?).is_empty() {
            return Err(invalid(format!(
                "src/{stem}.rs has bodies: list it in MODULES of tests/bodies.rs"
            )));
        }
    }
    let mut bodies = Vec::new();
    for module in MODULES {
        let source = fs::read_to_string(src.join(format!("{module}.rs")))?;
        for name in names(&source) {
            bodies.push(Body {
                module: module.to_string(),
                name,
            });
        }
    }
    Ok(bodies)
}

fn names(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|line| line.strip_prefix("pub async fn "))
        .map(|rest| {
            rest.split('(')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string()
        })
        .collect()
}
