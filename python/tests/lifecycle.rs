//! The helper process's life: lazy start, reuse, output, budgets, deaths and restarts,
//! concurrency, interruption, frame and in-flight caps, shutdown. Real interpreters and
//! real processes throughout.

#![cfg(unix)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Modules, map, python};
use notifier_python::{
    Bridge, BridgeError, CallOptions, HelperExit, ImportFailure, InterruptKind, Interruption, ProviderError,
    PythonProvider,
};
use serde_json::{Value, json};

const NOW: CallOptions = CallOptions::new();

/// The module most tests use: a counter (module state), sleeps, deaths.
const STATE: &str = r#"
    import os, sys, time
    count = 0

    def bump():
        global count
        count += 1
        return count

    def sleep(seconds):
        time.sleep(seconds)
        return "slept"

    def sleep_marked(marker, seconds):
        open(marker, "w").close()
        time.sleep(seconds)
        return "slept"

    def die(code):
        os._exit(code)

    def segfault():
        import ctypes
        ctypes.string_at(0)

    def read_stdin():
        return sys.stdin.read()

    def ask():
        return input("? ")

    def path():
        return sys.path

    def env(name):
        return os.environ.get(name)

    def flags():
        import site
        return {"isolated": sys.flags.isolated, "no_user_site": sys.flags.no_user_site,
                "site_loaded": "site" in sys.modules, "ignore_environment": sys.flags.ignore_environment}

    def big(n):
        return "x" * n

    def spawn_and_sleep(pidfile):
        import subprocess
        child = subprocess.Popen(["sleep", "60"])
        with open(pidfile, "w") as f:
            f.write(str(child.pid))
        time.sleep(60)
"#;

fn modules() -> Modules {
    let m = Modules::new();
    m.add("state", STATE);
    m
}

fn call(
    bridge: &Bridge,
    func: &str,
    arguments: Value,
    options: CallOptions,
) -> Result<Result<Value, ProviderError>, BridgeError> {
    let arguments = map(arguments);
    let provider = PythonProvider::new(func, "action", "state", func).arguments(&arguments);
    bridge.run_provider(&provider, options)
}

fn ok(bridge: &Bridge, func: &str, arguments: Value) -> Value {
    match call(bridge, func, arguments, NOW) {
        Ok(Ok(value)) => value,
        other => panic!("{func}: {other:?}"),
    }
}

/// Waits until user code has created `marker` (the call is running).
fn wait_for(marker: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !marker.exists() {
        assert!(Instant::now() < deadline, "{} never appeared", marker.display());
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn alive(pid: u32) -> bool {
    // A zombie still has /proc/<pid>; reaped processes do not.
    Path::new(&format!("/proc/{pid}")).exists()
}

fn not_zombie_or_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn nothing_starts_before_the_first_call_and_one_helper_serves_every_call() {
    let m = modules();
    let bridge = m.bridge();
    assert!(!bridge.is_started());
    assert!(!bridge.is_running());
    assert_eq!(bridge.pid(), None);
    assert!(!bridge.interrupt(), "no helper to interrupt yet");
    std::thread::sleep(Duration::from_millis(50));
    assert!(!bridge.is_started(), "building a bridge must start nothing");

    let info = bridge.ping(NOW).unwrap();
    assert!(bridge.is_started() && bridge.is_running());
    assert_eq!(bridge.pid(), Some(info.pid));
    assert_eq!(bridge.python_version().as_deref(), Some(info.version.as_str()));
    assert_eq!(info.implementation, "cpython");

    assert_eq!(ok(&bridge, "bump", json!({})), json!(1));
    assert_eq!(ok(&bridge, "bump", json!({})), json!(2));
    assert_eq!(bridge.ping(NOW).unwrap().pid, info.pid);
    assert_eq!(bridge.helper_starts(), 1);
}

#[test]
fn a_missing_interpreter_is_reported_at_the_first_call_and_starts_nothing() {
    let bridge = Bridge::new(Some(Path::new("/nonexistent/bin/python3")));
    match bridge.ping(NOW) {
        Err(BridgeError::NoPython(no)) => {
            let text = no.to_string();
            assert!(text.contains("/nonexistent/bin/python3: missing"), "{text}");
            assert!(text.contains("--python PATH") && text.contains("NOTIFIER_PYTHON"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!bridge.is_started());
}

#[test]
fn an_interpreter_older_than_3_8_is_refused_with_a_clear_error() {
    let old = Path::new("/root/.pyenv/versions/3.7.16/bin/python3");
    if !old.exists() {
        eprintln!("skipped: no Python 3.7 at {}", old.display());
        return;
    }
    let bridge = Bridge::builder().interpreter(notifier_python::Interpreter::at(old)).build();
    match bridge.ping(NOW) {
        Err(e @ BridgeError::Start { reason: notifier_python::StartFailure::TooOld, .. }) => {
            assert!(e.to_string().contains("Python 3.8 or newer is needed"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!bridge.is_running());
}

#[test]
fn not_a_python_at_all_fails_to_start_with_its_exit_status() {
    let bridge = Bridge::builder().interpreter(notifier_python::Interpreter::at("/bin/false")).build();
    match bridge.ping(NOW) {
        Err(BridgeError::Start { reason: notifier_python::StartFailure::Ended(HelperExit::Exited(1)), .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn sys_path_is_like_under_chaos_no_current_directory_but_pythonpath_and_site() {
    let m = modules();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("in_cwd.py"), "X = 1\n").unwrap();
    let bridge = m.builder().current_dir(cwd.path()).build();

    match bridge.import_module("in_cwd", NOW).unwrap() {
        Err(ImportFailure::NotFound { detail, .. }) => assert!(detail.contains("in_cwd"), "{detail}"),
        other => panic!("a module in the current directory must not be importable: {other:?}"),
    }
    let path = ok(&bridge, "path", json!({}));
    let path: Vec<&str> = path.as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(!path.contains(&""), "{path:?}");
    assert!(!path.contains(&cwd.path().to_str().unwrap()), "{path:?}");
    assert!(path.contains(&m.path().to_str().unwrap()), "PYTHONPATH is kept: {path:?}");
    assert_eq!(
        ok(&bridge, "flags", json!({})),
        json!({"isolated": 0, "no_user_site": 0, "site_loaded": true, "ignore_environment": 0})
    );
    // The bridge's own variables are not left for user code.
    assert_eq!(ok(&bridge, "env", json!({"name": "NOTIFIER_BRIDGE_FD"})), Value::Null);
    // …and with the directory on PYTHONPATH the same module imports.
    let bridge = m.builder().current_dir(cwd.path()).env("PYTHONPATH", cwd.path()).build();
    assert!(bridge.import_module("in_cwd", NOW).unwrap().is_ok());
}

#[test]
fn user_code_reading_stdin_sees_dev_null_and_cannot_eat_the_protocol() {
    let m = modules();
    let bridge = m.bridge();
    // Budgets: if user code could read the protocol pipe, these would wait forever.
    let bounded = NOW.budget(Duration::from_secs(10));
    assert_eq!(call(&bridge, "read_stdin", json!({}), bounded).unwrap().unwrap(), json!(""));
    match call(&bridge, "ask", json!({}), bounded).unwrap() {
        Err(ProviderError::Failed(failure)) => assert_eq!(failure.message, "EOFError: EOF when reading a line"),
        other => panic!("{other:?}"),
    }
    assert_eq!(ok(&bridge, "bump", json!({})), json!(1));
    assert_eq!(bridge.helper_starts(), 1);
}

/// Run as a child process by the test below (with `BRIDGE_OUTPUT_CHILD` set): user code
/// prints to stdout and stderr between calls.
#[test]
fn output_child() {
    let Some(dir) = std::env::var_os("BRIDGE_OUTPUT_CHILD") else {
        return;
    };
    let m = Modules::new();
    std::fs::write(
        Path::new(&dir).join("printer.py"),
        "import sys\ndef shout(n):\n    print('python stdout', n)\n    print('python stderr', n, file=sys.stderr)\n    sys.stdout.write('no newline')\n    return n\n",
    )
    .unwrap();
    let bridge = m.builder().env("PYTHONPATH", &dir).build();
    for n in 1..=3 {
        let arguments = map(json!({"n": n}));
        let provider = PythonProvider::new("p", "action", "printer", "shout").arguments(&arguments);
        let out = bridge.run_provider(&provider, NOW).unwrap().unwrap();
        assert_eq!(out, json!(n));
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "|rust after call {n}").unwrap();
        stdout.flush().unwrap();
    }
}

#[test]
fn what_user_code_prints_reaches_the_real_stdout_and_stderr_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["output_child", "--exact", "--nocapture", "--test-threads=1"])
        .env("BRIDGE_OUTPUT_CHILD", dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    // The function's output comes before what Rust prints after the call returns: the
    // helper flushes after every call.
    assert!(
        stdout.contains(
            "python stdout 1\nno newline|rust after call 1\npython stdout 2\nno newline|rust after call 2\npython stdout 3\nno newline|rust after call 3\n"
        ),
        "{stdout}"
    );
    for n in 1..=3 {
        assert!(stderr.contains(&format!("python stderr {n}\n")), "{stderr}");
    }
}

#[test]
fn a_call_past_its_budget_is_killed_and_the_next_call_gets_a_fresh_helper() {
    let m = modules();
    let bridge = m.bridge();
    assert_eq!(ok(&bridge, "bump", json!({})), json!(1));
    let first = bridge.pid().unwrap();

    let logs = LogCapture::global();
    let started = Instant::now();
    let result = {
        let r = call(&bridge, "sleep", json!({"seconds": 30}), NOW.budget(Duration::from_millis(300)));
        // The next call restarts the helper, and says what was lost.
        let bumped = ok(&bridge, "bump", json!({}));
        (r, bumped)
    };
    match result.0 {
        Err(BridgeError::Timeout { budget }) => assert_eq!(budget, Duration::from_millis(300)),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(result.1, json!(1), "module state starts over in the new helper");
    assert_eq!(bridge.helper_starts(), 2);
    assert_ne!(bridge.pid(), Some(first));
    assert!(!alive(first), "the killed helper is reaped");
    // Other tests log too: find this helper's line.
    let text = logs.text();
    let line = text.lines().find(|l| l.contains(&format!("(pid {first})"))).unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("budget of 300ms") && line.contains("are lost"), "{line}");
}

#[test]
fn a_budget_kill_takes_the_processes_user_code_started_and_fails_the_other_calls_in_flight() {
    let m = modules();
    let bridge = Arc::new(m.bridge());
    bridge.ping(NOW).unwrap();
    let pidfile = m.path().join("child.pid");
    let background = {
        let bridge = Arc::clone(&bridge);
        std::thread::spawn(move || call(&bridge, "sleep", json!({"seconds": 30}), NOW.background(true)))
    };
    let result = call(
        &bridge,
        "spawn_and_sleep",
        json!({"pidfile": pidfile.to_str().unwrap()}),
        NOW.budget(Duration::from_millis(1500)),
    );
    assert!(matches!(result, Err(BridgeError::Timeout { .. })), "{result:?}");
    match background.join().unwrap() {
        Err(BridgeError::HelperGone { reason: HelperExit::BudgetExceeded { budget, .. }, .. }) => {
            assert_eq!(budget, Duration::from_millis(1500));
        }
        other => panic!("{other:?}"),
    }
    let child: u32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !not_zombie_or_gone(child) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(not_zombie_or_gone(child), "`sleep 60` started by user code must die with the helper's group");
}

#[test]
fn a_helper_that_exits_during_a_call_fails_that_call_with_its_status_and_is_restarted() {
    let m = modules();
    let bridge = m.bridge();
    assert_eq!(ok(&bridge, "bump", json!({})), json!(1));
    let pid = bridge.pid().unwrap();
    match call(&bridge, "die", json!({"code": 3}), NOW) {
        Err(e @ BridgeError::HelperGone { reason: HelperExit::Exited(3), .. }) => {
            assert!(e.to_string().contains(&format!("(pid {pid}) exited with status 3")), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!alive(pid), "reaped");
    assert_eq!(ok(&bridge, "bump", json!({})), json!(1));
    assert_eq!(bridge.helper_starts(), 2);
}

#[test]
fn a_segfault_is_reported_with_its_signal() {
    let m = modules();
    let bridge = m.bridge();
    match call(&bridge, "segfault", json!({}), NOW) {
        Err(e @ BridgeError::HelperGone { reason: HelperExit::Signaled(11), .. }) => {
            assert!(e.to_string().contains("killed by signal 11 (SIGSEGV)"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ok(&bridge, "bump", json!({})), json!(1));
}

#[test]
fn a_helper_killed_while_idle_is_replaced_at_the_next_call() {
    let m = modules();
    let bridge = m.bridge();
    assert_eq!(ok(&bridge, "bump", json!({})), json!(1));
    let pid = bridge.pid().unwrap();
    // SAFETY: kill(2) on our own child, which is not reaped yet.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGKILL) }, 0);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(ok(&bridge, "bump", json!({})), json!(1));
    assert_eq!(bridge.helper_starts(), 2);
    assert!(!alive(pid));
}

#[test]
fn background_calls_run_at_the_same_time() {
    let m = modules();
    m.add(
        "meet",
        r#"
        import threading
        barrier = threading.Barrier(3, timeout=10)
        def meet(n):
            barrier.wait()
            return n
    "#,
    );
    let bridge = m.bridge();
    bridge.ping(NOW).unwrap();
    let started = Instant::now();
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|n| {
                let bridge = &bridge;
                s.spawn(move || {
                    let arguments = map(json!({"n": n}));
                    let p = PythonProvider::new("meet", "action", "meet", "meet").arguments(&arguments);
                    bridge.run_provider(&p, NOW.background(true))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Three calls waiting on a 3-party barrier only return if all three ran at once.
    for (n, result) in results.into_iter().enumerate() {
        assert_eq!(result.unwrap().unwrap(), json!(n));
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    // A foreground call and a background one overlap too.
    let bridge = &bridge;
    std::thread::scope(|s| {
        let slow = s.spawn(move || call(bridge, "sleep", json!({"seconds": 1}), NOW));
        std::thread::sleep(Duration::from_millis(100));
        let t = Instant::now();
        assert_eq!(call(bridge, "bump", json!({}), NOW.background(true)).unwrap().unwrap(), json!(1));
        assert!(t.elapsed() < Duration::from_millis(700), "the background call waited: {:?}", t.elapsed());
        assert_eq!(slow.join().unwrap().unwrap().unwrap(), json!("slept"));
    });
}

#[test]
fn many_concurrent_calls_each_get_their_own_answer() {
    let m = modules();
    m.add("echo", "import time\ndef echo(n, wait):\n    time.sleep(wait)\n    return n\n");
    let bridge = m.bridge();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|n| {
                let bridge = &bridge;
                s.spawn(move || {
                    for round in 0..20 {
                        let wait = if round % 5 == 0 { 0.01 } else { 0.0 };
                        let arguments = map(json!({"n": n * 100 + round, "wait": wait}));
                        let p = PythonProvider::new("echo", "action", "echo", "echo").arguments(&arguments);
                        let options = NOW.background(n % 2 == 0);
                        assert_eq!(bridge.run_provider(&p, options).unwrap().unwrap(), json!(n * 100 + round));
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
    assert_eq!(bridge.helper_starts(), 1);
}

#[test]
fn interrupt_stops_the_running_foreground_call_and_keeps_the_helper_and_its_state() {
    let m = modules();
    let bridge = m.bridge();
    assert_eq!(ok(&bridge, "bump", json!({})), json!(1));
    let pid = bridge.pid().unwrap();
    let bridge = &bridge;
    let marker = m.path().join("running");
    let marker_text = marker.to_str().unwrap().to_string();
    std::thread::scope(|s| {
        let sleeper = s.spawn(move || {
            let t = Instant::now();
            (call(bridge, "sleep_marked", json!({"marker": marker_text, "seconds": 30}), NOW), t.elapsed())
        });
        wait_for(&marker);
        let sent = Instant::now();
        assert!(bridge.interrupt());
        let (result, _) = sleeper.join().unwrap();
        assert!(sent.elapsed() < Duration::from_secs(1), "took {:?}", sent.elapsed());
        match result.unwrap() {
            Err(ProviderError::Interrupted(Interruption { kind: InterruptKind::KeyboardInterrupt, .. })) => {}
            other => panic!("{other:?}"),
        }
    });
    assert_eq!(bridge.pid(), Some(pid));
    assert_eq!(ok(bridge, "bump", json!({})), json!(2), "module state survives an interruption");
    assert_eq!(bridge.helper_starts(), 1);
}

#[test]
fn a_sigint_while_idle_is_ignored() {
    let m = modules();
    let bridge = m.bridge();
    assert_eq!(ok(&bridge, "bump", json!({})), json!(1));
    for _ in 0..5 {
        assert!(bridge.interrupt());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(ok(&bridge, "bump", json!({})), json!(2));
    assert_eq!(bridge.helper_starts(), 1);
}

#[test]
fn oversized_frames_are_refused_cleanly_both_ways() {
    let m = modules();
    let bridge = m.builder().max_frame_bytes(1 << 20).build();
    // Too large to send: refused before anything starts.
    match call(&bridge, "big", json!({"n": "y".repeat(2 << 20)}), NOW) {
        Err(e @ BridgeError::RequestTooLarge { limit: 1_048_576, .. }) => {
            assert!(e.to_string().contains("frame limit of 1048576 bytes"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!bridge.is_started());
    // Too large an answer: the helper drops it and stays.
    assert_eq!(ok(&bridge, "bump", json!({})), json!(1));
    match call(&bridge, "big", json!({"n": 2 << 20}), NOW) {
        Err(BridgeError::ResponseTooLarge { size, limit: 1_048_576 }) => assert!(size > 2 << 20),
        other => panic!("{other:?}"),
    }
    // Just under the limit goes through, in both directions.
    assert_eq!(ok(&bridge, "big", json!({"n": 1_000_000})).as_str().map(str::len), Some(1_000_000));
    assert_eq!(ok(&bridge, "bump", json!({})), json!(2));
    assert_eq!(bridge.helper_starts(), 1);
    assert_eq!(notifier_python::DEFAULT_MAX_FRAME, 64 << 20);
}

#[test]
fn large_frames_within_the_limit_pass_whole() {
    let m = modules();
    m.add("echo", "def echo(v):\n    return v\n");
    let bridge = m.bridge();
    // Several MiB each way: more than a pipe holds, so both sides write in pieces.
    let text = "0123456789abcdef".repeat(400_000);
    let arguments = map(json!({"v": text}));
    let p = PythonProvider::new("echo", "action", "echo", "echo").arguments(&arguments);
    assert_eq!(bridge.run_provider(&p, NOW).unwrap().unwrap(), json!(text));
}

#[test]
fn calls_in_flight_are_capped() {
    let m = modules();
    let bridge = m.builder().max_in_flight(2).build();
    bridge.ping(NOW).unwrap();
    let bridge = &bridge;
    let (a_marker, b_marker) = (m.path().join("a"), m.path().join("b"));
    let (a_text, b_text) = (a_marker.to_str().unwrap().to_string(), b_marker.to_str().unwrap().to_string());
    std::thread::scope(|s| {
        let args = |marker: String| json!({"marker": marker, "seconds": 1});
        let a = s.spawn(move || call(bridge, "sleep_marked", args(a_text), NOW.background(true)));
        let b = s.spawn(move || call(bridge, "sleep_marked", args(b_text), NOW.background(true)));
        wait_for(&a_marker);
        wait_for(&b_marker);
        match call(bridge, "bump", json!({}), NOW) {
            Err(BridgeError::TooManyInFlight { limit: 2 }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(a.join().unwrap().unwrap().unwrap(), json!("slept"));
        assert_eq!(b.join().unwrap().unwrap().unwrap(), json!("slept"));
    });
    assert_eq!(ok(bridge, "bump", json!({})), json!(1));
}

#[test]
fn dropping_the_bridge_leaves_no_process_and_no_zombie() {
    let m = modules();
    let bridge = m.bridge();
    let pid = bridge.ping(NOW).unwrap().pid;
    assert!(alive(pid));
    let t = Instant::now();
    drop(bridge);
    assert!(!alive(pid), "the helper must be reaped (no zombie)");
    assert!(t.elapsed() < Duration::from_millis(900), "an idle helper exits at once: {:?}", t.elapsed());
}

#[test]
fn shutdown_kills_a_busy_helper_after_the_grace_and_fails_its_calls() {
    let m = modules();
    let bridge = m.builder().shutdown_grace(Duration::from_millis(200)).build();
    let pid = bridge.ping(NOW).unwrap().pid;
    let bridge = &bridge;
    std::thread::scope(|s| {
        let sleeper = s.spawn(move || call(bridge, "sleep", json!({"seconds": 30}), NOW));
        std::thread::sleep(Duration::from_millis(200));
        let t = Instant::now();
        bridge.shutdown();
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        match sleeper.join().unwrap() {
            Err(BridgeError::HelperGone { reason: HelperExit::ShutDown, .. }) => {}
            other => panic!("{other:?}"),
        }
    });
    assert!(!alive(pid));
    assert!(matches!(bridge.ping(NOW), Err(BridgeError::ShutDown)));
    assert!(!bridge.is_running());
}

#[test]
fn a_user_sys_exit_is_an_outcome_and_the_helper_survives_it() {
    let m = modules();
    m.add("quit", "import sys\ndef quit(code):\n    sys.exit(code)\n");
    let bridge = m.bridge();
    let p = PythonProvider::new("q", "action", "quit", "quit");
    for (code, expected) in [(json!(4), json!(4)), (json!("bye"), json!("bye")), (Value::Null, Value::Null)] {
        let arguments = map(json!({"code": code}));
        match bridge.run_provider(&p.arguments(&arguments), NOW).unwrap() {
            Err(ProviderError::Exited(exit)) => assert_eq!(exit.0, expected),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(bridge.helper_starts(), 1);
    assert!(bridge.ping(NOW).is_ok());
}

#[test]
fn the_helper_runs_in_its_own_process_group_and_python_is_the_one_chosen() {
    let m = modules();
    let bridge = m.bridge();
    let info = bridge.ping(NOW).unwrap();
    assert_eq!(Path::new(&info.executable).canonicalize().unwrap(), python().canonicalize().unwrap());
    // SAFETY: getpgid(2) reads a process's group; no memory is involved.
    let group = unsafe { libc::getpgid(info.pid as i32) };
    assert_eq!(group, info.pid as i32);
}

/// Captures every log line written through `tracing` in this test binary (a global
/// subscriber: a thread-scoped one misses events whose callsite other threads registered).
#[derive(Clone, Default)]
struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    fn global() -> LogCapture {
        static GLOBAL: std::sync::OnceLock<LogCapture> = std::sync::OnceLock::new();
        GLOBAL
            .get_or_init(|| {
                let capture = LogCapture::default();
                let writer = capture.clone();
                let subscriber = tracing_subscriber::fmt()
                    .with_ansi(false)
                    .with_max_level(tracing::Level::DEBUG)
                    .with_writer(move || writer.clone())
                    .finish();
                tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
                capture
            })
            .clone()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}
