//! The during-method-only and continuously hypothesis strategies, with real processes:
//! `examples/experiments/during-method.json` has a probe that checks a marker file the
//! method creates, and the method waits on the probe's run count (a file), so the
//! iterations are the same on every run: met, met, not met. Events go to a real
//! loopback HTTP server.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{HttpChannel, Server, example, names};
use notifier_runner::{HypothesisStrategy, Interrupt, RunArgs, Signal, Var};
use serde_json::{Value, json};
use tempfile::TempDir;

struct Run {
    exit_code: i32,
    journal: Value,
    events: Vec<Value>,
    console: String,
    tmp: TempDir,
}

fn var(name: &str, value: &str) -> Var {
    Var { name: name.into(), value: json!(value) }
}

fn args(experiment: PathBuf, tmp: &TempDir, strategy: HypothesisStrategy, vars: &[(&str, &str)]) -> RunArgs {
    let mut a = RunArgs::new(experiment);
    a.journal_path = tmp.path().join("journal.json");
    a.hypothesis_strategy = Some(strategy);
    a.vars = vec![var("dir", &tmp.path().to_string_lossy())];
    a.vars.extend(vars.iter().map(|(k, v)| var(k, v)));
    a
}

fn run_with(args: &RunArgs, tmp: TempDir, interrupt: &Interrupt) -> Run {
    let server = Server::start();
    let channel = HttpChannel::new(&server, &args.journal_path);
    let mut console = Vec::new();
    let outcome = notifier_runner::run_interruptible(args, &channel, &mut console, interrupt).expect("run");
    let journal =
        std::fs::read(&args.journal_path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null);
    Run {
        exit_code: outcome.exit_code,
        journal,
        events: server.events(),
        console: String::from_utf8_lossy(&console).into_owned(),
        tmp,
    }
}

fn run(args: &RunArgs, tmp: TempDir) -> Run {
    run_with(args, tmp, &Interrupt::new())
}

fn verdicts(states: &Value) -> Vec<bool> {
    states.as_array().map(|s| s.iter().map(|s| s["steady_state_met"] == true).collect()).unwrap_or_default()
}

fn activity_names(runs: &Value) -> Vec<String> {
    runs.as_array()
        .map(|r| r.iter().map(|run| run["activity"]["name"].as_str().unwrap_or("?").to_string()).collect())
        .unwrap_or_default()
}

const ALL_ACTIONS: [&str; 4] =
    ["wait-for-the-first-checks", "create-marker", "wait-for-a-check-that-sees-it", "last-action"];

#[test]
fn during_method_only_records_each_iteration_and_a_miss_never_deviates() {
    let tmp = TempDir::new().expect("tmp");
    let a = args(example("during-method.json"), &tmp, HypothesisStrategy::DuringMethodOnly, &[]);
    let r = run(&a, tmp);
    let states = &r.journal["steady_states"];
    assert_eq!(verdicts(&states["during"]), [true, true, false], "the probe saw the marker the method created");
    assert_eq!(states["during"][2]["probes"][0]["output"]["status"], 1);
    assert_eq!(states["during"][2]["probes"][0]["tolerance_met"], false);
    assert_eq!((&states["before"], &states["after"]), (&Value::Null, &Value::Null));
    assert_eq!(r.journal["status"], "completed");
    assert_eq!(r.journal["deviated"], false, "a miss during the method never deviates");
    assert_eq!(r.exit_code, 0);
    assert_eq!(activity_names(&r.journal["run"]), ALL_ACTIONS);
    assert_eq!(activity_names(&r.journal["rollbacks"]), ["remove-marker"]);
    assert_eq!(names(&r.events), ["run-started", "run-completed"]);
    assert!(r.console.contains("iteration 3: NOT met (probe marker-is-absent)"), "{}", r.console);
    assert!(r.console.contains("during 2 of 3 met"), "{}", r.console);
}

#[test]
fn during_method_only_with_fail_fast_fails_after_the_current_activity() {
    let tmp = TempDir::new().expect("tmp");
    let mut a = args(example("during-method.json"), &tmp, HypothesisStrategy::DuringMethodOnly, &[("linger", "1")]);
    a.fail_fast = true;
    a.hypothesis_frequency = 0.5;
    let r = run(&a, tmp);
    assert_eq!(verdicts(&r.journal["steady_states"]["during"]), [true, true, false], "no iteration after the miss");
    assert_eq!(r.journal["status"], "failed");
    assert_eq!(r.exit_code, 1);
    assert_eq!(activity_names(&r.journal["run"]), ALL_ACTIONS[..3], "the method stopped after its current activity");
    assert_eq!(r.journal["rollbacks"], json!([]), "the default strategy plays no rollback for a failed run");
    assert_eq!(names(&r.events), ["run-started", "run-failed"]);
    assert!(r.tmp.path().join("marker").exists(), "no rollback removed it");
}

#[test]
fn continuously_checks_before_during_and_after_and_the_after_check_decides() {
    let tmp = TempDir::new().expect("tmp");
    let vars = [("first", "3"), ("second", "4"), ("linger", "1")];
    let mut a = args(example("during-method.json"), &tmp, HypothesisStrategy::Continuously, &vars);
    a.fail_fast = true;
    let r = run(&a, tmp);
    let states = &r.journal["steady_states"];
    assert_eq!(states["before"]["steady_state_met"], true);
    assert_eq!(verdicts(&states["during"]), [true, true, false]);
    assert_eq!(states["after"]["steady_state_met"], false);
    // Fail-fast set `failed`; the hypothesis after the method overwrote it.
    assert_eq!(r.journal["status"], "completed");
    assert_eq!(r.journal["deviated"], true);
    assert_eq!(r.exit_code, 1);
    assert_eq!(activity_names(&r.journal["run"]), ALL_ACTIONS[..3]);
    assert_eq!(activity_names(&r.journal["rollbacks"]), ["remove-marker"]);
    assert_eq!(names(&r.events), ["run-started", "run-completed", "run-deviated"]);
    assert!(!r.tmp.path().join("marker").exists(), "the rollback removed it");
}

#[test]
fn the_first_iteration_runs_at_once_and_the_next_wait_ends_with_the_method() {
    // With 10 minutes between iterations, the run still ends as soon as the method does,
    // with exactly one iteration.
    let tmp = TempDir::new().expect("tmp");
    let mut a = args(example("local-health.json"), &tmp, HypothesisStrategy::DuringMethodOnly, &[]);
    a.hypothesis_frequency = 600.0;
    let started = Instant::now();
    let r = run(&a, tmp);
    assert!(started.elapsed() < Duration::from_secs(300), "hang guard");
    assert_eq!(verdicts(&r.journal["steady_states"]["during"]), [true]);
    assert_eq!(r.journal["status"], "completed");
    assert_eq!(r.exit_code, 0);
}

#[test]
fn an_unexpected_error_in_the_during_thread_aborts_the_run() {
    let tmp = TempDir::new().expect("tmp");
    let mut a = args(example("missing-probe-executable.json"), &tmp, HypothesisStrategy::DuringMethodOnly, &[]);
    a.no_validation = true;
    let r = run(&a, tmp);
    assert_eq!(r.journal["status"], "aborted");
    assert_eq!(r.journal["steady_states"]["during"], json!([]), "the iteration that raised is not kept");
    assert_eq!(activity_names(&r.journal["run"]), ["sleep-1-second"], "the method stopped after its current activity");
    assert_eq!(activity_names(&r.journal["rollbacks"]), ["rollback"], "the default strategy plays them when aborted");
    assert_eq!(r.exit_code, 1);
    assert_eq!(names(&r.events), ["run-started", "run-failed"]);
}

#[test]
fn an_unexpected_error_before_the_method_aborts_the_run_with_a_journal() {
    // chaostoolkit crashes here (a traceback, no journal, no run-failed).
    let tmp = TempDir::new().expect("tmp");
    let mut a = args(example("missing-probe-executable.json"), &tmp, HypothesisStrategy::Default, &[]);
    a.no_validation = true;
    let r = run(&a, tmp);
    assert_eq!(r.journal["status"], "aborted");
    assert_eq!(r.journal["steady_states"]["before"], Value::Null);
    assert_eq!(r.journal["run"], json!([]), "the method never ran");
    assert_eq!(activity_names(&r.journal["rollbacks"]), ["rollback"]);
    assert_eq!(r.exit_code, 1);
    assert_eq!(names(&r.events), ["run-started", "run-failed"]);
    assert!(r.console.contains("aborted: path 'surely-not-an-installed-command' cannot be found"), "{}", r.console);
}

#[test]
fn a_signal_stops_the_during_thread_with_the_method() {
    let tmp = TempDir::new().expect("tmp");
    let started_file = tmp.path().join("method-started");
    let a = args(example("long-action.json"), &tmp, HypothesisStrategy::Continuously, &[]);
    let interrupt = Interrupt::new();
    let raiser = {
        let interrupt = interrupt.clone();
        std::thread::spawn(move || {
            let give_up = Instant::now() + Duration::from_secs(60);
            while !started_file.exists() && Instant::now() < give_up {
                std::thread::sleep(Duration::from_millis(10));
            }
            interrupt.raise(Signal::Int);
        })
    };
    let started = Instant::now();
    let r = run_with(&a, tmp, &interrupt);
    raiser.join().ok();
    assert!(started.elapsed() < Duration::from_secs(25), "hang guard: the sleep lasts 30 s");
    assert_eq!(r.journal["status"], "interrupted");
    assert_eq!(r.journal["interruption"]["name"], "SIGINT");
    assert_eq!(r.journal["steady_states"]["after"], Value::Null);
    let during = r.journal["steady_states"]["during"].as_array().cloned().unwrap_or_default();
    assert!(during.iter().all(|s| s["steady_state_met"] == true), "only whole iterations are kept: {during:?}");
    assert_eq!(r.exit_code, 1);
    assert_eq!(names(&r.events), ["run-started", "run-failed"]);
}
