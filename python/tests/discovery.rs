//! Interpreter discovery: the order, what each failure says, and that a bare name is looked
//! up on PATH. The environment is injected; the files are real.

#![cfg(unix)]

use std::collections::HashMap;
use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use notifier_python::{Interpreter, NoPython, Problem, Source, find_interpreter_with};

struct Fake {
    dir: tempfile::TempDir,
}

impl Fake {
    fn new() -> Fake {
        Fake { dir: tempfile::tempdir().unwrap() }
    }

    /// A file at `rel`, executable or not.
    fn file(&self, rel: &str, executable: bool) -> PathBuf {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        let mode = if executable { 0o755 } else { 0o644 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

fn find(explicit: Option<&Path>, vars: &[(&str, &Path)]) -> Result<Interpreter, NoPython> {
    let env: HashMap<String, OsString> = vars.iter().map(|(k, v)| (k.to_string(), v.as_os_str().to_owned())).collect();
    find_interpreter_with(explicit, &|name| env.get(name).cloned())
}

#[test]
fn the_explicit_path_comes_first_then_notifier_python_then_the_venv_then_path() {
    let f = Fake::new();
    let explicit = f.file("explicit/python", true);
    let notifier = f.file("notifier/python", true);
    f.file("venv/bin/python", true);
    f.file("bin/python3", true);
    let venv = f.path("venv");
    let bin = f.path("bin");
    let all = [("NOTIFIER_PYTHON", notifier.as_path()), ("VIRTUAL_ENV", venv.as_path()), ("PATH", bin.as_path())];

    let found = find(Some(&explicit), &all).unwrap();
    assert_eq!((found.path(), found.source()), (explicit.as_path(), Source::Explicit));
    let found = find(None, &all).unwrap();
    assert_eq!((found.path(), found.source()), (notifier.as_path(), Source::NotifierPython));
    let found = find(None, &all[1..]).unwrap();
    assert_eq!((found.path(), found.source()), (f.path("venv/bin/python").as_path(), Source::VirtualEnv));
    let found = find(None, &all[2..]).unwrap();
    assert_eq!((found.path(), found.source()), (f.path("bin/python3").as_path(), Source::Path));
    assert!(found.to_string().ends_with("bin/python3 (python3 on PATH)"), "{found}");
}

#[test]
fn path_is_searched_in_order_skipping_what_is_not_executable() {
    let f = Fake::new();
    f.file("a/python3", false);
    std::fs::create_dir_all(f.path("b/python3")).unwrap();
    f.file("c/python3", true);
    f.file("d/python3", true);
    let path = std::env::join_paths(["a", "b", "", "c", "d"].iter().map(|d| f.path(d))).unwrap();
    let found = find(None, &[("PATH", Path::new(&path))]).unwrap();
    assert_eq!(found.path(), f.path("c/python3"));
}

#[test]
fn a_broken_venv_falls_back_to_path() {
    let f = Fake::new();
    f.file("bin/python3", true);
    let venv = f.path("gone-venv");
    let bin = f.path("bin");
    let found = find(None, &[("VIRTUAL_ENV", venv.as_path()), ("PATH", bin.as_path())]).unwrap();
    assert_eq!(found.source(), Source::Path);
}

#[test]
fn an_unusable_choice_of_the_user_is_an_error_not_a_silent_fallback() {
    let f = Fake::new();
    f.file("bin/python3", true);
    let bin = f.path("bin");
    let not_exec = f.file("notexec/python", false);
    let dir = f.path("bin");

    let err = find(Some(&f.path("missing/python")), &[("PATH", bin.as_path())]).unwrap_err();
    assert_eq!(err.attempts, vec![(Source::Explicit, Problem::Missing(f.path("missing/python")))]);
    let err = find(None, &[("NOTIFIER_PYTHON", not_exec.as_path()), ("PATH", bin.as_path())]).unwrap_err();
    assert_eq!(err.attempts, vec![(Source::NotifierPython, Problem::NotExecutable(not_exec.clone()))]);
    assert_eq!(
        err.to_string(),
        format!(
            "no usable Python interpreter; looked at:\n  $NOTIFIER_PYTHON: {}: not executable\n\
             choose one with `--python PATH` or the NOTIFIER_PYTHON environment variable",
            not_exec.display()
        )
    );
    let err = find(Some(&dir), &[]).unwrap_err();
    assert_eq!(err.attempts, vec![(Source::Explicit, Problem::NotAFile(dir))]);
}

#[test]
fn a_bare_name_is_looked_up_on_path() {
    let f = Fake::new();
    f.file("bin/python3.12", true);
    let bin = f.path("bin");
    let found = find(Some(Path::new("python3.12")), &[("PATH", bin.as_path())]).unwrap();
    assert_eq!(found.path(), f.path("bin/python3.12"));
    let found = find(None, &[("NOTIFIER_PYTHON", Path::new("python3.12")), ("PATH", bin.as_path())]).unwrap();
    assert_eq!((found.path(), found.source()), (f.path("bin/python3.12").as_path(), Source::NotifierPython));
    let err = find(Some(Path::new("python9")), &[("PATH", bin.as_path())]).unwrap_err();
    assert_eq!(err.attempts, vec![(Source::Explicit, Problem::NotOnPath("python9".into()))]);
}

#[test]
fn nothing_found_lists_every_place_and_how_to_choose() {
    let f = Fake::new();
    let empty = f.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let venv = f.path("venv");
    let err = find(None, &[("VIRTUAL_ENV", venv.as_path()), ("PATH", empty.as_path())]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "no usable Python interpreter; looked at:\n  $NOTIFIER_PYTHON: not set\n  $VIRTUAL_ENV: {}: missing\n  \
             python3 on PATH: no `python3` in any PATH directory\n\
             choose one with `--python PATH` or the NOTIFIER_PYTHON environment variable",
            venv.join("bin/python").display()
        )
    );
    let err = find(None, &[]).unwrap_err();
    assert_eq!(
        err.attempts,
        vec![
            (Source::NotifierPython, Problem::NotSet),
            (Source::VirtualEnv, Problem::NotSet),
            (Source::Path, Problem::NoPath)
        ]
    );
    assert!(err.to_string().contains("python3 on PATH: PATH is not set"), "{err}");
}

#[test]
fn empty_variables_count_as_unset() {
    let f = Fake::new();
    f.file("bin/python3", true);
    let bin = f.path("bin");
    let empty = Path::new("");
    let found = find(None, &[("NOTIFIER_PYTHON", empty), ("VIRTUAL_ENV", empty), ("PATH", bin.as_path())]).unwrap();
    assert_eq!(found.source(), Source::Path);
}
