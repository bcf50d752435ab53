//! Import cycles between sibling modules.
//!
//! The rule: in every crate, the files (modules) that share a parent use each
//! other one way only, as the sections of Lwt's `lwt.ml` do: each uses only
//! those above it. A child reaching up to its parent (`super::`) or a parent
//! down to its child is not an edge.
//!
//! How it reads a crate: each `.rs` file below `src/` is a module (`lib.rs`,
//! `main.rs` and `mod.rs` stand for their folder). Comments, string and char
//! literals and `#[cfg(test)] mod ... { }` blocks are removed; then every
//! path that starts with `crate`, `super` or `self`, or with the name of a
//! child module in a `use`, is resolved to the module it names. A name that a
//! module re-exports with `pub use` resolves to the module it comes from (one
//! level). Each reference from file A to module B is lifted to the two
//! siblings under their nearest common parent; the strongly connected groups
//! of that graph with more than one member are the cycles.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use crate::Result;

/// The crates' source folders that the check covers.
const CRATES: &[&str] = &[
    "core/src",
    "native/src",
    "wasm/src",
    "tests/src",
    "tests/patterns/src",
    "www/shared/src",
    "www/server/src",
    "www/client-cli/src",
    "www/app/src",
    "xtask/src",
];

/// A module's path below the crate root (`[]` is the root).
type ModPath = Vec<String>;

/// Checks every crate of [`CRATES`] that exists; fails listing each cycle.
pub fn check_all(root: &Path) -> Result {
    let mut report = String::new();
    let mut checked = 0;
    for src in CRATES {
        let dir = root.join(src);
        if !dir.is_dir() {
            continue;
        }
        checked += 1;
        for cycle in cycles(&dir)? {
            report.push_str(&format!("cycle in {src} under {cycle}"));
        }
    }
    let report = report.replace(&format!("{}/", root.display()), "");
    if report.is_empty() {
        println!("cycles: none in the {checked} crates checked");
        Ok(())
    } else {
        Err(format!("import cycles between sibling modules:\n{report}"))
    }
}

/// One file of a crate: its module path and its text, stripped.
struct File {
    path: PathBuf,
    module: ModPath,
    text: String,
}

/// The cycles among sibling modules of the crate whose sources are in `src`,
/// each described on several lines: the parent and members, then one
/// example reference per edge.
pub fn cycles(src: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    collect(src, src, &mut files)?;
    let modules: BTreeSet<ModPath> = files.iter().map(|f| f.module.clone()).collect();

    // Re-exports: module -> (name -> the module the name comes from).
    let mut exports: BTreeMap<ModPath, BTreeMap<String, ModPath>> = BTreeMap::new();
    for file in &files {
        for (public, path) in uses(&file.text) {
            if !public {
                continue;
            }
            let Some(name) = path.last().cloned() else {
                continue;
            };
            if let Some(target) = resolve_module(&file.module, &path, &modules, None) {
                exports
                    .entry(file.module.clone())
                    .or_default()
                    .insert(name, target);
            }
        }
    }

    // Edges between siblings: (parent, from, to) -> an example reference.
    let mut edges: BTreeMap<(ModPath, String, String), String> = BTreeMap::new();
    for file in &files {
        let mut paths: Vec<Vec<String>> = uses(&file.text).into_iter().map(|(_, p)| p).collect();
        paths.extend(inline_paths(&file.text));
        for path in paths {
            let Some(target) = resolve_module(&file.module, &path, &modules, Some(&exports)) else {
                continue;
            };
            let common = file
                .module
                .iter()
                .zip(&target)
                .take_while(|(a, b)| a == b)
                .count();
            if common == file.module.len() || common == target.len() {
                continue; // the same module, an ancestor or a descendant
            }
            let key = (
                file.module[..common].to_vec(),
                file.module[common].clone(),
                target[common].clone(),
            );
            edges
                .entry(key)
                .or_insert_with(|| format!("{}: {}", file.path.display(), path.join("::")));
        }
    }

    let mut by_parent: BTreeMap<ModPath, Vec<(String, String, String)>> = BTreeMap::new();
    for ((parent, from, to), example) in edges {
        by_parent
            .entry(parent)
            .or_default()
            .push((from, to, example));
    }
    let mut out = Vec::new();
    for (parent, edges) in by_parent {
        for group in strongly_connected(&edges) {
            let mut text = format!(
                "{}: {}\n",
                if parent.is_empty() {
                    "crate".to_string()
                } else {
                    parent.join("::")
                },
                group.iter().cloned().collect::<Vec<_>>().join(", ")
            );
            for (from, to, example) in &edges {
                if group.contains(from) && group.contains(to) {
                    text.push_str(&format!("    {from} -> {to}   ({example})\n"));
                }
            }
            out.push(text);
        }
    }
    Ok(out)
}

fn collect(src: &Path, dir: &Path, files: &mut Vec<File>) -> Result {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(src, &path, files)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(src).unwrap_or(&path);
            let mut module: ModPath = rel
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if module.len() == 1 && matches!(module[0].as_str(), "lib" | "main") {
                module.clear();
            } else if module.last().is_some_and(|m| m == "mod") {
                module.pop();
            } else if module.first().is_some_and(|m| m == "bin") {
                continue; // binaries are crates of their own
            }
            let raw = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            files.push(File {
                path,
                module,
                text: drop_test_modules(&strip(&raw)),
            });
        }
    }
    Ok(())
}

/// The module that `path`, written in module `from`, names: its longest
/// prefix that is a module, or, when `exports` is given and the next segment
/// is a name that module re-exports, the module it comes from. `None` for
/// paths outside the crate.
fn resolve_module(
    from: &ModPath,
    path: &[String],
    modules: &BTreeSet<ModPath>,
    exports: Option<&BTreeMap<ModPath, BTreeMap<String, ModPath>>>,
) -> Option<ModPath> {
    let mut segments = path.iter().peekable();
    let mut at: ModPath = match segments.peek()?.as_str() {
        "crate" => {
            segments.next();
            Vec::new()
        }
        "self" => {
            segments.next();
            from.clone()
        }
        "super" => {
            let mut at = from.clone();
            while segments.peek().is_some_and(|s| *s == "super") {
                segments.next();
                at.pop()?;
            }
            at
        }
        first => {
            // A path relative to the current module: only when its first
            // segment is a child module (otherwise it is another crate).
            let mut child = from.clone();
            child.push(first.to_string());
            if !modules.contains(&child) {
                return None;
            }
            from.clone()
        }
    };
    for segment in segments {
        let mut child = at.clone();
        child.push(segment.clone());
        if modules.contains(&child) {
            at = child;
            continue;
        }
        if let Some(target) = exports
            .and_then(|e| e.get(&at))
            .and_then(|names| names.get(segment))
        {
            at = target.clone();
        }
        break;
    }
    Some(at)
}

/// Every `use` declaration's paths, expanded (`a::{b, c::d}` gives `a::b` and
/// `a::c::d`; a glob gives its prefix), with whether it is `pub`.
fn uses(text: &str) -> Vec<(bool, Vec<String>)> {
    let tokens = tokens(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == "use" {
            let public = is_public(&tokens, i);
            let mut j = i + 1;
            let mut paths = Vec::new();
            use_tree(&tokens, &mut j, Vec::new(), &mut paths);
            out.extend(
                paths
                    .into_iter()
                    .filter(|p| !p.is_empty())
                    .map(|p| (public, p)),
            );
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// Is the `use` at `i` preceded by `pub` or `pub(...)`?
fn is_public(tokens: &[String], i: usize) -> bool {
    if i >= 1 && tokens[i - 1] == "pub" {
        return true;
    }
    // pub ( crate ) use / pub ( super ) use / pub ( in path ) use
    if i >= 1 && tokens[i - 1] == ")" {
        let mut k = i - 1;
        while k > 0 && tokens[k] != "(" {
            k -= 1;
        }
        return k >= 1 && tokens[k - 1] == "pub";
    }
    false
}

fn use_tree(tokens: &[String], j: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    while *j < tokens.len() {
        let t = tokens[*j].as_str();
        match t {
            "::" => *j += 1,
            "{" => {
                *j += 1;
                loop {
                    use_tree(tokens, j, path.clone(), out);
                    match tokens.get(*j).map(String::as_str) {
                        Some(",") => *j += 1,
                        Some("}") => {
                            *j += 1;
                            break;
                        }
                        _ => break,
                    }
                    if tokens.get(*j).map(String::as_str) == Some("}") {
                        *j += 1;
                        break;
                    }
                }
                if tokens.get(*j).map(String::as_str) == Some(";") {
                    *j += 1;
                }
                return;
            }
            "*" => {
                *j += 1;
                out.push(path);
                if tokens.get(*j).map(String::as_str) == Some(";") {
                    *j += 1;
                }
                return;
            }
            "as" => {
                *j += 2; // the alias; the path still names the original
            }
            "," | "}" => {
                out.push(path);
                return;
            }
            ";" => {
                *j += 1;
                out.push(path);
                return;
            }
            _ if is_ident(t) => {
                path.push(t.to_string());
                *j += 1;
            }
            _ => {
                *j += 1;
            }
        }
    }
    out.push(path);
}

/// Paths in code (outside `use`) that start with `crate`, `super` or `self`.
fn inline_paths(text: &str) -> Vec<Vec<String>> {
    let tokens = tokens(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i].as_str();
        let starts = matches!(t, "crate" | "super" | "self")
            && tokens.get(i + 1).map(String::as_str) == Some("::")
            && (i == 0 || tokens[i - 1] != "::");
        if !starts {
            i += 1;
            continue;
        }
        let mut path = vec![t.to_string()];
        let mut j = i + 1;
        while tokens.get(j).map(String::as_str) == Some("::")
            && tokens.get(j + 1).is_some_and(|t| is_ident(t))
        {
            path.push(tokens[j + 1].clone());
            j += 2;
        }
        out.push(path);
        i = j;
    }
    out
}

fn is_ident(t: &str) -> bool {
    t.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Identifiers, `::`, and single punctuation characters.
fn tokens(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            // `r#ident` raw identifiers keep their name.
            out.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push("::".into());
            i += 2;
        } else if c.is_whitespace() {
            i += 1;
        } else {
            out.push(c.to_string());
            i += 1;
        }
    }
    out
}

/// `text` without comments, string literals and char literals (each
/// replaced by a space, so that tokens stay apart).
fn strip(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !prev_is_ident(&chars, i)
        {
            // A raw string: r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c); // `r#ident`
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            i = j;
            out.push(' ');
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push(' ');
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}'), or a lifetime ('a).
            if next == Some('\\') {
                let mut j = i + 2;
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                out.push(' ');
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push(' ');
            } else {
                i += 1; // a lifetime: drop the quote, keep the name
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// `text` without `#[cfg(test)] mod name { ... }` blocks: tests may use
/// whatever they need.
fn drop_test_modules(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let trimmed = after.trim_start();
        let is_mod = trimmed.starts_with("mod ") || trimmed.starts_with("pub mod ");
        let open = trimmed.find(['{', ';']);
        match (is_mod, open) {
            (true, Some(o)) if trimmed.as_bytes()[o] == b'{' => {
                let body = &trimmed[o..];
                let mut depth = 0usize;
                let mut end = body.len();
                for (k, ch) in body.char_indices() {
                    match ch {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = k + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                rest = &body[end..];
            }
            _ => {
                out.push_str("#[cfg(test)]");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Tarjan's strongly connected components of the graph `edges` (from, to,
/// _), keeping those with more than one member.
fn strongly_connected(edges: &[(String, String, String)]) -> Vec<BTreeSet<String>> {
    let nodes: BTreeSet<&String> = edges.iter().flat_map(|(a, b, _)| [a, b]).collect();
    let succ = |n: &String| -> Vec<&String> {
        edges
            .iter()
            .filter(|(a, _, _)| a == n)
            .map(|(_, b, _)| b)
            .collect()
    };
    let mut index: BTreeMap<&String, usize> = BTreeMap::new();
    let mut low: BTreeMap<&String, usize> = BTreeMap::new();
    let mut stack: Vec<&String> = Vec::new();
    let mut on_stack: BTreeSet<&String> = BTreeSet::new();
    let mut groups = Vec::new();
    let mut counter = 0;

    // An explicit stack of (node, its successors not yet visited).
    for &start in &nodes {
        if index.contains_key(start) {
            continue;
        }
        let mut work: Vec<(&String, Vec<&String>)> = Vec::new();
        index.insert(start, counter);
        low.insert(start, counter);
        counter += 1;
        stack.push(start);
        on_stack.insert(start);
        work.push((start, succ(start)));
        while let Some((node, pending)) = work.last_mut() {
            let node = *node;
            if let Some(next) = pending.pop() {
                if !index.contains_key(next) {
                    index.insert(next, counter);
                    low.insert(next, counter);
                    counter += 1;
                    stack.push(next);
                    on_stack.insert(next);
                    work.push((next, succ(next)));
                } else if on_stack.contains(next) {
                    let l = low[node].min(index[next]);
                    low.insert(node, l);
                }
                continue;
            }
            work.pop();
            if let Some((parent, _)) = work.last() {
                let l = low[parent].min(low[node]);
                low.insert(parent, l);
            }
            if low[node] == index[node] {
                let mut group = BTreeSet::new();
                while let Some(member) = stack.pop() {
                    on_stack.remove(member);
                    group.insert(member.clone());
                    if member == node {
                        break;
                    }
                }
                if group.len() > 1 {
                    groups.push(group);
                }
            }
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crate_with(files: &[(&str, &str)]) -> tempdir::Dir {
        let dir = tempdir::Dir::new();
        for (name, text) in files {
            let path = dir.0.join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        dir
    }

    mod tempdir {
        use std::path::PathBuf;
        use std::sync::atomic::{AtomicUsize, Ordering};

        /// A folder under the system's temporary folder, removed on drop.
        pub struct Dir(pub PathBuf);

        impl Dir {
            pub fn new() -> Dir {
                static N: AtomicUsize = AtomicUsize::new(0);
                let path = std::env::temp_dir().join(format!(
                    "xtask-cycles-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::Relaxed)
                ));
                let _ = std::fs::remove_dir_all(&path);
                std::fs::create_dir_all(&path).unwrap();
                Dir(path)
            }
        }

        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn a_two_file_cycle_is_found_with_its_references() {
        let dir = crate_with(&[
            ("lib.rs", "mod a;\nmod b;\npub use b::Thing;\n"),
            ("a.rs", "use crate::Thing;\npub struct A;\n"),
            ("b.rs", "pub struct Thing(crate::a::A);\n"),
        ]);
        let found = cycles(&dir.0).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("crate: a, b\n"), "{}", found[0]);
        assert!(found[0].contains("a -> b"), "{}", found[0]);
        assert!(found[0].contains("b -> a"), "{}", found[0]);
    }

    #[test]
    fn one_way_imports_parents_comments_strings_and_tests_are_not_cycles() {
        let dir = crate_with(&[
            ("lib.rs", "mod a;\nmod b;\nmod c;\n"),
            ("a.rs", "pub struct A; // crate::b::B\n"),
            (
                "b.rs",
                "use crate::a::A;\nconst S: &str = \"crate::c::C\";\npub struct B(A);\n#[cfg(test)]\nmod tests { use crate::c::C; }\n",
            ),
            ("c.rs", "use crate::{a::A, b::B};\npub struct C(A, B);\nmod inner;\n"),
            ("c/inner.rs", "use super::C;\nuse crate::c::C as D;\n"),
        ]);
        assert_eq!(cycles(&dir.0).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn cycles_between_nested_siblings_are_found_and_super_paths_resolve() {
        let dir = crate_with(&[
            ("lib.rs", "mod sync;\n"),
            ("sync/mod.rs", "mod mutex;\nmod waitq;\n"),
            ("sync/mutex.rs", "use super::waitq::Queue;\n"),
            ("sync/waitq.rs", "pub struct Queue(super::mutex::Mutex);\n"),
        ]);
        let found = cycles(&dir.0).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("sync: mutex, waitq\n"), "{}", found[0]);
    }

    #[test]
    fn use_trees_expand() {
        let paths: Vec<Vec<String>> =
            uses("pub(crate) use crate::{a::{B, c}, d::*};\nuse std::io;")
                .into_iter()
                .map(|(_, p)| p)
                .collect();
        let shown: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
        assert_eq!(shown, ["crate::a::B", "crate::a::c", "crate::d", "std::io"]);
        assert!(uses("pub(crate) use crate::a;")[0].0);
        assert!(!uses("use crate::a;")[0].0);
    }
}
