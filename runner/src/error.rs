//! Typed errors of the runner.
//!
//! The validation errors carry the reference's exception names as their Rust type
//! names ([`InvalidExperiment`], [`InvalidActivity`], [`InvalidControl`]) and its
//! messages as their `Display`, so [`notifier_core::error_value`] renders them exactly
//! as chaostoolkit-lib renders its exceptions on the wire:
//! `An exception was raised: InvalidExperiment('experiment requires a description')`.

use std::path::PathBuf;

use serde_json::Value;

/// The experiment as a whole is not valid (chaostoolkit-lib's `InvalidExperiment`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidExperiment {
    /// The document is null, empty or otherwise falsy.
    #[error("an empty experiment is not an experiment")]
    Empty,
    /// The document is not a mapping (the reference crashes on these).
    #[error("an experiment must be a mapping, not {found}")]
    NotAMapping {
        /// The JSON type that was found.
        found: &'static str,
    },
    /// `title` is missing or empty.
    #[error("experiment requires a title")]
    MissingTitle,
    /// `description` is missing or empty.
    #[error("experiment requires a description")]
    MissingDescription,
    /// `tags` holds something other than non-empty strings.
    #[error("experiment tags must be a non-empty string")]
    BadTags,
    /// An entry of `extensions` has no usable `name`.
    #[error("All extensions require a non-empty name")]
    ExtensionWithoutName,
    /// `configuration` is not a mapping.
    #[error("the experiment configuration must be a mapping")]
    ConfigurationNotAMapping,
    /// A `type: env` configuration entry names a variable that is not set and has no default.
    #[error("Configuration makes reference to an environment key that does not exist: {key}")]
    MissingConfigurationEnv {
        /// The environment variable.
        key: String,
    },
    /// A `type: env` configuration entry has no usable `key`.
    #[error("configuration '{name}' of type env requires a `key` naming an environment variable")]
    ConfigurationEnvWithoutKey {
        /// The configuration entry.
        name: String,
    },
    /// `env_var_type` is not one of the supported types.
    #[error("variable type can only be: bool, str, int, float, bytes or json")]
    UnknownVariableType,
    /// An environment value (or default) cannot be converted to its `env_var_type`.
    #[error("configuration '{name}' cannot convert {value:?} to {to}")]
    BadVariableValue {
        /// The configuration entry.
        name: String,
        /// The raw value.
        value: String,
        /// The requested type.
        to: String,
    },
    /// `secrets` (or one of its scopes) is not a mapping.
    #[error("the experiment secrets must be a mapping of mappings")]
    SecretsNotAMapping,
    /// A `type: env` secret names a variable that is not set.
    #[error("Secrets make reference to an environment key that does not exist: {key}")]
    MissingSecretEnv {
        /// The environment variable.
        key: String,
    },
    /// `steady-state-hypothesis` is not a mapping.
    #[error("the steady-state hypothesis must be a mapping")]
    HypothesisNotAMapping,
    /// The hypothesis has no `title`.
    #[error("hypothesis requires a title")]
    HypothesisWithoutTitle,
    /// The `method` key is missing (it may be empty, but must be there).
    #[error("an experiment requires a method, which can be empty for only checking steady state hypothesis ")]
    MissingMethod,
    /// `method`, `rollbacks` or the hypothesis `probes` is not a list.
    #[error("the experiment {section} must be a list of activities")]
    NotAList {
        /// `method`, `rollbacks` or `probes`.
        section: &'static str,
    },
    /// The experiment's `runtime.hypothesis.strategy` is not a strategy (chaostoolkit
    /// crashes with `ValueError: Unknown strategy` here).
    #[error(
        "unknown hypothesis strategy '{strategy}' (one of: default, before-method-only, after-method-only, during-method-only, continuously, skip)"
    )]
    UnknownHypothesisStrategy {
        /// The requested strategy.
        strategy: String,
    },
}

/// One activity is not valid (chaostoolkit-lib's `InvalidActivity`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidActivity {
    /// The activity is null or empty.
    #[error("empty activity is no activity")]
    Empty,
    /// The activity is not a mapping.
    #[error("an activity must be a mapping, not {found}")]
    NotAMapping {
        /// The JSON type that was found.
        found: &'static str,
    },
    /// `ref` is not a non-empty string.
    #[error("reference to activity must be non-empty strings")]
    BadRef,
    /// A method `ref` names no probe or action of the experiment.
    #[error("referenced activity '{name}' could not be found in the experiment")]
    UnknownRef {
        /// The reference.
        name: String,
    },
    /// `type` is missing.
    #[error("an activity must have a type")]
    MissingType,
    /// `type` is neither `probe` nor `action`.
    #[error("'{found}' is not a supported activity type")]
    UnsupportedType {
        /// The type found, rendered like Python's `str()`.
        found: String,
    },
    /// `name` is missing or empty.
    #[error("an activity must have a name")]
    MissingName,
    /// `provider` is missing or empty.
    #[error("an activity requires a provider")]
    MissingProvider,
    /// `provider` is not a mapping.
    #[error("the provider of activity '{name}' must be a mapping")]
    ProviderNotAMapping {
        /// The activity.
        name: String,
    },
    /// The provider has no `type`.
    #[error("a provider must have a type")]
    MissingProviderType,
    /// The provider type is not `python`, `process` or `http`.
    #[error("unknown provider type '{found}'")]
    UnknownProviderType {
        /// The type found, rendered like Python's `str()`.
        found: String,
    },
    /// A python provider without `module` (or with an empty one).
    #[error("a Python activity must have a module path")]
    MissingPythonModule,
    /// A python provider without `func` (or with an empty one).
    #[error("a Python activity must have a function name")]
    MissingPythonFunction,
    /// A python provider whose `module`, `func` or `arguments` has the wrong type
    /// (chaostoolkit crashes with a Python `TypeError` or `AttributeError` on these).
    #[error("the {key} of python activity '{name}' must be {expected}")]
    BadPythonProvider {
        /// `module`, `func` or `arguments`.
        key: &'static str,
        /// What it must be: `a string`, `a mapping`.
        expected: &'static str,
        /// The activity.
        name: String,
    },
    /// What chaostoolkit-lib's `validate_python_activity` found, through the Python
    /// bridge: the module cannot be imported, it has no such function, the arguments do
    /// not bind (the reference's messages), or the import or the signature check raised
    /// (where chaostoolkit crashes with a traceback).
    #[error("{0}")]
    Python(#[from] notifier_python::ProviderInvalid),
    /// The python activity could not be checked: no Python interpreter could be started.
    #[error("cannot validate python activity '{name}': {reason}")]
    PythonUnavailable {
        /// The activity.
        name: String,
        /// Why (no interpreter found, the helper could not start…).
        reason: String,
    },
    /// `timeout` is not a number.
    #[error("activity timeout must be a number")]
    BadTimeout,
    /// `pauses` is not a mapping.
    #[error("activity pauses must be a mapping with `before` and/or `after`")]
    PausesNotAMapping,
    /// `pauses.before` is neither a number nor a `${…}` pattern.
    #[error("activity before pause must be a number or a pattern to a variable from the configuration or secrets")]
    BadPauseBefore,
    /// `pauses.after` is neither a number nor a `${…}` pattern.
    #[error("activity after pause must be a number or a pattern to a variable from the configuration or secrets")]
    BadPauseAfter,
    /// `background` is not a boolean.
    #[error("activity background must be a boolean")]
    BadBackground,
    /// A process provider without `path`.
    #[error("a process activity must have a path")]
    MissingPath,
    /// The process `path` is not on `PATH` (or not a file).
    #[error("path '{path}' cannot be found, in activity '{name}'")]
    PathNotFound {
        /// The path as written.
        path: String,
        /// The activity.
        name: String,
    },
    /// The process `path` exists but is not executable.
    #[error("no access permission to '{path}', in activity '{name}'")]
    PathNotExecutable {
        /// The path as written.
        path: String,
        /// The activity.
        name: String,
    },
    /// Process `arguments` is neither a list, a mapping nor a string.
    #[error("process arguments must be a list, a mapping or a string, in activity '{name}'")]
    BadProcessArguments {
        /// The activity.
        name: String,
    },
    /// Process `timeout` is not a non-negative number.
    #[error("process timeout must be a non-negative number, in activity '{name}'")]
    BadProcessTimeout {
        /// The activity.
        name: String,
    },
    /// An HTTP provider without `url`.
    #[error("a HTTP activity must have a URL")]
    MissingUrl,
    /// HTTP `headers` is not a mapping.
    #[error("a HTTP activities expect headers as a mapping")]
    BadHeaders,
    /// HTTP `timeout` is neither a number nor a `[connect, read]` pair.
    #[error("http timeout must be a number or a [connect, read] pair, in activity '{name}'")]
    BadHttpTimeout {
        /// The activity.
        name: String,
    },
    /// A hypothesis probe without `tolerance`.
    #[error("hypothesis probe must have a tolerance entry")]
    MissingTolerance,
    /// The tolerance is not a bool, int, string, list or mapping.
    #[error(
        "hypothesis probe tolerance must either be an integer, a string, a boolean or a pair of values for boundaries. It can also be a dictionary which is a probe activity definition that takes an argument called `value` with the value of the probe itself to be validated"
    )]
    BadToleranceType,
    /// A tolerance mapping whose `type` is not `probe`, `regex`, `jsonpath` or `range`.
    #[error("hypothesis probe tolerance type '{found}' is unsupported")]
    UnsupportedToleranceType {
        /// The type found, rendered like Python's `str()` (`None` when missing).
        found: String,
    },
    /// A regex tolerance without `pattern`.
    #[error("hypothesis regex probe tolerance must have a `pattern` key")]
    MissingPattern,
    /// A regex tolerance whose `pattern` is not a string.
    #[error("hypothesis probe tolerance pattern {pattern} has an invalid type")]
    BadPatternType {
        /// The pattern, rendered like Python's `str()`.
        pattern: String,
    },
    /// A regex tolerance whose `pattern` does not compile.
    #[error("hypothesis probe tolerance pattern {pattern} seems invalid: {reason}")]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// Why the regex engine refused it.
        reason: String,
    },
    /// A JSONPath tolerance without `path`.
    #[error("hypothesis jsonpath probe tolerance must have a `path` key")]
    MissingJsonPath,
    /// A JSONPath tolerance with an empty `path`.
    #[error("hypothesis probe tolerance JSON path cannot be empty")]
    EmptyJsonPath,
    /// A JSONPath tolerance whose `path` is not a string.
    #[error("hypothesis probe tolerance JSON path {path} has an invalid type")]
    BadJsonPathType {
        /// The path, rendered like Python's `str()`.
        path: String,
    },
    /// A JSONPath tolerance whose `path` does not parse (RFC 9535 syntax).
    #[error("hypothesis probe tolerance JSON path {path} is invalid")]
    BadJsonPath {
        /// The path.
        path: String,
    },
    /// A range tolerance without `range`.
    #[error("hypothesis range probe tolerance must have a `range` key")]
    MissingRange,
    /// `range` is not a list.
    #[error("hypothesis range must be a sequence")]
    RangeNotASequence,
    /// `range` does not have exactly two items.
    #[error("hypothesis range sequence must be made of two values")]
    RangeNotAPair,
    /// The lower bound is not a number.
    #[error("hypothesis range lower boundary must be a number")]
    RangeLowerNotANumber,
    /// The upper bound is not a number.
    #[error("hypothesis range upper boundary must be a number")]
    RangeUpperNotANumber,
    /// A python control without `module`.
    #[error("Control '{name}' must have a module path")]
    ControlWithoutModule {
        /// The control.
        name: String,
    },
}

/// A control declaration is not valid (chaostoolkit-lib's `InvalidControl`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidControl {
    /// A control `ref` names no declared control.
    #[error("Control reference '{name}' declaration cannot be found")]
    UnknownRef {
        /// The reference.
        name: String,
    },
    /// A control is not a mapping.
    #[error("a control must be a mapping")]
    NotAMapping,
    /// `controls` is not a list.
    #[error("controls must be a list")]
    NotAList,
    /// A control without `name`.
    #[error("A control must have a `name` property")]
    MissingName,
    /// A control without `provider`.
    #[error("Control '{name}' must have a `provider` property")]
    MissingProvider {
        /// The control.
        name: String,
    },
    /// `scope` is neither `before` nor `after`.
    #[error("Control '{name}' scope property must be 'before' or 'after' only")]
    BadScope {
        /// The control.
        name: String,
    },
    /// The control module's `validate_control(control)` raised (a chaoslib exception's
    /// message as is, anything else as `Kind: message`, where chaostoolkit crashes), its
    /// import raised something other than `ImportError`, or no Python could check it.
    #[error("{message}")]
    Python {
        /// The control.
        name: String,
        /// What went wrong.
        message: String,
    },
}

/// An activity failed while running (chaostoolkit-lib's `ActivityFailed`).
///
/// Recorded in the run's `exception` list; it never aborts the experiment.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ActivityFailed {
    /// A process ran past its `timeout`.
    #[error("process activity took too long to complete")]
    ProcessTimeout,
    /// The process could not be started.
    #[error("failed to start process '{path}': {reason}")]
    ProcessSpawn {
        /// The executable.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The process `path` is not on `PATH` at run time (only reachable with `--no-validation`).
    #[error("path '{path}' cannot be found")]
    ProcessNotFound {
        /// The path as written.
        path: String,
    },
    /// The HTTP request could not connect.
    #[error("failed to connect to {url}: {reason}")]
    HttpConnect {
        /// The URL.
        url: String,
        /// The transport's reason.
        reason: String,
    },
    /// The HTTP request ran past its `timeout`.
    #[error("activity took too long to complete")]
    HttpTimeout,
    /// Any other HTTP failure (bad URL, bad header, TLS setup…).
    #[error("http activity to {url} failed: {reason}")]
    Http {
        /// The URL.
        url: String,
        /// The reason.
        reason: String,
    },
    /// A `ref` names no activity (only reachable with `--no-validation` or in rollbacks).
    #[error("could not find referenced activity '{name}'")]
    UnknownRef {
        /// The reference.
        name: String,
    },
    /// The activity is malformed (only reachable with `--no-validation`).
    #[error("{0}")]
    Invalid(InvalidActivity),
    /// A python provider's function raised an `Exception` (chaostoolkit-lib wraps it in
    /// `ActivityFailed`): the message is `Kind: message` (`ValueError: boom`).
    #[error("{}", .0.message)]
    Python(notifier_python::ActivityFailure),
}

impl ActivityFailed {
    /// The run record's `exception` list.
    ///
    /// For a python provider: chaostoolkit-lib's traceback lines, ending with
    /// `chaoslib.exceptions.ActivityFailed: <message>\n`. For the other providers: one
    /// line, `ActivityFailed: <message>\n` (chaostoolkit-lib stores Python traceback lines
    /// there too; the last one has the same `Kind: message` shape).
    pub fn exception_lines(&self) -> Vec<Value> {
        match self {
            ActivityFailed::Python(failure) => failure.exception.iter().cloned().map(Value::String).collect(),
            _ => vec![Value::String(format!("ActivityFailed: {self}\n"))],
        }
    }
}

/// What user Python code raised that stops the run as a signal would
/// (chaostoolkit-lib lets these through instead of recording a failed activity).
#[derive(Debug, Clone, PartialEq)]
pub enum Raised {
    /// `InterruptExecution(message)` (chaoslib's, or any class of that name), from an
    /// activity or a control hook: the run is `interrupted`, the message is logged.
    InterruptExecution(String),
    /// `KeyboardInterrupt` raised by user code itself (no signal arrived): like Ctrl-C.
    KeyboardInterrupt,
    /// `SystemExit(code)`: like the reference's exit signals; code `30` plays no rollback.
    SystemExit(Value),
}

impl Raised {
    /// Whether the rollbacks may still play (not after `SystemExit(30)`, chaoslib's
    /// "ungraceful" exit).
    pub fn allows_rollbacks(&self) -> bool {
        !matches!(self, Raised::SystemExit(code) if code == &Value::from(30))
    }
}

impl std::fmt::Display for Raised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Raised::InterruptExecution(message) => write!(f, "InterruptExecution: {message}"),
            Raised::KeyboardInterrupt => f.write_str("KeyboardInterrupt"),
            Raised::SystemExit(code) => write!(f, "SystemExit({code})"),
        }
    }
}

/// Why an activity produced no output: it failed, a signal interrupted it, or an
/// unexpected error stopped it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ActivityError {
    /// The activity failed (`status: "failed"` with its `exception`); the run goes on.
    #[error(transparent)]
    Failed(#[from] ActivityFailed),
    /// A signal interrupted it: its record has no `status` and the run is interrupted.
    #[error("interrupted by {0}")]
    Interrupted(crate::interrupt::Signal),
    /// What chaostoolkit-lib raises as an exception other than `ActivityFailed`: the
    /// record has no `status`; in the method (or the during-method hypothesis) the run
    /// is `aborted`. The message is logged.
    #[error("{0}")]
    Fatal(String),
    /// User Python code raised `InterruptExecution`, `KeyboardInterrupt` or
    /// `SystemExit`: the record has no `status` and the run is `interrupted`.
    #[error("{0}")]
    Raised(Raised),
}

/// The first problem `validate` found, whichever exception kind it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValidationError {
    /// An experiment-level problem.
    #[error(transparent)]
    Experiment(#[from] InvalidExperiment),
    /// An activity-level problem.
    #[error(transparent)]
    Activity(#[from] InvalidActivity),
    /// A control-level problem.
    #[error(transparent)]
    Control(#[from] InvalidControl),
}

impl ValidationError {
    /// The exception kind the reference would name: `InvalidExperiment`,
    /// `InvalidActivity` or `InvalidControl`.
    pub fn kind(&self) -> &'static str {
        match self {
            ValidationError::Experiment(_) => "InvalidExperiment",
            ValidationError::Activity(_) => "InvalidActivity",
            ValidationError::Control(_) => "InvalidControl",
        }
    }

    /// The envelope's `error` value:
    /// `An exception was raised: InvalidExperiment('experiment requires a description')`.
    pub fn error_value(&self) -> Value {
        match self {
            ValidationError::Experiment(e) => notifier_core::error_value(e),
            ValidationError::Activity(e) => notifier_core::error_value(e),
            ValidationError::Control(e) => notifier_core::error_value(e),
        }
    }
}

/// The experiment file could not be loaded. No event is sent in that case, like the
/// reference (there is no experiment to put in a payload).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file does not exist (the reference's `InvalidSource` message).
    #[error("Path \"{}\" does not exist.", path.display())]
    NotFound {
        /// The path given.
        path: PathBuf,
    },
    /// The file could not be read, is too large or is not UTF-8 text.
    #[error(transparent)]
    Source(#[from] notifier_schema::ReadError),
    /// The extension is not `.json`, `.yaml` or `.yml`.
    #[error("{}: {source}", path.display())]
    UnsupportedExtension {
        /// The path given.
        path: PathBuf,
        /// The reference's `InvalidExperiment` message.
        source: UnsupportedFormat,
    },
    /// The JSON does not parse.
    #[error("{}:{line}:{column}: invalid JSON experiment: {message}", path.display())]
    Json {
        /// The path given.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The YAML does not parse.
    #[error("{}{}: Failed parsing YAML experiment: {message}", path.display(), location_suffix(*line, *column))]
    Yaml {
        /// The path given.
        path: PathBuf,
        /// 1-based line, when the parser knows it.
        line: Option<usize>,
        /// 1-based column, when the parser knows it.
        column: Option<usize>,
        /// The parser's message.
        message: String,
    },
}

impl LoadError {
    /// `(line, column)` of the problem, 1-based, when known.
    pub fn location(&self) -> Option<(usize, usize)> {
        match self {
            LoadError::Json { line, column, .. } => Some((*line, *column)),
            LoadError::Yaml { line: Some(line), column: Some(column), .. } => Some((*line, *column)),
            LoadError::Source(notifier_schema::ReadError::NotUtf8 { line, column, .. }) => Some((*line, *column)),
            _ => None,
        }
    }
}

fn location_suffix(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

/// The reference's message for an experiment file with an unknown extension.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("only files with json, yaml or yml extensions are supported")]
pub struct UnsupportedFormat;

/// The journal could not be written to `--journal-path`.
#[derive(Debug, thiserror::Error)]
#[error("{}: cannot write the journal: {source}", path.display())]
pub struct JournalError {
    /// Where the journal should have gone.
    pub path: PathBuf,
    /// The I/O error.
    #[source]
    pub source: std::io::Error,
}

/// An error that stops `run` or `validate` before any flow event is sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunnerError {
    /// The experiment could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A `--var` could not be converted to its type.
    #[error("--var {name}: {reason}")]
    BadVar {
        /// The variable.
        name: String,
        /// Why.
        reason: String,
    },
}

/// The JSON type of a value, for messages (`a mapping`, `a list`…).
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}
