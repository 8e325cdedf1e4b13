//! `notifier validate`: validate-started, then validate-completed or validate-failed,
//! each with the experiment as loaded, delivered to a real loopback HTTP sink.

mod common;

use common::{HttpChannel, Server, example, names};
use notifier_core::Event;
use notifier_runner::{Recorder, ValidateArgs, ValidationError};
use serde_json::Value;

fn loaded(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(example(name)).expect("read")).expect("json")
}

#[test]
fn a_valid_experiment_sends_started_then_completed() {
    for name in ["local-health.json", "local-health.yaml", "deviated.json", "http-health.json"] {
        let server = Server::start();
        let tmp = tempfile::tempdir().expect("tmp");
        let channel = HttpChannel::new(&server, &tmp.path().join("unused"));
        let mut console = Vec::new();
        let outcome = notifier_runner::validate(&ValidateArgs { experiment: example(name) }, &channel, &mut console)
            .expect("validate");
        assert_eq!(outcome.exit_code, 0, "{name}");
        assert!(outcome.error.is_none());
        assert_eq!(outcome.events, [Event::ValidateStarted, Event::ValidateCompleted]);
        let received = server.events();
        assert_eq!(names(&received), ["validate-started", "validate-completed"], "{name}");
        for envelope in &received {
            assert_eq!(envelope["phase"], "validate");
            assert!(envelope.get("error").is_none());
        }
        if name.ends_with(".json") {
            assert_eq!(received[0]["payload"], loaded(name));
            assert_eq!(received[1]["payload"], loaded(name));
        }
        assert!(String::from_utf8_lossy(&console).contains("validation: ok"));
    }
}

#[test]
fn an_invalid_experiment_sends_started_then_failed_with_the_error() {
    let server = Server::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let channel = HttpChannel::new(&server, &tmp.path().join("unused"));
    let mut console = Vec::new();
    let outcome = notifier_runner::validate(
        &ValidateArgs { experiment: example("invalid-no-description.json") },
        &channel,
        &mut console,
    )
    .expect("validate");
    assert_eq!(outcome.exit_code, 1);
    assert!(matches!(outcome.error, Some(ValidationError::Experiment(_))));
    let received = server.events();
    assert_eq!(names(&received), ["validate-started", "validate-failed"]);
    assert_eq!(received[1]["payload"], loaded("invalid-no-description.json"));
    assert_eq!(received[1]["error"], "An exception was raised: InvalidExperiment('experiment requires a description')");
    let console = String::from_utf8_lossy(&console);
    assert!(console.contains("validation: FAILED"), "{console}");
}

#[test]
fn each_exception_kind_reaches_the_envelope() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cases = [
        (
            serde_json::json!({"title": "t", "description": "d", "method": [{"type": "action", "name": "x", "provider": {"type": "process", "path": "surely-not-a-command-xyz"}}]}),
            "An exception was raised: InvalidActivity('path 'surely-not-a-command-xyz' cannot be found, in activity 'x'')",
        ),
        (
            serde_json::json!({"title": "t", "description": "d", "method": [], "controls": [{"name": "c"}]}),
            "An exception was raised: InvalidControl('Control 'c' must have a `provider` property')",
        ),
        (
            serde_json::json!({"title": "t", "description": "d", "method": [],
                "configuration": {"k": {"type": "env", "key": "NOTIFIER_RUNNER_TEST_SURELY_UNSET"}}}),
            "An exception was raised: InvalidExperiment('Configuration makes reference to an environment key that does not exist: NOTIFIER_RUNNER_TEST_SURELY_UNSET')",
        ),
        (
            serde_json::json!({"title": "t", "description": "d", "method": "not a list"}),
            "An exception was raised: InvalidExperiment('the experiment method must be a list of activities')",
        ),
    ];
    for (i, (experiment, error)) in cases.into_iter().enumerate() {
        let path = tmp.path().join(format!("case{i}.json"));
        std::fs::write(&path, experiment.to_string()).expect("write");
        let recorder = Recorder::default();
        let outcome = notifier_runner::validate(&ValidateArgs { experiment: path }, &recorder, &mut Vec::new())
            .expect("validate");
        assert_eq!(outcome.exit_code, 1);
        let events = recorder.events();
        assert_eq!(recorder.names(), ["validate-started", "validate-failed"]);
        assert_eq!(events[1].1, experiment);
        assert_eq!(events[1].2, Some(Value::String(error.into())), "case {i}");
    }
}
