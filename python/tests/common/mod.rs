//! Shared by the integration tests: a real interpreter and a directory of Python modules
//! put on the helper's PYTHONPATH.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use notifier_python::{Bridge, BridgeBuilder, Interpreter};

/// The interpreter the tests run (see [`notifier_test_support::python3`]).
pub fn python() -> PathBuf {
    notifier_test_support::python3()
}

/// Every pyenv interpreter of version >= 3.8 on this machine, plus [`python`].
pub fn all_pythons() -> Vec<PathBuf> {
    let mut found = vec![python()];
    if let Ok(entries) = std::fs::read_dir("/root/.pyenv/versions") {
        let mut more: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let mut parts = name.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
                let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
                major == 3 && minor >= 8
            })
            .map(|e| e.path().join("bin/python3"))
            .filter(|p| p.exists())
            .collect();
        more.sort();
        for p in more {
            if !found.contains(&p) {
                found.push(p);
            }
        }
    }
    found
}

/// A temporary directory of Python modules.
pub struct Modules {
    pub dir: tempfile::TempDir,
}

impl Modules {
    pub fn new() -> Modules {
        Modules { dir: tempfile::tempdir().expect("tempdir") }
    }

    /// Writes `name.py` (dots make packages: `pkg.mod` → `pkg/mod.py` and `pkg/__init__.py`).
    pub fn add(&self, name: &str, source: &str) -> &Modules {
        let parts: Vec<&str> = name.split('.').collect();
        let mut dir = self.dir.path().to_path_buf();
        for package in &parts[..parts.len() - 1] {
            dir.push(package);
            std::fs::create_dir_all(&dir).unwrap();
            let init = dir.join("__init__.py");
            if !init.exists() {
                std::fs::write(init, "").unwrap();
            }
        }
        std::fs::write(dir.join(format!("{}.py", parts[parts.len() - 1])), unindent(source)).unwrap();
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A builder for a bridge on [`python`] with these modules on PYTHONPATH.
    pub fn builder(&self) -> BridgeBuilder {
        self.builder_with(&python())
    }

    pub fn builder_with(&self, python: &Path) -> BridgeBuilder {
        Bridge::builder().interpreter(Interpreter::at(python)).env("PYTHONPATH", self.path())
    }

    pub fn bridge(&self) -> Bridge {
        self.builder().build()
    }
}

/// Removes the common leading indentation, so modules can be written indented in Rust.
pub fn unindent(source: &str) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let indent =
        lines.iter().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
    let mut out = String::new();
    for line in lines {
        out.push_str(line.get(indent..).unwrap_or("").trim_end());
        out.push('\n');
    }
    out.trim_start_matches('\n').to_string()
}

/// A JSON object literal as a map.
pub fn map(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}
