//! Generates `__bodies!`: the list of every test body (each `pub async fn`
//! in the body modules named in `MODULES`).

use std::fmt::Write as _;
use std::{env, fs, path::Path};

const MODULES: &[&str] = &["core", "combinators", "tasks", "time"];

fn main() {
    let mut list = String::new();
    for module in MODULES {
        let path = format!("src/{module}.rs");
        println!("cargo:rerun-if-changed={path}");
        let source = fs::read_to_string(&path).expect("body module");
        for line in source.lines() {
            if let Some(rest) = line.strip_prefix("pub async fn ") {
                let name = rest.split('(').next().unwrap_or_default().trim();
                writeln!(
                    list,
                    "            {module}_{name} => $crate::{module}::{name},"
                )
                .unwrap();
            }
        }
    }
    let code = format!(
        "#[doc(hidden)]\n#[macro_export]\nmacro_rules! __bodies {{\n    ($m:ident) => {{\n        $m! {{\n{list}        }}\n    }};\n}}\n"
    );
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("bodies.rs");
    fs::write(out, code).unwrap();
}
