//! A bridge from Rust to the user's own Python interpreter, for what only Python can run:
//! Chaos Toolkit notification plugins, `type: python` providers and Python controls.
//!
//! One long-lived **helper process** per [`Bridge`], started at the first call (never
//! before: [`Bridge::is_started`] proves a command that needs no Python ran none) and reused
//! by every call. The helper is a Python script embedded in this crate and passed to the
//! interpreter with `python -u -c`; nothing is installed. It runs in the user's interpreter
//! and virtualenv ([`find_interpreter`]), so user code imports what it imports under
//! `chaos`, with the same `sys.path` (no current directory at its head).
//!
//! * **Protocol**: frames of a 4-byte big-endian length and JSON, requests on the helper's
//!   stdin, answers on a separate pipe (fd 3), so whatever user code prints goes to the real
//!   stdout/stderr, as under `chaos`, and cannot corrupt the protocol. User code sees
//!   `/dev/null` on stdin.
//! * **Calls** carry an id; several may be in flight. Foreground calls run on the helper's
//!   main thread, where [`Bridge::interrupt`] (SIGINT → `KeyboardInterrupt`) reaches them;
//!   background calls each get a Python thread. Each call may have a budget: past it the
//!   helper is killed (with its process group), the call fails with
//!   [`BridgeError::Timeout`], and the next call starts a fresh helper (a WARN says that
//!   module state was lost). A helper that dies (killed, `os._exit`, segfault) fails the
//!   calls in flight with [`BridgeError::HelperGone`] and its exit status; the next call
//!   restarts it.
//! * **Semantics** are chaostoolkit-lib 1.45.1's, message for message: provider validation
//!   and run ([`Bridge::validate_provider`], [`Bridge::run_provider`]), notification plugins
//!   ([`Bridge::notify_plugin`]), controls ([`Bridge::call_control`],
//!   [`Bridge::cleanup_control`], [`Bridge::validate_control`]).
//! * **Bounded**: frames are capped (64 MiB by default) both ways, so are the calls in
//!   flight; no wait is unbounded unless the caller gives no budget, and even then a dead
//!   helper is always noticed.
//!
//! Unix only: elsewhere every call fails with [`BridgeError::Unsupported`]. Python 3.8+.
//!
//! ```no_run
//! use notifier_python::{Bridge, CallOptions, PythonProvider};
//! use std::time::Duration;
//!
//! let bridge = Bridge::new(None);
//! let provider = PythonProvider::new("probe-it", "probe", "mychecks", "is_up");
//! if let Err(invalid) = bridge.validate_provider(&provider, CallOptions::new())? {
//!     eprintln!("{invalid}"); // chaostoolkit's InvalidActivity message
//! }
//! let budget = CallOptions::new().budget(Duration::from_secs(10));
//! let outcome = bridge.run_provider(&provider, budget)?;
//! # let _ = outcome;
//! # Ok::<(), notifier_python::BridgeError>(())
//! ```

#![warn(missing_docs)]

mod bridge;
mod discover;
mod error;
mod frame;
mod ops;
mod process;

pub use bridge::{Bridge, BridgeBuilder, DEFAULT_MAX_IN_FLIGHT, DEFAULT_SHUTDOWN_GRACE, DEFAULT_START_TIMEOUT};
pub use discover::{Interpreter, NoPython, Problem, Source, find_interpreter, find_interpreter_with};
pub use error::{BridgeError, HelperExit, StartFailure};
pub use frame::DEFAULT_MAX_FRAME;
pub use ops::{
    ActivityFailure, CallOptions, ControlCall, ControlError, ControlHook, ControlLevel, ControlOutcome, ExitCode,
    ImportFailure, InterruptKind, Interruption, ModuleInfo, PluginEvent, PluginFailure, ProviderError, ProviderInvalid,
    PyException, PythonInfo, PythonProvider,
};

/// The helper script the bridge runs (`python -u -c HELPER_SOURCE`), for inspection.
pub const HELPER_SOURCE: &str = process::HELPER_SOURCE;
