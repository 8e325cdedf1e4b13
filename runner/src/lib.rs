//! A Chaos Toolkit–compatible experiment runner that emits the flow events.
//!
//! `notifier run` and `notifier validate` follow chaostoolkit 1.21.4 with
//! chaostoolkit-lib 1.45.1: the same experiment format (JSON or YAML), the same
//! validation rules and messages, the same run algorithm and journal, and the same
//! events in the same order, sent through a [`FlowNotifier`] (the CLI passes the real
//! dispatcher; tests pass a [`Recorder`]).
//!
//! One module per step: [`load`] → [`validate`](mod@validate) → [`config`] + [`substitute`] →
//! [`execute`] (with [`provider`]s, [`python`] and [`tolerance`]s, wrapped by
//! [`controls`]) → [`journal`]; [`report`] writes the console output and [`cli`] ties them
//! to the command line. [`interrupt`] carries signals to every blocking wait of a run.
//!
//! ```no_run
//! use notifier_runner::{Recorder, RunArgs, run};
//!
//! let recorder = Recorder::default();
//! let outcome = run(
//!     &RunArgs::new("examples/experiments/local-health.json"),
//!     &recorder,
//!     &mut std::io::stdout(),
//! )?;
//! println!("exit code {}, events {:?}", outcome.exit_code, recorder.names());
//! # Ok::<(), notifier_runner::RunnerError>(())
//! ```
//!
//! # Events
//!
//! | command | events |
//! |---|---|
//! | `run` | `run-started` (experiment as loaded, before validation) · `run-completed` (journal) when its status is `completed`, else `run-failed` (journal) · `run-deviated` (journal) in addition when it deviated |
//! | `validate` | `validate-started` · `validate-completed` or `validate-failed` (with the error), all with the experiment |
//!
//! Exit code of `run`: 1 when the status is not `completed` or the run deviated. The
//! journal is written before the final events.
//!
//! # Python
//!
//! `type: python` activities (in the hypothesis, the method, the rollbacks, `type: probe`
//! tolerances and dynamic configuration) and Python controls (the experiment's, the
//! hypothesis', each activity's, and the settings file's `controls:`) run in the user's
//! own interpreter, through one helper process per command (crate `notifier-python`),
//! started at the first call and only when the experiment or the settings need Python:
//! `--python PATH`, else `$NOTIFIER_PYTHON`, `$VIRTUAL_ENV/bin/python`, `python3` on
//! `PATH`. Semantics are chaostoolkit-lib 1.45.1's: validation messages, argument,
//! secret and configuration injection, `${…}` substitution only when there is
//! configuration or secrets, the journal encoding of outputs, `ActivityFailed` records
//! with the Python traceback, the controls' hook names, arguments, selection per level
//! (quirks included) and ordering. [`cli::Environment`] carries the settings document and
//! the interpreter (or a bridge to share).
//!
//! ```no_run
//! use notifier_runner::cli::{Environment, run_with};
//! use notifier_runner::{Interrupt, Recorder, RunArgs};
//!
//! let environment = Environment::new()
//!     .with_settings_file(std::path::Path::new("settings.yaml"))
//!     .with_python("/opt/venv/bin/python");
//! let outcome = run_with(&RunArgs::new("e.json"), &environment, &Recorder::default(), &mut std::io::stdout(), &Interrupt::new())?;
//! println!("Python started: {}", outcome.python_started);
//! # Ok::<(), notifier_runner::RunnerError>(())
//! ```
//!
//! # Strategies and interruption
//!
//! Every hypothesis strategy of chaostoolkit runs: `default`, `before-method-only`,
//! `after-method-only`, `during-method-only` and `continuously` (a thread checks the
//! hypothesis at the start of the method and every `--hypothesis-frequency` seconds
//! after each check ends, until the method returns; `--fail-fast` fails the run at the
//! first miss), and `skip` from the experiment's `runtime`.
//!
//! [`run_interruptible`] watches an [`Interrupt`]: the `notifier` binary connects it to
//! SIGINT, SIGTERM, SIGUSR1 and SIGUSR2 with [`interrupt::forward_signals`]. A signal ends
//! the current activity (a process is killed with its whole process group, a Python
//! function gets a `KeyboardInterrupt`), skips the
//! rest of the method and the hypothesis after it, plays the rollbacks only under the
//! `always` strategy (a second signal stops them; SIGUSR2 never plays them), and the
//! journal says `"status": "interrupted"` with, for SIGINT/SIGTERM,
//! `"interruption": {"kind": "signal", "name": "SIGINT", "reason": "received SIGINT"}`;
//! `run-failed` follows, exit code 1. [`run`] is [`run_interruptible`] with an
//! [`Interrupt`] nothing raises.
//!
//! ```no_run
//! use notifier_runner::{Interrupt, Recorder, RunArgs, run_interruptible};
//!
//! let interrupt = Interrupt::new();
//! let _signals = notifier_runner::interrupt::forward_signals(&interrupt)?;
//! let outcome = run_interruptible(&RunArgs::new("e.json"), &Recorder::default(), &mut std::io::stdout(), &interrupt)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Differences from chaostoolkit
//!
//! (The full list, with the reasons, is in `docs/RUNNER.md`.)
//!
//! * **Validation failure inside `run`**: chaostoolkit sends `run-started` and then
//!   nothing. This runner sends `run-failed` with the experiment as loaded as payload
//!   and the validation error as `error`
//!   (`An exception was raised: InvalidExperiment('experiment requires a description')`),
//!   so every run has a terminal event. Consumers that read `payload.title` (or
//!   `payload.experiment.title` for a journal) keep working. No journal is written.
//! * **Before-method tolerance miss**: like chaostoolkit-lib 1.45.1 (and unlike older
//!   versions) the status is `completed`, the method is skipped, rollbacks play under
//!   the `default` strategy, `run-completed` is sent and the exit code is 0. Only a
//!   probe that *fails* makes it `failed`.
//! * **Python**: where chaostoolkit crashes (an output it cannot write to the journal, a
//!   module that cannot be imported in the hypothesis with `--no-validation`, an
//!   experiment control whose `cleanup_control` raises, a module whose import raises
//!   during validation) this runner records the output's `repr`, aborts the run with a
//!   journal, logs the error, or reports a validation error. A dynamic configuration
//!   probe's secrets are not written into the journal. `runtime.python` is ignored (the
//!   interpreter is `--python`'s); Vault secrets load as empty.
//! * **Hypothesis strategies**: the during-method thread is joined before the hypothesis
//!   after the method (chaostoolkit lets its last iteration overlap it); an unknown
//!   `runtime.hypothesis.strategy` is an `InvalidExperiment` (chaostoolkit crashes).
//! * **Interruption**: the whole process group of an interrupted process is killed
//!   (chaostoolkit orphans what a shell started); background activities and the
//!   during-method hypothesis are interrupted too (chaostoolkit waits for them); signals
//!   count from the start of `run` (one before the run starts interrupts it before its
//!   first activity, with a journal and `run-failed`; chaostoolkit dies without either)
//!   and are ignored after the rollbacks, so the terminal event is always sent.
//! * **Unexpected errors** (an executable not found at run time, with
//!   `--no-validation`): `aborted` in the method and the during-method hypothesis, as in
//!   chaostoolkit, and also in the hypothesis before or after the method, where
//!   chaostoolkit crashes without a journal.
//! * **Journal**: `notifier-version` replaces `chaoslib-version`; `platform` is
//!   `OS-release-arch`; a process or http activity's `exception` list holds one line,
//!   `ActivityFailed: message`, where chaostoolkit stores a Python traceback (whose last
//!   line has that shape); a python activity's holds chaostoolkit-lib's traceback.
//! * **Tolerances**: regexes use Rust `regex` syntax; JSONPath uses RFC 9535
//!   (chaostoolkit needs the optional `jsonpath2` package and rejects the tolerance
//!   without it); a process or http `type: probe` tolerance is met when its process exits
//!   0 or its HTTP status is below 400 (a python one, as in chaostoolkit, when it returns
//!   something truthy). Where chaostoolkit would crash with a Python `TypeError`
//!   (a regex against a mapping, an out-of-type range), the tolerance is simply not met.
//! * **HTTP**: a timeout bounds the whole request (connect + read), not each socket
//!   read; header names in the output are capitalised (`Content-Type`).
//! * **Robustness**: malformed experiments that crash chaostoolkit with a Python
//!   traceback (an activity that is a string, `method: 5`…) get a typed validation error;
//!   a timed-out process is killed with its process group.
//! * **YAML** is read as PyYAML reads it (`yes`/`no` are booleans), by the settings
//!   compiler's loader, with its bounds on anchors and nesting.
//! * Load failures (missing file, bad JSON/YAML, unknown extension) send no event, like
//!   chaostoolkit; the error carries the file and the line:column.

#![warn(missing_docs)]

pub mod cli;
pub mod config;
pub mod controls;
pub mod error;
pub mod execute;
pub mod interrupt;
pub mod journal;
pub mod load;
pub mod provider;
pub mod python;
pub mod report;
pub mod substitute;
pub mod tolerance;
pub mod validate;

use std::sync::Mutex;

use notifier_core::Event;
use serde_json::Value;

pub use cli::{RunArgs, RunOutcome, RunStatus, ValidateArgs, ValidateOutcome, run, run_interruptible, validate};
pub use config::Var;
pub use error::{
    ActivityError, ActivityFailed, InvalidActivity, InvalidControl, InvalidExperiment, JournalError, LoadError, Raised,
    RunnerError, ValidationError,
};
pub use execute::{DryMode, HypothesisStrategy, RollbackStrategy, Setup};
pub use interrupt::{Interrupt, Signal};
pub use python::Python;
pub use report::Reporter;

/// Receives the flow events; the CLI passes the real dispatcher.
///
/// `payload` is the experiment (as loaded) or the journal; `error` is the envelope's
/// `error` value when there is one (already rendered like the reference:
/// `An exception was raised: Kind('message')`).
pub trait FlowNotifier {
    /// Sends one event. Delivery failures must not be reported back: they never change
    /// the outcome of a flow.
    fn notify(&self, event: Event, payload: &Value, error: Option<&Value>);
}

/// A recorded event: the event, its payload and its error.
pub type RecordedEvent = (Event, Value, Option<Value>);

impl FlowNotifier for Mutex<Vec<RecordedEvent>> {
    fn notify(&self, event: Event, payload: &Value, error: Option<&Value>) {
        if let Ok(mut events) = self.lock() {
            events.push((event, payload.clone(), error.cloned()));
        }
    }
}

/// A [`FlowNotifier`] that sends nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoNotifications;

impl FlowNotifier for NoNotifications {
    fn notify(&self, _event: Event, _payload: &Value, _error: Option<&Value>) {}
}

/// A [`FlowNotifier`] that keeps every event, for tests and dry runs.
#[derive(Debug, Default)]
pub struct Recorder {
    events: Mutex<Vec<RecordedEvent>>,
}

impl Recorder {
    /// The events received so far.
    pub fn events(&self) -> Vec<RecordedEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// The names of the events received so far.
    pub fn names(&self) -> Vec<&'static str> {
        self.events().iter().map(|(e, _, _)| e.name()).collect()
    }

    /// The events as the envelopes a channel would receive (with a real timestamp).
    pub fn envelopes(&self) -> Vec<notifier_core::Envelope> {
        self.events()
            .into_iter()
            .map(|(event, payload, error)| notifier_core::Envelope::new(event, payload, error))
            .collect()
    }
}

impl FlowNotifier for Recorder {
    fn notify(&self, event: Event, payload: &Value, error: Option<&Value>) {
        self.events.notify(event, payload, error);
    }
}

impl<T: FlowNotifier + ?Sized> FlowNotifier for &T {
    fn notify(&self, event: Event, payload: &Value, error: Option<&Value>) {
        (**self).notify(event, payload, error);
    }
}
