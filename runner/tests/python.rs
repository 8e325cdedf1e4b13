//! Python providers and controls through the real bridge, with the interpreter of a
//! chaostoolkit 1.21.4 / chaostoolkit-lib 1.45.1 virtualenv (`ctk_python()`, made on first
//! use) and the modules of runner/tests/fixtures/python: what conformance recordings
//! cannot show (no interpreter started when none is needed, one helper per command,
//! parallel background calls, a signal cutting a Python call short) and where this runner
//! does better than chaostoolkit's crash (documented in docs/RUNNER.md).

#![cfg(unix)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{HttpChannel, Server, names, root};
use notifier_python::{Bridge, Interpreter};
use notifier_runner::cli::Environment;
use notifier_runner::{DryMode, Interrupt, RollbackStrategy, RunArgs, RunOutcome, Signal, ValidateArgs};
use serde_json::{Value, json};
use tempfile::TempDir;

fn fixtures() -> PathBuf {
    root().join("runner/tests/fixtures/python")
}

/// A scenario directory: the experiment, the journal and the control log live there.
struct Case {
    dir: TempDir,
    bridge: Arc<Bridge>,
}

impl Case {
    fn new() -> Case {
        let dir = TempDir::new().expect("tmp");
        let bridge = Bridge::builder()
            .interpreter(Interpreter::at(notifier_test_support::ctk_python()))
            .env("PYTHONPATH", fixtures())
            .env("NOTIFIER_CONTROL_LOG", dir.path().join("controls.jsonl"))
            .build();
        Case { dir, bridge: Arc::new(bridge) }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn experiment(&self, experiment: &Value) -> PathBuf {
        let path = self.path("experiment.json");
        std::fs::write(&path, serde_json::to_vec_pretty(experiment).expect("JSON")).expect("write experiment");
        path
    }

    fn args(&self, experiment: &Value) -> RunArgs {
        let mut args = RunArgs::new(self.experiment(experiment));
        args.journal_path = self.path("journal.json");
        args
    }

    fn environment(&self) -> Environment {
        Environment::new().with_bridge(Arc::clone(&self.bridge))
    }

    fn run(&self, args: &RunArgs) -> Ran {
        self.run_in(args, &self.environment(), &Interrupt::new())
    }

    fn run_in(&self, args: &RunArgs, environment: &Environment, interrupt: &Interrupt) -> Ran {
        let server = Server::start();
        let channel = HttpChannel::new(&server, &args.journal_path);
        let mut console = Vec::new();
        let outcome =
            notifier_runner::cli::run_with(args, environment, &channel, &mut console, interrupt).expect("run");
        let journal = std::fs::read(&args.journal_path)
            .ok()
            .map(|b| serde_json::from_slice(&b).expect("the journal is JSON"))
            .unwrap_or(Value::Null);
        Ran { outcome, events: names(&server.events()), journal, console: String::from_utf8_lossy(&console).into() }
    }

    /// The control log: (hook, label) pairs.
    fn hooks(&self) -> Vec<(String, String)> {
        self.control_log()
            .iter()
            .map(|e| {
                (e["hook"].as_str().unwrap_or_default().to_string(), e["label"].as_str().unwrap_or("").to_string())
            })
            .collect()
    }

    fn control_log(&self) -> Vec<Value> {
        std::fs::read_to_string(self.path("controls.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("log line"))
            .collect()
    }
}

struct Ran {
    outcome: RunOutcome,
    events: Vec<String>,
    journal: Value,
    console: String,
}

fn py(name: &str, func: &str, arguments: Value) -> Value {
    json!({"type": "action", "name": name, "provider": {"type": "python", "module": "ctkacts", "func": func, "arguments": arguments}})
}

fn experiment(method: Value) -> Value {
    json!({"title": "python", "description": "d", "method": method})
}

fn control(label: &str, extra: Value) -> Value {
    let mut arguments = json!({"label": label});
    if let (Some(a), Some(e)) = (arguments.as_object_mut(), extra.as_object()) {
        a.extend(e.clone());
    }
    json!({"name": label, "provider": {"type": "python", "module": "ctkctl", "arguments": arguments}})
}

/// A bridge whose interpreter does not exist: any call into Python fails.
fn no_python() -> Arc<Bridge> {
    Arc::new(Bridge::builder().interpreter(Interpreter::at("/nonexistent/notifier-test/python3")).build())
}

#[test]
fn an_experiment_without_python_starts_no_interpreter() {
    let case = Case::new();
    let tmp = TempDir::new().expect("tmp");
    let mut args = RunArgs::new(root().join("examples/experiments/local-health.json"));
    args.journal_path = tmp.path().join("journal.json");
    // Even a settings file without `controls` needs none; the bridge is never asked.
    let environment = Environment::new().with_bridge(no_python()).with_settings(json!({"notifications": []}));
    let ran = case.run_in(&args, &environment, &Interrupt::new());
    assert_eq!(ran.outcome.exit_code, 0, "{}", ran.console);
    assert!(!ran.outcome.python_started);
    let validated = notifier_runner::cli::validate_with(
        &ValidateArgs { experiment: root().join("examples/experiments/local-health.json") },
        &environment,
        &notifier_runner::NoNotifications,
        &mut Vec::new(),
    )
    .expect("validate");
    assert_eq!((validated.exit_code, validated.python_started), (0, false));
}

#[test]
fn one_helper_serves_validation_activities_tolerances_and_controls() {
    let case = Case::new();
    let mut exp = experiment(json!([py("m1", "echo", json!({"value": 1})), py("m2", "echo", json!({"value": 2}))]));
    exp["controls"] = json!([control("T", json!({}))]);
    exp["steady-state-hypothesis"] = json!({"title": "h", "probes": [{
        "type": "probe", "name": "p", "provider": {"type": "python", "module": "ctkacts", "func": "echo", "arguments": {"value": 3}},
        "tolerance": {"type": "probe", "name": "t", "provider": {"type": "python", "module": "ctkacts", "func": "at_least", "arguments": {"minimum": 3}}}
    }]});
    let ran = case.run(&case.args(&exp));
    assert_eq!(ran.outcome.exit_code, 0, "{}", ran.console);
    assert!(ran.outcome.python_started);
    assert_eq!(case.bridge.helper_starts(), 1, "one helper for the whole command");
    assert_eq!(ran.journal["steady_states"]["after"]["steady_state_met"], true);
    // The tolerance probe's value is written back into the journal's experiment.
    assert_eq!(
        ran.journal["experiment"]["steady-state-hypothesis"]["probes"][0]["tolerance"]["provider"]["arguments"]["value"],
        3
    );
    assert_eq!(ran.events, ["run-started", "run-completed"]);
}

#[test]
fn validation_follows_the_reference_order_and_messages() {
    let case = Case::new();
    let check = |provider: Value| {
        let exp = experiment(json!([{"type": "action", "name": "act", "provider": provider}]));
        let ran = case.run(&case.args(&exp));
        assert_eq!(ran.events, ["run-started", "run-failed"]);
        assert!(ran.journal.is_null(), "nothing ran");
        ran.outcome.validation_error.map(|e| e.to_string()).unwrap_or_default()
    };
    assert_eq!(check(json!({"type": "python", "func": "f"})), "a Python activity must have a module path");
    assert_eq!(check(json!({"type": "python", "module": "os"})), "a Python activity must have a function name");
    assert_eq!(
        check(json!({"type": "python", "module": "nope_not_here", "func": "f"})),
        "could not find Python module 'nope_not_here' in activity 'act'"
    );
    assert_eq!(
        check(json!({"type": "python", "module": "ctkacts", "func": "nope"})),
        "The python module 'ctkacts' does not expose a function called 'nope' in action 'act'"
    );
    assert_eq!(
        check(json!({"type": "python", "module": "ctkacts", "func": "greet", "arguments": {}})),
        "required argument 'name' is missing from activity 'greet'"
    );
    assert_eq!(
        check(json!({"type": "python", "module": "ctkacts", "func": "greet", "arguments": {"name": "x", "zzz": 1}})),
        "argument 'zzz' is not part of the function signature in activity 'greet'"
    );
    // Where chaostoolkit crashes with a traceback: a clear validation error.
    assert_eq!(
        check(json!({"type": "python", "module": "ctkacts", "func": "echo", "arguments": [1]})),
        "the arguments of python activity 'act' must be a mapping"
    );
    let raised = check(json!({"type": "python", "module": "ctkbroken", "func": "f"}));
    assert!(raised.contains("RuntimeError: this module cannot be imported"), "{raised}");
}

#[test]
fn a_python_that_cannot_start_is_a_validation_error_not_a_crash() {
    let case = Case::new();
    let exp = experiment(json!([py("act", "echo", json!({}))]));
    let environment = Environment::new().with_bridge(no_python());
    let ran = case.run_in(&case.args(&exp), &environment, &Interrupt::new());
    assert_eq!(ran.outcome.exit_code, 1);
    let error = ran.outcome.validation_error.map(|e| e.to_string()).unwrap_or_default();
    assert!(error.starts_with("cannot validate python activity 'act': "), "{error}");
    assert!(error.contains("/nonexistent/notifier-test/python3"), "{error}");
}

#[test]
fn arguments_are_substituted_only_with_configuration_or_secrets() {
    let case = Case::new();
    let method = json!([py("raw", "echo", json!({"value": ["${x}", "$$", "$x"]}))]);
    let ran = case.run(&case.args(&experiment(method.clone())));
    assert_eq!(ran.journal["run"][0]["output"], json!(["${x}", "$$", "$x"]), "no configuration, no substitution");
    let mut exp = experiment(method);
    exp["configuration"] = json!({"x": 7});
    let ran = case.run(&case.args(&exp));
    assert_eq!(ran.journal["run"][0]["output"], json!([7, "$", "7"]));
    assert_eq!(
        ran.journal["run"][0]["activity"]["provider"]["arguments"]["value"][0], "${x}",
        "the journal keeps them raw"
    );
}

#[test]
fn background_python_activities_run_in_parallel_and_are_awaited() {
    let case = Case::new();
    let mut slow = py("bg1", "sleep", json!({"seconds": 0.8}));
    slow["background"] = json!(true);
    let mut slow2 = py("bg2", "sleep", json!({"seconds": 0.8}));
    slow2["background"] = json!(true);
    let exp = experiment(json!([slow, py("fg", "echo", json!({"value": "fg"})), slow2]));
    let started = Instant::now();
    let ran = case.run(&case.args(&exp));
    let elapsed = started.elapsed();
    assert_eq!(ran.outcome.exit_code, 0, "{}", ran.console);
    let order: Vec<&str> =
        ran.journal["run"].as_array().into_iter().flatten().filter_map(|r| r["activity"]["name"].as_str()).collect();
    assert_eq!(order, ["bg1", "fg", "bg2"], "start order");
    assert!(ran.journal["run"].as_array().into_iter().flatten().all(|r| r["status"] == "succeeded"));
    assert!(elapsed < Duration::from_millis(1500), "the two sleeps overlapped: {elapsed:?}");
}

#[test]
fn dry_runs_call_no_python_and_pauses_still_apply() {
    let case = Case::new();
    let touched = case.path("touched");
    let mut action = py("touch", "touch", json!({"path": touched}));
    action["pauses"] = json!({"before": 0.2});
    let mut args = case.args(&experiment(json!([action])));
    args.dry = Some(DryMode::Actions);
    let ran = case.run(&args);
    assert_eq!(ran.journal["run"][0]["status"], "succeeded");
    assert_eq!(ran.journal["run"][0]["output"], Value::Null);
    assert!(!touched.exists(), "a dry action is not called");
    args.dry = Some(DryMode::Pause);
    let started = Instant::now();
    let ran = case.run(&args);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(ran.journal["run"][0]["output"], json!(touched.to_string_lossy()));
    assert!(touched.exists(), "--dry pause runs the activity");
}

#[test]
fn outputs_chaostoolkit_cannot_write_are_kept_as_their_repr() {
    let case = Case::new();
    let ran = case.run(&case.args(&experiment(json!([py("set", "unserialisable", json!({}))]))));
    // chaostoolkit crashes writing this journal (truncated file, no final event).
    assert_eq!(ran.outcome.exit_code, 0);
    assert_eq!(ran.journal["run"][0]["output"], "{1, 2}");
    assert_eq!(ran.events, ["run-started", "run-completed"]);
}

#[test]
fn errors_python_lets_escape_abort_with_a_journal() {
    let case = Case::new();
    // An unimportable module in the hypothesis, with --no-validation: chaostoolkit crashes
    // without a journal; here the run is aborted and reported.
    let mut exp = experiment(json!([py("m", "echo", json!({}))]));
    exp["steady-state-hypothesis"] = json!({"title": "h", "probes": [
        {"type": "probe", "name": "p", "tolerance": true, "provider": {"type": "python", "module": "nope_not_here", "func": "f"}}
    ]});
    exp["rollbacks"] = json!([py("r", "echo", json!({"value": "undone"}))]);
    let mut args = case.args(&exp);
    args.no_validation = true;
    let ran = case.run(&args);
    assert_eq!(ran.outcome.exit_code, 1);
    assert_eq!(ran.journal["status"], "aborted");
    assert!(ran.journal["steady_states"]["before"].is_null());
    assert_eq!(ran.journal["rollbacks"][0]["status"], "succeeded", "the default strategy plays them");
    assert_eq!(ran.events, ["run-started", "run-failed"]);
    // A helper that dies in the method: aborted too, and the next call gets a fresh one.
    let exp = experiment(json!([py("die", "die", json!({})), py("after", "echo", json!({}))]));
    let mut args = case.args(&exp);
    args.rollback_strategy = Some(RollbackStrategy::Always);
    let mut with_rollback = exp.clone();
    with_rollback["rollbacks"] = json!([py("r", "echo", json!({"value": "undone"}))]);
    args.experiment = case.experiment(&with_rollback);
    let ran = case.run(&args);
    assert_eq!(ran.journal["status"], "aborted");
    assert_eq!(ran.journal["run"].as_array().map(Vec::len), Some(1));
    assert!(ran.journal["run"][0].get("status").is_none());
    assert_eq!(ran.journal["rollbacks"][0]["output"], "undone", "a new helper ran the rollback");
}

#[test]
fn system_exit_and_keyboard_interrupt_from_user_code_interrupt_the_run() {
    let case = Case::new();
    let rollback = json!([py("r", "echo", json!({"value": "undone"}))]);
    let mut exp = experiment(json!([py("exit", "exit_with", json!({"code": 20})), py("never", "echo", json!({}))]));
    exp["rollbacks"] = rollback.clone();
    let mut args = case.args(&exp);
    args.rollback_strategy = Some(RollbackStrategy::Always);
    let ran = case.run(&args);
    assert_eq!(ran.journal["status"], "interrupted");
    assert_eq!(ran.journal["run"].as_array().map(Vec::len), Some(1));
    assert_eq!(ran.journal["rollbacks"].as_array().map(Vec::len), Some(1), "SystemExit(20) plays them");
    assert!(ran.journal.get("interruption").is_none(), "no signal was received");
    // SystemExit(30) is chaoslib's ungraceful exit: no rollbacks, whatever the strategy.
    let mut exp = experiment(json!([py("exit", "exit_with", json!({"code": 30}))]));
    exp["rollbacks"] = rollback.clone();
    args.experiment = case.experiment(&exp);
    let ran = case.run(&args);
    assert_eq!(ran.journal["status"], "interrupted");
    assert_eq!(ran.journal["rollbacks"], json!([]));
    // KeyboardInterrupt raised by the code itself: interrupted, without `interruption`.
    let mut exp = experiment(json!([py("ctrl-c", "keyboard_interrupt", json!({}))]));
    exp["rollbacks"] = rollback;
    args.experiment = case.experiment(&exp);
    args.rollback_strategy = None;
    let ran = case.run(&args);
    assert_eq!((ran.outcome.exit_code, ran.journal["status"].as_str()), (1, Some("interrupted")));
    assert!(ran.journal.get("interruption").is_none());
    assert_eq!(ran.journal["rollbacks"], json!([]));
    assert_eq!(ran.events, ["run-started", "run-failed"]);
}

#[test]
fn a_signal_cuts_the_running_python_call_short_and_after_hooks_still_run() {
    let case = Case::new();
    let marker = case.path("sleeping");
    let mut exp = experiment(json!([
        py("sleep", "sleep_after_marking", json!({"marker": marker, "seconds": 30})),
        py("never", "echo", json!({}))
    ]));
    exp["controls"] = json!([control("T", json!({}))]);
    exp["rollbacks"] = json!([{"type": "action", "name": "count-hooks", "provider": {"type": "python", "module": "ctkctl", "func": "calls_so_far"}}]);
    let mut args = case.args(&exp);
    args.rollback_strategy = Some(RollbackStrategy::Always);
    let interrupt = Interrupt::new();
    let raiser = {
        let (interrupt, marker) = (interrupt.clone(), marker.clone());
        std::thread::spawn(move || {
            let give_up = Instant::now() + Duration::from_secs(60);
            while !marker.exists() && Instant::now() < give_up {
                std::thread::sleep(Duration::from_millis(10));
            }
            interrupt.raise(Signal::Int);
        })
    };
    let started = Instant::now();
    let ran = case.run_in(&args, &case.environment(), &interrupt);
    raiser.join().expect("raiser");
    assert!(started.elapsed() < Duration::from_secs(15), "the 30 s sleep was cut short: {:?}", started.elapsed());
    assert_eq!(ran.journal["status"], "interrupted");
    assert_eq!(ran.journal["interruption"]["name"], "SIGINT");
    let run = &ran.journal["run"];
    assert_eq!(run.as_array().map(Vec::len), Some(1));
    assert!(run[0].get("status").is_none(), "the interrupted record has no status");
    let log = case.control_log();
    let after_sleep = log.iter().find(|e| e["hook"] == "after_activity_control" && e["context"] == "sleep");
    assert_eq!(after_sleep.map(|e| e["state"].clone()), Some(Value::Null), "after-hook without a state");
    // The helper and its module state survived: the rollback counts the hooks seen so far.
    let seen = ran.journal["rollbacks"][0]["output"].as_u64().unwrap_or_default();
    assert!(seen >= 8, "module state kept across the interruption ({seen} hooks)");
    assert_eq!(case.bridge.helper_starts(), 1);
    assert_eq!(case.hooks().last().map(|(h, _)| h.as_str()), Some("cleanup_control"));
}

#[test]
fn control_failures_follow_the_reference() {
    let case = Case::new();
    // A hook raising: logged, the run goes on. A global whose configure_control raises is
    // dropped; an experiment control's is kept. An unimportable control module: warning
    // at validation, hooks skipped.
    let mut exp = experiment(json!([py("m1", "echo", json!({}))]));
    exp["controls"] = json!([
        control("E", json!({"fail": "configure_control"})),
        control("F", json!({"fail": "before_method_control"})),
        {"name": "missing", "provider": {"type": "python", "module": "nope_not_here"}}
    ]);
    let settings = json!({"controls": {
        "G": {"provider": {"type": "python", "module": "ctkctl", "arguments": {"label": "G", "fail": "configure_control"}}},
        "K": {"provider": {"type": "python", "module": "ctkctl", "arguments": {"label": "K"}}},
        "gone": {"provider": {"type": "python", "module": "nope_not_here"}}
    }});
    let environment = case.environment().with_settings(settings);
    let ran = case.run_in(&case.args(&exp), &environment, &Interrupt::new());
    assert_eq!(ran.outcome.exit_code, 0, "{}", ran.console);
    let labels =
        |hook: &str| -> Vec<String> { case.hooks().into_iter().filter(|(h, _)| h == hook).map(|(_, l)| l).collect() };
    assert_eq!(labels("configure_control"), ["G", "K", "E", "F"]);
    assert_eq!(labels("before_experiment_control"), ["K", "E", "F"], "G is dropped, E kept");
    assert_eq!(labels("before_method_control"), ["E", "F"], "globals skip the method level");
    assert_eq!(labels("after_method_control"), ["E", "F"], "F's failure changed nothing");
    assert_eq!(ran.journal["run"][0]["status"], "succeeded");
}

#[test]
fn a_failing_cleanup_still_gives_a_journal_and_the_final_events() {
    let case = Case::new();
    let mut exp = experiment(json!([py("m1", "echo", json!({}))]));
    exp["controls"] = json!([control("T", json!({"fail_cleanup": true}))]);
    let ran = case.run(&case.args(&exp));
    // chaostoolkit crashes here: a traceback, exit 1, no journal, no final event.
    assert_eq!(ran.outcome.exit_code, 0);
    assert_eq!(ran.journal["status"], "completed");
    assert_eq!(ran.events, ["run-started", "run-completed"]);
    assert_eq!(case.hooks().last().map(|(h, _)| h.as_str()), Some("cleanup_control"));
}

#[test]
fn validate_control_errors_and_interrupt_execution_from_activities() {
    let case = Case::new();
    let mut exp = experiment(json!([py("m1", "echo", json!({}))]));
    exp["controls"] = json!([control("V", json!({"invalid": true}))]);
    let ran = case.run(&case.args(&exp));
    assert_eq!(ran.outcome.validation_error.map(|e| e.to_string()).as_deref(), Some("control V says it is invalid"));
    // InterruptExecution from a python activity: interrupted, the rest skipped.
    let mut exp =
        experiment(json!([py("stop", "interrupt", json!({"message": "enough"})), py("never", "echo", json!({}))]));
    exp["rollbacks"] = json!([py("r", "echo", json!({}))]);
    let ran = case.run(&case.args(&exp));
    assert_eq!((ran.outcome.exit_code, ran.journal["status"].as_str()), (1, Some("interrupted")));
    assert_eq!(ran.journal["run"].as_array().map(Vec::len), Some(1));
    assert_eq!(ran.journal["rollbacks"], json!([]), "the default strategy plays none");
}

#[test]
fn python_tolerance_probes_and_dynamic_configuration() {
    let case = Case::new();
    let mut exp = experiment(json!([py("m", "greet", json!({"name": "${who}"}))]));
    exp["configuration"] = json!({"who": {"type": "probe", "name": "who", "provider": {"type": "python", "module": "ctkacts", "func": "echo", "arguments": {"value": "world"}}}});
    let raising =
        json!({"type": "probe", "name": "t", "provider": {"type": "python", "module": "ctkacts", "func": "boom"}});
    exp["steady-state-hypothesis"] = json!({"title": "h", "probes": [
        {"type": "probe", "name": "p", "tolerance": raising, "provider": {"type": "python", "module": "ctkacts", "func": "echo", "arguments": {"value": 1}}}
    ]});
    let ran = case.run(&case.args(&exp));
    assert_eq!(ran.journal["steady_states"]["before"]["steady_state_met"], false, "a raising tolerance is not met");
    assert_eq!(ran.journal["steady_states"]["before"]["probes"][0]["status"], "succeeded");
    exp["steady-state-hypothesis"]["probes"][0]["tolerance"]["provider"]["func"] = json!("at_least");
    let ran = case.run(&case.args(&exp));
    assert_eq!(ran.outcome.exit_code, 0, "{}", ran.console);
    assert_eq!(ran.journal["run"][0]["output"], "hello world [-]");
}

#[test]
fn validate_imports_python_modules_and_checks_controls() {
    let case = Case::new();
    let environment = case.environment();
    let validate = |exp: &Value| {
        notifier_runner::cli::validate_with(
            &ValidateArgs { experiment: case.experiment(exp) },
            &environment,
            &notifier_runner::NoNotifications,
            &mut Vec::new(),
        )
        .expect("validate")
    };
    let mut exp = experiment(json!([py("m1", "echo", json!({}))]));
    exp["controls"] = json!([{"name": "missing", "provider": {"type": "python", "module": "nope_not_here"}}]);
    let outcome = validate(&exp);
    assert_eq!(outcome.exit_code, 0, "an unimportable control module is only a warning");
    assert!(outcome.python_started);
    exp["method"] = json!([py("m1", "nope", json!({}))]);
    let outcome = validate(&exp);
    assert_eq!(outcome.exit_code, 1);
    assert_eq!(
        outcome.error.map(|e| e.error_value()),
        Some(json!(
            "An exception was raised: InvalidActivity('The python module 'ctkacts' does not expose a function called 'nope' in action 'm1'')"
        ))
    );
    assert!(Path::new(&fixtures()).join("ctkacts.py").exists());
}
