//! Step 4: run a validated experiment and fill its journal (chaostoolkit-lib 1.45.1's
//! algorithm with the `default`, `before-method-only` and `after-method-only`
//! hypothesis strategies).
//!
//! 1. Load the configuration (with `--var` overrides), the secrets and the dynamic
//!    configuration; substitute `${…}` in the title.
//! 2. Steady-state hypothesis before the method (when it has probes). When it is not
//!    met the method is skipped and the status is `completed`, or `failed` when a probe
//!    itself failed (chaostoolkit-lib 1.45.1: a tolerance miss before the method is
//!    *not* a failure, and the run exits 0).
//! 3. The method, in order; `background: true` activities run on their own thread and
//!    are awaited at the end of the method. An activity failure does not change the
//!    status.
//! 4. The hypothesis again after the method: not met → `deviated: true`, status
//!    `completed` (or `failed` when a probe failed).
//! 5. Rollbacks per strategy: `default` plays them unless the status is `failed`,
//!    `always`/`never` do what they say, `deviated` only when the run deviated.
//! 6. `end`, `duration`; any other status becomes `completed`.
//!
//! Dry modes: `probes`/`actions`/`activities` record the chosen activities as succeeded
//! with a `null` output without running them (no tolerance check in the hypothesis
//! then), `pause` skips the pauses. An activity's own `dry` key (same values) overrides
//! the command line for that activity.

use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};

use crate::config::{Var, load_configuration, load_secrets};
use crate::error::{ActivityFailed, InvalidActivity, ValidationError};
use crate::journal;
use crate::provider::{http::run_http, process::run_process};
use crate::pyvalue::{py_str, truthy};
use crate::report::Reporter;
use crate::substitute::Scope;
use crate::tolerance::within_tolerance;
use crate::validate::ActivityCache;

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
    /// Continuously during the method only (not supported by this runner).
    DuringMethodOnly,
    /// Before, continuously during, and after the method (not supported by this runner).
    Continuously,
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
            _ => None,
        }
    }

    /// Whether this runner implements the strategy.
    pub fn is_supported(self) -> bool {
        matches!(
            self,
            HypothesisStrategy::Default | HypothesisStrategy::BeforeMethodOnly | HypothesisStrategy::AfterMethodOnly
        )
    }

    fn before(self) -> bool {
        matches!(
            self,
            HypothesisStrategy::Default | HypothesisStrategy::BeforeMethodOnly | HypothesisStrategy::Continuously
        )
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
    /// When the hypothesis runs (must be supported).
    pub hypothesis_strategy: HypothesisStrategy,
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
            rollback_strategy: Some(RollbackStrategy::Default),
            vars: Vec::new(),
        }
    }
}

/// Runs an experiment (validated, or `--no-validation`) and returns its journal.
///
/// The only error is a configuration or secret that cannot be loaded (an unset
/// environment variable…), which validation normally reports first.
pub fn run_experiment(
    experiment: &Map<String, Value>,
    options: &Options,
    reporter: &mut Reporter<'_>,
) -> Result<Value, ValidationError> {
    let started = SystemTime::now();
    let configuration = load_configuration(experiment.get("configuration"), &options.vars)?;
    let secrets = load_secrets(experiment.get("secrets"))?;
    let mut experiment = experiment.clone();
    let runner = {
        let raw_scope = Scope::new(&configuration, &secrets);
        let configuration = load_dynamic_configuration(&configuration, &raw_scope);
        if let Some(title) = experiment.get("title") {
            let title = Scope::new(&configuration, &secrets).substitute(title);
            experiment.insert("title".into(), title);
        }
        experiment.insert("dry".into(), options.dry.map_or(Value::Null, |d| json!(d.as_str())));
        Runner { cache: ActivityCache::new(&experiment), configuration, secrets: &secrets, dry: options.dry }
    };
    let title = py_str(experiment.get("title").unwrap_or(&Value::Null));
    tracing::info!("Running experiment: {title}");
    let mut journal = Value::Object(journal::initialize(&experiment, started));
    if has_controls(&experiment) {
        tracing::warn!("the experiment declares controls: this runner does not apply them");
        reporter.note("note: controls are declared but this runner does not apply them");
    }
    if experiment.get("runtime").and_then(|r| r.get("python")).is_some() {
        tracing::warn!("runtime.python is ignored: this runner needs no Python runtime");
    }
    tracing::info!(
        "Steady-state strategy: {} / rollbacks strategy: {}",
        options.hypothesis_strategy.as_str(),
        options.rollback_strategy.map_or("unknown", |s| s.as_str())
    );

    let hypothesis = experiment.get("steady-state-hypothesis").filter(|h| h.get("probes").is_some_and(truthy));
    if hypothesis.is_none() {
        tracing::info!("No steady state hypothesis with probes: only running the method");
    }
    let strategy = options.hypothesis_strategy;

    let mut proceed = true;
    if let Some(hypo) = hypothesis
        && strategy.before()
    {
        reporter.section(&format!(
            "Steady-state hypothesis (before the method): {}",
            py_str(hypo.get("title").unwrap_or(&Value::Null))
        ));
        let state = runner.run_hypothesis(hypo, reporter);
        journal["steady_states"]["before"] = state.clone();
        if state["steady_state_met"] != Value::Bool(true) {
            journal["status"] = json!(status_after_miss(&state));
            tracing::error!(
                "Steady state probe '{}' is not in the given tolerance: the method is skipped",
                last_probe_name(&state)
            );
            reporter.note("the method is skipped");
            proceed = false;
        }
    }

    let mut method_ran = false;
    if proceed {
        reporter.section("Method");
        journal["run"] = Value::Array(runner.run_activities(experiment.get("method"), reporter));
        method_ran = true;
    }

    if method_ran
        && strategy.after()
        && let Some(hypo) = hypothesis
    {
        reporter.section(&format!(
            "Steady-state hypothesis (after the method): {}",
            py_str(hypo.get("title").unwrap_or(&Value::Null))
        ));
        let state = runner.run_hypothesis(hypo, reporter);
        journal["steady_states"]["after"] = state.clone();
        if state["steady_state_met"] != Value::Bool(true) {
            journal["deviated"] = json!(true);
            journal["status"] = json!(status_after_miss(&state));
            tracing::error!(
                "Steady state probe '{}' is not in the given tolerance after the method: the system deviated",
                last_probe_name(&state)
            );
        }
    }

    let deviated = journal["deviated"] == Value::Bool(true);
    let status = journal["status"].as_str().map(str::to_string);
    let play = match options.rollback_strategy {
        Some(RollbackStrategy::Always) => true,
        Some(RollbackStrategy::Never) => false,
        Some(RollbackStrategy::Default) => !matches!(status.as_deref(), Some("failed" | "interrupted")),
        Some(RollbackStrategy::Deviated) => deviated,
        None => false,
    };
    let has_rollbacks = experiment.get("rollbacks").is_some_and(|r| r.as_array().is_some_and(|r| !r.is_empty()));
    if play {
        if has_rollbacks {
            reporter.section("Rollbacks");
        }
        journal["rollbacks"] = Value::Array(runner.run_activities(experiment.get("rollbacks"), reporter));
    } else if has_rollbacks {
        reporter.section("Rollbacks");
        reporter.note(&format!(
            "not played (rollback strategy '{}', status {})",
            options.rollback_strategy.map_or("unknown", |s| s.as_str()),
            status.as_deref().unwrap_or("null")
        ));
    }

    let end = SystemTime::now();
    if !matches!(journal["status"].as_str(), Some("completed" | "failed" | "aborted" | "interrupted")) {
        journal["status"] = json!("completed");
    }
    if let Value::Object(map) = &mut journal {
        map.insert("end".into(), json!(journal::iso(end)));
        map.insert("duration".into(), json!(end.duration_since(started).unwrap_or_default().as_secs_f64()));
    }
    tracing::info!(
        "Experiment ended with status: {}",
        if deviated { "deviated" } else { journal["status"].as_str().unwrap_or("?") }
    );
    Ok(journal)
}

fn status_after_miss(state: &Value) -> &'static str {
    let probe_failed = state["probes"].as_array().is_some_and(|p| p.iter().any(|r| r["status"] != "succeeded"));
    if probe_failed { "failed" } else { "completed" }
}

fn last_probe_name(state: &Value) -> String {
    state["probes"].as_array().and_then(|p| p.last()).map(|r| py_str(&r["activity"]["name"])).unwrap_or_default()
}

fn has_controls(exp: &Map<String, Value>) -> bool {
    exp.get("controls").is_some_and(truthy)
        || exp.get("steady-state-hypothesis").and_then(|h| h.get("controls")).is_some_and(truthy)
        || crate::validate::all_activities(exp).any(|a| a.get("controls").is_some_and(truthy))
}

/// Resolves `{"type": "probe", …}` configuration entries: a process probe gives its
/// stripped stdout (when it exits 0), an http probe its body. A failure drops the key
/// with a warning, as in the reference.
fn load_dynamic_configuration(conf: &Map<String, Value>, scope: &Scope<'_>) -> Map<String, Value> {
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
            (Some(p), Some("process")) => run_process(p, scope, false).and_then(|o| {
                if o["status"] == 0 {
                    Ok(json!(o["stdout"].as_str().unwrap_or_default().trim()))
                } else {
                    Err(ActivityFailed::ProcessSpawn {
                        path: py_str(&p["path"]),
                        reason: format!("exited with {}: {}", o["status"], py_str(&o["stderr"])),
                    })
                }
            }),
            (Some(p), Some("http")) => run_http(p, scope, false).map(|o| o["body"].clone()),
            _ => Err(ActivityFailed::Invalid(InvalidActivity::PythonUnsupported { name: key.clone() })),
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

/// The runner state shared by every activity of one run.
struct Runner<'a> {
    cache: ActivityCache,
    configuration: Map<String, Value>,
    secrets: &'a Map<String, Value>,
    dry: Option<DryMode>,
}

/// A method or rollback entry: done, or still running in the background.
enum Slot<'s> {
    Done(Value),
    Background(std::thread::ScopedJoinHandle<'s, Value>),
}

impl Runner<'_> {
    fn scope(&self) -> Scope<'_> {
        Scope::new(&self.configuration, self.secrets)
    }

    /// Runs the probes in order and stops at the first failure or tolerance miss.
    fn run_hypothesis(&self, hypo: &Value, reporter: &mut Reporter<'_>) -> Value {
        let title = py_str(hypo.get("title").unwrap_or(&Value::Null));
        tracing::info!("Steady state hypothesis: {title}");
        let mut probes = Vec::new();
        let mut met = true;
        for probe in hypo["probes"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let mut run = match self.execute(probe) {
                Ok(run) => run,
                Err(e) => failed_without_run(probe, &e),
            };
            if run["status"] != "succeeded" {
                run["tolerance_met"] = json!(false);
                reporter.activity(&run);
                probes.push(run);
                met = false;
                tracing::warn!("Probe terminated unexpectedly, so its tolerance could not be validated");
                break;
            }
            run["tolerance_met"] = json!(true);
            if !matches!(self.dry, Some(DryMode::Probes | DryMode::Activities)) {
                // The tolerance sits on the hypothesis entry, even when it is a `ref`.
                let tolerance = probe.get("tolerance").unwrap_or(&Value::Null);
                let scope = self.scope();
                let ok = within_tolerance(tolerance, &run["output"], &scope, &|p| self.tolerance_probe(p));
                if !ok {
                    run["tolerance_met"] = json!(false);
                    met = false;
                }
            }
            reporter.activity(&run);
            probes.push(run);
            if !met {
                break;
            }
        }
        reporter.hypothesis(met);
        if met {
            tracing::info!("Steady state hypothesis is met");
        }
        json!({"steady_state_met": met, "probes": probes})
    }

    /// A probe tolerance: success of the probe given the output as `value`.
    fn tolerance_probe(&self, probe: &Map<String, Value>) -> bool {
        let Some(provider) = probe.get("provider").and_then(Value::as_object) else {
            return false;
        };
        let scope = self.scope();
        match provider.get("type").and_then(Value::as_str) {
            Some("process") => run_process(provider, &scope, false).is_ok_and(|o| o["status"] == 0),
            Some("http") => {
                run_http(provider, &scope, false).is_ok_and(|o| o["status"].as_u64().is_some_and(|s| s < 400))
            }
            _ => false,
        }
    }

    /// Runs a method or the rollbacks; background activities are awaited at the end.
    ///
    /// An entry whose `ref` names nothing (only possible with `--no-validation`, or in
    /// rollbacks, which the reference does not check) is recorded as a failed activity.
    fn run_activities(&self, activities: Option<&Value>, reporter: &mut Reporter<'_>) -> Vec<Value> {
        let activities = activities.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        if activities.is_empty() {
            reporter.note("(nothing to run)");
        }
        std::thread::scope(|s| {
            let mut slots = Vec::new();
            for activity in activities {
                let background = self.resolve(activity).is_ok_and(|a| a.get("background") == Some(&Value::Bool(true)));
                if background {
                    reporter.background_started(self.resolve(activity).unwrap_or(activity));
                    slots.push(Slot::Background(
                        s.spawn(move || self.execute(activity).unwrap_or_else(|e| failed_without_run(activity, &e))),
                    ));
                } else {
                    let run = self.execute(activity).unwrap_or_else(|e| failed_without_run(activity, &e));
                    reporter.activity(&run);
                    slots.push(Slot::Done(run));
                }
            }
            let mut runs = Vec::with_capacity(slots.len());
            for slot in slots {
                match slot {
                    Slot::Done(run) => runs.push(run),
                    Slot::Background(handle) => {
                        let run = handle.join().unwrap_or_else(|_| {
                            json!({"activity": null, "output": null, "status": "failed",
                                   "exception": ["ActivityFailed: the background activity panicked\n"]})
                        });
                        reporter.activity(&run);
                        runs.push(run);
                    }
                }
            }
            runs
        })
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

    /// Runs one activity and builds its journal record.
    fn execute(&self, activity: &Value) -> Result<Value, ActivityFailed> {
        let activity = self.resolve(activity)?;
        let dry = match activity.get("dry") {
            Some(Value::String(s)) => DryMode::parse(s).or(self.dry),
            Some(Value::Null) => None,
            _ => self.dry,
        };
        let kind = activity["type"].as_str().unwrap_or_default();
        let is_dry = match dry {
            Some(DryMode::Actions) => kind == "action",
            Some(DryMode::Probes) => kind == "probe",
            Some(DryMode::Activities) => true,
            _ => false,
        };
        let skip_pauses = is_dry || dry == Some(DryMode::Pause);
        let scope = self.scope();
        let pauses = activity.get("pauses").map(|p| scope.substitute(p)).unwrap_or(Value::Null);
        pause(&pauses["before"], "before", skip_pauses);
        let name = py_str(activity.get("name").unwrap_or(&Value::Null));
        tracing::info!("{}: {name}", if kind == "probe" { "Probe" } else { "Action" });

        let start = SystemTime::now();
        let mut run = Map::new();
        run.insert("activity".into(), activity.clone());
        run.insert("output".into(), Value::Null);
        run.insert("start".into(), json!(journal::iso(start)));
        let result = if is_dry {
            tracing::debug!("activity is in dry mode: not run");
            Ok(Value::Null)
        } else {
            self.run_provider(activity)
        };
        match result {
            Ok(output) => {
                tracing::debug!("  => succeeded with '{output}'");
                run.insert("output".into(), output);
                run.insert("status".into(), json!("succeeded"));
            }
            Err(e) => {
                tracing::error!("  => failed: {e}");
                run.insert("status".into(), json!("failed"));
                run.insert("exception".into(), Value::Array(e.exception_lines()));
            }
        }
        let end = SystemTime::now();
        run.insert("end".into(), json!(journal::iso(end)));
        run.insert("duration".into(), json!(journal::seconds_between(start, end)));
        pause(&pauses["after"], "after", skip_pauses);
        Ok(Value::Object(run))
    }

    fn run_provider(&self, activity: &Value) -> Result<Value, ActivityFailed> {
        let name = py_str(activity.get("name").unwrap_or(&Value::Null));
        let provider = activity
            .get("provider")
            .and_then(Value::as_object)
            .ok_or(ActivityFailed::Invalid(InvalidActivity::MissingProvider))?;
        let warn = activity.get("tolerance").is_none();
        let scope = self.scope();
        match provider.get("type").and_then(Value::as_str) {
            Some("process") => run_process(provider, &scope, warn),
            Some("http") => run_http(provider, &scope, warn),
            Some("python") => Err(ActivityFailed::Invalid(InvalidActivity::PythonUnsupported { name })),
            other => Err(ActivityFailed::Invalid(InvalidActivity::UnknownProviderType {
                found: other.unwrap_or("None").to_string(),
            })),
        }
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

fn pause(value: &Value, which: &str, skip: bool) {
    let Some(seconds) = value.as_f64().filter(|s| s.is_finite() && *s > 0.0) else {
        if !value.is_null() && value.as_f64().is_none() {
            tracing::warn!("pause {which} is not a number ({value}): not pausing");
        }
        return;
    };
    if skip {
        tracing::info!("Dry mode: not pausing {which} the activity for {seconds}s");
        return;
    }
    tracing::info!("Pausing {which} the activity for {seconds}s...");
    std::thread::sleep(Duration::from_secs_f64(seconds.min(86_400.0)));
}

/// Where the journal goes by default, like `chaos run`.
pub fn default_journal_path() -> &'static Path {
    Path::new("journal.json")
}
