//! The command-line layer: `notifier run` and `notifier validate` arguments and the two
//! flows, with the events chaostoolkit 1.21.4 sends (plus `run-failed` when validation
//! fails inside `run`, see the crate docs).

use std::io::Write;
use std::path::PathBuf;

use notifier_core::Event;
use serde_json::{Value, json};

use crate::FlowNotifier;
use crate::config::Var;
use crate::error::type_name;
use crate::error::{InvalidExperiment, JournalError, RunnerError, ValidationError};
use crate::execute::{self, DryMode, HypothesisStrategy, Options, RollbackStrategy};
use crate::interrupt::Interrupt;
use crate::journal;
use crate::load::load_experiment;
use crate::report::Reporter;
use crate::validate::ensure_experiment_is_valid;

const RUN_AFTER_HELP: &str = "\
Events (to the channels of the settings file):
  run-started    the experiment as loaded, before validation
  run-completed  the journal, when the status is \"completed\"
  run-failed     the journal otherwise; or the experiment and the validation error
                 when the experiment is not valid
  run-deviated   the journal, in addition, when the steady state deviated

Exit status: 0 when the run completed without deviating, 1 otherwise.
The journal is written before the final events are sent.

Signals: SIGINT (Ctrl-C) or SIGTERM ends the current activity (a process is killed
with its process group), skips the rest of the method and the hypothesis after it,
plays the rollbacks only with --rollback-strategy always (a second signal stops
them), writes the journal with status \"interrupted\" and its \"interruption\", sends
run-failed and exits 1. SIGUSR1 does the same without \"interruption\"; SIGUSR2
also never plays the rollbacks.

Examples:
  notifier run examples/experiments/local-health.json
  notifier run --dry activities --journal-path /tmp/j.json experiment.yaml
  notifier run --rollback-strategy always --var marker=/tmp/flag experiment.json
  notifier run --hypothesis-strategy continuously --hypothesis-frequency 0.5 --fail-fast e.json";

const VALIDATE_AFTER_HELP: &str = "\
Events: validate-started, then validate-completed (exit 0) or validate-failed with the
first problem found (exit 1), each with the experiment as payload.

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
    run_interruptible(args, notifier, out, &Interrupt::new())
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
    let experiment = load_experiment(&args.experiment)?;
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
        }
    };

    if args.no_validation {
        reporter.validation_skipped();
    } else {
        match ensure_experiment_is_valid(&experiment) {
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
    let options = match resolve_options(args, map) {
        Ok(options) => options,
        Err(e) => return Ok(invalid(e.into(), &mut reporter, emitter)),
    };
    let journal = match execute::run_experiment(map, &options, &mut reporter, interrupt) {
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
    })
}

/// The strategies in force: the command line, else the experiment's `runtime`, else
/// `default` (the reference's precedence).
fn resolve_options(args: &RunArgs, experiment: &serde_json::Map<String, Value>) -> Result<Options, InvalidExperiment> {
    let runtime = experiment.get("runtime").filter(|r| notifier_core::pyvalue::truthy(r));
    let from_runtime = |section: &str| {
        runtime
            .and_then(|r| r.get(section))
            .and_then(|s| s.get("strategy"))
            .map(notifier_core::pyvalue::python_str)
            .unwrap_or_else(|| "default".to_string())
    };
    let hypothesis_strategy = match args.hypothesis_strategy {
        Some(s) => s,
        None => {
            let name = from_runtime("hypothesis");
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
            let parsed = RollbackStrategy::parse(&name);
            if parsed.is_none() {
                tracing::warn!("unknown rollback strategy '{name}': rollbacks will not be played");
            }
            parsed
        }
    };
    Ok(Options {
        dry: args.dry,
        hypothesis_strategy,
        hypothesis_frequency: args.hypothesis_frequency,
        fail_fast: args.fail_fast,
        rollback_strategy,
        vars: args.vars.clone(),
    })
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
    let experiment = load_experiment(&args.experiment)?;
    let mut reporter = Reporter::new(out);
    let mut emitter = Emitter { notifier, sent: Vec::new() };
    reporter.experiment(&experiment, &args.experiment);
    emitter.emit(Event::ValidateStarted, &experiment, None);
    match ensure_experiment_is_valid(&experiment) {
        Ok(()) => {
            emitter.emit(Event::ValidateCompleted, &experiment, None);
            reporter.validation_passed();
            tracing::info!("experiment syntax and semantic look valid");
            Ok(ValidateOutcome { exit_code: 0, error: None, events: emitter.sent })
        }
        Err(error) => {
            emitter.emit(Event::ValidateFailed, &experiment, Some(&error.error_value()));
            tracing::error!("{error}");
            reporter.validation_failed(&error);
            Ok(ValidateOutcome { exit_code: 1, error: Some(error), events: emitter.sent })
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
