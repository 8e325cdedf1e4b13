//! End-to-end runs: real experiments, real processes, a real loopback HTTP server (the
//! probed service and the notification sink the events are POSTed to). Each test
//! checks the journal on disk, the exit code and the exact events.

mod common;

use std::path::{Path, PathBuf};

use common::{HttpChannel, Sent, Server, example, names};
use notifier_core::Event;
use notifier_runner::{
    DryMode, HypothesisStrategy, Recorder, RollbackStrategy, RunArgs, RunOutcome, RunStatus, RunnerError, Var,
};
use serde_json::{Value, json};
use tempfile::TempDir;

struct Run {
    outcome: RunOutcome,
    /// What the notifier was handed, in order.
    sent: Vec<Sent>,
    /// The envelopes the HTTP sink received, in order.
    received: Vec<Value>,
    /// The journal file, as written.
    journal: Value,
    console: String,
}

fn var(name: &str, value: &str) -> Var {
    Var { name: name.into(), value: json!(value) }
}

fn args(experiment: impl Into<PathBuf>, tmp: &TempDir) -> RunArgs {
    let mut a = RunArgs::new(experiment);
    a.journal_path = tmp.path().join("journal.json");
    a
}

fn run(args: &RunArgs, server: &Server) -> Run {
    let channel = HttpChannel::new(server, &args.journal_path);
    let mut console = Vec::new();
    let outcome = notifier_runner::run(args, &channel, &mut console).expect("run");
    let journal =
        std::fs::read(&args.journal_path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null);
    Run {
        outcome,
        sent: channel.sent(),
        received: server.events(),
        journal,
        console: String::from_utf8_lossy(&console).into_owned(),
    }
}

fn write_experiment(tmp: &TempDir, name: &str, experiment: &Value) -> PathBuf {
    let path = tmp.path().join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(experiment).expect("json")).expect("write");
    path
}

fn activity_names(runs: &Value) -> Vec<String> {
    runs.as_array()
        .map(|r| r.iter().map(|run| run["activity"]["name"].as_str().unwrap_or("?").to_string()).collect())
        .unwrap_or_default()
}

fn statuses(runs: &Value) -> Vec<String> {
    runs.as_array()
        .map(|r| r.iter().map(|run| run["status"].as_str().unwrap_or("?").to_string()).collect())
        .unwrap_or_default()
}

/// The final events carry the journal, which is on disk by then.
fn assert_final_events_carry_the_written_journal(r: &Run) {
    for sent in &r.sent[1..] {
        assert!(sent.journal_existed, "{} sent before the journal was written", sent.event.name());
        assert_eq!(sent.payload, r.journal, "{} payload is the journal", sent.event.name());
        assert_eq!(sent.error, None);
    }
}

#[test]
fn met_before_and_after_completes_with_exit_0() {
    let (server, tmp) = (Server::start(), TempDir::new().expect("tmp"));
    let a = args(example("local-health.json"), &tmp);
    let r = run(&a, &server);

    assert_eq!(r.outcome.exit_code, 0);
    assert_eq!(r.outcome.status, RunStatus::Completed);
    assert!(!r.outcome.deviated);
    assert_eq!(names(&r.received), ["run-started", "run-completed"]);
    assert_eq!(r.outcome.events, [Event::RunStarted, Event::RunCompleted]);
    // run-started carries the experiment exactly as loaded (no "dry" key).
    let loaded: Value =
        serde_json::from_slice(&std::fs::read(example("local-health.json")).expect("read")).expect("json");
    assert_eq!(r.received[0]["payload"], loaded);
    assert_eq!(r.received[0]["phase"], "run");
    assert!(r.received[0].get("error").is_none());
    assert_final_events_carry_the_written_journal(&r);

    let j = &r.journal;
    let keys: Vec<&str> = j.as_object().map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
    assert_eq!(
        keys,
        [
            "notifier-version",
            "platform",
            "node",
            "experiment",
            "start",
            "status",
            "deviated",
            "steady_states",
            "run",
            "rollbacks",
            "end",
            "duration"
        ]
    );
    assert_eq!(j["notifier-version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(j["experiment"]["dry"], Value::Null);
    assert_eq!(j["status"], "completed");
    assert!(j["start"].as_str().is_some_and(|s| s.ends_with("+00:00")));
    assert!(j["duration"].as_f64().is_some_and(|d| d >= 0.0));
    for when in ["before", "after"] {
        let state = &j["steady_states"][when];
        assert_eq!(state["steady_state_met"], true, "{when}");
        assert_eq!(activity_names(&state["probes"]), ["true-exits-zero", "temporary-directory-exists", "echo-greets"]);
        assert!(state["probes"].as_array().is_some_and(|p| p.iter().all(|p| p["tolerance_met"] == true)));
    }
    assert_eq!(j["steady_states"]["during"], json!([]));
    assert_eq!(activity_names(&j["run"]), ["say-hello", "true-exits-zero"]);
    assert_eq!(
        j["run"][0]["output"],
        json!({"status": 0, "stdout": "hello from notifier to the method\n", "stderr": ""})
    );
    let run_keys: Vec<&str> =
        j["run"][0].as_object().map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
    assert_eq!(run_keys, ["activity", "output", "start", "status", "end", "duration"]);
    // A `ref` runs (and records) the activity it names.
    assert_eq!(j["run"][1]["activity"]["tolerance"], 0);
    assert_eq!(activity_names(&j["rollbacks"]), ["say-goodbye"]);
    assert_eq!(j["rollbacks"][0]["output"]["stdout"], "goodbye\n");

    assert!(r.console.contains("Steady-state hypothesis (before the method)"), "{}", r.console);
    assert!(r.console.contains("[ok] probe  true-exits-zero"), "{}", r.console);
    assert!(r.console.contains("[ok] action say-hello"), "{}", r.console);
    assert!(r.console.contains("Result: completed in"), "{}", r.console);
}

#[test]
fn yaml_experiment_runs_like_its_json_twin() {
    let (server, tmp) = (Server::start(), TempDir::new().expect("tmp"));
    let r = run(&args(example("local-health.yaml"), &tmp), &server);
    assert_eq!(r.outcome.exit_code, 0);
    assert_eq!(names(&r.received), ["run-started", "run-completed"]);
    let json: Value =
        serde_json::from_slice(&std::fs::read(example("local-health.json")).expect("read")).expect("json");
    assert_eq!(r.received[0]["payload"], json);
    assert_eq!(r.journal["run"][0]["output"]["stdout"], "hello from notifier to the method\n");
}

#[test]
fn tolerance_missed_before_the_method_skips_it_and_still_completes() {
    let (server, tmp) = (Server::start(), TempDir::new().expect("tmp"));
    let r = run(&args(example("steady-state-not-met.json"), &tmp), &server);

    // chaostoolkit-lib 1.45.1: completed, exit 0, run-completed.
    assert_eq!(r.outcome.exit_code, 0);
    assert_eq!(r.outcome.status, RunStatus::Completed);
    assert_eq!(names(&r.received), ["run-started", "run-completed"]);
    assert_final_events_carry_the_written_journal(&r);
    let j = &r.journal;
    assert_eq!(j["status"], "completed");
    assert_eq!(j["deviated"], false);
    let before = &j["steady_states"]["before"];
    assert_eq!(before["steady_state_met"], false);
    assert_eq!(before["probes"][0]["status"], "succeeded");
    assert_eq!(before["probes"][0]["tolerance_met"], false);
    assert_eq!(before["probes"][0]["output"]["status"], 1);
    assert_eq!(j["steady_states"]["after"], Value::Null);
    assert_eq!(j["run"], json!([]));
    // The default strategy plays rollbacks unless the run failed.
    assert_eq!(activity_names(&j["rollbacks"]), ["rollback-anyway"]);
    assert!(r.console.contains("steady state NOT met"), "{}", r.console);
}

#[test]
fn deviation_after_the_method_sends_run_deviated_and_exits_1() {
    let (server, tmp) = (Server::start(), TempDir::new().expect("tmp"));
    let marker = tmp.path().join("marker");
    let mut a = args(example("deviated.json"), &tmp);
    a.vars = vec![var("marker", &marker.to_string_lossy())];
    let r = run(&a, &server);

    assert_eq!(r.outcome.exit_code, 1);
    assert_eq!(r.outcome.status, RunStatus::Completed);
    assert!(r.outcome.deviated);
    assert_eq!(names(&r.received), ["run-started", "run-completed", "run-deviated"]);
    assert_eq!(r.outcome.events, [Event::RunStarted, Event::RunCompleted, Event::RunDeviated]);
    assert_final_events_carry_the_written_journal(&r);
    let j = &r.journal;
    assert_eq!(j["status"], "completed");
    assert_eq!(j["deviated"], true);
    assert_eq!(j["steady_states"]["before"]["steady_state_met"], true);
    assert_eq!(j["steady_states"]["after"]["steady_state_met"], false);
    assert_eq!(j["steady_states"]["after"]["probes"][0]["tolerance_met"], false);
    assert_eq!(activity_names(&j["run"]), ["create-marker"]);
    // The default strategy played the rollback, which removed the marker.
    assert_eq!(activity_names(&j["rollbacks"]), ["remove-marker"]);
    assert!(!marker.exists());
    // `${marker}` was substituted in the process arguments, not in the journal copy.
    assert_eq!(j["run"][0]["activity"]["provider"]["arguments"], json!(["${marker}"]));
    assert!(r.console.contains("DEVIATED"), "{}", r.console);
}

#[test]
fn rollback_strategies_on_a_deviated_run() {
    for (strategy, played) in [
        (Some(RollbackStrategy::Default), true),
        (Some(RollbackStrategy::Always), true),
        (Some(RollbackStrategy::Never), false),
        (Some(RollbackStrategy::Deviated), true),
    ] {
        let (server, tmp) = (Server::start(), TempDir::new().expect("tmp"));
        let marker = tmp.path().join("marker");
        let mut a = args(example("deviated.json"), &tmp);
        a.vars = vec![var("marker", &marker.to_string_lossy())];
        a.rollback_strategy = strategy;
        let r = run(&a, &server);
        assert_eq!(r.outcome.exit_code, 1, "{strategy:?}");
        let expected: &[&str] = if played { &["remove-marker"] } else { &[] };
        assert_eq!(activity_names(&r.journal["rollbacks"]), expected, "{strategy:?}");
        assert_eq!(marker.exists(), !played, "{strategy:?}");
        assert_eq!(names(&r.received), ["run-started", "run-completed", "run-deviated"]);
    }
}

#[test]
fn rollback_strategies_on_a_failed_run() {
    for (strategy, played) in [
        (None, false),
        (Some(RollbackStrategy::Default), false),
        (Some(RollbackStrategy::Always), true),
        (Some(RollbackStrategy::Never), false),
        (Some(RollbackStrategy::Deviated), false),
    ] {
        let (server, tmp) = (Server::start(), TempDir::new().expect("tmp"));
        let mut a = args(example("failing-probe.json"), &tmp);
        a.rollback_strategy = strategy;
        let r = run(&a, &server);
        assert_eq!(r.outcome.exit_code, 1, "{strategy:?}");
        assert_eq!(r.outcome.status, RunStatus::Failed);
        assert_eq!(names(&r.received), ["run-started", "run-failed"], "{strategy:?}");
        let expected: &[&str] = if played { &["rollback-if-asked"] } else { &[] };
        assert_eq!(activity_names(&r.journal["rollbacks"]), expected, "{strategy:?}");
    }
}

#[test]
fn failing_probe_fails_the_run_with_its_exception() {
    let (server, tmp) = (Server::start(), TempDir::new().expect("tmp"));
    let r = run(&args(example("failing-probe.json"), &tmp), &server);
    assert_eq!(r.outcome.exit_code, 1);
    assert_eq!(names(&r.received), ["run-started", "run-failed"]);
    assert_final_events_carry_the_written_journal(&r);
    let j = &r.journal;
    assert_eq!(j["status"], "failed");
    let probe = &j["steady_states"]["before"]["probes"][0];
    assert_eq!(probe["status"], "failed");
    assert_eq!(probe["output"], Value::Null);
    assert_eq!(probe["tolerance_met"], false);
    let exception = probe["exception"][0].as_str().unwrap_or_default();
    assert!(exception.starts_with("ActivityFailed: failed to connect to http://127.0.0.1:1/health: "), "{exception}");
    let keys: Vec<&str> = probe.as_object().map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
    assert_eq!(keys, ["activity", "output", "start", "status", "exception", "end", "duration", "tolerance_met"]);
    assert_eq!(j["run"], json!([]));
    assert_eq!(j["steady_states"]["after"], Value::Null);
    // run-failed carries the journal, without an error key.
    assert!(r.received[1].get("error").is_none());
    assert_eq!(r.received[1]["payload"]["status"], "failed");
}

#[test]
fn failing_actions_do_not_change_the_status_and_a_process_timeout_is_recorded() {
    let (server, tmp) = (Server::start(), TempDir::new().expect("tmp"));
    let started = std::time::Instant::now();
    let r = run(&args(example("method-failure.json"), &tmp), &server);
    // The 10 s sleep was cut at its 0.5 s timeout (loose bound: shared machines are slow).
    assert!(started.elapsed() < std::time::Duration::from_secs(9));
    assert_eq!(r.outcome.exit_code, 0);
    assert_eq!(names(&r.received), ["run-started", "run-completed"]);
    let run0 = &r.journal["run"][0];
    assert_eq!(run0["activity"]["name"], "sleep-past-its-timeout");
    assert_eq!(run0["status"], "failed");
    assert_eq!(run0["output"], Value::Null);
    assert_eq!(run0["exception"], json!(["ActivityFailed: process activity took too long to complete\n"]));
    let run1 = &r.journal["run"][1];
    assert_eq!(run1["status"], "succeeded");
    assert_eq!(run1["output"], json!({"status": 3, "stdout": "", "stderr": "failing\n"}));
    assert_eq!(statuses(&r.journal["rollbacks"]), ["succeeded"]);
    assert!(r.console.contains("process activity took too long to complete"), "{}", r.console);
    assert!(r.console.contains("exit status 3"), "{}", r.console);
}

#[test]
fn http_probes_and_actions_against_a_real_server() {
    let (server, tmp) = (Server::start(), TempDir::new().expect("tmp"));
    let mut a = args(example("http-health.json"), &tmp);
    a.vars = vec![var("service_url", &server.url())];
    let r = run(&a, &server);
    assert_eq!(r.outcome.exit_code, 0, "{}", r.console);
    assert_eq!(names(&r.received), ["run-started", "run-completed"]);
    let probes = &r.journal["steady_states"]["before"]["probes"];
    assert_eq!(activity_names(probes), ["health-answers-200", "health-says-ok", "text-says-healthy", "status-is-2xx"]);
    assert_eq!(probes[0]["output"]["status"], 200);
    assert_eq!(probes[0]["output"]["body"], json!({"status": "ok"}));
    assert_eq!(probes[0]["output"]["headers"]["Content-Type"], "application/json");
    assert_eq!(probes[2]["output"]["body"], "healthy\n");
    let run = &r.journal["run"];
    assert_eq!(run[0]["output"]["body"], json!({"received": {"kind": "chaos", "count": 2}}));
    // A 503 is an output, not a failure.
    assert_eq!(run[1]["status"], "succeeded");
    assert_eq!(run[1]["output"]["status"], 503);

    let received = server.received();
    let post = received.iter().find(|q| q.path == "/action").expect("the action reached the server");
    assert_eq!(post.method, "POST");
    assert!(post.headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v == "application/json"));
    assert_eq!(serde_json::from_slice::<Value>(&post.body).ok(), Some(json!({"kind": "chaos", "count": 2})));
    assert!(received.iter().any(|q| q.path == "/health?verbose=1"));
}

#[test]
fn http_timeout_fails_the_probe() {
    let (server, tmp) = (Server::start(), TempDir::new().expect("tmp"));
    let experiment = json!({
        "title": "slow service",
        "description": "the probe gives up after its timeout",
        "steady-state-hypothesis": {"title": "answers quickly", "probes": [
            {"type": "probe", "name": "slow", "tolerance": 200,
             "provider": {"type": "http", "url": format!("{}/slow", server.url()), "timeout": 0.3}}
        ]},
        "method": []
    });
    let path = write_experiment(&tmp, "slow.json", &experiment);
    let r = run(&args(path, &tmp), &server);
    assert_eq!(r.outcome.exit_code, 1);
    assert_eq!(names(&r.received), ["run-started", "run-failed"]);
    let probe = &r.journal["steady_states"]["before"]["probes"][0];
    assert_eq!(probe["status"], "failed");
    assert_eq!(probe["exception"], json!(["ActivityFailed: activity took too long to complete\n"]));
}

#[test]
fn invalid_experiment_sends_run_started_then_run_failed_with_the_error() {
    let (server, tmp) = (Server::start(), TempDir::new().expect("tmp"));
    let a = args(example("invalid-no-description.json"), &tmp);
    let recorder = Recorder::default();
    let mut console = Vec::new();
    let outcome = notifier_runner::run(&a, &recorder, &mut console).expect("run");
    assert_eq!(outcome.exit_code, 1);
    assert_eq!(outcome.status, RunStatus::Invalid);
    assert!(outcome.journal.is_none());
    assert!(!a.journal_path.exists(), "no journal for an experiment that did not run");
    let loaded: Value =
        serde_json::from_slice(&std::fs::read(example("invalid-no-description.json")).expect("read")).expect("json");
    let events = recorder.events();
    assert_eq!(recorder.names(), ["run-started", "run-failed"]);
    assert_eq!(events[0], (Event::RunStarted, loaded.clone(), None));
    assert_eq!(
        events[1],
        (
            Event::RunFailed,
            loaded,
            Some(json!("An exception was raised: InvalidExperiment('experiment requires a description')"))
        )
    );
    let console = String::from_utf8_lossy(&console);
    assert!(console.contains("error: InvalidExperiment: experiment requires a description"), "{console}");
    // Through the HTTP channel: the same two envelopes, error last.
    let r = run(&a, &server);
    assert_eq!(names(&r.received), ["run-started", "run-failed"]);
    assert_eq!(
        r.received[1]["error"],
        "An exception was raised: InvalidExperiment('experiment requires a description')"
    );
    let keys: Vec<&str> = r.received[1].as_object().map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
    assert_eq!(keys, ["name", "payload", "phase", "ts", "error"]);
}

#[test]
fn load_failures_send_nothing() {
    let tmp = TempDir::new().expect("tmp");
    let broken = tmp.path().join("broken.json");
    std::fs::write(&broken, "{\n  \"title\": \"x\",\n  oops\n}").expect("write");
    let bad_yaml = tmp.path().join("broken.yaml");
    std::fs::write(&bad_yaml, "title: x\nmethod: [\n").expect("write");
    let text = tmp.path().join("experiment.txt");
    std::fs::write(&text, "{}").expect("write");
    let cases: [(&Path, &str); 4] = [
        (Path::new("surely/not/here.json"), "Path \"surely/not/here.json\" does not exist."),
        (&broken, ":3:3: invalid JSON experiment: key must be a string"),
        (&bad_yaml, ": Failed parsing YAML experiment: "),
        (&text, ": only files with json, yaml or yml extensions are supported"),
    ];
    for (path, message) in cases {
        let recorder = Recorder::default();
        let a = args(path, &tmp);
        let err = notifier_runner::run(&a, &recorder, &mut Vec::new()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(message), "{path:?}: {err}");
        assert!(recorder.events().is_empty(), "{path:?}");
        let err = notifier_runner::validate(
            &notifier_runner::ValidateArgs { experiment: path.to_path_buf() },
            &recorder,
            &mut Vec::new(),
        );
        assert!(matches!(err, Err(RunnerError::Load(_))), "{path:?}");
        assert!(recorder.events().is_empty(), "{path:?}");
    }
    let yaml_err = notifier_runner::load::load_experiment(&bad_yaml).err().and_then(|e| e.location());
    assert!(matches!(yaml_err, Some((3, _))), "{yaml_err:?}");
}

#[test]
fn dry_modes() {
    let cases = [
        (DryMode::Activities, [true, true, true]),
        (DryMode::Probes, [true, false, false]),
        (DryMode::Actions, [false, true, true]),
        (DryMode::Pause, [false, false, false]),
    ];
    for (dry, [probe_skipped, action_skipped, rollback_skipped]) in cases {
        let (server, tmp) = (Server::start(), TempDir::new().expect("tmp"));
        let mut a = args(example("local-health.json"), &tmp);
        a.dry = Some(dry);
        let r = run(&a, &server);
        assert_eq!(r.outcome.exit_code, 0, "{dry:?}");
        assert_eq!(r.journal["experiment"]["dry"], dry.as_str());
        assert_eq!(names(&r.received), ["run-started", "run-completed"]);
        // run-started never carries the dry key.
        assert!(r.received[0]["payload"].get("dry").is_none());
        let probe = &r.journal["steady_states"]["before"]["probes"][0];
        assert_eq!(probe["output"].is_null(), probe_skipped, "{dry:?}");
        assert_eq!(probe["status"], "succeeded");
        assert_eq!(r.journal["run"][0]["output"].is_null(), action_skipped, "{dry:?}");
        assert_eq!(r.journal["rollbacks"][0]["output"].is_null(), rollback_skipped, "{dry:?}");
    }
}

#[test]
fn configuration_secrets_vars_and_pauses() {
    let (server, tmp) = (Server::start(), TempDir::new().expect("tmp"));
    let experiment = json!({
        "title": "Substitution in ${where}",
        "description": "configuration, env configuration, inline and env secrets, --var",
        "configuration": {
            "where": "the title",
            "word": "configured",
            "count": {"type": "env", "key": "NOTIFIER_RUNNER_TEST_UNSET_COUNT", "default": "3", "env_var_type": "int"},
            "short_pause": 0.01,
            "overridden": "no"
        },
        "secrets": {
            "vault-like": {"token": "s3cret", "path_secret": {"type": "env", "key": "PATH"}}
        },
        "method": [
            {"type": "action", "name": "echo-all", "pauses": {"before": "${short_pause}", "after": 0},
             "provider": {"type": "process", "path": "echo",
                          "arguments": ["${word}", "${count}", "${token}", "${overridden}", "${unknown}"]}},
            {"type": "action", "name": "shell-string",
             "provider": {"type": "process", "path": "echo", "arguments": "'$word $$ ${count}'"}},
            {"type": "action", "name": "mapping-arguments",
             "provider": {"type": "process", "path": "printf", "arguments": {"%s|%s": "${word}"}}}
        ]
    });
    let path = write_experiment(&tmp, "subst.json", &experiment);
    let mut a = args(path, &tmp);
    a.vars = vec!["overridden=yes".parse().expect("var"), var("undeclared", "ignored")];
    let r = run(&a, &server);
    assert_eq!(r.outcome.exit_code, 0, "{}", r.console);
    assert_eq!(r.journal["experiment"]["title"], "Substitution in the title");
    // run-started has the title as written.
    assert_eq!(r.received[0]["payload"]["title"], "Substitution in ${where}");
    assert_eq!(r.journal["run"][0]["output"]["stdout"], "configured 3 s3cret yes ${unknown}\n");
    assert_eq!(r.journal["run"][1]["output"]["stdout"], "configured $ 3\n");
    assert_eq!(r.journal["run"][2]["output"]["stdout"], "configured|");
}

#[test]
fn background_activities_are_awaited_and_recorded_in_order() {
    let (server, tmp) = (Server::start(), TempDir::new().expect("tmp"));
    let experiment = json!({
        "title": "background",
        "description": "two background actions around a foreground one",
        "method": [
            {"type": "action", "name": "bg-1", "background": true,
             "provider": {"type": "process", "path": "sh", "arguments": ["-c", "sleep 0.2; echo one"]}},
            {"type": "action", "name": "fg", "provider": {"type": "process", "path": "echo", "arguments": ["fg"]}},
            {"type": "action", "name": "bg-2", "background": true,
             "provider": {"type": "process", "path": "echo", "arguments": ["two"]}}
        ]
    });
    let path = write_experiment(&tmp, "bg.json", &experiment);
    let r = run(&args(path, &tmp), &server);
    assert_eq!(r.outcome.exit_code, 0);
    assert_eq!(activity_names(&r.journal["run"]), ["bg-1", "fg", "bg-2"]);
    assert_eq!(r.journal["run"][0]["output"]["stdout"], "one\n");
    assert_eq!(r.journal["run"][2]["output"]["stdout"], "two\n");
    assert!(r.console.contains("started in the background"), "{}", r.console);
}

#[test]
fn hypothesis_strategies() {
    let (server, tmp) = (Server::start(), TempDir::new().expect("tmp"));
    let marker = tmp.path().join("m");
    let mut a = args(example("deviated.json"), &tmp);
    a.vars = vec![var("marker", &marker.to_string_lossy())];

    a.hypothesis_strategy = Some(HypothesisStrategy::BeforeMethodOnly);
    let r = run(&a, &server);
    assert_eq!(r.outcome.exit_code, 0, "no check after the method, so no deviation");
    assert_eq!(r.journal["steady_states"]["after"], Value::Null);
    assert_eq!(r.journal["steady_states"]["before"]["steady_state_met"], true);

    a.hypothesis_strategy = Some(HypothesisStrategy::AfterMethodOnly);
    let server = Server::start();
    let r = run(&a, &server);
    assert_eq!(r.outcome.exit_code, 1);
    assert_eq!(r.journal["steady_states"]["before"], Value::Null);
    assert_eq!(r.journal["deviated"], true);
    assert_eq!(names(&r.received), ["run-started", "run-completed", "run-deviated"]);
}

#[test]
fn runtime_strategies_from_the_experiment_and_command_line_precedence() {
    let (server, tmp) = (Server::start(), TempDir::new().expect("tmp"));
    let experiment = json!({
        "title": "runtime",
        "description": "runtime.rollbacks.strategy in the experiment",
        "runtime": {"rollbacks": {"strategy": "never"}},
        "method": [],
        "rollbacks": [{"type": "action", "name": "rb", "provider": {"type": "process", "path": "true"}}]
    });
    let path = write_experiment(&tmp, "rt.json", &experiment);
    let mut a = args(&path, &tmp);
    let r = run(&a, &server);
    assert_eq!(r.journal["rollbacks"], json!([]), "the experiment says never");
    a.rollback_strategy = Some(RollbackStrategy::Always);
    let r = run(&a, &server);
    assert_eq!(activity_names(&r.journal["rollbacks"]), ["rb"], "the command line wins");

    // `skip` exists only in the experiment; `continously` is the old spelling.
    for (strategy, before) in [("skip", Value::Null), ("continously", json!(true)), ("before-method-only", json!(true))]
    {
        let experiment = json!({
            "title": "runtime",
            "description": "a hypothesis strategy from the experiment",
            "runtime": {"hypothesis": {"strategy": strategy}},
            "steady-state-hypothesis": {"title": "t", "probes": [
                {"type": "probe", "name": "p", "tolerance": 0, "provider": {"type": "process", "path": "true"}}]},
            "method": []
        });
        let path = write_experiment(&tmp, "rt2.json", &experiment);
        let r = run(&args(&path, &tmp), &Server::start());
        assert_eq!(r.outcome.exit_code, 0, "{strategy}");
        assert_eq!(r.journal["steady_states"]["before"]["steady_state_met"], before, "{strategy}");
    }

    // An unknown strategy: chaostoolkit crashes (`ValueError: Unknown strategy`); we
    // end the run with run-failed and a clear error.
    let experiment = json!({
        "title": "runtime",
        "description": "an unknown hypothesis strategy",
        "runtime": {"hypothesis": {"strategy": "sometimes"}},
        "method": []
    });
    let path = write_experiment(&tmp, "rt3.json", &experiment);
    let recorder = Recorder::default();
    let outcome = notifier_runner::run(&args(path, &tmp), &recorder, &mut Vec::new()).expect("run");
    assert_eq!(outcome.exit_code, 1);
    assert_eq!(recorder.names(), ["run-started", "run-failed"]);
    let error = recorder.events()[1].2.as_ref().and_then(Value::as_str).map(str::to_string).unwrap_or_default();
    assert!(error.contains("InvalidExperiment('unknown hypothesis strategy 'sometimes'"), "{error}");
}

#[test]
fn journal_write_failure_still_sends_the_final_events_and_exits_1() {
    let (server, tmp) = (Server::start(), TempDir::new().expect("tmp"));
    let mut a = args(example("steady-state-not-met.json"), &tmp);
    a.journal_path = tmp.path().join("no-such-dir").join("journal.json");
    let r = run(&a, &server);
    assert_eq!(r.outcome.exit_code, 1);
    assert!(r.outcome.journal_error.is_some());
    assert_eq!(names(&r.received), ["run-started", "run-completed"]);
    assert!(r.console.contains("journal: NOT WRITTEN"), "{}", r.console);
}
