//! Cost of the Python bridge: starting a helper (the first call on a fresh `Bridge`) and
//! one round trip for a trivial provider function on a warm helper.
//!
//! `bench/python_bridge.sh` runs this next to chaostoolkit-lib calling the same function
//! in-process. The interpreter is `$NOTIFIER_BENCH_PYTHON`, else pyenv's 3.12.1, else what
//! `python3` really is (`sys.executable`: a pyenv shim would add ~0.4 s to every start).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use notifier_python::{Bridge, CallOptions, Interpreter, PythonProvider};
use serde_json::{Map, Value, json};

fn main() {
    divan::main();
}

struct Fixture {
    python: PathBuf,
    modules: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let python = std::env::var_os("NOTIFIER_BENCH_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
            let pyenv = Path::new("/root/.pyenv/versions/3.12.1/bin/python3");
            if pyenv.exists() {
                return pyenv.to_path_buf();
            }
            let out = Command::new("python3")
                .args(["-c", "import sys; print(sys.executable)"])
                .output()
                .expect("the bridge benchmark needs a python3");
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        });
        let modules = tempfile::tempdir().expect("tempdir");
        std::fs::write(modules.path().join("benchmod.py"), "def trivial(x):\n    return x\n").expect("write module");
        Fixture { python, modules }
    })
}

fn bridge() -> Bridge {
    let f = fixture();
    Bridge::builder().interpreter(Interpreter::at(&f.python)).env("PYTHONPATH", f.modules.path()).build()
}

/// A fresh bridge's first call: spawn the interpreter, run the helper, one ping. Dropping
/// the bridge (shutdown, reap) is outside the timing.
#[divan::bench(sample_count = 20, sample_size = 1)]
fn start(bencher: divan::Bencher) {
    bencher.with_inputs(bridge).bench_local_values(|bridge| {
        bridge.ping(CallOptions::new()).expect("ping");
        bridge
    });
}

/// `run_provider` of `def trivial(x): return x` with `{"x": 1}` on a warm helper: what a
/// Python activity costs on top of the function itself.
#[divan::bench(sample_count = 200, sample_size = 50)]
fn call_trivial(bencher: divan::Bencher) {
    let bridge = bridge();
    let arguments: Map<String, Value> = json!({"x": 1}).as_object().cloned().unwrap_or_default();
    let provider = PythonProvider::new("trivial", "probe", "benchmod", "trivial").arguments(&arguments);
    bridge.run_provider(&provider, CallOptions::new()).expect("warm up").expect("trivial");
    bencher.bench_local(|| bridge.run_provider(&provider, CallOptions::new()));
}

/// The same call on a background thread of the helper.
#[divan::bench(sample_count = 200, sample_size = 50)]
fn call_trivial_background(bencher: divan::Bencher) {
    let bridge = bridge();
    let arguments: Map<String, Value> = json!({"x": 1}).as_object().cloned().unwrap_or_default();
    let provider = PythonProvider::new("trivial", "probe", "benchmod", "trivial").arguments(&arguments);
    let options = CallOptions::new().background(true);
    bridge.run_provider(&provider, options).expect("warm up").expect("trivial");
    bencher.bench_local(|| bridge.run_provider(&provider, options));
}

/// A round trip that runs no user code.
#[divan::bench(sample_count = 200, sample_size = 50)]
fn ping(bencher: divan::Bencher) {
    let bridge = bridge();
    bridge.ping(CallOptions::new()).expect("warm up");
    bencher.bench_local(|| bridge.ping(CallOptions::new()));
}
