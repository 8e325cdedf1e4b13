//! What each operation takes and returns.
//!
//! Every operation returns `Result<Result<T, E>, BridgeError>`: the outer error is the
//! bridge failing (no helper, budget, dead helper); the inner one is what the user's Python
//! code did, typed per operation, with chaostoolkit-lib 1.45.1's messages as `Display`.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::BridgeError;

/// Options of one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// Longest the call may take, from when it is sent (queueing behind another foreground
    /// call included; starting the helper excluded, see
    /// [`BridgeBuilder::start_timeout`](crate::BridgeBuilder::start_timeout)). Past it the
    /// helper is killed and the call fails with [`BridgeError::Timeout`]. `None`: no limit,
    /// like chaostoolkit.
    pub budget: Option<Duration>,
    /// Run on its own Python thread instead of the helper's main thread, so that several
    /// calls run at once (the runner's `background: true` activities). Such a call cannot
    /// be interrupted by [`Bridge::interrupt`](crate::Bridge::interrupt).
    pub background: bool,
}

impl CallOptions {
    /// A foreground call without a budget.
    pub const fn new() -> CallOptions {
        CallOptions { budget: None, background: false }
    }

    /// The same with a budget.
    pub const fn budget(mut self, budget: Duration) -> CallOptions {
        self.budget = Some(budget);
        self
    }

    /// The same with an optional budget.
    pub const fn budget_opt(mut self, budget: Option<Duration>) -> CallOptions {
        self.budget = budget;
        self
    }

    /// The same on a background thread (`true`) or on the main thread (`false`).
    pub const fn background(mut self, background: bool) -> CallOptions {
        self.background = background;
        self
    }
}

/// A Python exception, as Python's `traceback` module renders it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, thiserror::Error)]
#[error("{summary}")]
pub struct PyException {
    /// Its class, qualified like tracebacks print it (`ValueError`, `mymod.Boom`).
    pub kind: String,
    /// The first line of `traceback.format_exception_only`, stripped (`ValueError: boom`).
    pub summary: String,
    /// `str(exception)` (`boom`).
    pub text: String,
    /// `traceback.format_exception` lines, each ending in `\n`; the bridge's own frames
    /// are left out.
    pub traceback: Vec<String>,
}

impl PyException {
    /// The whole traceback as one text.
    pub fn traceback_text(&self) -> String {
        self.traceback.concat()
    }
}

/// Which kind of interruption ended a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterruptKind {
    /// `KeyboardInterrupt`: a SIGINT ([`Bridge::interrupt`](crate::Bridge::interrupt)) or
    /// user code raising it. Under chaos: `Received a termination signal (Ctrl-C)...`.
    KeyboardInterrupt,
    /// An exception whose class, or a base class, is named `InterruptExecution`
    /// (chaoslib's, or the user's own). Under chaos: the run is `interrupted`.
    InterruptExecution,
}

/// User code was interrupted, or interrupted the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interruption {
    /// What interrupted it.
    pub kind: InterruptKind,
    /// `str(exception)` (often empty for `KeyboardInterrupt`).
    pub message: String,
}

/// `str(exception)`, or the class name when that is empty.
impl fmt::Display for Interruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.message.is_empty() {
            return f.write_str(&self.message);
        }
        f.write_str(match self.kind {
            InterruptKind::KeyboardInterrupt => "KeyboardInterrupt",
            InterruptKind::InterruptExecution => "InterruptExecution",
        })
    }
}

impl std::error::Error for Interruption {}

/// The exit code of a `SystemExit` raised by user code (an integer, `null`, or whatever
/// was passed to `sys.exit`). The helper survives it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExitCode(pub Value);

impl fmt::Display for ExitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SystemExit({})", self.0)
    }
}

// --- python_version / import_module ---------------------------------------------------------

/// What [`Bridge::ping`](crate::Bridge::ping) reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonInfo {
    /// `platform.python_version()`, e.g. `3.12.1`.
    pub version: String,
    /// `sys.implementation.name`, e.g. `cpython`.
    pub implementation: String,
    /// `sys.executable`.
    pub executable: String,
    /// The helper's process id.
    pub pid: u32,
}

/// A module imported by [`Bridge::import_module`](crate::Bridge::import_module).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleInfo {
    /// Its `__file__` (none for namespace packages and builtins).
    pub file: Option<String>,
}

/// A module could not be imported.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportFailure {
    /// `ImportError` (including a `ModuleNotFoundError` raised by a dependency inside it).
    #[error("could not import Python module '{module}': {detail}")]
    NotFound {
        /// The module asked for.
        module: String,
        /// Python's message (`ModuleNotFoundError: No module named 'x'`).
        detail: String,
    },
    /// Any other exception raised while importing it.
    #[error("importing Python module '{module}' raised {error}")]
    Raised {
        /// The module asked for.
        module: String,
        /// What it raised.
        error: PyException,
    },
    /// Interrupted while importing.
    #[error("importing Python module '{module}' was interrupted: {interruption}")]
    Interrupted {
        /// The module asked for.
        module: String,
        /// The interruption.
        interruption: Interruption,
    },
    /// `SystemExit` while importing.
    #[error("importing Python module '{module}' raised {code}")]
    Exited {
        /// The module asked for.
        module: String,
        /// Its code.
        code: ExitCode,
    },
}

// --- providers ------------------------------------------------------------------------------

/// A `type: python` provider of an activity, as the runner has it after substitution.
#[derive(Debug, Clone, Copy)]
pub struct PythonProvider<'a> {
    /// The activity's `name` (in validation messages).
    pub activity: &'a str,
    /// The activity's `type`, `action` or `probe` (in validation messages).
    pub activity_type: &'a str,
    /// `provider.module`, a dotted module path.
    pub module: &'a str,
    /// `provider.func`.
    pub func: &'a str,
    /// `provider.arguments`; `None` is `{}`.
    pub arguments: Option<&'a Map<String, Value>>,
    /// The flat secrets: `None` when the provider has no `secrets` key, else the merge of
    /// the listed scopes in order (later scopes win). Passed as `secrets=` only when the
    /// provider lists secrets *and* the signature names `secrets`.
    pub secrets: Option<&'a Map<String, Value>>,
    /// The whole configuration, passed as `configuration=` when the signature names it
    /// (`**kwargs` does not count); `None` is `{}`.
    pub configuration: Option<&'a Map<String, Value>>,
}

impl<'a> PythonProvider<'a> {
    /// A provider without arguments, secrets or configuration.
    pub fn new(activity: &'a str, activity_type: &'a str, module: &'a str, func: &'a str) -> PythonProvider<'a> {
        PythonProvider { activity, activity_type, module, func, arguments: None, secrets: None, configuration: None }
    }

    /// The same with `arguments`.
    pub fn arguments(mut self, arguments: &'a Map<String, Value>) -> PythonProvider<'a> {
        self.arguments = Some(arguments);
        self
    }

    /// The same with flat `secrets` (the provider lists secret scopes).
    pub fn secrets(mut self, secrets: &'a Map<String, Value>) -> PythonProvider<'a> {
        self.secrets = Some(secrets);
        self
    }

    /// The same with the `configuration`.
    pub fn configuration(mut self, configuration: &'a Map<String, Value>) -> PythonProvider<'a> {
        self.configuration = Some(configuration);
        self
    }
}

/// Why a Python provider does not validate (`validate_python_activity`, steps 3–5).
///
/// The first four variants are what chaostoolkit-lib raises as `InvalidActivity`, their
/// `Display` being its message, exactly; [`is_invalid_activity`](Self::is_invalid_activity)
/// tells them apart. With the others chaostoolkit crashes with a traceback.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderInvalid {
    /// `ImportError` while importing the module.
    #[error("could not find Python module '{module}' in activity '{activity}'")]
    ModuleNotFound {
        /// `provider.module`.
        module: String,
        /// The activity's name.
        activity: String,
        /// Python's message (`ModuleNotFoundError: No module named 'x'`), not in the reference's.
        detail: String,
    },
    /// No function or builtin of that name in the module (a class, a callable instance or
    /// a `functools.partial` do not count).
    #[error("The python module '{module}' does not expose a function called '{func}' in {activity_type} '{activity}'")]
    FunctionNotExposed {
        /// `provider.module`.
        module: String,
        /// `provider.func`.
        func: String,
        /// The activity's type.
        activity_type: String,
        /// The activity's name.
        activity: String,
    },
    /// The arguments lack a required parameter (the first one only).
    #[error("required argument {argument} is missing from activity '{func}'")]
    MissingArgument {
        /// The parameter as Python's message quotes it (`'a'`).
        argument: String,
        /// The function (chaostoolkit names the function here, not the activity).
        func: String,
    },
    /// The arguments have a key the signature lacks (the first one only).
    #[error("argument {argument} is not part of the function signature in activity '{func}'")]
    UnexpectedArgument {
        /// The key as Python's message quotes it (`'zzz'`).
        argument: String,
        /// The function.
        func: String,
    },
    /// Importing the module raised something other than `ImportError` (chaostoolkit
    /// crashes with that traceback).
    #[error("importing Python module '{module}' raised {error}")]
    ImportRaised {
        /// `provider.module`.
        module: String,
        /// What it raised.
        error: PyException,
    },
    /// The signature check raised something chaostoolkit does not classify (another
    /// `TypeError`, `ValueError: no signature found for builtin …`); chaostoolkit crashes.
    #[error("{error}")]
    Raised {
        /// What was raised.
        error: PyException,
    },
    /// Interrupted during validation.
    #[error("{0}")]
    Interrupted(Interruption),
    /// `SystemExit` during validation (at import time).
    #[error("{0}")]
    Exited(ExitCode),
}

impl ProviderInvalid {
    /// Whether chaostoolkit-lib reports this as `InvalidActivity` (with this `Display`);
    /// otherwise it crashes.
    pub fn is_invalid_activity(&self) -> bool {
        matches!(
            self,
            ProviderInvalid::ModuleNotFound { .. }
                | ProviderInvalid::FunctionNotExposed { .. }
                | ProviderInvalid::MissingArgument { .. }
                | ProviderInvalid::UnexpectedArgument { .. }
        )
    }
}

/// A provider function raised an `Exception`: what chaostoolkit records in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ActivityFailure {
    /// `ActivityFailed`'s message: the first line of `traceback.format_exception_only`,
    /// stripped (`ValueError: boom`, `mymod.Boom: x`); console `  => failed: <message>`.
    pub message: String,
    /// The journal's `exception`: the original traceback lines (the bridge's frames left
    /// out), then `"\nDuring handling of the above exception, another exception occurred:\n\n"`,
    /// then `"chaoslib.exceptions.ActivityFailed: <message>\n"`.
    pub exception: Vec<String>,
}

/// A provider run that did not return (`run_python_activity`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The function raised an `Exception`: the activity failed and the run goes on.
    #[error("{0}")]
    Failed(ActivityFailure),
    /// `InterruptExecution` (by class name) or `KeyboardInterrupt`.
    #[error("{0}")]
    Interrupted(Interruption),
    /// `SystemExit`.
    #[error("{0}")]
    Exited(ExitCode),
    /// What chaostoolkit lets escape `run_python_activity` unwrapped: an error while
    /// importing the module, getting the function (`AttributeError: module 'm' has no
    /// attribute 'f'`) or reading its signature, or a `BaseException` that is none of the
    /// above. Under chaos the activity has no status and the run aborts.
    #[error("{0}")]
    Escaped(PyException),
}

// --- notification plugins -------------------------------------------------------------------

/// One event for a notification plugin: the envelope chaostoolkit builds, as parts.
///
/// The plugin receives a dict with `name, payload, phase, ts`, plus `error` when it is
/// truthy. An `error` string of the form `An exception was raised: Kind('message')` (how
/// notifier renders an exception) is handed over as an exception object, like chaostoolkit
/// does: an instance of `chaoslib.exceptions.Kind` when chaoslib is importable and has it,
/// else of an `Exception` subclass named `Kind` (so `repr(error)` is `Kind('message')`).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct PluginEvent<'a> {
    /// The event name (`run-failed`).
    pub name: &'a str,
    /// Its phase (`run`).
    pub phase: &'a str,
    /// The payload.
    pub payload: &'a Value,
    /// Epoch seconds (must be finite: JSON cannot carry NaN).
    pub ts: f64,
    /// The error, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a Value>,
}

/// A notification plugin call that did not complete (`notify_via_plugin`). The first three
/// are what chaostoolkit logs at DEBUG and goes on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PluginFailure {
    /// `ImportError`: `could not find Python plugin '<module>' for notification`.
    #[error("{message}")]
    ModuleNotFound {
        /// The reference's debug message.
        message: String,
    },
    /// No *function* of that name (classes and instances do not count):
    /// `could not find function '<func>' in plugin '<module>' for notification`.
    #[error("{message}")]
    FunctionNotFound {
        /// The reference's debug message.
        message: String,
    },
    /// The plugin raised (the reference logs `failed calling notification plugin` with the
    /// traceback). `InterruptExecution` is an `Exception` like any other here.
    #[error("failed calling notification plugin: {0}")]
    Raised(PyException),
    /// Importing the plugin raised something other than `ImportError` (or `module` is not
    /// a string); chaostoolkit crashes.
    #[error("importing the notification plugin raised {0}")]
    ImportRaised(PyException),
    /// `KeyboardInterrupt`.
    #[error("{0}")]
    Interrupted(Interruption),
    /// `SystemExit`; under chaos the command exits with that code.
    #[error("{0}")]
    Exited(ExitCode),
}

// --- controls -------------------------------------------------------------------------------

/// The level of a control hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlLevel {
    /// `*_loading_experiment_control` (global controls only).
    LoadingExperiment,
    /// `*_experiment_control`.
    Experiment,
    /// `*_hypothesis_control`.
    Hypothesis,
    /// `*_method_control`.
    Method,
    /// `*_rollback_control`.
    Rollback,
    /// `*_activity_control`.
    Activity,
}

/// A control hook, named as chaoslib names the module function
/// (`chaoslib/control/python.py:_level_mapping`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlHook {
    /// `configure_control`.
    Configure,
    /// `before_<level>_control`.
    Before(ControlLevel),
    /// `after_<level>_control`.
    After(ControlLevel),
}

impl ControlHook {
    /// The function name looked up in the control module.
    pub const fn name(self) -> &'static str {
        use ControlLevel::*;
        match self {
            ControlHook::Configure => "configure_control",
            ControlHook::Before(LoadingExperiment) => "before_loading_experiment_control",
            ControlHook::Before(Experiment) => "before_experiment_control",
            ControlHook::Before(Hypothesis) => "before_hypothesis_control",
            ControlHook::Before(Method) => "before_method_control",
            ControlHook::Before(Rollback) => "before_rollback_control",
            ControlHook::Before(Activity) => "before_activity_control",
            ControlHook::After(LoadingExperiment) => "after_loading_experiment_control",
            ControlHook::After(Experiment) => "after_experiment_control",
            ControlHook::After(Hypothesis) => "after_hypothesis_control",
            ControlHook::After(Method) => "after_method_control",
            ControlHook::After(Rollback) => "after_rollback_control",
            ControlHook::After(Activity) => "after_activity_control",
        }
    }
}

/// One call of a control hook (`initialize_control` or `apply_python_control`).
///
/// The function is `getattr(module, hook, None)`; when falsy the result is
/// [`ControlOutcome::NotDeclared`]. It is called with `context=` (when given) by keyword,
/// the control's `arguments` (a fresh copy each call, so a deep copy), and each `offered`
/// value whose name the signature has (`secrets`, `configuration`, `state`, `experiment`,
/// `extensions`, `settings`, `event_registry`…; `**kwargs` does not count), which override
/// arguments of the same name.
#[derive(Debug, Clone, Copy)]
pub struct ControlCall<'a> {
    /// `provider.module` of the control.
    pub module: &'a str,
    /// The function to call (see [`ControlHook::name`]).
    pub hook: &'a str,
    /// The `context=` keyword argument; `None` passes none (as for `configure_control`).
    pub context: Option<&'a Value>,
    /// `provider.arguments` (already substituted for level hooks); `None` is `{}`.
    pub arguments: Option<&'a Map<String, Value>>,
    /// Values passed only when the signature names them.
    pub offered: Option<&'a Map<String, Value>>,
}

impl<'a> ControlCall<'a> {
    /// A call of `hook` in `module` without context or arguments.
    pub fn new(module: &'a str, hook: &'a str) -> ControlCall<'a> {
        ControlCall { module, hook, context: None, arguments: None, offered: None }
    }

    /// The same with `context=`.
    pub fn context(mut self, context: &'a Value) -> ControlCall<'a> {
        self.context = Some(context);
        self
    }

    /// The same with the control's arguments.
    pub fn arguments(mut self, arguments: &'a Map<String, Value>) -> ControlCall<'a> {
        self.arguments = Some(arguments);
        self
    }

    /// The same with values offered by name.
    pub fn offered(mut self, offered: &'a Map<String, Value>) -> ControlCall<'a> {
        self.offered = Some(offered);
        self
    }
}

/// A control hook that completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlOutcome {
    /// The hook ran and returned (its value is ignored, as by chaoslib).
    Called,
    /// The module has no such hook (chaoslib logs
    /// `Control module '<file>' does not declare '<hook>'` at DEBUG).
    NotDeclared {
        /// The module's `__file__`, for that message.
        file: Option<String>,
    },
}

/// A control hook that did not complete.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// `ImportError` (chaoslib: `Control module '<mod>' could not be loaded. Have you
    /// installed it?` and the hook is skipped).
    #[error("Control module '{module}' could not be loaded. Have you installed it?")]
    ModuleNotFound {
        /// The module.
        module: String,
        /// Python's message.
        detail: String,
    },
    /// Importing the module raised something else (chaoslib lets it escape).
    #[error("importing control module '{module}' raised {error}")]
    ImportRaised {
        /// The module.
        module: String,
        /// What it raised.
        error: PyException,
    },
    /// The hook raised an exception (chaoslib logs `Before-control '<n>' failed` with the
    /// traceback and goes on, except for `validate_control` and an experiment control's
    /// `cleanup_control`).
    #[error("{0}")]
    Raised(PyException),
    /// `InterruptExecution` (by class name) or `KeyboardInterrupt`.
    #[error("{0}")]
    Interrupted(Interruption),
    /// `SystemExit`.
    #[error("{0}")]
    Exited(ExitCode),
}

// --- decoding answers -----------------------------------------------------------------------

/// An answer: its `status` and the other fields.
pub(crate) struct Answer {
    pub status: String,
    pub fields: Map<String, Value>,
}

impl Answer {
    pub(crate) fn new(mut fields: Map<String, Value>) -> Result<Answer, BridgeError> {
        match fields.remove("status") {
            Some(Value::String(status)) => Ok(Answer { status, fields }),
            other => Err(protocol(format!("no status in the answer ({other:?})"))),
        }
    }

    pub(crate) fn take<T: DeserializeOwned>(&mut self, key: &str) -> Result<T, BridgeError> {
        let value = self.fields.remove(key).unwrap_or(Value::Null);
        serde_json::from_value(value).map_err(|e| protocol(format!("field `{key}` of a `{}` answer: {e}", self.status)))
    }

    fn interruption(&mut self) -> Result<Interruption, BridgeError> {
        let kind = match self.take::<String>("kind")?.as_str() {
            "InterruptExecution" => InterruptKind::InterruptExecution,
            _ => InterruptKind::KeyboardInterrupt,
        };
        Ok(Interruption { kind, message: self.take("message")? })
    }

    fn exit_code(&mut self) -> ExitCode {
        ExitCode(self.fields.remove("code").unwrap_or(Value::Null))
    }

    fn unexpected<T>(&self, op: &str) -> Result<T, BridgeError> {
        Err(protocol(format!("status `{}` is not an answer to `{op}`", self.status)))
    }
}

pub(crate) fn protocol(detail: String) -> BridgeError {
    BridgeError::Protocol { detail }
}

pub(crate) fn decode_ping(mut a: Answer) -> Result<PythonInfo, BridgeError> {
    match a.status.as_str() {
        "ok" => Ok(PythonInfo {
            version: a.take("version")?,
            implementation: a.take("implementation")?,
            executable: a.take("executable")?,
            pid: a.take("pid")?,
        }),
        _ => a.unexpected("ping"),
    }
}

fn import_failure(a: &mut Answer, module: &str) -> Result<Option<ImportFailure>, BridgeError> {
    let module = module.to_string();
    Ok(Some(match a.status.as_str() {
        "module_not_found" => ImportFailure::NotFound { module, detail: a.take("detail")? },
        "import_raised" => ImportFailure::Raised { module, error: a.take("error")? },
        "interrupted" => ImportFailure::Interrupted { module, interruption: a.interruption()? },
        "exited" => ImportFailure::Exited { module, code: a.exit_code() },
        _ => return Ok(None),
    }))
}

pub(crate) fn decode_import(mut a: Answer, module: &str) -> Result<Result<ModuleInfo, ImportFailure>, BridgeError> {
    if a.status == "ok" {
        return Ok(Ok(ModuleInfo { file: a.take("file")? }));
    }
    match import_failure(&mut a, module)? {
        Some(failure) => Ok(Err(failure)),
        None => a.unexpected("import"),
    }
}

pub(crate) fn decode_validate(
    mut a: Answer,
    p: &PythonProvider<'_>,
) -> Result<Result<(), ProviderInvalid>, BridgeError> {
    let invalid = match a.status.as_str() {
        "ok" => return Ok(Ok(())),
        "module_not_found" => ProviderInvalid::ModuleNotFound {
            module: p.module.to_string(),
            activity: p.activity.to_string(),
            detail: a.take("detail")?,
        },
        "function_not_found" => ProviderInvalid::FunctionNotExposed {
            module: p.module.to_string(),
            func: p.func.to_string(),
            activity_type: p.activity_type.to_string(),
            activity: p.activity.to_string(),
        },
        "missing_argument" => ProviderInvalid::MissingArgument { argument: a.take("argument")?, func: a.take("func")? },
        "unexpected_argument" => {
            ProviderInvalid::UnexpectedArgument { argument: a.take("argument")?, func: a.take("func")? }
        }
        "import_raised" => ProviderInvalid::ImportRaised { module: p.module.to_string(), error: a.take("error")? },
        "raised" => ProviderInvalid::Raised { error: a.take("error")? },
        "interrupted" => ProviderInvalid::Interrupted(a.interruption()?),
        "exited" => ProviderInvalid::Exited(a.exit_code()),
        _ => return a.unexpected("validate_provider"),
    };
    Ok(Err(invalid))
}

pub(crate) fn decode_run(mut a: Answer) -> Result<Result<Value, ProviderError>, BridgeError> {
    let error = match a.status.as_str() {
        "ok" => return Ok(Ok(a.fields.remove("output").unwrap_or(Value::Null))),
        "failed" => {
            ProviderError::Failed(ActivityFailure { message: a.take("message")?, exception: a.take("exception")? })
        }
        "interrupted" => ProviderError::Interrupted(a.interruption()?),
        "exited" => ProviderError::Exited(a.exit_code()),
        "escaped" => ProviderError::Escaped(a.take("error")?),
        _ => return a.unexpected("run_provider"),
    };
    Ok(Err(error))
}

pub(crate) fn decode_notify(mut a: Answer) -> Result<Result<(), PluginFailure>, BridgeError> {
    let failure = match a.status.as_str() {
        "ok" => return Ok(Ok(())),
        "module_not_found" => PluginFailure::ModuleNotFound { message: a.take("message")? },
        "function_not_found" => PluginFailure::FunctionNotFound { message: a.take("message")? },
        "raised" => PluginFailure::Raised(a.take("error")?),
        "import_raised" => PluginFailure::ImportRaised(a.take("error")?),
        "interrupted" => PluginFailure::Interrupted(a.interruption()?),
        "exited" => PluginFailure::Exited(a.exit_code()),
        _ => return a.unexpected("notify"),
    };
    Ok(Err(failure))
}

pub(crate) fn decode_control(mut a: Answer, module: &str) -> Result<Result<ControlOutcome, ControlError>, BridgeError> {
    let error = match a.status.as_str() {
        "ok" => return Ok(Ok(ControlOutcome::Called)),
        "not_declared" => return Ok(Ok(ControlOutcome::NotDeclared { file: a.take("file")? })),
        "module_not_found" => ControlError::ModuleNotFound { module: module.to_string(), detail: a.take("detail")? },
        "import_raised" => ControlError::ImportRaised { module: module.to_string(), error: a.take("error")? },
        "raised" => ControlError::Raised(a.take("error")?),
        "interrupted" => ControlError::Interrupted(a.interruption()?),
        "exited" => ControlError::Exited(a.exit_code()),
        _ => return a.unexpected("control"),
    };
    Ok(Err(error))
}
