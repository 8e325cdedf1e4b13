//! The Python interpreter tests run Python plugins, providers and the bridge with.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// `$NOTIFIER_TEST_PYTHON`, pyenv's 3.11.7 if present, else what `python3` on PATH really
/// is (resolved through `sys.executable`, so a pyenv shim's start-up cost is paid once).
/// The tests that call it need a Python >= 3.8 and fail, with this message, without one.
pub fn python3() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            if let Some(p) = std::env::var_os("NOTIFIER_TEST_PYTHON") {
                return PathBuf::from(p);
            }
            let pyenv = Path::new("/root/.pyenv/versions/3.11.7/bin/python3");
            if pyenv.exists() {
                return pyenv.to_path_buf();
            }
            let out = Command::new("python3")
                .args(["-c", "import sys; assert sys.version_info >= (3, 8); print(sys.executable)"])
                .output()
                .expect("these tests need a python3 >= 3.8 on PATH (or NOTIFIER_TEST_PYTHON)");
            assert!(out.status.success(), "these tests need a python3 >= 3.8 (or NOTIFIER_TEST_PYTHON)");
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        })
        .clone()
}
