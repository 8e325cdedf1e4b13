//! The modules of a crate form layers: which module names which (`crate::module`, and
//! `super::module` inside a directory module, outside comments), and a check that no
//! import circle exists (a lower layer never names a higher one).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `checks/http.rs` → `checks::http`, `checks/mod.rs` → `checks`, `lib.rs` → `lib`.
fn module_name(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    match parts.as_slice() {
        [.., dir, last] if last == "mod" => dir.clone(),
        _ => parts.join("::"),
    }
}

/// The modules a file names after `prefix` (`crate::` or `super::`), outside comments.
fn named(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines().map(str::trim_start).filter(|l| !l.starts_with("//")) {
        let mut rest = line;
        while let Some(i) = rest.find(prefix) {
            rest = &rest[i + prefix.len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.insert(name);
            }
            // `use super::{a, b}` / `use crate::{a, b}`.
            if let Some(group) = rest.strip_prefix('{') {
                for item in group.split('}').next().unwrap_or_default().split(',') {
                    let item: String =
                        item.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    if !item.is_empty() {
                        out.insert(item);
                    }
                }
            }
        }
    }
    out
}

/// The import graph of the crate whose sources are in `src`: module → the modules it names.
pub fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_name(src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let name = module_name(src, file);
        if name == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        let parent = name.rsplit_once("::").map(|(p, _)| p.to_owned());
        let mut edges: BTreeSet<String> = named(&text, "crate::").into_iter().filter(|m| modules.contains(m)).collect();
        if let Some(parent) = &parent {
            edges.extend(
                named(&text, "super::").into_iter().map(|m| format!("{parent}::{m}")).filter(|m| modules.contains(m)),
            );
        }
        // A module declaring its children is not an import.
        edges.retain(|m| m != &name && !m.starts_with(&format!("{name}::")));
        graph.insert(name, edges);
    }
    graph
}

/// Panics with the first import circle of `graph`, if there is one.
pub fn assert_no_import_circle(graph: &BTreeMap<String, BTreeSet<String>>) {
    // Depth-first search for a back edge.
    fn visit<'a>(
        m: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if done.contains(m) {
            return;
        }
        if let Some(i) = path.iter().position(|p| *p == m) {
            panic!("import circle: {} -> {m}", path[i..].join(" -> "));
        }
        path.push(m);
        for next in graph.get(m).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
        done.insert(m);
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        visit(m, graph, &mut Vec::new(), &mut done);
    }
}
