//! Step 4: run a validated experiment and fill its journal (chaostoolkit-lib 1.45.1's
//! algorithm, every hypothesis strategy, interruption by signals).
//!
//! 1. Load the configuration (with `--var` overrides), the secrets and the dynamic
//!    configuration; substitute `${…}` in the title. The signal window opens here
//!    (see below).
//! 2. Steady-state hypothesis before the method (when it has probes and the strategy
//!    says so). When it is not met the method is skipped and the status is
//!    `completed`, or `failed` when a probe itself failed (chaostoolkit-lib 1.45.1: a
//!    tolerance miss before the method is *not* a failure, and the run exits 0).
//! 3. The method, in order; `background: true` activities run on their own thread and
//!    are awaited at the end of the method. An activity failure does not change the
//!    status. With `during-method-only` or `continuously`, the hypothesis also runs on
//!    a thread of its own from just before the method until it returns: once at
//!    once, then `frequency` seconds after each iteration ends; each iteration is
//!    appended to `steady_states.during`. A miss there logs a warning and never sets
//!    `deviated`; with `fail_fast` the first miss sets the status to `failed` and the
//!    method stops after its current activity.
//! 4. The hypothesis again after the method: not met → `deviated: true`, status
//!    `completed` (or `failed` when a probe failed), overwriting what the during
//!    thread set.
//! 5. Rollbacks per strategy: `default` plays them unless the status is `failed` or
//!    `interrupted`, `always`/`never` do what they say, `deviated` only when the run
//!    deviated.
//! 6. `end`, `duration`; any other status becomes `completed`; the experiment's
//!    after-hooks and the controls' cleanup; `interruption` last.
//!
//! # Controls
//!
//! [`crate::controls`] wraps every level as chaoslib's `controls()` context manager
//! does: `configure_control` once the run starts (step 1), the experiment's before-hooks
//! before step 2 and its after-hooks in step 6 (with the final journal), the
//! hypothesis', the method's, the rollbacks' and each activity's around them. An
//! after-hook always runs once its before-hooks ran, even when the level was cut short;
//! the activity's gets its record, or `None` when it was interrupted.
//!
//! # Interruption
//!
//! Every blocking wait of a run watches an [`Interrupt`] (the CLI connects it to
//! SIGINT, SIGTERM, SIGUSR1 and SIGUSR2); a Python call running in the foreground gets
//! the signal as a `KeyboardInterrupt` ([`crate::python`]). A signal in steps 1–4 ends
//! the current activity (its record keeps no `status`), skips everything left of the
//! method and the after-hypothesis, and makes the run `interrupted`; the rollbacks then
//! follow the strategy (`default` and `deviated` play none, `always` plays them, SIGUSR2
//! never), and a further signal during the rollbacks stops them. A signal received
//! before step 1 interrupts the run as soon as it starts. Signals after the rollbacks
//! change nothing (they only cut short a Python hook that runs then): the journal is
//! written and the final events are sent. SIGINT and SIGTERM are recorded under the
//! journal's `interruption` key.
//!
//! User Python code can interrupt the run too (an activity or a control hook raising
//! `InterruptExecution`, `KeyboardInterrupt` or `SystemExit`): the same as a signal,
//! without `interruption`; `SystemExit(30)` plays no rollback, like SIGUSR2.
//!
//! An activity error that is neither a failure nor an interruption
//! ([`ActivityError::Fatal`]) aborts the method (`aborted`, rollbacks by strategy), as
//! the reference's unexpected exceptions do.
//!
//! Why a level stops travels up as a value (`Executed::stop`, then
//! `run_activities`' and `Phase::run`'s), never as an unwinding panic, so each level
//! still gets to run what must follow it: its after-hooks.
//!
//! Dry modes: `probes`/`actions`/`activities` record the chosen activities as succeeded
//! with a `null` output without running them (no tolerance check in the hypothesis
//! then), `pause` skips the pauses. An activity's own `dry` key (same values) overrides
//! the command line for that activity.

use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};

use crate::config::{Var, load_configuration, load_secrets};
use crate::controls::{Controls, Level, When};
use crate::error::{ActivityError, ActivityFailed, InvalidActivity, Raised, ValidationError};
use crate::interrupt::{Flag, Interrupt, Signal, Watch};
use crate::journal;
use crate::provider::{http::run_http, process::run_process};
use crate::python::{Lane, ProviderRun, Python};
use crate::report::Reporter;
use crate::substitute::Scope;
use crate::tolerance::within_tolerance;
use crate::validate::ActivityCache;
use notifier_core::pyvalue::{python_str, truthy};

/// `--dry`: what not to execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DryMode {
    /// Do not run probes (recorded as succeeded, output null, tolerances not checked).
    Probes,
    /// Do not run actions.
    Actions,
    /// Run no activity at all.
    Activities,
    /// Run everything but skip the pauses.
    Pause,
}

impl DryMode {
    /// The value as written on the command line and in the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            DryMode::Probes => "probes",
            DryMode::Actions => "actions",
            DryMode::Activities => "activities",
            DryMode::Pause => "pause",
        }
    }

    /// Parses an activity's own `dry` value.
    pub fn parse(value: &str) -> Option<DryMode> {
        match value {
            "probes" => Some(DryMode::Probes),
            "actions" => Some(DryMode::Actions),
            "activities" => Some(DryMode::Activities),
            "pause" => Some(DryMode::Pause),
            _ => None,
        }
    }
}

/// `--hypothesis-strategy`: when the steady-state hypothesis runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HypothesisStrategy {
    /// Before and after the method (the default).
    Default,
    /// Only before the method.
    BeforeMethodOnly,
    /// Only after the method.
    AfterMethodOnly,
    /// Only during the method: at its start, then every --hypothesis-frequency seconds
    /// until it returns.
    DuringMethodOnly,
    /// Before, during (as during-method-only) and after the method.
    #[value(alias = "continously")]
    Continuously,
    /// Never (only through the experiment's runtime.hypothesis.strategy).
    #[value(skip)]
    Skip,
}

impl HypothesisStrategy {
    /// The value as written on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            HypothesisStrategy::Default => "default",
            HypothesisStrategy::BeforeMethodOnly => "before-method-only",
            HypothesisStrategy::AfterMethodOnly => "after-method-only",
            HypothesisStrategy::DuringMethodOnly => "during-method-only",
            HypothesisStrategy::Continuously => "continuously",
            HypothesisStrategy::Skip => "skip",
        }
    }

    /// The name the reference logs (`Steady-state strategy: continuous`).
    fn log_name(self) -> &'static str {
        match self {
            HypothesisStrategy::Continuously => "continuous",
            other => other.as_str(),
        }
    }

    /// Parses an experiment's `runtime.hypothesis.strategy` (`continously` is the old
    /// spelling the reference still accepts).
    pub fn parse(value: &str) -> Option<HypothesisStrategy> {
        match value {
            "default" => Some(HypothesisStrategy::Default),
            "before-method-only" => Some(HypothesisStrategy::BeforeMethodOnly),
            "after-method-only" => Some(HypothesisStrategy::AfterMethodOnly),
            "during-method-only" => Some(HypothesisStrategy::DuringMethodOnly),
            "continuously" | "continously" => Some(HypothesisStrategy::Continuously),
            "skip" => Some(HypothesisStrategy::Skip),
            _ => None,
        }
    }

    fn before(self) -> bool {
        matches!(
            self,
            HypothesisStrategy::Default | HypothesisStrategy::BeforeMethodOnly | HypothesisStrategy::Continuously
        )
    }

    fn during(self) -> bool {
        matches!(self, HypothesisStrategy::DuringMethodOnly | HypothesisStrategy::Continuously)
    }

    fn after(self) -> bool {
        matches!(
            self,
            HypothesisStrategy::Default | HypothesisStrategy::AfterMethodOnly | HypothesisStrategy::Continuously
        )
    }
}

/// `--rollback-strategy`: when rollbacks play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RollbackStrategy {
    /// Unless the run failed (the default).
    Default,
    /// Always.
    Always,
    /// Never.
    Never,
    /// Only when the steady state deviated after the method.
    Deviated,
}

impl RollbackStrategy {
    /// The value as written on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            RollbackStrategy::Default => "default",
            RollbackStrategy::Always => "always",
            RollbackStrategy::Never => "never",
            RollbackStrategy::Deviated => "deviated",
        }
    }

    /// Parses an experiment's `runtime.rollbacks.strategy`.
    pub fn parse(value: &str) -> Option<RollbackStrategy> {
        match value {
            "default" => Some(RollbackStrategy::Default),
            "always" => Some(RollbackStrategy::Always),
            "never" => Some(RollbackStrategy::Never),
            "deviated" => Some(RollbackStrategy::Deviated),
            _ => None,
        }
    }
}

/// How to run: the resolved strategies, dry mode and `--var`s.
#[derive(Debug, Clone)]
pub struct Options {
    /// What not to execute.
    pub dry: Option<DryMode>,
    /// When the hypothesis runs.
    pub hypothesis_strategy: HypothesisStrategy,
    /// Seconds between two during-method hypotheses (the end of one and the start of
    /// the next).
    pub hypothesis_frequency: f64,
    /// Fail the run at the first during-method hypothesis that is not met.
    pub fail_fast: bool,
    /// When rollbacks play; `None` stands for an unknown strategy named in the
    /// experiment, with which the reference plays no rollback.
    pub rollback_strategy: Option<RollbackStrategy>,
    /// Configuration overrides.
    pub vars: Vec<Var>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dry: None,
            hypothesis_strategy: HypothesisStrategy::Default,
            hypothesis_frequency: 1.0,
            fail_fast: false,
            rollback_strategy: Some(RollbackStrategy::Default),
            vars: Vec::new(),
        }
    }
}

/// What [`run_experiment`] runs with besides the experiment and the options.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The user's Python: python activities, tolerance probes and dynamic
    /// configuration, and the controls.
    pub python: Python,
    /// The settings' controls, as loaded when the command started (each with its `name`,
    /// unimportable ones dropped).
    pub global_controls: Vec<Value>,
    /// The settings as the level hooks see them (`settings=`): the settings file's
    /// document with its `runtime` strategies filled in, `None` without a settings file.
    pub settings: Option<Value>,
    /// What the global controls' `configure_control` gets as `settings=`: the settings
    /// with their `runtime`, or only `{"runtime": …}` without a settings file.
    pub settings_for_globals: Value,
}

impl Setup {
    /// No settings, no global controls, a Python found at the first call.
    pub fn new(python: Python) -> Setup {
        Setup { python, global_controls: Vec::new(), settings: None, settings_for_globals: json!({}) }
    }
}

/// Why a phase of the run ended early.
#[derive(Debug, Clone, PartialEq)]
enum Stop {
    /// A signal arrived.
    Interrupted(Signal),
    /// An unexpected error ([`ActivityError::Fatal`]).
    Fatal(String),
    /// User Python code (an activity or a control hook) raised `InterruptExecution`,
    /// `KeyboardInterrupt` or `SystemExit`.
    Raised(Raised),
}

impl Stop {
    /// The stop a control hook or an activity asks for (`Failed` never gets here).
    fn of(error: ActivityError) -> Stop {
        match error {
            ActivityError::Interrupted(signal) => Stop::Interrupted(signal),
            ActivityError::Raised(raised) => Stop::Raised(raised),
            other => Stop::Fatal(other.to_string()),
        }
    }
}

/// Runs an experiment (validated, or `--no-validation`) and returns its journal.
///
/// `interrupt` is watched from the start: a signal received before this call
/// interrupts the run before its first activity. The only error is a configuration or
/// secret that cannot be loaded (an unset environment variable…), which validation
/// normally reports first.
pub fn run_experiment(
    experiment: &Map<String, Value>,
    options: &Options,
    setup: &Setup,
    reporter: &mut Reporter<'_>,
    interrupt: &Interrupt,
) -> Result<Value, ValidationError> {
    let started = SystemTime::now();
    let watch = interrupt.watch_from_start();
    let python = setup.python.watching(interrupt);
    let configuration = load_configuration(experiment.get("configuration"), &options.vars)?;
    let secrets = load_secrets(experiment.get("secrets"))?;
    let mut experiment = experiment.clone();
    let configuration = {
        let raw_scope = Scope::new(&configuration, &secrets);
        load_dynamic_configuration(&configuration, &raw_scope, &secrets, &python, &watch)
    };
    if let Some(title) = experiment.get("title") {
        let title = Scope::new(&configuration, &secrets).substitute(title);
        experiment.insert("title".into(), title);
    }
    experiment.insert("dry".into(), options.dry.map_or(Value::Null, |d| json!(d.as_str())));
    let mut controls = Controls::for_run(
        &python,
        setup.global_controls.clone(),
        &experiment,
        &configuration,
        &secrets,
        setup.settings.as_ref(),
    );
    // The signal window of the reference opens here (chaoslib's `exit_signals`).
    let title = python_str(experiment.get("title").unwrap_or(&Value::Null));
    tracing::info!("Running experiment: {title}");
    let mut journal = Value::Object(journal::initialize(&experiment, started));
    if let Some(dry) = options.dry {
        tracing::warn!("Running experiment with dry {}", dry.as_str());
    }
    reporter.dry_mode(options.dry);
    if !controls.is_empty() {
        controls.configure(&setup.settings_for_globals);
    }
    if experiment.get("runtime").and_then(|r| r.get("python")).is_some() {
        tracing::warn!("runtime.python is ignored: the Python of --python (or $NOTIFIER_PYTHON…) runs the experiment");
    }
    let strategy = options.hypothesis_strategy;
    tracing::info!("Steady-state strategy: {}", strategy.log_name());
    tracing::info!("Rollbacks strategy: {}", options.rollback_strategy.map_or("unknown", |s| s.as_str()));

    let hypothesis = if strategy == HypothesisStrategy::Skip {
        tracing::info!("Skipping Steady-State Hypothesis as requested");
        None
    } else {
        let hypothesis = experiment.get("steady-state-hypothesis").filter(|h| h.get("probes").is_some_and(truthy));
        if hypothesis.is_none() {
            tracing::info!("No steady state hypothesis defined. That's ok, just exploring.");
        }
        hypothesis
    };

    let runner = Runner {
        cache: ActivityCache::new(&experiment),
        configuration,
        secrets: &secrets,
        dry: options.dry,
        python,
        controls,
        tolerance_values: Mutex::new(Vec::new()),
    };
    let phase = Phase { runner: &runner, experiment: &experiment, hypothesis, options };
    let context = runner.controls.experiment().clone();
    let mut raised = None;
    let outcome = match runner.controls.apply(Level::Experiment, When::Before, &context, None, &Value::Null, FG) {
        Ok(()) => phase.run(&mut journal, reporter, &watch),
        Err(e) => Err(Stop::of(e)),
    };
    match outcome {
        // Only the hypothesis before or after the method gets here (the reference
        // crashes there, without a journal); the method handles its own.
        Err(Stop::Fatal(message)) => {
            tracing::error!("{message}");
            reporter.note(&format!("aborted: {message}"));
            journal["status"] = json!("aborted");
        }
        Err(Stop::Raised(r)) => raised = Some(r),
        Err(Stop::Interrupted(_)) | Ok(()) => {}
    }
    // What the experiment phase saw, and a fresh view for the rollbacks: a signal that
    // arrived after the last activity still interrupts the run.
    let (signal, rollback_watch) = watch.split();
    if let Some(signal) = signal {
        journal["status"] = json!("interrupted");
        log_interruption(signal);
        reporter.note(&format!("interrupted: {signal} received"));
    } else if let Some(raised) = &raised {
        journal["status"] = json!("interrupted");
        log_raised(raised);
        reporter.note(&format!("interrupted: {raised}"));
    }

    let deviated = journal["deviated"] == Value::Bool(true);
    let status = journal["status"].as_str().map(str::to_string);
    let play = signal != Some(Signal::Usr2)
        && (signal.is_some() || raised.as_ref().is_none_or(Raised::allows_rollbacks))
        && should_play_rollbacks(options.rollback_strategy, status.as_deref(), deviated);
    let has_rollbacks = experiment.get("rollbacks").is_some_and(|r| r.as_array().is_some_and(|r| !r.is_empty()));
    if play {
        if has_rollbacks {
            reporter.section("Rollbacks");
        }
        let (runs, stop) =
            runner
                .run_activities(experiment.get("rollbacks"), reporter, &rollback_watch, Section::Rollbacks, &|| false);
        journal["rollbacks"] = Value::Array(runs);
        match stop {
            Some(Stop::Interrupted(signal)) => {
                journal["status"] = json!("interrupted");
                if signal == Signal::Term {
                    tracing::warn!("Caught SIGTERM signal, interrupting experiment now");
                    tracing::error!("SIGTERM signal received");
                } else {
                    tracing::warn!("Received an exit signal.Terminating now without running the remaining rollbacks.");
                }
                reporter.note(&format!("rollbacks stopped: {signal} received"));
            }
            Some(Stop::Raised(raised)) => {
                journal["status"] = json!("interrupted");
                match &raised {
                    Raised::InterruptExecution(message) => tracing::error!("{message}"),
                    _ => tracing::warn!(
                        "Received an exit signal.Terminating now without running the remaining rollbacks."
                    ),
                }
                reporter.note(&format!("rollbacks stopped: {raised}"));
            }
            Some(Stop::Fatal(_)) | None => {}
        }
    } else if has_rollbacks {
        reporter.section("Rollbacks");
        reporter.note(&format!(
            "not played (rollback strategy '{}', status {}{})",
            options.rollback_strategy.map_or("unknown", |s| s.as_str()),
            status.as_deref().unwrap_or("null"),
            if signal == Some(Signal::Usr2) { ", SIGUSR2" } else { "" }
        ));
    }
    // The signal window closes here: later signals change nothing (they still cut short
    // a Python hook that is running).

    let end = SystemTime::now();
    if !matches!(journal["status"].as_str(), Some("completed" | "failed" | "aborted" | "interrupted")) {
        journal["status"] = json!("completed");
    }
    let interrupted = journal["status"] == "interrupted";
    runner.write_tolerance_values(&mut journal);
    if let Value::Object(map) = &mut journal {
        map.insert("end".into(), json!(journal::iso(end)));
        map.insert("duration".into(), json!(end.duration_since(started).unwrap_or_default().as_secs_f64()));
    }
    tracing::info!(
        "Experiment ended with status: {}",
        if deviated { "deviated" } else { journal["status"].as_str().unwrap_or("?") }
    );
    if deviated {
        tracing::info!("The steady-state has deviated, a weakness may have been discovered");
    }
    // The after-hook sees the final journal; what it raises changes nothing (chaoslib:
    // `Failed to close controls`).
    if let Err(e) = runner.controls.apply(Level::Experiment, When::After, &context, None, &journal, FG) {
        tracing::debug!("Failed to close controls: {e}");
    }
    runner.controls.cleanup();
    if let Value::Object(map) = &mut journal {
        // chaostoolkit's SignalRecorder: the first SIGINT/SIGTERM, when the run ended
        // interrupted (signals that only stopped the rollbacks count too).
        if let Some(signal) = interrupt.signals().into_iter().find(|s| s.is_recorded()).filter(|_| interrupted) {
            map.insert(
                "interruption".into(),
                json!({"kind": "signal", "name": signal.name(), "reason": format!("received {}", signal.name())}),
            );
        }
    }
    Ok(journal)
}

/// Calls on the main thread of a run reach the helper's main thread, where signals
/// reach them.
const FG: Lane = Lane::Foreground;

/// The reference's log lines for a signal that interrupted the experiment.
fn log_interruption(signal: Signal) {
    match signal {
        Signal::Int => tracing::warn!("Received a termination signal (Ctrl-C)..."),
        Signal::Term => {
            tracing::warn!("Caught SIGTERM signal, interrupting experiment now");
            tracing::error!("SIGTERM signal received");
        }
        Signal::Usr1 => tracing::warn!("Received the exit signal: 20"),
        Signal::Usr2 => {
            tracing::warn!("Received the exit signal: 30");
            tracing::warn!("Ignoring rollbacks as per signal");
        }
    }
}

/// The reference's log lines for what user code raised to interrupt the experiment.
fn log_raised(raised: &Raised) {
    match raised {
        Raised::InterruptExecution(message) => tracing::error!("{message}"),
        Raised::KeyboardInterrupt => tracing::warn!("Received a termination signal (Ctrl-C)..."),
        Raised::SystemExit(code) => {
            tracing::warn!("Received the exit signal: {}", python_str(code));
            if !raised.allows_rollbacks() {
                tracing::warn!("Ignoring rollbacks as per signal");
            }
        }
    }
}

/// chaoslib's `run_rollback` decision, with its log lines.
fn should_play_rollbacks(strategy: Option<RollbackStrategy>, status: Option<&str>, deviated: bool) -> bool {
    match strategy {
        Some(RollbackStrategy::Always) => {
            tracing::warn!("Rollbacks were explicitly requested to be played");
            true
        }
        Some(RollbackStrategy::Never) => {
            tracing::warn!("Rollbacks were explicitly requested to not be played");
            false
        }
        Some(RollbackStrategy::Default) => !matches!(status, Some("failed" | "interrupted")),
        Some(RollbackStrategy::Deviated) if deviated => {
            tracing::warn!("Rollbacks will be played only because the experiment deviated");
            true
        }
        Some(RollbackStrategy::Deviated) => {
            tracing::warn!(
                "Rollbacks were explicitely requested to be played only if the experiment deviated. Since this is not the case, we will not play them."
            );
            false
        }
        None => false,
    }
}

/// The part of a run that a signal interrupts as a whole: the hypothesis before, the
/// method (with the during-method hypothesis) and the hypothesis after.
struct Phase<'a> {
    runner: &'a Runner<'a>,
    experiment: &'a Map<String, Value>,
    hypothesis: Option<&'a Value>,
    options: &'a Options,
}

/// What the during-method thread shares with the method.
#[derive(Default)]
struct During {
    states: Vec<Value>,
    /// `failed` (fail-fast), `aborted` (an unexpected error) or `interrupted`
    /// (`InterruptExecution` from a probe or a control).
    status: Option<&'static str>,
}

impl Phase<'_> {
    fn run(&self, journal: &mut Value, reporter: &mut Reporter<'_>, watch: &Watch) -> Result<(), Stop> {
        watch.check().map_err(Stop::Interrupted)?;
        let strategy = self.options.hypothesis_strategy;
        if let Some(hypo) = self.hypothesis
            && strategy.before()
        {
            reporter.section(&format!("Steady-state hypothesis (before the method): {}", hypothesis_title(hypo)));
            let state = self.runner.run_hypothesis(hypo, watch, FG, &mut |run| reporter.activity(run))?;
            let met = state["steady_state_met"] == Value::Bool(true);
            reporter.hypothesis(met);
            journal["steady_states"]["before"] = state.clone();
            if !met {
                journal["status"] = json!(status_after_miss(&state));
                tracing::error!(
                    "Steady state probe '{}' is not in the given tolerance so failing this experiment",
                    last_probe_name(&state)
                );
                reporter.note("the method is skipped");
                return Ok(());
            }
        }

        reporter.section("Method");
        tracing::info!("Playing your experiment's method now...");
        let during = Mutex::new(During::default());
        let method_done = Flag::new();
        let (runs, stop) = std::thread::scope(|s| {
            let thread = self.hypothesis.filter(|_| strategy.during()).map(|hypo| {
                let (runner, options, done, during) = (self.runner, self.options, method_done.clone(), &during);
                s.spawn(move || runner.run_during(hypo, options, &done, watch, during))
            });
            let stopped_by_hypothesis = || during.lock().unwrap_or_else(PoisonError::into_inner).status.is_some();
            let result = self.runner.run_activities(
                self.experiment.get("method"),
                reporter,
                watch,
                Section::Method,
                &stopped_by_hypothesis,
            );
            method_done.set();
            // Joined before the hypothesis after the method, which the reference lets
            // overlap the last iteration.
            if let Some(thread) = thread
                && thread.join().is_err()
            {
                tracing::error!("the during-method hypothesis thread panicked");
            }
            result
        });
        journal["run"] = Value::Array(runs);
        let during = during.into_inner().unwrap_or_else(PoisonError::into_inner);
        if let (true, Some(hypo)) = (strategy.during(), self.hypothesis) {
            reporter.during(&hypothesis_title(hypo), &during.states);
        }
        journal["steady_states"]["during"] = Value::Array(during.states);
        if let Some(status) = during.status {
            journal["status"] = json!(status);
        }
        match stop {
            Some(Stop::Interrupted(signal)) => return Err(Stop::Interrupted(signal)),
            Some(Stop::Raised(raised)) => return Err(Stop::Raised(raised)),
            Some(Stop::Fatal(message)) => {
                journal["status"] = json!("aborted");
                tracing::error!("Experiment ran into an un expected fatal error, aborting now.");
                tracing::debug!("{message}");
                reporter.note(&format!("aborted: {message}"));
            }
            None => {}
        }

        let status = journal["status"].as_str().unwrap_or_default();
        if let Some(hypo) = self.hypothesis
            && strategy.after()
            && !matches!(status, "interrupted" | "aborted")
        {
            reporter.section(&format!("Steady-state hypothesis (after the method): {}", hypothesis_title(hypo)));
            let state = self.runner.run_hypothesis(hypo, watch, FG, &mut |run| reporter.activity(run))?;
            let met = state["steady_state_met"] == Value::Bool(true);
            reporter.hypothesis(met);
            journal["steady_states"]["after"] = state.clone();
            if !met {
                journal["deviated"] = json!(true);
                journal["status"] = json!(status_after_miss(&state));
                tracing::error!(
                    "Steady state probe '{}' is not in the given tolerance so failing this experiment",
                    last_probe_name(&state)
                );
            }
        }
        Ok(())
    }
}

fn hypothesis_title(hypo: &Value) -> String {
    python_str(hypo.get("title").unwrap_or(&Value::Null))
}

fn status_after_miss(state: &Value) -> &'static str {
    let probe_failed = state["probes"].as_array().is_some_and(|p| p.iter().any(|r| r["status"] != "succeeded"));
    if probe_failed { "failed" } else { "completed" }
}

fn last_probe_name(state: &Value) -> String {
    state["probes"].as_array().and_then(|p| p.last()).map(|r| python_str(&r["activity"]["name"])).unwrap_or_default()
}

/// Resolves `{"type": "probe", …}` configuration entries: a process probe gives its
/// stripped stdout (when it exits 0), an http probe its body, a python probe its return
/// value (its function gets the configuration loaded so far and, when it names
/// `secrets`, every secret scope flattened, as chaostoolkit-lib does). A failure drops
/// the key with a warning, as in the reference; so does a signal, which then interrupts
/// the run as soon as it starts.
fn load_dynamic_configuration(
    conf: &Map<String, Value>,
    scope: &Scope<'_>,
    secrets: &Map<String, Value>,
    python: &Python,
    watch: &Watch,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in conf {
        let probe = value.as_object().filter(|v| v.get("type").and_then(Value::as_str) == Some("probe"));
        let Some(probe) = probe else {
            out.insert(key.clone(), value.clone());
            continue;
        };
        let provider = probe.get("provider").and_then(Value::as_object);
        let provider_type = provider.and_then(|p| p.get("type")).and_then(Value::as_str);
        let result = match (provider, provider_type) {
            (Some(p), Some("process")) => run_process(p, scope, false, watch).and_then(|o| {
                if o["status"] == 0 {
                    Ok(json!(o["stdout"].as_str().unwrap_or_default().trim()))
                } else {
                    Err(ActivityFailed::ProcessSpawn {
                        path: python_str(&p["path"]),
                        reason: format!("exited with {}: {}", o["status"], python_str(&o["stderr"])),
                    }
                    .into())
                }
            }),
            (Some(p), Some("http")) => run_http(p, scope, false, watch).map(|o| o["body"].clone()),
            (Some(p), Some("python")) => python.run_provider(
                &ProviderRun {
                    activity: probe,
                    provider: p,
                    configuration: &out,
                    secrets,
                    flat_secrets: Some(crate::python::all_secrets(secrets)),
                    lane: FG,
                },
                watch,
            ),
            (_, other) => Err(ActivityFailed::Invalid(InvalidActivity::UnknownProviderType {
                found: other.unwrap_or("None").to_string(),
            })
            .into()),
        };
        match result {
            Ok(v) => {
                out.insert(key.clone(), v);
            }
            Err(e) => tracing::warn!("Failed to load configuration '{key}' dynamically: {e}"),
        }
    }
    out
}

/// The runner state shared by every activity of one run (and by the during-method
/// hypothesis thread).
struct Runner<'a> {
    cache: ActivityCache,
    configuration: Map<String, Value>,
    secrets: &'a Map<String, Value>,
    dry: Option<DryMode>,
    python: Python,
    controls: Controls,
    /// The last `value` given to each hypothesis probe's `type: probe` tolerance (by
    /// the probe's index): chaostoolkit-lib writes it into the experiment, so the
    /// journal shows it.
    tolerance_values: Mutex<Vec<(usize, Value)>>,
}

/// Which list [`Runner::run_activities`] plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    /// The method: an unexpected error aborts it.
    Method,
    /// The rollbacks: an unexpected error is logged and the next rollback plays.
    Rollbacks,
}

impl Section {
    fn level(self) -> Level {
        match self {
            Section::Method => Level::Method,
            Section::Rollbacks => Level::Rollback,
        }
    }
}

/// One activity's outcome: its journal record (none when it never started: a signal
/// during its pause before, or a before-hook that interrupted the run), and why the
/// phase must stop, if it must.
struct Executed {
    record: Option<Value>,
    stop: Option<Stop>,
}

/// A method or rollback entry: done, or still running in the background.
enum Slot<'s> {
    Done(Executed),
    Background(std::thread::ScopedJoinHandle<'s, Executed>),
}

impl Runner<'_> {
    fn scope(&self) -> Scope<'_> {
        Scope::new(&self.configuration, self.secrets)
    }

    /// One hypothesis, wrapped by its controls: the probes in order, stopping at the
    /// first failure or tolerance miss; `on_probe` sees each record. A signal, an
    /// interruption raised by user code or an unexpected error loses the whole state, as
    /// in the reference (its journal slot stays null); the after-hooks still see it.
    fn run_hypothesis(
        &self,
        hypo: &Value,
        watch: &Watch,
        lane: Lane,
        on_probe: &mut dyn FnMut(&Value),
    ) -> Result<Value, Stop> {
        tracing::info!("Steady state hypothesis: {}", hypothesis_title(hypo));
        let mut state = json!({"steady_state_met": null, "probes": []});
        if let Err(e) = self.controls.apply(Level::Hypothesis, When::Before, hypo, Some(hypo), &Value::Null, lane) {
            let _ = self.controls.apply(Level::Hypothesis, When::After, hypo, Some(hypo), &Value::Null, lane);
            return Err(Stop::of(e));
        }
        let probes = self.run_probes(hypo, watch, lane, on_probe, &mut state);
        let after = self.controls.apply(Level::Hypothesis, When::After, hypo, Some(hypo), &state, lane);
        probes?;
        after.map_err(Stop::of)?;
        Ok(state)
    }

    fn run_probes(
        &self,
        hypo: &Value,
        watch: &Watch,
        lane: Lane,
        on_probe: &mut dyn FnMut(&Value),
        state: &mut Value,
    ) -> Result<(), Stop> {
        for (index, probe) in hypo["probes"].as_array().map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
            let executed = self.execute(probe, watch, lane);
            if let Some(stop) = executed.stop {
                // As in the reference, the record of a probe cut short is not in the
                // state (the after-hooks see the probes before it).
                return Err(stop);
            }
            let Some(mut run) = executed.record else { continue };
            if run["status"] != "succeeded" {
                run["tolerance_met"] = json!(false);
                on_probe(&run);
                push(state, run);
                state["steady_state_met"] = json!(false);
                tracing::warn!("Probe terminated unexpectedly, so its tolerance could not be validated");
                return Ok(());
            }
            run["tolerance_met"] = json!(true);
            if !matches!(self.dry, Some(DryMode::Probes | DryMode::Activities)) {
                // The tolerance sits on the hypothesis entry, even when it is a `ref`.
                let tolerance = probe.get("tolerance").unwrap_or(&Value::Null);
                let scope = self.scope();
                let stopped = std::cell::RefCell::new(None);
                let ok = within_tolerance(tolerance, &run["output"], &scope, &|p| match self
                    .tolerance_probe(p, watch, lane)
                {
                    Ok(met) => met,
                    Err(stop) => {
                        *stopped.borrow_mut() = Some(stop);
                        false
                    }
                });
                self.remember_tolerance_value(index, tolerance, &run["output"]);
                if let Some(stop) = stopped.into_inner() {
                    return Err(stop);
                }
                // A tolerance probe cut short by a signal says nothing about the system.
                watch.check().map_err(Stop::Interrupted)?;
                if !ok {
                    run["tolerance_met"] = json!(false);
                    on_probe(&run);
                    push(state, run);
                    state["steady_state_met"] = json!(false);
                    return Ok(());
                }
            }
            on_probe(&run);
            push(state, run);
        }
        state["steady_state_met"] = json!(true);
        tracing::info!("Steady state hypothesis is met!");
        Ok(())
    }

    /// Keeps what a `type: probe` tolerance was given as `value`.
    fn remember_tolerance_value(&self, index: usize, tolerance: &Value, output: &Value) {
        let is_probe = tolerance.get("type").and_then(Value::as_str) == Some("probe");
        let arguments = tolerance.get("provider").and_then(|p| p.get("arguments"));
        if is_probe && tolerance.get("provider").is_some_and(Value::is_object) && arguments.is_none_or(Value::is_object)
        {
            self.tolerance_values.lock().unwrap_or_else(PoisonError::into_inner).push((index, output.clone()));
        }
    }

    /// chaostoolkit-lib writes each tolerance probe's `value` into the experiment, whose
    /// dictionaries the journal shares: its `experiment` and the probes' records show
    /// the last value given.
    fn write_tolerance_values(&self, journal: &mut Value) {
        let values = std::mem::take(&mut *self.tolerance_values.lock().unwrap_or_else(PoisonError::into_inner));
        for (index, value) in values {
            let set = |probe: &mut Value| {
                if probe.get("ref").is_some() {
                    return;
                }
                if let Some(provider) = probe.get_mut("tolerance").and_then(|t| t.get_mut("provider"))
                    && let Some(provider) = provider.as_object_mut()
                {
                    let arguments = provider.entry("arguments").or_insert_with(|| Value::Object(Map::new()));
                    if let Some(arguments) = arguments.as_object_mut() {
                        arguments.insert("value".into(), value.clone());
                    }
                }
            };
            if let Some(probe) = journal["experiment"]["steady-state-hypothesis"]["probes"].get_mut(index) {
                set(probe);
            }
            let states = &mut journal["steady_states"];
            let mut slots: Vec<&mut Value> = Vec::new();
            if let Value::Object(states) = states {
                for (key, state) in states.iter_mut() {
                    match (key.as_str(), state) {
                        ("during", Value::Array(during)) => slots.extend(during.iter_mut()),
                        (_, state) => slots.push(state),
                    }
                }
            }
            for state in slots {
                if let Some(record) = state["probes"].get_mut(index)
                    && record["activity"].get("tolerance").is_some()
                {
                    set(&mut record["activity"]);
                }
            }
        }
    }

    /// The during-method hypothesis (chaoslib's `run_hypothesis_continuously`): an
    /// iteration at once, then one `frequency` seconds after each ends, until the
    /// method is done, a signal arrives, or (with fail-fast) the first miss.
    fn run_during(&self, hypo: &Value, options: &Options, method_done: &Flag, watch: &Watch, during: &Mutex<During>) {
        let frequency = options.hypothesis_frequency;
        tracing::info!(
            "Executing the steady-state hypothesis continuously every {} seconds",
            python_str(&json!(frequency))
        );
        let pause = Duration::try_from_secs_f64(frequency).unwrap_or(Duration::ZERO);
        let shared = || during.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut iteration, mut missed) = (1_u32, 0_u32);
        while !method_done.is_set() && watch.signal().is_none() {
            match self.run_hypothesis(hypo, watch, Lane::Background, &mut |_| {}) {
                // The iteration a signal cut short is not kept; the experiment phase
                // handles the signal.
                Err(Stop::Interrupted(_)) => break,
                Err(Stop::Fatal(message)) => {
                    shared().status = Some("aborted");
                    tracing::error!("{message}");
                    break;
                }
                Err(Stop::Raised(raised)) => {
                    // chaoslib's future callback: InterruptExecution interrupts the run;
                    // KeyboardInterrupt and SystemExit in its thread are not Exceptions
                    // and change nothing.
                    if let Raised::InterruptExecution(message) = &raised {
                        shared().status = Some("interrupted");
                        tracing::error!("{message}");
                    }
                    break;
                }
                Ok(state) => {
                    let met = state["steady_state_met"] == Value::Bool(true);
                    let probe = last_probe_name(&state);
                    shared().states.push(state);
                    if !met {
                        missed += 1;
                        let ratio = f64::from(missed) * 100.0 / f64::from(iteration);
                        tracing::warn!("Continuous steady state probe '{probe}' is not in the given tolerance");
                        if options.fail_fast {
                            tracing::info!(
                                "Terminating immediately the experiment after {ratio:.1}% hypothesis deviated"
                            );
                            shared().status = Some("failed");
                            break;
                        }
                    }
                }
            }
            iteration += 1;
            if watch.wait(method_done, pause).is_err() {
                break;
            }
        }
        tracing::info!("Continuous steady state hypothesis terminated");
    }

    /// A probe tolerance: the probe given the output as `value`. A python probe's
    /// tolerance is met when it returns something truthy (and not when it raises); a
    /// process or http one when it succeeds (exit status 0, or an HTTP status below 400).
    fn tolerance_probe(&self, probe: &Map<String, Value>, watch: &Watch, lane: Lane) -> Result<bool, Stop> {
        let Some(provider) = probe.get("provider").and_then(Value::as_object) else {
            return Ok(false);
        };
        let scope = self.scope();
        let result = match provider.get("type").and_then(Value::as_str) {
            Some("process") => run_process(provider, &scope, false, watch).map(|o| o["status"] == 0),
            Some("http") => {
                run_http(provider, &scope, false, watch).map(|o| o["status"].as_u64().is_some_and(|s| s < 400))
            }
            Some("python") => self.run_python(probe, provider, watch, lane).map(|output| truthy(&output)),
            _ => Ok(false),
        };
        match result {
            Ok(met) => Ok(met),
            Err(ActivityError::Failed(_)) => Ok(false),
            Err(other) => Err(Stop::of(other)),
        }
    }

    /// Runs a method or the rollbacks, wrapped by their controls; background activities
    /// are awaited at the end.
    ///
    /// The loop stops at a signal, at an interruption raised by user code, at an
    /// unexpected error in the method, or when `stop_early` says so after an activity
    /// (the during-method hypothesis failed the run). An entry whose `ref` names nothing
    /// (only possible with `--no-validation`, or in rollbacks, which the reference does
    /// not check) is recorded as a failed activity.
    fn run_activities(
        &self,
        activities: Option<&Value>,
        reporter: &mut Reporter<'_>,
        watch: &Watch,
        section: Section,
        stop_early: &dyn Fn() -> bool,
    ) -> (Vec<Value>, Option<Stop>) {
        if section == Section::Rollbacks {
            tracing::info!("Let's rollback...");
        }
        let level = section.level();
        let context = self.controls.experiment();
        if let Err(e) = self.controls.apply(level, When::Before, context, None, &Value::Null, FG) {
            // As chaoslib's `controls()`: the after-hooks run, without a state.
            let _ = self.controls.apply(level, When::After, context, None, &Value::Null, FG);
            return (Vec::new(), Some(Stop::of(e)));
        }
        let activities = activities.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        if activities.is_empty() {
            reporter.note("(nothing to run)");
            if section == Section::Rollbacks {
                tracing::info!("No declared rollbacks, let's move on.");
            } else {
                tracing::info!("No declared activities, let's move on.");
            }
        }
        let (runs, mut stop) = std::thread::scope(|s| {
            let mut slots = Vec::new();
            let mut stop = None;
            for activity in activities {
                let background = self.resolve(activity).is_ok_and(|a| a.get("background") == Some(&Value::Bool(true)));
                if background {
                    reporter.background_started(self.resolve(activity).unwrap_or(activity));
                    slots.push(Slot::Background(s.spawn(move || self.execute(activity, watch, Lane::Background))));
                    continue;
                }
                let executed = self.execute(activity, watch, FG);
                report(reporter, &executed);
                match &executed.stop {
                    Some(Stop::Fatal(message)) if section == Section::Rollbacks => {
                        tracing::error!("{message}");
                    }
                    Some(other) => stop = Some(other.clone()),
                    None => {}
                }
                slots.push(Slot::Done(executed));
                if stop.is_some() || stop_early() {
                    break;
                }
            }
            let mut runs = Vec::with_capacity(slots.len());
            for slot in slots {
                let executed = match slot {
                    Slot::Done(executed) => executed,
                    Slot::Background(handle) => {
                        let executed = handle.join().unwrap_or_else(|_| Executed {
                            record: Some(json!({"activity": null, "output": null, "status": "failed",
                                   "exception": ["ActivityFailed: the background activity panicked\n"]})),
                            stop: None,
                        });
                        report(reporter, &executed);
                        // An unexpected error in the background is lost, as in the
                        // reference (its future is never read); a signal is not.
                        if let (Some(Stop::Interrupted(signal)), None) = (&executed.stop, &stop) {
                            stop = Some(Stop::Interrupted(*signal));
                        }
                        executed
                    }
                };
                runs.extend(executed.record);
            }
            (runs, stop)
        });
        let state = Value::Array(runs);
        let after = self.controls.apply(level, When::After, context, None, &state, FG);
        if let (Err(e), None) = (after, &stop) {
            stop = Some(Stop::of(e));
        }
        let Value::Array(runs) = state else { unreachable!("built as an array above") };
        (runs, stop)
    }

    /// The activity a `{"ref": …}` stands for (or the activity itself).
    fn resolve<'v>(&'v self, activity: &'v Value) -> Result<&'v Value, ActivityFailed> {
        match activity.get("ref").and_then(Value::as_str) {
            Some(name) if !name.is_empty() => {
                self.cache.lookup(name).ok_or_else(|| ActivityFailed::UnknownRef { name: name.to_string() })
            }
            _ => Ok(activity),
        }
    }

    /// Runs one activity, wrapped by its controls, and builds its journal record:
    /// `status` is `succeeded` or `failed`, and absent when a signal, an interruption
    /// raised by user code or an unexpected error stopped it.
    fn execute(&self, activity: &Value, watch: &Watch, lane: Lane) -> Executed {
        let activity = match self.resolve(activity) {
            Ok(activity) => activity,
            Err(e) => return Executed { record: Some(failed_without_run(activity, &e)), stop: None },
        };
        if let Err(e) = self.controls.apply(Level::Activity, When::Before, activity, Some(activity), &Value::Null, lane)
        {
            let _ = self.controls.apply(Level::Activity, When::After, activity, Some(activity), &Value::Null, lane);
            return Executed { record: None, stop: Some(Stop::of(e)) };
        }
        let mut executed = self.execute_inner(activity, watch, lane);
        let state = match (&executed.record, &executed.stop) {
            (Some(record), None) => record.clone(),
            _ => Value::Null,
        };
        let after = self.controls.apply(Level::Activity, When::After, activity, Some(activity), &state, lane);
        if let (Err(e), None) = (after, &executed.stop) {
            executed.stop = Some(Stop::of(e));
        }
        executed
    }

    fn execute_inner(&self, activity: &Value, watch: &Watch, lane: Lane) -> Executed {
        let dry = dry_mode_of(activity, self.dry);
        let kind = activity["type"].as_str().unwrap_or_default();
        let is_dry = is_dry(activity, self.dry);
        let skip_pauses = is_dry || dry == Some(DryMode::Pause);
        let scope = self.scope();
        let pauses = activity.get("pauses").map(|p| scope.substitute(p)).unwrap_or(Value::Null);
        if let Err(signal) = pause(&pauses["before"], "before", skip_pauses, watch) {
            return Executed { record: None, stop: Some(Stop::Interrupted(signal)) };
        }
        let name = python_str(activity.get("name").unwrap_or(&Value::Null));
        tracing::info!("{}: {name}", if kind == "probe" { "Probe" } else { "Action" });

        let start = SystemTime::now();
        let mut run = Map::new();
        run.insert("activity".into(), activity.clone());
        run.insert("output".into(), Value::Null);
        run.insert("start".into(), json!(journal::iso(start)));
        let result = if is_dry {
            tracing::debug!("Activity {name} is in dry mode");
            Ok(Value::Null)
        } else {
            self.run_provider(activity, watch, lane)
        };
        let mut stop = None;
        match result {
            Ok(output) => {
                tracing::debug!("  => succeeded with '{output}'");
                run.insert("output".into(), output);
                run.insert("status".into(), json!("succeeded"));
            }
            Err(ActivityError::Failed(e)) => {
                tracing::error!("  => failed: {e}");
                run.insert("status".into(), json!("failed"));
                run.insert("exception".into(), Value::Array(e.exception_lines()));
            }
            Err(ActivityError::Interrupted(signal)) => {
                tracing::debug!("Activity {name} interrupted by {signal}");
                stop = Some(Stop::Interrupted(signal));
            }
            Err(ActivityError::Raised(raised)) => {
                tracing::debug!("Activity {name} interrupted the execution: {raised}");
                stop = Some(Stop::Raised(raised));
            }
            Err(ActivityError::Fatal(message)) => {
                tracing::debug!("Activity failed: {message}");
                stop = Some(Stop::Fatal(message));
            }
        }
        let end = SystemTime::now();
        run.insert("end".into(), json!(journal::iso(end)));
        run.insert("duration".into(), json!(journal::seconds_between(start, end)));
        // No pause after an activity that stopped the run (the reference still pauses).
        if stop.is_none()
            && let Err(signal) = pause(&pauses["after"], "after", skip_pauses, watch)
        {
            stop = Some(Stop::Interrupted(signal));
        }
        Executed { record: Some(Value::Object(run)), stop }
    }

    /// Calls the activity's provider.
    fn run_provider(&self, activity: &Value, watch: &Watch, lane: Lane) -> Result<Value, ActivityError> {
        let provider = activity
            .get("provider")
            .and_then(Value::as_object)
            .ok_or(ActivityFailed::Invalid(InvalidActivity::MissingProvider))?;
        let warn = activity.get("tolerance").is_none();
        let scope = self.scope();
        match provider.get("type").and_then(Value::as_str) {
            Some("process") => run_process(provider, &scope, warn, watch),
            Some("http") => run_http(provider, &scope, warn, watch),
            Some("python") => {
                let activity = activity.as_object().ok_or(ActivityFailed::Invalid(InvalidActivity::Empty))?;
                self.run_python(activity, provider, watch, lane)
            }
            other => Err(ActivityFailed::Invalid(InvalidActivity::UnknownProviderType {
                found: other.unwrap_or("None").to_string(),
            })
            .into()),
        }
    }

    /// A python provider, in the helper (see [`crate::python`]).
    fn run_python(
        &self,
        activity: &Map<String, Value>,
        provider: &Map<String, Value>,
        watch: &Watch,
        lane: Lane,
    ) -> Result<Value, ActivityError> {
        let run = ProviderRun {
            activity,
            provider,
            configuration: &self.configuration,
            secrets: self.secrets,
            flat_secrets: None,
            lane,
        };
        self.python.run_provider(&run, watch)
    }
}

/// The dry mode in force for `activity`: its own `dry` key (same values), else `dry`.
fn dry_mode_of(activity: &Value, dry: Option<DryMode>) -> Option<DryMode> {
    match activity.get("dry") {
        Some(Value::String(s)) => DryMode::parse(s).or(dry),
        Some(Value::Null) => None,
        _ => dry,
    }
}

/// Whether `activity` is not executed under `dry` (its own `dry` key included).
pub(crate) fn is_dry(activity: &Value, dry: Option<DryMode>) -> bool {
    let kind = activity["type"].as_str().unwrap_or_default();
    match dry_mode_of(activity, dry) {
        Some(DryMode::Actions) => kind == "action",
        Some(DryMode::Probes) => kind == "probe",
        Some(DryMode::Activities) => true,
        _ => false,
    }
}

fn push(state: &mut Value, run: Value) {
    if let Some(probes) = state["probes"].as_array_mut() {
        probes.push(run);
    }
}

/// Prints one activity's outcome.
fn report(reporter: &mut Reporter<'_>, executed: &Executed) {
    let Some(run) = &executed.record else { return };
    match &executed.stop {
        Some(Stop::Interrupted(signal)) if run.get("status").is_none() => {
            reporter.stopped(run, &format!("interrupted by {signal}"));
        }
        Some(Stop::Raised(raised)) if run.get("status").is_none() => reporter.stopped(run, &raised.to_string()),
        Some(Stop::Fatal(message)) => reporter.stopped(run, message),
        _ => reporter.activity(run),
    }
}

/// The record of an activity that could not even start (an unknown `ref`).
fn failed_without_run(activity: &Value, error: &ActivityFailed) -> Value {
    let now = journal::iso(SystemTime::now());
    json!({
        "activity": activity,
        "output": null,
        "start": now,
        "status": "failed",
        "exception": error.exception_lines(),
        "end": now,
        "duration": 0.0,
    })
}

/// An activity's pause; `Err` when a signal cut it short.
fn pause(value: &Value, which: &str, skip: bool, watch: &Watch) -> Result<(), Signal> {
    let Some(seconds) = value.as_f64().filter(|s| s.is_finite() && *s > 0.0) else {
        if !value.is_null() && value.as_f64().is_none() {
            tracing::warn!("pause {which} is not a number ({value}): not pausing");
        }
        return Ok(());
    };
    if skip {
        tracing::info!("Dry mode: not pausing {which} the activity for {seconds}s");
        return Ok(());
    }
    tracing::info!("Pausing {which} the activity for {seconds}s...");
    watch.sleep(Duration::from_secs_f64(seconds.min(86_400.0)))
}

/// Where the journal goes by default, like `chaos run`.
pub fn default_journal_path() -> &'static Path {
    Path::new("journal.json")
}
