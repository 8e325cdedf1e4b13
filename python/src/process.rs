//! One helper process: starting it, its two pipes and the two threads that serve them,
//! the calls waiting for an answer, killing and reaping.
//!
//! Threads: a *writer* owns the helper's stdin and writes the frames callers queue (so a
//! caller never blocks on a pipe and its budget covers the write too); a *reader* owns the
//! response pipe and hands each answer to the caller waiting for its id. Whoever first sees
//! the helper end (the reader at end of stream, the writer on a broken pipe, a waiting
//! caller that finds the process gone, a budget) records why, reaps the process and fails
//! every waiting call with that reason. Nothing here can block forever: waits are sliced
//! and re-check that the process is alive.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::error::{BridgeError, HelperExit, StartFailure};
use crate::frame::{FrameError, read_frame};

/// The helper script, run with `python -u -c`.
pub(crate) const HELPER_SOURCE: &str = include_str!("helper.py");

/// The fd number the helper answers on.
const RESPONSE_FD: i32 = 3;
/// The helper's exit status when the interpreter is older than 3.8.
const EXIT_TOO_OLD: i32 = 71;
/// How often a waiting caller checks that the helper is still alive.
const TICK: Duration = Duration::from_millis(50);
/// How long answers may still arrive after the process is seen to have exited.
const EXIT_GRACE: Duration = Duration::from_millis(500);
/// How long a helper whose pipe closed may take to exit before it is killed.
const PIPE_CLOSED_GRACE: Duration = Duration::from_secs(2);

/// An answer, or why there will be none.
pub(crate) type Reply = Result<Map<String, Value>, HelperExit>;

/// Locks, ignoring poisoning: no code here panics while holding a lock, and if some did the
/// data would still be consistent (every critical section is a few assignments).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// How to start a helper.
pub(crate) struct Spawn<'a> {
    pub interpreter: &'a Path,
    pub env: &'a [(OsString, Option<OsString>)],
    pub current_dir: Option<&'a Path>,
    pub max_frame: usize,
    pub start_timeout: Duration,
}

/// What the reader and writer threads share with the callers.
struct Shared {
    pid: u32,
    child: Mutex<Child>,
    calls: Mutex<Calls>,
}

struct Calls {
    waiting: HashMap<u64, SyncSender<Reply>>,
    /// Why the helper can no longer answer; set once.
    gone: Option<HelperExit>,
}

/// Why a call could not be registered.
pub(crate) enum Refused {
    Gone(HelperExit),
    Full,
}

/// A running (or ended) helper process.
pub(crate) struct Helper {
    shared: Arc<Shared>,
    writer: Mutex<Option<mpsc::Sender<Vec<u8>>>>,
    version: String,
}

impl Helper {
    /// Starts a helper and waits for its hello (at most `start_timeout`).
    pub(crate) fn start(spawn: &Spawn<'_>) -> Result<Helper, BridgeError> {
        let start_error = |reason| BridgeError::Start { interpreter: spawn.interpreter.to_path_buf(), reason };
        let (child, responses) = spawn_child(spawn).map_err(start_error)?;
        let mut child = child;
        let Some(stdin) = child.stdin.take() else {
            return Err(start_error(StartFailure::Pipes("no stdin pipe".into())));
        };
        let shared = Arc::new(Shared {
            pid: child.id(),
            child: Mutex::new(child),
            calls: Mutex::new(Calls { waiting: HashMap::new(), gone: None }),
        });

        let (hello_tx, hello_rx) = mpsc::sync_channel(1);
        let reader_shared = Arc::clone(&shared);
        let max_frame = spawn.max_frame;
        let reader = std::thread::Builder::new()
            .name("python-bridge-reader".into())
            .spawn(move || read_loop(&reader_shared, responses, max_frame, hello_tx));
        let (frames_tx, frames_rx) = mpsc::channel::<Vec<u8>>();
        let writer_shared = Arc::clone(&shared);
        let writer = std::thread::Builder::new()
            .name("python-bridge-writer".into())
            .spawn(move || write_loop(&writer_shared, stdin, frames_rx));
        if let Err(e) = reader.and(writer) {
            shared.kill(HelperExit::Unknown(format!("cannot start a thread: {e}")));
            return Err(start_error(StartFailure::Pipes(format!("cannot start a thread: {e}"))));
        }

        let hello = match hello_rx.recv_timeout(spawn.start_timeout) {
            Ok(Ok(hello)) => hello,
            Ok(Err(HelperExit::Exited(EXIT_TOO_OLD))) => return Err(start_error(StartFailure::TooOld)),
            Ok(Err(exit)) => return Err(start_error(StartFailure::Ended(exit))),
            Err(RecvTimeoutError::Timeout) => {
                shared.kill(HelperExit::Unknown("not ready in time".into()));
                return Err(start_error(StartFailure::NoHello(spawn.start_timeout)));
            }
            Err(RecvTimeoutError::Disconnected) => {
                let exit = shared.kill(HelperExit::Unknown("its reader stopped".into()));
                return Err(start_error(StartFailure::Ended(exit)));
            }
        };
        if hello.get("status").and_then(Value::as_str) != Some("hello") {
            shared.kill(HelperExit::ProtocolViolation("no hello".into()));
            return Err(start_error(StartFailure::BadHello(Value::Object(hello).to_string())));
        }
        let version = hello.get("version").and_then(Value::as_str).unwrap_or_default().to_string();
        Ok(Helper { shared, writer: Mutex::new(Some(frames_tx)), version })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.shared.pid
    }

    /// The Python version the helper announced (`3.12.1`).
    pub(crate) fn version(&self) -> &str {
        &self.version
    }

    /// Why the helper is gone, if it is.
    pub(crate) fn gone(&self) -> Option<HelperExit> {
        lock(&self.shared.calls).gone.clone()
    }

    /// Registers a call waiting for answer `id`.
    pub(crate) fn register(&self, id: u64, reply: SyncSender<Reply>, max_in_flight: usize) -> Result<(), Refused> {
        let mut calls = lock(&self.shared.calls);
        if let Some(exit) = &calls.gone {
            return Err(Refused::Gone(exit.clone()));
        }
        if calls.waiting.len() >= max_in_flight {
            return Err(Refused::Full);
        }
        calls.waiting.insert(id, reply);
        Ok(())
    }

    /// Queues a frame for the writer.
    pub(crate) fn send(&self, frame: Vec<u8>) -> Result<(), HelperExit> {
        let writer = lock(&self.writer);
        match writer.as_ref().map(|w| w.send(frame)) {
            Some(Ok(())) => Ok(()),
            _ => Err(self.gone().unwrap_or(HelperExit::ShutDown)),
        }
    }

    /// Waits for the answer to call `id`, killing the helper when `budget` runs out.
    pub(crate) fn wait(
        &self,
        id: u64,
        reply: &mpsc::Receiver<Reply>,
        budget: Option<Duration>,
    ) -> Result<Map<String, Value>, BridgeError> {
        let deadline = budget.map(|b| Instant::now() + b);
        let mut exited_at: Option<Instant> = None;
        loop {
            let now = Instant::now();
            let mut slice = TICK;
            if let (Some(deadline), Some(budget)) = (deadline, budget) {
                if now >= deadline {
                    self.shared.kill(HelperExit::BudgetExceeded { call: id, budget });
                    return Err(BridgeError::Timeout { budget });
                }
                slice = slice.min(deadline - now);
            }
            match reply.recv_timeout(slice) {
                Ok(Ok(answer)) => return Ok(answer),
                Ok(Err(exit)) => return Err(BridgeError::HelperGone { pid: self.pid(), reason: exit }),
                Err(RecvTimeoutError::Timeout) => {
                    // A grandchild may hold the response pipe open after the helper died:
                    // then no end of stream comes, and this check is what ends the wait.
                    if let Some(exit) = self.shared.exited() {
                        let since = *exited_at.get_or_insert(now);
                        if now.duration_since(since) >= EXIT_GRACE {
                            let reason = self.shared.kill(exit);
                            return Err(BridgeError::HelperGone { pid: self.pid(), reason });
                        }
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let reason = self.gone().unwrap_or(HelperExit::Unknown("no answer".into()));
                    return Err(BridgeError::HelperGone { pid: self.pid(), reason });
                }
            }
        }
    }

    /// Sends `signal` to the helper if it is still running; whether it was sent.
    pub(crate) fn signal(&self, signal: i32) -> bool {
        if self.gone().is_some() {
            return false;
        }
        let mut child = lock(&self.shared.child);
        if !matches!(child.try_wait(), Ok(None)) {
            return false;
        }
        send_signal(self.shared.pid, signal, false)
    }

    /// Closes the helper's stdin (it exits after the call it is running), waits up to
    /// `grace`, then kills its process group. Reaps it in every case.
    pub(crate) fn shutdown(&self, grace: Duration) {
        self.shared.set_gone(HelperExit::ShutDown);
        drop(lock(&self.writer).take());
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self.shared.exited().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.shared.kill(HelperExit::ShutDown);
    }

    /// Kills the helper (and its process group) and reaps it.
    pub(crate) fn kill(&self, reason: HelperExit) -> HelperExit {
        self.shared.kill(reason)
    }
}

impl Shared {
    /// Records why the helper is gone (the first reason wins) and fails every waiting call.
    fn set_gone(&self, reason: HelperExit) -> HelperExit {
        let mut calls = lock(&self.calls);
        let reason = calls.gone.get_or_insert(reason).clone();
        for (_, waiter) in calls.waiting.drain() {
            let _ = waiter.try_send(Err(reason.clone()));
        }
        reason
    }

    /// The helper's exit, if it has exited (reaping it).
    fn exited(&self) -> Option<HelperExit> {
        match lock(&self.child).try_wait() {
            Ok(Some(status)) => Some(exit_of(status)),
            Ok(None) => None,
            Err(e) => Some(HelperExit::Unknown(e.to_string())),
        }
    }

    /// Records `reason`, kills the process group if the helper still runs, and reaps it.
    fn kill(&self, reason: HelperExit) -> HelperExit {
        let reason = self.set_gone(reason);
        let mut child = lock(&self.child);
        if matches!(child.try_wait(), Ok(None)) {
            send_signal(self.pid, kill_signal(), true);
            let _ = child.kill();
        }
        let _ = child.wait();
        reason
    }

    /// The response pipe ended or stdin broke: the helper is ending. Reap it (killing it if
    /// it lingers) and fail every waiting call with its exit.
    fn ended(&self) -> HelperExit {
        let deadline = Instant::now() + PIPE_CLOSED_GRACE;
        loop {
            if let Some(exit) = self.exited() {
                return self.set_gone(exit);
            }
            if Instant::now() >= deadline {
                return self.kill(HelperExit::ProtocolViolation("it closed its pipes but kept running".into()));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn deliver(&self, id: u64, answer: Map<String, Value>) {
        if let Some(waiter) = lock(&self.calls).waiting.remove(&id) {
            let _ = waiter.try_send(Ok(answer));
        }
    }
}

fn exit_of(status: ExitStatus) -> HelperExit {
    if let Some(code) = status.code() {
        return HelperExit::Exited(code);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return HelperExit::Signaled(signal);
        }
    }
    HelperExit::Unknown(status.to_string())
}

fn read_loop(
    shared: &Shared,
    pipe: std::fs::File,
    max_frame: usize,
    hello: SyncSender<Result<Map<String, Value>, HelperExit>>,
) {
    let mut hello = Some(hello);
    let mut pipe = BufReader::with_capacity(64 * 1024, pipe);
    let violation = loop {
        let frame = match read_frame(&mut pipe, max_frame) {
            Ok(Some(frame)) => frame,
            Ok(None) | Err(FrameError::Broken) => break None,
            Err(FrameError::TooLarge(size)) => break Some(format!("a {size}-byte frame")),
        };
        let Ok(answer) = serde_json::from_slice::<Map<String, Value>>(&frame) else {
            break Some("a frame that is not a JSON object".to_string());
        };
        if let Some(hello) = hello.take() {
            let _ = hello.send(Ok(answer));
            continue;
        }
        match answer.get("id").and_then(Value::as_u64) {
            Some(id) => shared.deliver(id, answer),
            None => break Some("a frame without an id".to_string()),
        }
    };
    let exit = match violation {
        Some(detail) => shared.kill(HelperExit::ProtocolViolation(detail)),
        None => shared.ended(),
    };
    if let Some(hello) = hello {
        let _ = hello.send(Err(exit));
    }
}

fn write_loop(shared: &Shared, mut stdin: ChildStdin, frames: mpsc::Receiver<Vec<u8>>) {
    for frame in frames {
        if stdin.write_all(&frame).and_then(|()| stdin.flush()).is_err() {
            drop(stdin);
            shared.ended();
            return;
        }
    }
}

#[cfg(unix)]
fn kill_signal() -> i32 {
    libc::SIGKILL
}

#[cfg(not(unix))]
fn kill_signal() -> i32 {
    9
}

#[cfg(unix)]
fn send_signal(pid: u32, signal: i32, group: bool) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    let target = if group { -pid } else { pid };
    // SAFETY: kill(2) has no memory effects. Callers hold the child's lock and have checked
    // that it is not reaped yet, so `pid` (and the process group it leads, created by
    // `process_group(0)`) cannot have been reused.
    unsafe { libc::kill(target, signal) == 0 }
}

#[cfg(not(unix))]
fn send_signal(_pid: u32, _signal: i32, _group: bool) -> bool {
    false
}

#[cfg(unix)]
fn spawn_child(spawn: &Spawn<'_>) -> Result<(Child, std::fs::File), StartFailure> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::process::CommandExt;

    let pipes = |e: std::io::Error| StartFailure::Pipes(e.to_string());
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two fds into the array we own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(pipes(std::io::Error::last_os_error()));
    }
    // SAFETY: both fds were just created and are owned by nobody else.
    let (read_end, write_end) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // Keep both away from 0-2 (a daemon may run with those closed) and from 3, the number
    // the write end takes in the child.
    let read_end = high_fd(read_end).map_err(pipes)?;
    let write_end = high_fd(write_end).map_err(pipes)?;
    let write_fd = write_end.as_raw_fd();

    let mut command = Command::new(spawn.interpreter);
    command
        .arg("-u")
        .arg("-c")
        .arg(HELPER_SOURCE)
        .stdin(Stdio::piped())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .env("NOTIFIER_BRIDGE_FD", RESPONSE_FD.to_string())
        .env("NOTIFIER_BRIDGE_MAX_FRAME", spawn.max_frame.to_string())
        // Its own process group: a budget kill takes whatever user code started with it.
        .process_group(0);
    for (key, value) in spawn.env {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    if let Some(dir) = spawn.current_dir {
        command.current_dir(dir);
    }
    // SAFETY: the closure runs between fork and exec and only calls dup2(2), which is
    // async-signal-safe; dup2 clears close-on-exec on the new fd 3.
    unsafe {
        command.pre_exec(move || {
            if libc::dup2(write_fd, RESPONSE_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = command.spawn().map_err(|e| StartFailure::Spawn(e.to_string()))?;
    drop(write_end);
    Ok((child, std::fs::File::from(read_end)))
}

#[cfg(unix)]
fn high_fd(fd: std::os::fd::OwnedFd) -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    // SAFETY: F_DUPFD_CLOEXEC duplicates an fd we own into a new one (>= 10) that we then own.
    let new = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 10) };
    if new < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `new` is a fresh fd owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

#[cfg(not(unix))]
fn spawn_child(_spawn: &Spawn<'_>) -> Result<(Child, std::fs::File), StartFailure> {
    Err(StartFailure::Spawn("the Python bridge needs Unix".into()))
}
