//! The `process` provider: run an executable and capture its exit status and output.
//!
//! * `path` is resolved like Python's `shutil.which` (a leading `~` is expanded): a
//!   path with a `/` is used as-is when it is an executable file, otherwise each `PATH`
//!   directory is searched.
//! * `arguments` may be a list (`null` and `""` items are dropped, the others rendered
//!   like Python's `str()`), a mapping (flattened to `key, value, …`), or a string, in
//!   which case `"{path} {arguments}"` runs through `/bin/sh -c`, like `shell=True`.
//! * The process runs in a process group of its own. `timeout` (seconds, on the
//!   provider) kills that whole group, so a shell's children go too, and fails the
//!   activity with `process activity took too long to complete`. A signal
//!   ([`crate::interrupt`]) kills the group at once and the activity ends
//!   [`Interrupted`](ActivityError::Interrupted). (The reference kills only its direct
//!   child, so with string arguments, `shell=True`, a `sleep 30` behind the shell is
//!   left running.)
//! * A `path` that cannot be found at run time (possible only with `--no-validation`)
//!   is a [`Fatal`](ActivityError::Fatal) error, as the reference's `TypeError` there
//!   is: the method is aborted.
//! * The output is `{"status": exit code, "stdout": text, "stderr": text}`; a process
//!   killed by a signal has a negative status, like Python's `returncode`. A non-zero
//!   status is not a failure. Standard input is empty (`/dev/null`).
//! * Each stream keeps at most [`MAX_OUTPUT_BYTES`]; the rest is read and discarded (so
//!   the process never blocks on a full pipe) and a WARN line says how much was dropped.
//!   (The reference keeps everything in memory.)

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::error::{ActivityError, ActivityFailed};
use crate::interrupt::{Flag, Watch};
use crate::substitute::Scope;
use notifier_core::pyvalue::{python_str, truthy};

/// Where `shutil.which` would find an executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    /// An executable file.
    Found(PathBuf),
    /// A file exists but is not executable.
    NotExecutable,
    /// Nothing found.
    NotFound,
}

/// Resolves a command like Python's `shutil.which` (after `~` expansion).
pub fn which(command: &str) -> Which {
    let command = expand_user(command);
    if command.as_os_str().is_empty() {
        return Which::NotFound;
    }
    if command.components().count() > 1 || command.to_string_lossy().contains('/') {
        return check(&command);
    }
    let path_var = std::env::var_os("PATH").unwrap_or_else(|| "/bin:/usr/bin".into());
    let mut not_executable = false;
    for dir in std::env::split_paths(&path_var) {
        let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
        match check(&dir.join(&command)) {
            Which::Found(p) => return Which::Found(p),
            Which::NotExecutable => not_executable = true,
            Which::NotFound => {}
        }
    }
    if not_executable { Which::NotExecutable } else { Which::NotFound }
}

fn check(path: &Path) -> Which {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {
            if is_executable(&meta) {
                Which::Found(path.to_path_buf())
            } else {
                Which::NotExecutable
            }
        }
        _ => Which::NotFound,
    }
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    true
}

fn expand_user(path: &str) -> PathBuf {
    if let Some(rest) = path.strip_prefix('~')
        && (rest.is_empty() || rest.starts_with('/'))
        && let Some(home) = std::env::var_os("HOME")
    {
        let mut p = PathBuf::from(home);
        if let Some(rest) = rest.strip_prefix('/') {
            p.push(rest);
        }
        return p;
    }
    PathBuf::from(path)
}

/// Runs a process provider (the activity has been validated).
///
/// `warn_on_failure` is true outside the hypothesis (activities without `tolerance`):
/// a non-zero status is then logged as a warning, like the reference. A signal seen by
/// `watch` kills the process group and returns [`ActivityError::Interrupted`].
pub fn run_process(
    provider: &Map<String, Value>,
    scope: &Scope<'_>,
    warn_on_failure: bool,
    watch: &Watch,
) -> Result<Value, ActivityError> {
    let raw_path = provider.get("path").map(python_str).unwrap_or_default();
    let path = match which(&raw_path) {
        Which::Found(p) => p,
        _ => return Err(ActivityError::Fatal(ActivityFailed::ProcessNotFound { path: raw_path }.to_string())),
    };
    let mut arguments = provider.get("arguments").cloned().unwrap_or(Value::Array(Vec::new()));
    if truthy(&arguments) && !scope.is_empty() {
        arguments = scope.substitute(&arguments);
    }
    let timeout = match provider.get("timeout").map(|t| scope.substitute(t)) {
        Some(Value::Number(n)) => {
            n.as_f64().filter(|f| f.is_finite() && *f >= 0.0).map(|f| Duration::from_secs_f64(f.min(1e9)))
        }
        _ => None,
    };

    let mut command = match &arguments {
        Value::String(args) => {
            let mut c = Command::new("/bin/sh");
            c.arg("-c").arg(format!("{} {}", path.to_string_lossy(), args));
            c
        }
        other => {
            let items: Vec<Value> = match other {
                Value::Object(map) => map.iter().flat_map(|(k, v)| [Value::String(k.clone()), v.clone()]).collect(),
                Value::Array(items) => items.clone(),
                _ => Vec::new(),
            };
            let mut c = Command::new(&path);
            c.args(items.iter().filter(|v| !v.is_null() && v.as_str() != Some("")).map(python_str));
            c
        }
    };
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    #[cfg(unix)]
    {
        // Its own process group, so a timeout or a signal can kill what a shell started
        // too. (It also keeps a terminal's Ctrl-C from reaching the child directly: the
        // runner decides what to kill, and when.)
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    tracing::debug!("Running: {:?}", command);

    watch.check().map_err(ActivityError::Interrupted)?;
    let spawn_error = |e: std::io::Error| {
        ActivityError::Failed(ActivityFailed::ProcessSpawn {
            path: path.to_string_lossy().into_owned(),
            reason: e.to_string(),
        })
    };
    let mut child = command.spawn().map_err(spawn_error)?;
    let stdout = read_in_background(child.stdout.take());
    let stderr = read_in_background(child.stderr.take());

    let status = match wait(&mut child, timeout, watch) {
        Waited::Exited(status) => status.map_err(spawn_error)?,
        Waited::TimedOut => {
            kill_group(&mut child);
            return Err(ActivityFailed::ProcessTimeout.into());
        }
        Waited::Interrupted(signal) => {
            kill_group(&mut child);
            tracing::debug!("process {} killed: {signal} received", path.display());
            return Err(ActivityError::Interrupted(signal));
        }
    };

    // A grandchild that kept the pipes open must not hold the run forever.
    let grace = Duration::from_secs(2);
    let stdout = stdout.recv_timeout(grace).unwrap_or_default();
    let stderr = stderr.recv_timeout(grace).unwrap_or_default();
    let code = exit_code(&status);
    if warn_on_failure && code > 0 {
        tracing::warn!(
            "This process returned a non-zero exit code. This may indicate some error and not what you expected. Please have a look at the logs."
        );
    }
    Ok(json!({
        "status": code,
        "stdout": output_text(stdout, "standard output", &path),
        "stderr": output_text(stderr, "standard error", &path),
    }))
}

/// Most bytes of one output stream of a process kept in its activity's output.
pub const MAX_OUTPUT_BYTES: u64 = 16 * 1024 * 1024;

/// A stream read to its end: the first [`MAX_OUTPUT_BYTES`], and how many more were dropped.
#[derive(Default)]
struct Captured {
    kept: Vec<u8>,
    dropped: u64,
}

fn read_in_background<R: Read + Send + 'static>(pipe: Option<R>) -> mpsc::Receiver<Captured> {
    let (tx, rx) = mpsc::channel();
    if let Some(pipe) = pipe {
        std::thread::spawn(move || {
            let _ = tx.send(capture(pipe, MAX_OUTPUT_BYTES));
        });
    }
    rx
}

/// Reads `pipe` to its end, keeping the first `limit` bytes.
fn capture(pipe: impl Read, limit: u64) -> Captured {
    let mut kept = Vec::new();
    let mut rest = pipe.take(limit);
    let _ = rest.read_to_end(&mut kept);
    let dropped = std::io::copy(&mut rest.into_inner(), &mut std::io::sink()).unwrap_or(0);
    Captured { kept, dropped }
}

/// An output stream as text, saying in the log when it was cut.
fn output_text(captured: Captured, stream: &str, path: &Path) -> String {
    if captured.dropped > 0 {
        tracing::warn!(
            "the {stream} of {} was cut after {MAX_OUTPUT_BYTES} bytes ({} more bytes discarded)",
            path.display(),
            captured.dropped
        );
    }
    String::from_utf8_lossy(&captured.kept).into_owned()
}

enum Waited {
    Exited(std::io::Result<std::process::ExitStatus>),
    TimedOut,
    Interrupted(crate::interrupt::Signal),
}

/// Waits for the child to exit, for the deadline, or for a signal. The child is polled
/// (1 ms, doubling up to 25 ms) and never reaped by anyone else, so killing its group
/// afterwards cannot hit a recycled process id; a signal ends the nap at once.
fn wait(child: &mut Child, limit: Option<Duration>, watch: &Watch) -> Waited {
    let deadline = limit.and_then(|l| Instant::now().checked_add(l));
    let never = Flag::new();
    let mut nap = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Waited::Exited(Ok(status)),
            Ok(None) => {}
            Err(e) => return Waited::Exited(Err(e)),
        }
        let now = Instant::now();
        let nap_for = match deadline {
            Some(deadline) if now >= deadline => return Waited::TimedOut,
            Some(deadline) => nap.min(deadline - now),
            None => nap,
        };
        if let Err(signal) = watch.wait(&never, nap_for) {
            return Waited::Interrupted(signal);
        }
        nap = (nap * 2).min(Duration::from_millis(25));
    }
}

fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals the process group we created
        // for this child (process_group(0) above); it has no memory-safety effects.
        // The child is not reaped yet (we only kill after try_wait said it runs), so
        // its id, which is the group's, cannot have been recycled.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn exit_code(status: &std::process::ExitStatus) -> i64 {
    if let Some(code) = status.code() {
        return i64::from(code);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return -i64::from(signal);
        }
    }
    -1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interrupt::{Interrupt, Signal};

    fn empty() -> Map<String, Value> {
        Map::new()
    }

    fn provider(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn run(v: Value) -> Result<Value, ActivityError> {
        let (c, s) = (empty(), empty());
        run_process(&provider(v), &Scope::new(&c, &s), true, &Interrupt::new().watch())
    }

    #[test]
    fn which_finds_commands_on_path_and_refuses_missing_ones() {
        assert!(matches!(which("sh"), Which::Found(_)));
        assert_eq!(which("surely-not-a-command-xyz"), Which::NotFound);
        assert_eq!(which("/etc/passwd"), Which::NotExecutable);
        assert_eq!(which(""), Which::NotFound);
    }

    #[test]
    fn list_mapping_and_string_arguments() {
        let out = run(json!({"path": "echo", "arguments": ["a", null, "", 1, true]}));
        assert_eq!(out.ok().map(|o| o["stdout"].clone()), Some(json!("a 1 True\n")));
        let out = run(json!({"path": "echo", "arguments": {"-n": "x"}}));
        assert_eq!(out.ok().map(|o| o["stdout"].clone()), Some(json!("x")));
        let out = run(json!({"path": "echo", "arguments": "one; echo two >&2; exit 3"}));
        assert_eq!(out.ok(), Some(json!({"status": 3, "stdout": "one\n", "stderr": "two\n"})));
    }

    #[test]
    fn a_missing_executable_at_run_time_is_fatal() {
        let out = run(json!({"path": "surely-not-a-command-xyz"}));
        assert_eq!(out, Err(ActivityError::Fatal("path 'surely-not-a-command-xyz' cannot be found".into())));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn timeout_kills_the_process_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pid_file = dir.path().join("sleep.pid");
        let started = Instant::now();
        // `sleep 30` is a child of the shell, not exec'd: killing the shell alone leaves it.
        let arguments = format!("30 & echo $! > {}; wait", pid_file.display());
        let out = run(json!({"path": "sleep", "arguments": arguments, "timeout": 0.5}));
        assert_eq!(out, Err(ActivityFailed::ProcessTimeout.into()));
        assert!(started.elapsed() < Duration::from_secs(20), "hang guard");
        let pid = std::fs::read_to_string(&pid_file).expect("the shell wrote the pid of sleep");
        let pid = pid.trim();
        let give_up = Instant::now() + Duration::from_secs(10);
        while !gone(pid) && Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(gone(pid), "sleep {pid} outlived the timed-out shell");
    }

    #[test]
    fn output_beyond_the_cap_is_read_and_dropped() {
        let text = b"0123456789".repeat(100);
        let captured = capture(&text[..], 64);
        assert_eq!(captured.kept, &text[..64]);
        assert_eq!(captured.dropped, 1000 - 64);
        let all = capture(&text[..], 5000);
        assert_eq!((all.kept.len(), all.dropped), (1000, 0));
        // A real process writing past the cap finishes (its pipe is drained) and its
        // output holds exactly the cap.
        let out = run(json!({"path": "head", "arguments": ["-c", MAX_OUTPUT_BYTES + 4096, "/dev/zero"]}));
        let out = out.expect("head runs");
        assert_eq!(out["status"], 0);
        assert_eq!(out["stdout"].as_str().map(str::len), Some(MAX_OUTPUT_BYTES as usize));
    }

    /// Whether a process is gone (or a zombie nobody reaped yet: it runs no more).
    #[cfg(target_os = "linux")]
    fn gone(pid: &str) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_signal_kills_the_shell_and_its_children() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pid_file = dir.path().join("sleep.pid");
        let interrupt = Interrupt::new();
        let raiser = {
            let (interrupt, pid_file) = (interrupt.clone(), pid_file.clone());
            std::thread::spawn(move || {
                let give_up = Instant::now() + Duration::from_secs(60);
                while !pid_file.exists() && Instant::now() < give_up {
                    std::thread::sleep(Duration::from_millis(10));
                }
                std::thread::sleep(Duration::from_millis(50));
                interrupt.raise(Signal::Term);
            })
        };
        let (c, s) = (empty(), empty());
        // `sleep 30` is a child of the shell (not exec'd), as with `shell=True`.
        let arguments = format!("30 & echo $! > {}; wait", pid_file.display());
        let out = run_process(
            &provider(json!({"path": "sleep", "arguments": arguments})),
            &Scope::new(&c, &s),
            true,
            &interrupt.watch_from_start(),
        );
        raiser.join().ok();
        assert_eq!(out, Err(ActivityError::Interrupted(Signal::Term)));
        let pid = std::fs::read_to_string(&pid_file).expect("the shell wrote the pid of sleep");
        let pid = pid.trim();
        let give_up = Instant::now() + Duration::from_secs(10);
        while !gone(pid) && Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(gone(pid), "sleep {pid} outlived the interrupted shell");
    }
}
