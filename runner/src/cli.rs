//! The command-line layer: `notifier run` and `notifier validate` arguments and the two
//! flows, with the events chaostoolkit 1.21.4 sends (plus `run-failed` when validation
//! fails inside `run`, see the crate docs).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use notifier_core::Event;
use notifier_python::Bridge;
use serde_json::{Map, Value, json};

use crate::FlowNotifier;
use crate::config::Var;
use crate::controls::{self, Controls, Level, When};
use crate::error::type_name;
use crate::error::{InvalidExperiment, JournalError, RunnerError, ValidationError};
use crate::execute::{self, DryMode, HypothesisStrategy, Options, RollbackStrategy, Setup};
use crate::interrupt::Interrupt;
use crate::journal;
use crate::load::load_experiment;
use crate::python::{Lane, Python};
use crate::report::Reporter;
use crate::validate::ensure_experiment_is_valid_with;

const RUN_AFTER_HELP: &str = "\
Events (to the channels of the settings file):
  run-started    the experiment as loaded, before validation
  run-completed  the journal, when the status is \"completed\"
  run-failed     the journal otherwise; or the experiment and the validation error
                 when the experiment is not valid
  run-deviated   the journal, in addition, when the steady state deviated

Exit status: 0 when the run completed without deviating, 1 otherwise.
The journal is written before the final events are sent.

Python: `type: python` activities (and tolerance probes, dynamic configuration) and
Python controls (the experiment's `controls`, the settings file's `controls:`) run in
the interpreter of --python (else $NOTIFIER_PYTHON, $VIRTUAL_ENV/bin/python, python3
on PATH), started once, and only when the experiment or the settings need it. Install
your extensions there, as for `chaos`.

Signals: SIGINT (Ctrl-C) or SIGTERM ends the current activity (a process is killed
with its process group; a Python function gets a KeyboardInterrupt), skips the rest of
the method and the hypothesis after it, plays the rollbacks only with
--rollback-strategy always (a second signal stops them), writes the journal with
status \"interrupted\" and its \"interruption\", sends run-failed and exits 1. SIGUSR1
does the same without \"interruption\"; SIGUSR2 also never plays the rollbacks.

Examples:
  notifier run examples/experiments/local-health.json
  notifier run --dry activities --journal-path /tmp/j.json experiment.yaml
  notifier run --rollback-strategy always --var marker=/tmp/flag experiment.json
  notifier run --hypothesis-strategy continuously --hypothesis-frequency 0.5 --fail-fast e.json
  notifier --python .venv/bin/python --settings settings.yaml run experiment.json";

const VALIDATE_AFTER_HELP: &str = "\
Events: validate-started, then validate-completed (exit 0) or validate-failed with the
first problem found (exit 1), each with the experiment as payload.

Python activities and controls are checked in the interpreter of --python (their
modules are imported, as `chaos validate` does).

Example:
  notifier validate examples/experiments/local-health.json";

/// Arguments of `notifier run`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_long_help = RUN_AFTER_HELP)]
pub struct RunArgs {
    /// The experiment to run: JSON, or YAML with a .yaml/.yml extension.
    #[arg(value_name = "EXPERIMENT")]
    pub experiment: PathBuf,

    /// Where to write the journal of the run (JSON).
    #[arg(long, value_name = "PATH", default_value = "journal.json")]
    pub journal_path: PathBuf,

    /// When to play the rollbacks. Defaults to the experiment's
    /// runtime.rollbacks.strategy, else `default`.
    #[arg(long, value_enum, value_name = "STRATEGY")]
    pub rollback_strategy: Option<RollbackStrategy>,

    /// When to check the steady-state hypothesis. Defaults to the experiment's
    /// runtime.hypothesis.strategy (which may also say `skip`), else `default`.
    #[arg(long, value_enum, value_name = "STRATEGY")]
    pub hypothesis_strategy: Option<HypothesisStrategy>,

    /// Seconds between the end of one during-method hypothesis and the start of the
    /// next (during-method-only and continuously).
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0, value_parser = parse_frequency)]
    pub hypothesis_frequency: f64,

    /// With during-method-only or continuously: fail the run at the first
    /// during-method hypothesis that is not met; the method stops after its current
    /// activity (continuously still checks the hypothesis after the method, which then
    /// decides the status).
    #[arg(long)]
    pub fail_fast: bool,

    /// Run without executing the chosen activities (or without pausing).
    #[arg(long, value_enum, value_name = "WHAT")]
    pub dry: Option<DryMode>,

    /// Do not validate the experiment before running it.
    #[arg(long)]
    pub no_validation: bool,

    /// Override a configuration value of the experiment: KEY=VALUE, or KEY:TYPE=VALUE
    /// with TYPE one of str, int, float, bool, json. Repeatable.
    #[arg(long = "var", value_name = "KEY[:TYPE]=VALUE")]
    pub vars: Vec<Var>,
}

impl RunArgs {
    /// Arguments with the defaults of the command line, for `experiment`.
    pub fn new(experiment: impl Into<PathBuf>) -> RunArgs {
        RunArgs {
            experiment: experiment.into(),
            journal_path: execute::default_journal_path().to_path_buf(),
            rollback_strategy: None,
            hypothesis_strategy: None,
            hypothesis_frequency: 1.0,
            fail_fast: false,
            dry: None,
            no_validation: false,
            vars: Vec::new(),
        }
    }
}

fn parse_frequency(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(f) if f.is_finite() && f >= 0.0 => Ok(f),
        _ => Err(format!("expected a number of seconds (0 or more), not {text:?}")),
    }
}

/// What a command runs with besides its arguments: the settings file's document and the
/// user's Python.
///
/// `Environment::new()` is a command without a settings file whose Python (if the
/// experiment needs one) is found at the first call: `$NOTIFIER_PYTHON`,
/// `$VIRTUAL_ENV/bin/python`, then `python3` on `PATH`.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// The settings file's document (its `controls:` and `runtime:` are used); `None`
    /// when there is no settings file.
    pub settings: Option<Value>,
    /// The interpreter (the CLI's `--python PATH`), tried first.
    pub python: Option<PathBuf>,
    /// A bridge to use instead of a new one (to share one helper process with the
    /// notification plugins of the same command).
    pub bridge: Option<Arc<Bridge>>,
}

impl Environment {
    /// No settings file, the interpreter found at the first call.
    pub fn new() -> Environment {
        Environment::default()
    }

    /// Reads the settings file at `path` (YAML, with the settings compiler's loader). A
    /// missing file is no settings file, as for chaostoolkit; one that cannot be read or
    /// parsed is logged and ignored (its channels are reported by the notifier).
    pub fn with_settings_file(mut self, path: &Path) -> Environment {
        self.settings = match notifier_schema::SourceFile::read(path) {
            Ok(source) => match notifier_schema::yaml::parse(&source.text) {
                Ok(root) => Some(notifier_schema::located::to_json(root.as_ref()).value).filter(|v| !v.is_null()),
                Err(e) => {
                    tracing::warn!("{}: settings ignored by the runner: {}", path.display(), e.message);
                    None
                }
            },
            Err(_) if !path.exists() => None,
            Err(e) => {
                tracing::warn!("{}: settings ignored by the runner: {e}", path.display());
                None
            }
        };
        self
    }

    /// Uses this settings document.
    pub fn with_settings(mut self, document: Value) -> Environment {
        self.settings = Some(document);
        self
    }

    /// Tries this interpreter first (the CLI's `--python PATH`).
    pub fn with_python(mut self, interpreter: impl Into<PathBuf>) -> Environment {
        self.python = Some(interpreter.into());
        self
    }

    /// Uses this bridge (nothing starts until the first call).
    pub fn with_bridge(mut self, bridge: Arc<Bridge>) -> Environment {
        self.bridge = Some(bridge);
        self
    }

    /// The command's Python, whose foreground calls `interrupt` reaches.
    fn python_for(&self, interrupt: &Interrupt) -> Python {
        let bridge = self.bridge.clone().unwrap_or_else(|| Arc::new(Bridge::new(self.python.as_deref())));
        Python::new(bridge, interrupt.clone())
    }
}

/// Arguments of `notifier validate`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_long_help = VALIDATE_AFTER_HELP)]
pub struct ValidateArgs {
    /// The experiment to validate: JSON, or YAML with a .yaml/.yml extension.
    #[arg(value_name = "EXPERIMENT")]
    pub experiment: PathBuf,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// `completed`.
    Completed,
    /// `failed` (a steady-state probe failed).
    Failed,
    /// `aborted`.
    Aborted,
    /// `interrupted`.
    Interrupted,
    /// The experiment was not valid; nothing ran.
    Invalid,
}

impl RunStatus {
    fn from_journal(status: &Value) -> RunStatus {
        match status.as_str() {
            Some("completed") => RunStatus::Completed,
            Some("aborted") => RunStatus::Aborted,
            Some("interrupted") => RunStatus::Interrupted,
            _ => RunStatus::Failed,
        }
    }
}

/// What `run` did; `exit_code` is the command's exit status.
#[derive(Debug)]
pub struct RunOutcome {
    /// 0 when the run completed without deviating, 1 otherwise.
    pub exit_code: i32,
    /// The journal's status, or `Invalid`.
    pub status: RunStatus,
    /// The steady state deviated after the method.
    pub deviated: bool,
    /// The journal (also written to `journal_path`), `None` when nothing ran.
    pub journal: Option<Value>,
    /// Where the journal was written.
    pub journal_path: PathBuf,
    /// The journal could not be written (the exit code is then 1).
    pub journal_error: Option<JournalError>,
    /// Why the experiment was not run.
    pub validation_error: Option<ValidationError>,
    /// The events sent, in order.
    pub events: Vec<Event>,
    /// Whether a Python interpreter was started (only when the experiment or the
    /// settings need one).
    pub python_started: bool,
}

/// What `validate` found; `exit_code` is the command's exit status.
#[derive(Debug)]
pub struct ValidateOutcome {
    /// 0 when valid, 1 otherwise.
    pub exit_code: i32,
    /// The first problem found.
    pub error: Option<ValidationError>,
    /// The events sent, in order.
    pub events: Vec<Event>,
    /// Whether a Python interpreter was started.
    pub python_started: bool,
}

struct Emitter<'n> {
    notifier: &'n dyn FlowNotifier,
    sent: Vec<Event>,
}

impl Emitter<'_> {
    fn emit(&mut self, event: Event, payload: &Value, error: Option<&Value>) {
        tracing::debug!("sending {}", event.name());
        self.notifier.notify(event, payload, error);
        self.sent.push(event);
    }
}

/// `notifier run`: load, `run-started`, validate, run, write the journal, then
/// `run-completed` or `run-failed`, and `run-deviated` when the run deviated.
///
/// Nothing can interrupt this run (see [`run_interruptible`]). Returns `Err` (and
/// sends nothing) only when the experiment cannot be loaded. `out` receives the
/// console report.
pub fn run(args: &RunArgs, notifier: &dyn FlowNotifier, out: &mut dyn Write) -> Result<RunOutcome, RunnerError> {
    run_with(args, &Environment::new(), notifier, out, &Interrupt::new())
}

/// [`run`], interrupted by the signals raised on `interrupt` (connect it to the
/// process's signals with [`crate::interrupt::forward_signals`], or raise them
/// yourself).
///
/// A signal raised before the run starts (while the experiment loads, `run-started`
/// is sent or validation runs) interrupts it before its first activity; one raised
/// after the rollbacks changes nothing. See [`crate::execute`] for what an
/// interruption does.
pub fn run_interruptible(
    args: &RunArgs,
    notifier: &dyn FlowNotifier,
    out: &mut dyn Write,
    interrupt: &Interrupt,
) -> Result<RunOutcome, RunnerError> {
    run_with(args, &Environment::new(), notifier, out, interrupt)
}

/// [`run_interruptible`] with the settings file's `controls:` and `runtime:` and the
/// user's Python of `environment`.
///
/// The settings' controls are imported first (one that cannot be imported is dropped),
/// then their `before_loading_experiment_control` hooks run, the experiment is loaded,
/// their `after_loading_experiment_control` hooks run; then as [`run`]. Strategies: the
/// command line, else the experiment's `runtime` (which sets both), else the settings'
/// `runtime`, else `default`.
pub fn run_with(
    args: &RunArgs,
    environment: &Environment,
    notifier: &dyn FlowNotifier,
    out: &mut dyn Write,
    interrupt: &Interrupt,
) -> Result<RunOutcome, RunnerError> {
    let python = environment.python_for(interrupt);
    let settings = environment.settings.as_ref().map(with_control_names);
    let globals = controls::load_globals(settings.as_ref(), &python);
    let loader = Controls::for_loading(&python, globals.clone(), settings.as_ref());
    let source = Value::String(args.experiment.display().to_string());
    if let Err(e) = loader.apply(Level::Loader, When::Before, &source, None, &Value::Null, Lane::Foreground) {
        tracing::warn!("a control interrupted the loading of the experiment, which is not interruptible: {e}");
    }
    let loaded = load_experiment(&args.experiment);
    let state = loaded.as_ref().map_or(Value::Null, Clone::clone);
    if let Err(e) = loader.apply(Level::Loader, When::After, &source, None, &state, Lane::Foreground) {
        tracing::warn!("a control interrupted the loading of the experiment, which is not interruptible: {e}");
    }
    let experiment = loaded?;
    let mut reporter = Reporter::new(out);
    let mut emitter = Emitter { notifier, sent: Vec::new() };
    reporter.experiment(&experiment, &args.experiment);
    emitter.emit(Event::RunStarted, &experiment, None);

    let invalid = |error: ValidationError, reporter: &mut Reporter<'_>, mut emitter: Emitter<'_>| {
        tracing::error!("{error}");
        reporter.validation_failed(&error);
        emitter.emit(Event::RunFailed, &experiment, Some(&error.error_value()));
        RunOutcome {
            exit_code: 1,
            status: RunStatus::Invalid,
            deviated: false,
            journal: None,
            journal_path: args.journal_path.clone(),
            journal_error: None,
            validation_error: Some(error),
            events: emitter.sent,
            python_started: python.is_started(),
        }
    };

    if args.no_validation {
        reporter.validation_skipped();
    } else {
        match ensure_experiment_is_valid_with(&experiment, &python) {
            Ok(()) => reporter.validation_passed(),
            Err(e) => return Ok(invalid(e, &mut reporter, emitter)),
        }
    }
    let Some(map) = experiment.as_object().filter(|m| !m.is_empty()) else {
        let error = if experiment.is_object() || experiment.is_null() {
            InvalidExperiment::Empty
        } else {
            InvalidExperiment::NotAMapping { found: type_name(&experiment) }
        };
        return Ok(invalid(error.into(), &mut reporter, emitter));
    };
    let (options, strategies) = match resolve_options(args, map, settings.as_ref()) {
        Ok(resolved) => resolved,
        Err(e) => return Ok(invalid(e.into(), &mut reporter, emitter)),
    };
    // The settings as chaostoolkit hands them to controls: with the strategies in force.
    let settings_for_globals = settings_with_runtime(settings.as_ref(), &strategies);
    let setup = Setup {
        python: python.clone(),
        global_controls: globals,
        settings: settings.is_some().then(|| settings_for_globals.clone()),
        settings_for_globals,
    };
    let journal = match execute::run_experiment(map, &options, &setup, &mut reporter, interrupt) {
        Ok(journal) => journal,
        Err(e) => return Ok(invalid(e, &mut reporter, emitter)),
    };

    let journal_error = journal::write(&journal, &args.journal_path).err();
    if let Some(e) = &journal_error {
        tracing::error!("{e}");
    }
    reporter.summary(&journal, &args.journal_path, journal_error.as_ref().map(|e| e.to_string()).as_deref());
    let status = RunStatus::from_journal(&journal["status"]);
    let deviated = journal["deviated"] == json!(true);
    if status == RunStatus::Completed {
        emitter.emit(Event::RunCompleted, &journal, None);
    } else {
        emitter.emit(Event::RunFailed, &journal, None);
    }
    if deviated {
        emitter.emit(Event::RunDeviated, &journal, None);
    }
    let failed = status != RunStatus::Completed || deviated || journal_error.is_some();
    Ok(RunOutcome {
        exit_code: i32::from(failed),
        status,
        deviated,
        journal: Some(journal),
        journal_path: args.journal_path.clone(),
        journal_error,
        validation_error: None,
        events: emitter.sent,
        python_started: python.is_started(),
    })
}

/// The settings with each global control's `name` written in, as chaostoolkit's
/// `load_global_controls` does to the settings it later hands to hooks.
fn with_control_names(settings: &Value) -> Value {
    let mut settings = settings.clone();
    if let Some(Value::Object(controls)) = settings.get_mut("controls") {
        for (name, control) in controls.iter_mut() {
            if let Value::Object(control) = control {
                control.insert("name".into(), Value::String(name.clone()));
            }
        }
    }
    settings
}

/// The names of the strategies in force, as chaostoolkit writes them into the settings'
/// `runtime`.
struct Strategies {
    hypothesis: String,
    rollbacks: String,
}

/// `settings` (or `{}`) with `runtime.rollbacks.strategy` and
/// `runtime.hypothesis.strategy` set to the strategies in force (chaostoolkit's
/// `_execute_run` does this to the settings it hands to controls).
fn settings_with_runtime(settings: Option<&Value>, strategies: &Strategies) -> Value {
    let mut settings = settings.filter(|s| s.is_object()).cloned().unwrap_or_else(|| json!({}));
    let Value::Object(map) = &mut settings else { return settings };
    let runtime = map.entry("runtime").or_insert_with(|| json!({}));
    if !runtime.is_object() {
        *runtime = json!({});
    }
    for (section, strategy) in [("rollbacks", &strategies.rollbacks), ("hypothesis", &strategies.hypothesis)] {
        if let Value::Object(runtime) = runtime {
            let entry = runtime.entry(section).or_insert_with(|| json!({}));
            if !entry.is_object() {
                *entry = json!({});
            }
            if let Value::Object(entry) = entry {
                entry.insert("strategy".into(), Value::String(strategy.clone()));
            }
        }
    }
    settings
}

/// The strategies in force: the command line, else the experiment's `runtime` (any
/// `runtime` block sets both, `default` for the one it omits), else the settings'
/// `runtime`, else `default` (the reference's precedence).
fn resolve_options(
    args: &RunArgs,
    experiment: &Map<String, Value>,
    settings: Option<&Value>,
) -> Result<(Options, Strategies), InvalidExperiment> {
    let runtime = experiment.get("runtime").filter(|r| notifier_core::pyvalue::truthy(r));
    let settings_runtime = settings.and_then(|s| s.get("runtime")).filter(|r| r.is_object());
    let from_runtime = |section: &str| {
        let declared = match runtime {
            Some(runtime) => runtime.get(section).and_then(|s| s.get("strategy")),
            None => settings_runtime.and_then(|r| r.get(section)).and_then(|s| s.get("strategy")),
        };
        declared.map(notifier_core::pyvalue::python_str).unwrap_or_else(|| "default".to_string())
    };
    let mut names = Strategies {
        hypothesis: args.hypothesis_strategy.map(|s| s.as_str().to_string()).unwrap_or_default(),
        rollbacks: args.rollback_strategy.map(|s| s.as_str().to_string()).unwrap_or_default(),
    };
    let hypothesis_strategy = match args.hypothesis_strategy {
        Some(s) => s,
        None => {
            let name = from_runtime("hypothesis");
            names.hypothesis = name.clone();
            if name == "continously" {
                // The reference's words (it says them for the experiment's runtime too).
                tracing::warn!(
                    "The \"--hypothesis-strategy=continously\" command is depreciating and will be removed in a future version\nInstead, please use \"--hypothesis-strategy=continuously\""
                );
            }
            match HypothesisStrategy::parse(&name) {
                Some(s) => s,
                None => return Err(InvalidExperiment::UnknownHypothesisStrategy { strategy: name }),
            }
        }
    };
    let rollback_strategy = match args.rollback_strategy {
        Some(s) => Some(s),
        None => {
            let name = from_runtime("rollbacks");
            names.rollbacks = name.clone();
            let parsed = RollbackStrategy::parse(&name);
            if parsed.is_none() {
                tracing::warn!("unknown rollback strategy '{name}': rollbacks will not be played");
            }
            parsed
        }
    };
    let options = Options {
        dry: args.dry,
        hypothesis_strategy,
        hypothesis_frequency: args.hypothesis_frequency,
        fail_fast: args.fail_fast,
        rollback_strategy,
        vars: args.vars.clone(),
    };
    Ok((options, names))
}

/// `notifier validate`: load, `validate-started`, then `validate-completed` or
/// `validate-failed` with the first problem found.
///
/// Returns `Err` (and sends nothing) only when the experiment cannot be loaded.
pub fn validate(
    args: &ValidateArgs,
    notifier: &dyn FlowNotifier,
    out: &mut dyn Write,
) -> Result<ValidateOutcome, RunnerError> {
    validate_with(args, &Environment::new(), notifier, out)
}

/// [`validate`] with the user's Python of `environment` (python activities and controls
/// are checked there; the settings' controls play no part, as in chaostoolkit).
pub fn validate_with(
    args: &ValidateArgs,
    environment: &Environment,
    notifier: &dyn FlowNotifier,
    out: &mut dyn Write,
) -> Result<ValidateOutcome, RunnerError> {
    let python = environment.python_for(&Interrupt::new());
    let experiment = load_experiment(&args.experiment)?;
    let mut reporter = Reporter::new(out);
    let mut emitter = Emitter { notifier, sent: Vec::new() };
    reporter.experiment(&experiment, &args.experiment);
    emitter.emit(Event::ValidateStarted, &experiment, None);
    match ensure_experiment_is_valid_with(&experiment, &python) {
        Ok(()) => {
            emitter.emit(Event::ValidateCompleted, &experiment, None);
            reporter.validation_passed();
            tracing::info!("experiment syntax and semantic look valid");
            Ok(ValidateOutcome { exit_code: 0, error: None, events: emitter.sent, python_started: python.is_started() })
        }
        Err(error) => {
            emitter.emit(Event::ValidateFailed, &experiment, Some(&error.error_value()));
            tracing::error!("{error}");
            reporter.validation_failed(&error);
            Ok(ValidateOutcome {
                exit_code: 1,
                error: Some(error),
                events: emitter.sent,
                python_started: python.is_started(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Parser)]
    #[command(name = "notifier")]
    struct Cli {
        #[command(subcommand)]
        command: Sub,
    }

    #[derive(clap::Subcommand)]
    enum Sub {
        /// Run an experiment.
        Run(RunArgs),
        /// Validate an experiment.
        Validate(ValidateArgs),
    }

    #[test]
    fn arguments_parse_like_chaos_run() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "notifier",
            "run",
            "--journal-path",
            "/tmp/j.json",
            "--rollback-strategy",
            "always",
            "--hypothesis-strategy",
            "before-method-only",
            "--dry",
            "probes",
            "--no-validation",
            "--var",
            "port:int=8080",
            "--var",
            "host=localhost",
            "exp.yaml",
        ]);
        let Ok(Cli { command: Sub::Run(args) }) = cli else {
            panic!("run did not parse");
        };
        assert_eq!(args.experiment, PathBuf::from("exp.yaml"));
        assert_eq!(args.journal_path, PathBuf::from("/tmp/j.json"));
        assert_eq!(args.rollback_strategy, Some(RollbackStrategy::Always));
        assert_eq!(args.hypothesis_strategy, Some(HypothesisStrategy::BeforeMethodOnly));
        assert_eq!(args.dry, Some(DryMode::Probes));
        assert!(args.no_validation);
        assert_eq!(args.vars[0].value, json!(8080));
        assert_eq!(args.vars[1].value, json!("localhost"));

        let defaults = Cli::try_parse_from(["notifier", "run", "e.json"]);
        let Ok(Cli { command: Sub::Run(args) }) = defaults else {
            panic!("run did not parse");
        };
        assert_eq!(args.journal_path, PathBuf::from("journal.json"));
        assert_eq!(args.rollback_strategy, None);

        assert_eq!(args.hypothesis_frequency, 1.0);
        assert!(!args.fail_fast);

        let strategies = Cli::try_parse_from([
            "notifier",
            "run",
            "--hypothesis-strategy",
            "continously",
            "--hypothesis-frequency",
            "0.25",
            "--fail-fast",
            "e.json",
        ]);
        let Ok(Cli { command: Sub::Run(args) }) = strategies else {
            panic!("run did not parse");
        };
        assert_eq!(args.hypothesis_strategy, Some(HypothesisStrategy::Continuously), "the old spelling");
        assert_eq!(args.hypothesis_frequency, 0.25);
        assert!(args.fail_fast);
        for strategy in ["during-method-only", "continuously"] {
            assert!(Cli::try_parse_from(["notifier", "run", "--hypothesis-strategy", strategy, "e.json"]).is_ok());
        }
        assert!(
            Cli::try_parse_from(["notifier", "run", "--hypothesis-strategy", "skip", "e.json"]).is_err(),
            "skip is for the experiment's runtime only"
        );
        for bad in ["-1", "NaN", "inf", "soon"] {
            assert!(
                Cli::try_parse_from(["notifier", "run", "--hypothesis-frequency", bad, "e.json"]).is_err(),
                "{bad}"
            );
        }
        assert!(Cli::try_parse_from(["notifier", "run", "--dry", "everything", "e.json"]).is_err());
        assert!(Cli::try_parse_from(["notifier", "run", "--var", "novalue", "e.json"]).is_err());
    }

    #[test]
    fn help_explains_the_options_and_the_events() {
        let mut cmd = Cli::command();
        let run = cmd.find_subcommand_mut("run").map(|c| c.render_long_help().to_string());
        let help = run.unwrap_or_default();
        for needle in [
            "--journal-path <PATH>",
            "[default: journal.json]",
            "--rollback-strategy <STRATEGY>",
            "Only when the steady state deviated after the method",
            "--hypothesis-strategy <STRATEGY>",
            "during-method-only",
            "--hypothesis-frequency <SECONDS>",
            "[default: 1]",
            "--fail-fast",
            "Signals: SIGINT (Ctrl-C) or SIGTERM",
            "--dry <WHAT>",
            "--no-validation",
            "--var <KEY[:TYPE]=VALUE>",
            "run-deviated",
            "notifier run examples/experiments/local-health.json",
        ] {
            assert!(help.contains(needle), "missing {needle:?} in:\n{help}");
        }
        let validate =
            cmd.find_subcommand_mut("validate").map(|c| c.render_long_help().to_string()).unwrap_or_default();
        assert!(validate.contains("validate-failed"), "{validate}");
    }
}
