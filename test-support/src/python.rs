//! A real Chaos Toolkit for the tests that compare with it or run user Python through the
//! runner: a virtualenv under the target directory with **chaostoolkit 1.21.4** and
//! **chaostoolkit-lib 1.45.1**, made on first use and reused afterwards.
//!
//! [`ctk_python`] creates it when it is missing, broken or lacks those versions, with
//! `conformance/venv.sh` (the same logic as the recording scripts: pyenv's Python 3.12.1,
//! any pyenv 3.12+, or `python3.12+` on `PATH`; `PYTHON=…` overrides), under an
//! exclusive file lock so that test binaries running at once do not race. PyPI is needed
//! only the first time. It never skips: without a usable Python 3.12+ or without PyPI
//! the calling test fails, saying why.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The pinned packages.
pub const CTK_PINS: [&str; 2] = ["chaostoolkit==1.21.4", "chaostoolkit-lib==1.45.1"];

/// The repository root.
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The cargo target directory the running test binary was built into (the first
/// ancestor of the executable holding `CACHEDIR.TAG`), else `<repository>/target`.
pub fn target_dir() -> PathBuf {
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1) {
            if dir.join("CACHEDIR.TAG").is_file() {
                return dir.to_path_buf();
            }
        }
    }
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repository_root().join("target"))
}

/// The virtualenv's directory: `<target>/conformance-runner-venv`, the one
/// `conformance/run_ctk_runner.sh` records with.
pub fn ctk_venv() -> PathBuf {
    target_dir().join("conformance-runner-venv")
}

/// The interpreter of a virtualenv with chaostoolkit 1.21.4 and chaostoolkit-lib 1.45.1
/// (see the module docs). Panics, with the reason, when it cannot be made.
pub fn ctk_python() -> PathBuf {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PYTHON.get_or_init(ensure) {
        Ok(python) => python.clone(),
        Err(e) => panic!("{e}"),
    }
}

/// `chaos` of that virtualenv.
pub fn ctk_chaos() -> PathBuf {
    ctk_python().parent().map(|bin| bin.join("chaos")).unwrap_or_default()
}

fn ensure() -> Result<PathBuf, String> {
    let venv = ctk_venv();
    let python = venv.join("bin").join("python");
    std::fs::create_dir_all(target_dir()).map_err(|e| format!("{}: {e}", target_dir().display()))?;
    let _lock = lock::exclusive(&target_dir().join("conformance-runner-venv.lock"))?;
    if ready(&python, &venv) {
        return Ok(python);
    }
    let script = repository_root().join("conformance").join("venv.sh");
    let mut command = Command::new("bash");
    command.arg("-c").arg("source \"$0\" && ensure_venv \"$@\"").arg(&script).arg(&venv).args(CTK_PINS);
    let out = command.output().map_err(|e| format!("cannot run bash for {}: {e}", script.display()))?;
    if !out.status.success() || !ready(&python, &venv) {
        return Err(format!(
            "could not make the chaostoolkit virtualenv {} ({}): these tests need a Python >= 3.12 \
             (pyenv, python3.12 on PATH, or PYTHON=…) and PyPI the first time\n{}{}",
            venv.display(),
            CTK_PINS.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(python)
}

/// Whether the venv has both pins and was made at this path.
fn ready(python: &Path, venv: &Path) -> bool {
    let check = "import sys, importlib.metadata as m\n\
                 assert sys.version_info >= (3, 12)\n\
                 assert m.version('chaostoolkit') == '1.21.4', 'chaostoolkit'\n\
                 assert m.version('chaostoolkit-lib') == '1.45.1', 'chaostoolkit-lib'\n";
    let pinned = Command::new(python).args(["-c", check]).output().is_ok_and(|o| o.status.success());
    // A venv copied from elsewhere keeps the old path in its scripts.
    let shebang = std::fs::read_to_string(venv.join("bin").join("chaos"))
        .ok()
        .and_then(|text| text.lines().next().map(str::to_string))
        .unwrap_or_default();
    let real = venv.canonicalize().unwrap_or_else(|_| venv.to_path_buf());
    let here = [venv.to_path_buf(), real].iter().any(|v| shebang.starts_with(&format!("#!{}/bin/python", v.display())));
    pinned && here
}

#[cfg(unix)]
pub(crate) mod lock {
    use std::fs::File;
    use std::os::fd::AsRawFd;
    use std::path::Path;

    /// Holds an exclusive `flock` on a file until dropped.
    pub struct Exclusive(File);

    pub fn exclusive(path: &Path) -> Result<Exclusive, String> {
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        loop {
            // SAFETY: a valid open file descriptor, owned by `file` for the whole call.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
            if rc == 0 {
                return Ok(Exclusive(file));
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(format!("cannot lock {}: {e}", path.display()));
            }
        }
    }

    impl Drop for Exclusive {
        fn drop(&mut self) {
            // SAFETY: as above; closing the file would release the lock anyway.
            unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
        }
    }
}

#[cfg(not(unix))]
pub(crate) mod lock {
    use std::path::Path;

    pub struct Exclusive;

    pub fn exclusive(_path: &Path) -> Result<Exclusive, String> {
        Ok(Exclusive)
    }
}
