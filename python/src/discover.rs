//! Finding the user's Python interpreter.
//!
//! Order: the explicit path (the CLI's `--python PATH`), `$NOTIFIER_PYTHON`,
//! `$VIRTUAL_ENV/bin/python`, then `python3` on `PATH`. Finding one starts nothing: it only
//! looks at the file system.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

/// An interpreter found by [`find_interpreter`] (or named by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    path: PathBuf,
    source: Source,
}

impl Interpreter {
    /// An interpreter at `path`, taken as it is (nothing is checked until it is started).
    pub fn at(path: impl Into<PathBuf>) -> Interpreter {
        Interpreter { path: path.into(), source: Source::Explicit }
    }

    /// The program that is started.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where it was found.
    pub fn source(&self) -> Source {
        self.source
    }
}

impl fmt::Display for Interpreter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.path.display(), self.source)
    }
}

/// The places an interpreter is looked for, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// The path given by the caller (`--python PATH`).
    Explicit,
    /// `$NOTIFIER_PYTHON`.
    NotifierPython,
    /// `$VIRTUAL_ENV/bin/python`.
    VirtualEnv,
    /// `python3` found on `$PATH`.
    Path,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Explicit => "--python",
            Source::NotifierPython => "$NOTIFIER_PYTHON",
            Source::VirtualEnv => "$VIRTUAL_ENV",
            Source::Path => "python3 on PATH",
        })
    }
}

/// Why one place gave no interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The environment variable is not set (or empty).
    NotSet,
    /// Nothing exists at this path.
    Missing(PathBuf),
    /// It exists but is a directory or another non-file.
    NotAFile(PathBuf),
    /// It exists but has no execute permission.
    NotExecutable(PathBuf),
    /// A bare name (no `/`) that no `PATH` directory holds.
    NotOnPath(String),
    /// `PATH` is not set.
    NoPath,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NotSet => f.write_str("not set"),
            Problem::Missing(p) => write!(f, "{}: missing", p.display()),
            Problem::NotAFile(p) => write!(f, "{}: not a file", p.display()),
            Problem::NotExecutable(p) => write!(f, "{}: not executable", p.display()),
            Problem::NotOnPath(name) => write!(f, "no `{name}` in any PATH directory"),
            Problem::NoPath => f.write_str("PATH is not set"),
        }
    }
}

/// No usable interpreter: every place that was looked at, and why it gave none.
///
/// An explicit path and `$NOTIFIER_PYTHON` are the user's choice: when the one given is
/// unusable the search stops there (running some other Python instead would import other
/// modules and fail in confusing ways). `$VIRTUAL_ENV` and `PATH` are fallbacks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct NoPython {
    /// Each place looked at, in order, with its problem.
    pub attempts: Vec<(Source, Problem)>,
}

impl fmt::Display for NoPython {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no usable Python interpreter; looked at:")?;
        for (source, problem) in &self.attempts {
            write!(f, "\n  {source}: {problem}")?;
        }
        f.write_str("\nchoose one with `--python PATH` or the NOTIFIER_PYTHON environment variable")
    }
}

/// Finds the interpreter to run user code with, reading the process environment.
///
/// `explicit` is the CLI's `--python PATH`. See [`find_interpreter_with`].
pub fn find_interpreter(explicit: Option<&Path>) -> Result<Interpreter, NoPython> {
    find_interpreter_with(explicit, &|name| std::env::var_os(name))
}

/// [`find_interpreter`] with the environment lookup given (for tests and embedders).
///
/// Order: `explicit`, `$NOTIFIER_PYTHON`, `$VIRTUAL_ENV/bin/python`, `python3` on `$PATH`.
/// An explicit path or `$NOTIFIER_PYTHON` that names no executable file ends the search
/// with an error; a bare name there (no `/`) is looked up on `PATH`.
pub fn find_interpreter_with(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Interpreter, NoPython> {
    let mut attempts = Vec::new();
    let path_var = env("PATH").filter(|p| !p.is_empty());

    if let Some(path) = explicit {
        return match named(path, path_var.as_deref()) {
            Ok(path) => Ok(Interpreter { path, source: Source::Explicit }),
            Err(problem) => Err(NoPython { attempts: vec![(Source::Explicit, problem)] }),
        };
    }

    match env("NOTIFIER_PYTHON").filter(|v| !v.is_empty()) {
        Some(value) => {
            return match named(Path::new(&value), path_var.as_deref()) {
                Ok(path) => Ok(Interpreter { path, source: Source::NotifierPython }),
                Err(problem) => {
                    attempts.push((Source::NotifierPython, problem));
                    Err(NoPython { attempts })
                }
            };
        }
        None => attempts.push((Source::NotifierPython, Problem::NotSet)),
    }

    match env("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
        Some(venv) => {
            let candidate = Path::new(&venv).join("bin").join("python");
            match executable(&candidate) {
                Ok(()) => return Ok(Interpreter { path: candidate, source: Source::VirtualEnv }),
                Err(problem) => {
                    tracing::warn!("$VIRTUAL_ENV is set but {problem}; looking for python3 on PATH");
                    attempts.push((Source::VirtualEnv, problem));
                }
            }
        }
        None => attempts.push((Source::VirtualEnv, Problem::NotSet)),
    }

    match on_path("python3", path_var.as_deref()) {
        Ok(path) => Ok(Interpreter { path, source: Source::Path }),
        Err(problem) => {
            attempts.push((Source::Path, problem));
            Err(NoPython { attempts })
        }
    }
}

/// A path given by the user: used as is when it has a `/`, else looked up on `PATH`.
fn named(path: &Path, path_var: Option<&std::ffi::OsStr>) -> Result<PathBuf, Problem> {
    if path.components().count() > 1 || path.is_absolute() {
        executable(path).map(|()| path.to_path_buf())
    } else {
        on_path(&path.to_string_lossy(), path_var)
    }
}

fn on_path(name: &str, path_var: Option<&std::ffi::OsStr>) -> Result<PathBuf, Problem> {
    let Some(path_var) = path_var else {
        return Err(Problem::NoPath);
    };
    for dir in std::env::split_paths(path_var) {
        if dir.as_os_str().is_empty() {
            continue;
        }
        let candidate = dir.join(name);
        if executable(&candidate).is_ok() {
            return Ok(candidate);
        }
    }
    Err(Problem::NotOnPath(name.to_string()))
}

fn executable(path: &Path) -> Result<(), Problem> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(_) => return Err(Problem::Missing(path.to_path_buf())),
    };
    if !meta.is_file() {
        return Err(Problem::NotAFile(path.to_path_buf()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o111 == 0 {
            return Err(Problem::NotExecutable(path.to_path_buf()));
        }
    }
    Ok(())
}
