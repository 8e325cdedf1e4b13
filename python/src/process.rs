//! One helper process: starting it, its two pipes, the calls waiting for an answer,
//! killing and reaping.
//!
//! Every thread hop costs a wakeup, and wakeups are most of a call's cost, so callers do
//! the I/O themselves:
//!
//! * **Writing**: a caller writes its frame to the helper's stdin itself, without blocking
//!   (the pipe is non-blocking). Only what the pipe does not take goes to the backlog of a
//!   *writer* thread. A caller never blocks on the pipe, so its budget covers the write.
//! * **Reading**: a waiting caller that can lock the response pipe reads it (the *leader*),
//!   in slices of at most [`TICK`]; an answer for another call goes to that call's channel.
//!   The others wait on their channel. A leader that got its own answer passes the lead to
//!   another waiting call. Followers also retry the lock every tick, so a missed hand-over
//!   costs latency, never an answer.
//!
//! Whoever first sees the helper end (a reader at end of stream, the writer on a broken
//! pipe, a waiting caller that finds the process gone, a budget, a shutdown) records why,
//! reaps the process and fails every waiting call with that reason. No wait is longer than
//! a tick without re-checking the deadline and that the process is alive.

use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::io::{self, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::error::{BridgeError, HelperExit, StartFailure};
use crate::frame::{Inbox, Pollable, Polled};

/// The helper script, run with `python -u -c`.
pub(crate) const HELPER_SOURCE: &str = include_str!("helper.py");

/// The fd number the helper answers on.
const RESPONSE_FD: i32 = 3;
/// The helper's exit status when the interpreter is older than 3.8.
const EXIT_TOO_OLD: i32 = 71;
/// Longest a waiting caller goes without checking its deadline and the helper's health.
const TICK: Duration = Duration::from_millis(50);
/// How long answers may still arrive after the process is seen to have exited.
const EXIT_GRACE: Duration = Duration::from_millis(500);
/// How long a helper whose pipe closed may take to exit before it is killed.
const PIPE_CLOSED_GRACE: Duration = Duration::from_secs(2);

/// What a waiting call receives on its channel.
pub(crate) enum Message {
    /// Its answer.
    Answer(Map<String, Value>),
    /// The helper is gone.
    Gone(HelperExit),
    /// The leader left: try to read the pipe.
    Lead,
}

/// Locks, ignoring poisoning: no code here panics while holding a lock, and if some did the
/// data would still be consistent (every critical section is a few assignments or one
/// system call).
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

/// What the callers and the writer thread share.
struct Shared {
    pid: u32,
    child: Mutex<Child>,
    calls: Mutex<Calls>,
    /// Locked by the caller that reads (the leader).
    responses: Mutex<Inbox<ResponsePipe>>,
    outbox: Mutex<Outbox>,
    /// Signalled when the backlog gets a frame or the pipe is closed.
    outbox_ready: Condvar,
}

struct Calls {
    waiting: HashMap<u64, mpsc::Sender<Message>>,
    /// Why the helper can no longer answer; set once.
    gone: Option<HelperExit>,
}

/// The helper's stdin and what could not be written to it yet.
struct Outbox {
    /// `None` once closed (shutdown) or broken.
    pipe: Option<ChildStdin>,
    backlog: VecDeque<Vec<u8>>,
    /// Bytes of the backlog's first frame already written.
    written: usize,
}

/// Why a call could not be registered.
pub(crate) enum Refused {
    Gone(HelperExit),
    Full,
}

/// What a turn as the leader gave.
enum Led {
    /// This call's own answer arrived.
    Mine,
    /// Something else happened (another call's answer, the end).
    Busy,
    /// Nothing arrived during the slice.
    Idle,
}

/// What one read of the response pipe gave.
enum Read {
    Answer(u64, Map<String, Value>),
    Nothing,
    End,
    Violation(String),
}

/// A running (or ended) helper process.
pub(crate) struct Helper {
    shared: Arc<Shared>,
    version: String,
}

impl Helper {
    /// Starts a helper and waits for its hello (at most `start_timeout`).
    pub(crate) fn start(spawn: &Spawn<'_>) -> Result<Helper, BridgeError> {
        let start_error = |reason| BridgeError::Start { interpreter: spawn.interpreter.to_path_buf(), reason };
        let (mut child, responses) = spawn_child(spawn).map_err(start_error)?;
        let Some(stdin) = child.stdin.take() else {
            return Err(start_error(StartFailure::Pipes("no stdin pipe".into())));
        };
        let nonblocking = set_nonblocking(&stdin);
        let shared = Arc::new(Shared {
            pid: child.id(),
            child: Mutex::new(child),
            calls: Mutex::new(Calls { waiting: HashMap::new(), gone: None }),
            responses: Mutex::new(Inbox::new(ResponsePipe(responses), spawn.max_frame)),
            outbox: Mutex::new(Outbox { pipe: Some(stdin), backlog: VecDeque::new(), written: 0 }),
            outbox_ready: Condvar::new(),
        });
        if let Err(e) = nonblocking {
            shared.kill(HelperExit::Unknown(e.to_string()));
            return Err(start_error(StartFailure::Pipes(e.to_string())));
        }

        let hello = match shared.read_hello(spawn.start_timeout) {
            Ok(hello) => hello,
            Err(reason) => return Err(start_error(reason)),
        };
        let writer_shared = Arc::clone(&shared);
        let writer =
            std::thread::Builder::new().name("python-bridge-writer".into()).spawn(move || write_loop(&writer_shared));
        if let Err(e) = writer {
            shared.kill(HelperExit::Unknown(format!("cannot start a thread: {e}")));
            return Err(start_error(StartFailure::Pipes(format!("cannot start a thread: {e}"))));
        }
        let version = hello.get("version").and_then(Value::as_str).unwrap_or_default().to_string();
        Ok(Helper { shared, version })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.shared.pid
    }

    /// The Python version the helper announced (`3.12.1`).
    pub(crate) fn version(&self) -> &str {
        &self.version
    }

    /// Why the helper is gone, if it is known to be.
    pub(crate) fn gone(&self) -> Option<HelperExit> {
        lock(&self.shared.calls).gone.clone()
    }

    /// Like [`gone`](Self::gone), but also notices a helper that exited while no call was
    /// waiting (nobody was reading its pipe then).
    pub(crate) fn check(&self) -> Option<HelperExit> {
        if let Some(exit) = self.gone() {
            return Some(exit);
        }
        let exit = self.shared.exited()?;
        Some(self.shared.kill(exit))
    }

    /// Registers a call waiting for answer `id`.
    pub(crate) fn register(
        &self,
        id: u64,
        channel: mpsc::Sender<Message>,
        max_in_flight: usize,
    ) -> Result<(), Refused> {
        let mut calls = lock(&self.shared.calls);
        if let Some(exit) = &calls.gone {
            return Err(Refused::Gone(exit.clone()));
        }
        if calls.waiting.len() >= max_in_flight {
            return Err(Refused::Full);
        }
        calls.waiting.insert(id, channel);
        Ok(())
    }

    /// Unregisters call `id` (its frame could not be sent).
    pub(crate) fn forget(&self, id: u64) {
        lock(&self.shared.calls).waiting.remove(&id);
    }

    /// Writes a frame to the helper's stdin, as far as the pipe takes it without blocking;
    /// the rest goes to the writer thread.
    pub(crate) fn send(&self, frame: Vec<u8>) -> Result<(), HelperExit> {
        let mut outbox = lock(&self.shared.outbox);
        let Outbox { pipe, backlog, written } = &mut *outbox;
        let Some(pipe) = pipe.as_mut() else {
            return Err(self.gone().unwrap_or(HelperExit::ShutDown));
        };
        if backlog.is_empty() {
            match write_nonblocking(pipe, &frame) {
                Ok(n) if n == frame.len() => return Ok(()),
                Ok(n) => *written = n,
                // The writer thread meets the same error and deals with it.
                Err(_) => *written = 0,
            }
        }
        backlog.push_back(frame);
        self.shared.outbox_ready.notify_one();
        Ok(())
    }

    /// Waits for the answer to call `id` (registered with `channel`'s sender), reading the
    /// response pipe when no other caller does; kills the helper when `budget` runs out.
    pub(crate) fn wait(
        &self,
        id: u64,
        channel: &mpsc::Receiver<Message>,
        budget: Option<Duration>,
    ) -> Result<Map<String, Value>, BridgeError> {
        let result = self.wait_inner(id, channel, budget);
        lock(&self.shared.calls).waiting.remove(&id);
        result
    }

    fn wait_inner(
        &self,
        id: u64,
        channel: &mpsc::Receiver<Message>,
        budget: Option<Duration>,
    ) -> Result<Map<String, Value>, BridgeError> {
        let gone = |reason| BridgeError::HelperGone { pid: self.pid(), reason };
        let deadline = budget.map(|b| Instant::now() + b);
        let mut exited_at: Option<Instant> = None;
        loop {
            match channel.try_recv() {
                Ok(Message::Answer(answer)) => return Ok(answer),
                Ok(Message::Gone(exit)) => return Err(gone(exit)),
                Ok(Message::Lead) | Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => {
                    return Err(gone(self.gone().unwrap_or(HelperExit::Unknown("no answer".into()))));
                }
            }
            let now = Instant::now();
            let mut slice = TICK;
            if let (Some(deadline), Some(budget)) = (deadline, budget) {
                if now >= deadline {
                    self.shared.kill(HelperExit::BudgetExceeded { call: id, budget });
                    return Err(BridgeError::Timeout { budget });
                }
                slice = slice.min(deadline - now);
            }

            let led = match self.shared.responses.try_lock() {
                Ok(mut responses) => Some(self.lead(id, &mut responses, slice)),
                Err(TryLockError::Poisoned(poisoned)) => Some(self.lead(id, &mut poisoned.into_inner(), slice)),
                Err(TryLockError::WouldBlock) => None,
            };
            // The pipe is unlocked again: hand it over before leaving.
            let idle = match led {
                Some(Led::Mine) => {
                    self.shared.pass_lead(id);
                    false
                }
                Some(Led::Idle) => true,
                Some(Led::Busy) => false,
                None => match channel.recv_timeout(slice) {
                    Ok(Message::Answer(answer)) => return Ok(answer),
                    Ok(Message::Gone(exit)) => return Err(gone(exit)),
                    Ok(Message::Lead) => false,
                    Err(RecvTimeoutError::Timeout) => true,
                    Err(RecvTimeoutError::Disconnected) => {
                        return Err(gone(self.gone().unwrap_or(HelperExit::Unknown("no answer".into()))));
                    }
                },
            };
            if let Some(answer) = self.take_own(channel) {
                return answer;
            }
            // A whole slice without news: a grandchild may hold the response pipe open after
            // the helper died, and then no end of stream comes. This check ends the wait.
            if idle && let Some(exit) = self.shared.exited() {
                let since = *exited_at.get_or_insert(now);
                if now.duration_since(since) >= EXIT_GRACE {
                    return Err(gone(self.shared.kill(exit)));
                }
            }
        }
    }

    /// Reads the response pipe for up to `slice` as the leader, delivering what it reads.
    fn lead(&self, id: u64, responses: &mut Inbox<ResponsePipe>, slice: Duration) -> Led {
        match self.shared.read_one(responses, slice) {
            Read::Answer(answer_id, answer) => {
                self.shared.deliver(answer_id, answer);
                if answer_id == id { Led::Mine } else { Led::Busy }
            }
            Read::Nothing => Led::Idle,
            Read::End => {
                self.shared.ended();
                Led::Busy
            }
            Read::Violation(detail) => {
                self.shared.kill(HelperExit::ProtocolViolation(detail));
                Led::Busy
            }
        }
    }

    /// This call's answer or failure, if it has arrived on its channel.
    fn take_own(&self, channel: &mpsc::Receiver<Message>) -> Option<Result<Map<String, Value>, BridgeError>> {
        loop {
            match channel.try_recv() {
                Ok(Message::Answer(answer)) => return Some(Ok(answer)),
                Ok(Message::Gone(exit)) => return Some(Err(BridgeError::HelperGone { pid: self.pid(), reason: exit })),
                Ok(Message::Lead) => continue,
                Err(_) => return None,
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
        self.shared.close_stdin();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self.shared.exited().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
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
            let _ = waiter.send(Message::Gone(reason.clone()));
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
        drop(child);
        self.close_stdin();
        reason
    }

    /// The response pipe ended or stdin broke: the helper is ending. Reap it (killing it if
    /// it lingers) and fail every waiting call with its exit.
    fn ended(&self) -> HelperExit {
        let deadline = Instant::now() + PIPE_CLOSED_GRACE;
        loop {
            if let Some(exit) = self.exited() {
                let reason = self.set_gone(exit);
                self.close_stdin();
                return reason;
            }
            if Instant::now() >= deadline {
                return self.kill(HelperExit::ProtocolViolation("it closed its pipes but kept running".into()));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Closes the helper's stdin (it exits when it has read everything), dropping the backlog.
    fn close_stdin(&self) {
        let mut outbox = lock(&self.outbox);
        outbox.pipe = None;
        outbox.backlog.clear();
        self.outbox_ready.notify_all();
    }

    fn deliver(&self, id: u64, answer: Map<String, Value>) {
        if let Some(waiter) = lock(&self.calls).waiting.remove(&id) {
            let _ = waiter.send(Message::Answer(answer));
        }
    }

    /// The leader (call `from`) leaves: wake another waiting call to take over the pipe.
    fn pass_lead(&self, from: u64) {
        let calls = lock(&self.calls);
        if let Some((_, waiter)) = calls.waiting.iter().find(|(id, _)| **id != from) {
            let _ = waiter.send(Message::Lead);
        }
    }

    /// Reads one frame, waiting at most `slice` for it.
    fn read_one(&self, responses: &mut Inbox<ResponsePipe>, slice: Duration) -> Read {
        let frame = match responses.next(slice) {
            Polled::Frame(frame) => frame,
            Polled::Nothing => return Read::Nothing,
            Polled::End => return Read::End,
            Polled::TooLarge(size) => return Read::Violation(format!("a {size}-byte frame")),
        };
        let Ok(answer) = serde_json::from_slice::<Map<String, Value>>(&frame) else {
            return Read::Violation("a frame that is not a JSON object".into());
        };
        match answer.get("id").and_then(Value::as_u64) {
            Some(id) => Read::Answer(id, answer),
            None => Read::Violation("a frame without an id".into()),
        }
    }

    /// Reads the hello frame (id 0), waiting at most `timeout`.
    fn read_hello(&self, timeout: Duration) -> Result<Map<String, Value>, StartFailure> {
        let deadline = Instant::now() + timeout;
        let mut responses = lock(&self.responses);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                self.kill(HelperExit::Unknown("not ready in time".into()));
                return Err(StartFailure::NoHello(timeout));
            }
            match self.read_one(&mut responses, left.min(TICK)) {
                Read::Answer(0, hello) if hello.get("status").and_then(Value::as_str) == Some("hello") => {
                    return Ok(hello);
                }
                Read::Answer(_, other) => {
                    self.kill(HelperExit::ProtocolViolation("no hello".into()));
                    return Err(StartFailure::BadHello(Value::Object(other).to_string()));
                }
                Read::Nothing => {}
                Read::End => {
                    return Err(match self.ended() {
                        HelperExit::Exited(EXIT_TOO_OLD) => StartFailure::TooOld,
                        exit => StartFailure::Ended(exit),
                    });
                }
                Read::Violation(detail) => {
                    self.kill(HelperExit::ProtocolViolation(detail.clone()));
                    return Err(StartFailure::BadHello(detail));
                }
            }
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

/// Writes the backlog: waits for frames, writes what the pipe takes, waits until it can
/// take more (without holding the lock, so callers keep queueing).
fn write_loop(shared: &Shared) {
    let mut outbox = lock(&shared.outbox);
    loop {
        let Outbox { pipe, backlog, written } = &mut *outbox;
        let Some(pipe) = pipe.as_mut() else {
            return;
        };
        let Some(frame) = backlog.front() else {
            outbox = shared.outbox_ready.wait(outbox).unwrap_or_else(|poisoned| poisoned.into_inner());
            continue;
        };
        match write_nonblocking(pipe, &frame[*written..]) {
            Ok(n) if *written + n == frame.len() => {
                backlog.pop_front();
                *written = 0;
            }
            Ok(n) => {
                *written += n;
                let fd = raw_fd(pipe);
                drop(outbox);
                wait_writable(fd);
                outbox = lock(&shared.outbox);
            }
            Err(_) => {
                outbox.pipe = None;
                outbox.backlog.clear();
                drop(outbox);
                shared.ended();
                return;
            }
        }
    }
}

/// Writes as much of `buf` as the non-blocking pipe takes now.
fn write_nonblocking(pipe: &mut ChildStdin, buf: &[u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match pipe.write(&buf[done..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(done),
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(unix)]
fn set_nonblocking(pipe: &ChildStdin) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = pipe.as_raw_fd();
    // SAFETY: fcntl(2) on an fd we own; no memory is passed.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(not(unix))]
fn set_nonblocking(_pipe: &ChildStdin) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn raw_fd(pipe: &ChildStdin) -> i32 {
    use std::os::fd::AsRawFd;
    pipe.as_raw_fd()
}

#[cfg(not(unix))]
fn raw_fd(_pipe: &ChildStdin) -> i32 {
    -1
}

/// Waits (at most 100 ms) until the pipe can take more. A shutdown may close the fd
/// meanwhile: poll then returns at once, and the loop sees the pipe gone.
#[cfg(unix)]
fn wait_writable(fd: i32) {
    let mut poll = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
    // SAFETY: poll(2) reads and writes the one pollfd we pass.
    unsafe {
        libc::poll(&mut poll, 1, 100);
    }
}

#[cfg(not(unix))]
fn wait_writable(_fd: i32) {
    std::thread::sleep(Duration::from_millis(10));
}

/// The reading end of the response pipe.
pub(crate) struct ResponsePipe(std::fs::File);

impl io::Read for ResponsePipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Pollable for ResponsePipe {
    #[cfg(unix)]
    fn readable(&self, timeout: Duration) -> bool {
        use std::os::fd::AsRawFd;
        let mut poll = libc::pollfd { fd: self.0.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX).max(1);
        // SAFETY: poll(2) reads and writes the one pollfd we pass.
        let ready = unsafe { libc::poll(&mut poll, 1, ms) };
        // EINTR (ready < 0) counts as "nothing yet": the caller loops.
        ready > 0
    }

    #[cfg(not(unix))]
    fn readable(&self, _timeout: Duration) -> bool {
        true
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

    let pipes = |e: io::Error| StartFailure::Pipes(e.to_string());
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two fds into the array we own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(pipes(io::Error::last_os_error()));
    }
    // SAFETY: both fds were just created and are owned by nobody else.
    let (read_end, write_end) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // Keep both away from 0-2 (a daemon may run with those closed) and from 3, the number
    // the write end takes in the child.
    let read_end = high_fd(&read_end).map_err(pipes)?;
    let write_end = high_fd(&write_end).map_err(pipes)?;
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
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = command.spawn().map_err(|e| StartFailure::Spawn(e.to_string()))?;
    drop(write_end);
    Ok((child, std::fs::File::from(read_end)))
}

/// A close-on-exec copy of `fd` numbered 10 or more (the original is closed by its owner).
#[cfg(unix)]
fn high_fd(fd: &std::os::fd::OwnedFd) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    // SAFETY: F_DUPFD_CLOEXEC duplicates an fd we own into a new one that we then own.
    let new = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 10) };
    if new < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `new` is a fresh fd owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

#[cfg(not(unix))]
fn spawn_child(_spawn: &Spawn<'_>) -> Result<(Child, std::fs::File), StartFailure> {
    Err(StartFailure::Spawn("the Python bridge needs Unix".into()))
}
