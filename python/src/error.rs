//! Failures of the bridge itself: no interpreter, no helper, a call past its budget, a dead
//! helper, an oversized frame. What *user code* did (raised, was interrupted, exited) is
//! never a [`BridgeError`]: each operation returns it as a typed outcome.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::discover::NoPython;

/// Why a call could not get an answer from Python.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BridgeError {
    /// No interpreter was found (only when the bridge was asked to discover one).
    #[error(transparent)]
    NoPython(#[from] NoPython),
    /// The helper process could not be started.
    #[error("could not start the Python helper with {}: {reason}", interpreter.display())]
    Start {
        /// The interpreter that was started.
        interpreter: PathBuf,
        /// What went wrong.
        reason: StartFailure,
    },
    /// The call ran past its budget. The helper was killed (with every call in flight on
    /// it); the next call starts a fresh one, without the module state of this one.
    #[error("the Python call did not finish within its budget of {budget:?}; the helper was killed")]
    Timeout {
        /// The budget given to the call.
        budget: Duration,
    },
    /// The helper ended before answering (killed, `os._exit`, a crash, or killed because
    /// another call ran past its budget). The next call starts a fresh helper.
    #[error("the Python helper (pid {pid}) {reason} before answering")]
    HelperGone {
        /// Its process id.
        pid: u32,
        /// How it ended.
        reason: HelperExit,
    },
    /// The request is larger than the frame limit; nothing was sent.
    #[error("the request is {size} bytes, over the Python bridge's frame limit of {limit} bytes")]
    RequestTooLarge {
        /// Encoded size of the request.
        size: usize,
        /// The limit ([`BridgeBuilder::max_frame_bytes`](crate::BridgeBuilder::max_frame_bytes)).
        limit: usize,
    },
    /// The answer (typically a provider's output) is larger than the frame limit; the helper
    /// dropped it and stays usable.
    #[error("the Python result is {size} bytes, over the Python bridge's frame limit of {limit} bytes")]
    ResponseTooLarge {
        /// Encoded size of the answer.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Too many calls are already waiting for an answer.
    #[error("{limit} Python calls are already in flight")]
    TooManyInFlight {
        /// The limit ([`BridgeBuilder::max_in_flight`](crate::BridgeBuilder::max_in_flight)).
        limit: usize,
    },
    /// [`Bridge::shutdown`](crate::Bridge::shutdown) was called.
    #[error("the Python bridge was shut down")]
    ShutDown,
    /// The helper failed in its own code (a bug in the bridge, not in user code).
    #[error("the Python helper failed: {message}")]
    Internal {
        /// The helper's traceback.
        message: String,
    },
    /// An answer did not have the expected shape (a bug in the bridge).
    #[error("unexpected answer from the Python helper: {detail}")]
    Protocol {
        /// What was wrong.
        detail: String,
    },
    /// The bridge needs Unix pipes and process groups.
    #[error("the Python bridge is not supported on this platform (it needs Unix)")]
    Unsupported,
}

/// Why the helper could not be started.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartFailure {
    /// The program could not be executed.
    Spawn(String),
    /// The interpreter is older than Python 3.8.
    TooOld,
    /// It ended before saying hello.
    Ended(HelperExit),
    /// It said nothing within the start timeout.
    NoHello(Duration),
    /// Its first frame was not a hello.
    BadHello(String),
    /// The pipes could not be set up.
    Pipes(String),
}

impl fmt::Display for StartFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartFailure::Spawn(e) => write!(f, "cannot execute it: {e}"),
            StartFailure::TooOld => f.write_str("Python 3.8 or newer is needed"),
            StartFailure::Ended(exit) => write!(f, "it {exit} before it was ready (its stderr says why)"),
            StartFailure::NoHello(t) => write!(f, "it was not ready after {t:?}"),
            StartFailure::BadHello(d) => write!(f, "unexpected first answer: {d}"),
            StartFailure::Pipes(e) => write!(f, "cannot create its pipes: {e}"),
        }
    }
}

/// How a helper process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HelperExit {
    /// It exited on its own with this status (`os._exit(3)`, `sys.exit` outside a call…).
    Exited(i32),
    /// A signal it did not catch ended it (a segfault, an outside `kill`).
    Signaled(i32),
    /// The bridge killed it because a call ran past its budget.
    BudgetExceeded {
        /// The id of the call that ran over.
        call: u64,
        /// Its budget.
        budget: Duration,
    },
    /// The bridge killed it because it broke the protocol.
    ProtocolViolation(String),
    /// The bridge was shut down.
    ShutDown,
    /// Its status could not be read.
    Unknown(String),
}

impl fmt::Display for HelperExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HelperExit::Exited(code) => write!(f, "exited with status {code}"),
            HelperExit::Signaled(signal) => write!(f, "was killed by signal {signal}{}", signal_name(*signal)),
            HelperExit::BudgetExceeded { call, budget } => {
                write!(f, "was killed because call {call} ran past its budget of {budget:?}")
            }
            HelperExit::ProtocolViolation(detail) => write!(f, "was killed after a protocol violation ({detail})"),
            HelperExit::ShutDown => f.write_str("was shut down"),
            HelperExit::Unknown(detail) => write!(f, "ended ({detail})"),
        }
    }
}

fn signal_name(signal: i32) -> &'static str {
    #[cfg(unix)]
    {
        let names = [
            (libc::SIGHUP, " (SIGHUP)"),
            (libc::SIGINT, " (SIGINT)"),
            (libc::SIGQUIT, " (SIGQUIT)"),
            (libc::SIGILL, " (SIGILL)"),
            (libc::SIGABRT, " (SIGABRT)"),
            (libc::SIGBUS, " (SIGBUS)"),
            (libc::SIGFPE, " (SIGFPE)"),
            (libc::SIGKILL, " (SIGKILL)"),
            (libc::SIGSEGV, " (SIGSEGV)"),
            (libc::SIGPIPE, " (SIGPIPE)"),
            (libc::SIGTERM, " (SIGTERM)"),
        ];
        if let Some((_, name)) = names.iter().find(|(number, _)| *number == signal) {
            return name;
        }
    }
    let _ = signal;
    ""
}
