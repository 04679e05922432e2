//! The shape of the code, checked: the module graph of `shared-core` has no cycle, system
//! calls live in its `os` module only, and the facts the derive must share with the runtime
//! (the heap's largest alignment, the methods of `Synchronized` that would hide a field
//! accessor) have not drifted apart.
//!
//! The module graph is read from the source: each top-level module of `shared-core/src`
//! (`access`, `heap`, `lock`, …, a file or a directory) is a node, and every `crate::m` path
//! in its code (comments and string literals left out) is an edge to `m`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const CORE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/shared-core/src");
const DERIVE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/shared-derive/src");

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a Rust file without comments and without the contents of string and
/// character literals (enough of a lexer for this code base).
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'r' if matches!(b.get(i + 1), Some(b'"' | b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                // Raw string: r"..." or r#"..."#.
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    out.push('r');
                    i += 1;
                    continue;
                }
                j += 1;
                loop {
                    if j >= b.len() {
                        break;
                    }
                    if b[j] == b'"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&b'#')) {
                        j += 1 + hashes;
                        break;
                    }
                    j += 1;
                }
                out.push_str("\"\"");
                i = j;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                out.push_str("\"\"");
            }
            b'\'' if b.get(i + 2) == Some(&b'\'') || b.get(i + 1) == Some(&b'\\') => {
                // A character literal ('x', '\n', '\''), not a lifetime.
                i += 1;
                while i < b.len() && b[i] != b'\'' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            }
            c => {
                out.push(c as char);
                i += 1;
            }
        }
    }
    out
}

/// Top-level module of a file of `shared-core/src` (`heap/fork.rs` -> `heap`), or `None` for
/// the crate root.
fn module_of(path: &Path) -> Option<String> {
    let rel = path.strip_prefix(CORE).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib").then_some(name)
}

/// `crate::m` edges between the top-level modules of `shared-core`.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(Path::new(CORE), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(from) = module_of(file) else {
            continue;
        };
        let code = code_only(&std::fs::read_to_string(file).unwrap());
        let edges = graph.entry(from.clone()).or_default();
        for (pos, _) in code.match_indices("crate::") {
            let before = code[..pos].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue; // `$crate::` in a macro, or part of a longer name
            }
            let to: String = code[pos + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !to.is_empty() && to != from {
                edges.insert(to);
            }
        }
    }
    graph
}

/// A cycle in `graph`, if any, as the list of modules along it.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(2) => return None,
            Some(1) => {
                let start = path.iter().position(|n| n == node).unwrap();
                let mut cycle = path[start..].to_vec();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            _ => {}
        }
        state.insert(node.to_string(), 1);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, state, path) {
                return Some(cycle);
            }
        }
        path.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut state, &mut Vec::new()))
}

#[test]
fn the_module_graph_of_shared_core_has_no_cycle() {
    let graph = module_graph();
    let described: Vec<String> = graph
        .iter()
        .map(|(m, to)| {
            format!(
                "{m} -> {}",
                to.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    assert!(graph.len() >= 10, "the graph was not read: {described:#?}");
    eprintln!("module graph of shared-core:\n{}", described.join("\n"));
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "import cycle {}\nmodule graph:\n{}",
            cycle.join(" -> "),
            described.join("\n")
        );
    }
    // The layout metadata is plain data: it depends on nothing else in the crate.
    assert_eq!(graph["layout"], BTreeSet::new(), "layout must be a leaf");
    assert_eq!(
        graph["os"],
        BTreeSet::from(["error".to_string()]),
        "os uses only error"
    );
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", &["b"][..]),
        ("b", &["c"][..]),
        ("c", &["a"][..]),
        ("d", &[][..]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
    .collect();
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

#[test]
fn code_only_drops_comments_and_literals() {
    let src = "use crate::a; // crate::b\n/* crate::c */ let s = \"crate::d\"; let c = '\"'; r#\"crate::e\"#; crate::f";
    let code = code_only(src);
    assert!(
        code.contains("crate::a") && code.contains("crate::f"),
        "{code}"
    );
    for gone in ["crate::b", "crate::c", "crate::d", "crate::e"] {
        assert!(!code.contains(gone), "{gone} left in {code}");
    }
}

#[test]
fn system_calls_live_in_the_os_module_only() {
    let mut files = Vec::new();
    rust_files(Path::new(CORE), &mut files);
    let mut offenders = Vec::new();
    for file in &files {
        if module_of(file).as_deref() == Some("os") {
            continue;
        }
        let code = code_only(&std::fs::read_to_string(file).unwrap());
        for name in ["libc::", "nix::"] {
            let uses = code.match_indices(name).any(|(pos, _)| {
                // A path that starts here, not `unix::` or `my_libc::`.
                !code[..pos]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
            if uses {
                offenders.push(format!("{} uses {name}", file.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

/// The value of `const NAME: TYPE = VALUE;` in a derive source file.
fn derive_const(file: &str, name: &str) -> String {
    let src = std::fs::read_to_string(Path::new(DERIVE).join(file)).unwrap();
    let start = src
        .find(&format!("const {name}:"))
        .unwrap_or_else(|| panic!("no const {name} in {file}"));
    let rest = &src[start..];
    let value = &rest[rest.find('=').unwrap() + 1..rest.find(';').unwrap()];
    value.trim().to_string()
}

#[test]
fn the_derive_knows_the_heaps_largest_alignment() {
    let derive: usize = derive_const("check.rs", "MAX_ALIGN").parse().unwrap();
    assert_eq!(derive, sharedctypes::heap::MAX_ALIGN);
}

/// Methods with a receiver in the `impl` blocks of `Synchronized<O, L>` and
/// `Synchronized<RawValue<T>, L>` (what `Value<T>` has before its `Deref`).
fn value_methods() -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_files(&Path::new(CORE).join("synchronized"), &mut files);
    let mut methods = BTreeSet::new();
    for file in files {
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        let mut rest = code.as_str();
        while let Some(pos) = rest.find("impl<") {
            rest = &rest[pos..];
            let header_end = rest.find('{').unwrap();
            let header = &rest[..header_end];
            let applies_to_value = !header.contains(" for ")
                && (header.contains("Synchronized<O, L>")
                    || header.contains("Synchronized<RawValue<T>"));
            // The body: up to the matching closing brace.
            let mut depth = 0;
            let mut end = header_end;
            for (i, c) in rest[header_end..].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = header_end + i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            if applies_to_value {
                let body = &rest[header_end..end];
                for (pos, _) in body.match_indices("pub fn ") {
                    let sig = &body[pos + 7..];
                    let name: String = sig
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let params = &sig[sig.find('(').unwrap()..];
                    if params.starts_with("(&self") || params.starts_with("(self") {
                        methods.insert(name);
                    }
                }
            }
            rest = &rest[end.max(1)..];
        }
    }
    methods
}

#[test]
fn the_derive_knows_every_method_that_would_hide_an_accessor() {
    let list = derive_const("check.rs", "SYNCHRONIZED_METHODS");
    let reserved: BTreeSet<String> = list
        .trim_start_matches("&[")
        .trim_end_matches(']')
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let methods = value_methods();
    assert!(
        methods.contains("lock") && methods.contains("update"),
        "the methods were not read: {methods:?}"
    );
    // `get` and `set` are reserved for every view already (the view's own `get`/`set`).
    let expected: BTreeSet<String> = methods
        .into_iter()
        .filter(|m| m != "get" && m != "set")
        .collect();
    assert_eq!(
        reserved, expected,
        "update SYNCHRONIZED_METHODS in shared-derive/src/check.rs"
    );
}
