//! Python controls: hooks called by name when declared, their arguments (context by
//! keyword, the control's arguments, named values only when the signature names them),
//! cleanup and validation, and each outcome.

#![cfg(unix)]

mod common;

use common::{Modules, map};
use notifier_python::{
    Bridge, CallOptions, ControlCall, ControlError, ControlHook, ControlLevel, ControlOutcome, InterruptKind,
    Interruption, PythonProvider,
};
use serde_json::{Value, json};

const NOW: CallOptions = CallOptions::new();

const CTL: &str = r#"
    calls = []
    configured = {}

    class InterruptExecution(Exception):
        pass

    def configure_control(experiment, secrets, configuration, settings, event_registry, level="info"):
        configured.update(experiment=experiment, secrets=secrets, configuration=configuration,
                          settings=settings, event_registry=event_registry, level=level)

    def before_experiment_control(context, **kwargs):
        calls.append({"hook": "before_experiment", "context": context, "kwargs": kwargs})

    def before_activity_control(context, state=None, secrets=None, target=None):
        calls.append({"hook": "before_activity", "context": context, "state": state,
                      "secrets": secrets, "target": target, "level": configured.get("level")})

    def after_activity_control(context, state, configuration, extensions=None):
        calls.append({"hook": "after_activity", "state": state, "configuration": configuration,
                      "extensions": extensions})

    def before_method_control(context):
        raise ValueError("hook failed")

    def before_hypothesis_control(context):
        raise InterruptExecution("stop from control")

    def after_method_control(context):
        raise KeyboardInterrupt()

    def after_hypothesis_control(context):
        raise SystemExit(2)

    after_rollback_control = None

    def cleanup_control():
        calls.append({"hook": "cleanup"})

    def validate_control(control):
        if control.get("bad"):
            raise ValueError("control is bad")
        calls.append({"hook": "validate", "name": control["name"]})

    def take():
        out = list(calls)
        calls.clear()
        return out
"#;

fn modules() -> Modules {
    let m = Modules::new();
    m.add("ctl", CTL);
    m.add("bare_ctl", "X = 1\n");
    m.add("broken_ctl", "raise RuntimeError('control import failed')\n");
    m
}

fn take(b: &Bridge) -> Vec<Value> {
    match b.run_provider(&PythonProvider::new("take", "probe", "ctl", "take"), NOW).unwrap() {
        Ok(Value::Array(items)) => items,
        other => panic!("{other:?}"),
    }
}

fn hook(b: &Bridge, call: &ControlCall<'_>) -> Result<ControlOutcome, ControlError> {
    b.call_control(call, NOW).expect("bridge")
}

#[test]
fn hook_names_are_chaoslibs() {
    assert_eq!(ControlHook::Configure.name(), "configure_control");
    assert_eq!(ControlHook::Before(ControlLevel::LoadingExperiment).name(), "before_loading_experiment_control");
    assert_eq!(ControlHook::After(ControlLevel::Experiment).name(), "after_experiment_control");
    assert_eq!(ControlHook::Before(ControlLevel::Hypothesis).name(), "before_hypothesis_control");
    assert_eq!(ControlHook::After(ControlLevel::Method).name(), "after_method_control");
    assert_eq!(ControlHook::Before(ControlLevel::Rollback).name(), "before_rollback_control");
    assert_eq!(ControlHook::After(ControlLevel::Activity).name(), "after_activity_control");
}

#[test]
fn hooks_get_context_by_keyword_their_arguments_and_only_the_named_values() {
    let m = modules();
    let b = m.bridge();
    let experiment = json!({"title": "t", "extensions": [{"name": "x"}]});
    let secrets = json!({"scope": {"tok": "s"}});
    let configuration = json!({"url": "http://x"});
    let offered = map(json!({
        "experiment": experiment, "secrets": secrets, "configuration": configuration,
        "settings": null, "event_registry": null, "extensions": [{"name": "x"}], "state": null,
    }));

    // configure_control: no context; arguments plus every named value.
    let arguments = map(json!({"level": "debug"}));
    let configure = ControlCall::new("ctl", ControlHook::Configure.name()).arguments(&arguments).offered(&offered);
    assert_eq!(hook(&b, &configure), Ok(ControlOutcome::Called));

    // **kwargs receives the arguments but none of the offered values.
    let arguments = map(json!({"a": 1}));
    let before_experiment = ControlCall::new("ctl", "before_experiment_control")
        .context(&experiment)
        .arguments(&arguments)
        .offered(&offered);
    assert_eq!(hook(&b, &before_experiment), Ok(ControlOutcome::Called));

    // Named values override arguments of the same name; unnamed ones are not passed (an
    // unexpected keyword would be a TypeError). Module state from configure_control is kept.
    let activity = json!({"name": "a1", "type": "action"});
    let arguments = map(json!({"target": "db", "secrets": "from arguments"}));
    let before_activity =
        ControlCall::new("ctl", "before_activity_control").context(&activity).arguments(&arguments).offered(&offered);
    assert_eq!(hook(&b, &before_activity), Ok(ControlOutcome::Called));

    let run = map(json!({"state": {"status": "succeeded"}}));
    let after_activity = ControlCall::new("ctl", "after_activity_control").context(&activity).offered(&run);
    // `configuration` is named but not offered: the call lacks it.
    match hook(&b, &after_activity) {
        Err(ControlError::Raised(e)) => assert!(e.summary.starts_with("TypeError: "), "{}", e.summary),
        other => panic!("{other:?}"),
    }
    let mut with_config = run.clone();
    with_config.insert("configuration".into(), configuration.clone());
    with_config.insert("extensions".into(), json!([{"name": "x"}]));
    let after_activity = ControlCall::new("ctl", "after_activity_control").context(&activity).offered(&with_config);
    assert_eq!(hook(&b, &after_activity), Ok(ControlOutcome::Called));

    // A null context is passed as context=None.
    let null = Value::Null;
    assert_eq!(
        hook(&b, &ControlCall::new("ctl", "before_activity_control").context(&null)),
        Ok(ControlOutcome::Called)
    );

    assert_eq!(
        take(&b),
        vec![
            json!({"hook": "before_experiment", "context": experiment, "kwargs": {"a": 1}}),
            json!({"hook": "before_activity", "context": activity, "state": null, "secrets": secrets,
                   "target": "db", "level": "debug"}),
            json!({"hook": "after_activity", "state": {"status": "succeeded"}, "configuration": configuration,
                   "extensions": [{"name": "x"}]}),
            json!({"hook": "before_activity", "context": null, "state": null, "secrets": null,
                   "target": null, "level": "debug"}),
        ]
    );
}

#[test]
fn undeclared_hooks_and_unimportable_modules_are_reported_distinctly() {
    let m = modules();
    let b = m.bridge();
    let context = json!({});
    for (module, name) in
        [("ctl", "before_rollback_control"), ("ctl", "after_rollback_control"), ("bare_ctl", "configure_control")]
    {
        match hook(&b, &ControlCall::new(module, name).context(&context)) {
            Ok(ControlOutcome::NotDeclared { file }) => {
                assert!(file.unwrap().ends_with(&format!("{module}.py")));
            }
            other => panic!("{other:?}"),
        }
    }
    match hook(&b, &ControlCall::new("no_such_control", "before_experiment_control").context(&context)) {
        Err(e @ ControlError::ModuleNotFound { .. }) => {
            assert_eq!(e.to_string(), "Control module 'no_such_control' could not be loaded. Have you installed it?");
        }
        other => panic!("{other:?}"),
    }
    match hook(&b, &ControlCall::new("broken_ctl", "before_experiment_control").context(&context)) {
        Err(ControlError::ImportRaised { error, .. }) => {
            assert_eq!(error.summary, "RuntimeError: control import failed")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn raising_interrupting_and_exiting_hooks() {
    let m = modules();
    let b = m.bridge();
    let context = json!({"title": "t"});
    let call = |name| b.call_control(&ControlCall::new("ctl", name).context(&context), NOW).expect("bridge");
    match call("before_method_control") {
        Err(ControlError::Raised(e)) => {
            assert_eq!(e.summary, "ValueError: hook failed");
            assert!(e.traceback_text().contains("in before_method_control"), "{}", e.traceback_text());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        call("before_hypothesis_control"),
        Err(ControlError::Interrupted(Interruption {
            kind: InterruptKind::InterruptExecution,
            message: "stop from control".into()
        }))
    );
    match call("after_method_control") {
        Err(ControlError::Interrupted(i)) => assert_eq!(i.kind, InterruptKind::KeyboardInterrupt),
        other => panic!("{other:?}"),
    }
    match call("after_hypothesis_control") {
        Err(ControlError::Exited(code)) => assert_eq!(code.0, json!(2)),
        other => panic!("{other:?}"),
    }
    // `context` both given and in the arguments: Python's own TypeError, as under chaos.
    let arguments = map(json!({"context": "twice"}));
    match b.call_control(&ControlCall::new("ctl", "before_method_control").context(&context).arguments(&arguments), NOW)
    {
        Ok(Err(ControlError::Raised(e))) => {
            assert!(e.text.contains("multiple values for keyword argument 'context'"), "{}", e.text)
        }
        other => panic!("{other:?}"),
    }
    // The helper and its state are still there.
    assert_eq!(b.helper_starts(), 1);
}

#[test]
fn cleanup_takes_no_arguments_and_validate_gets_the_declaration() {
    let m = modules();
    let b = m.bridge();
    assert_eq!(b.cleanup_control("ctl", NOW).unwrap(), Ok(ControlOutcome::Called));
    assert!(matches!(b.cleanup_control("bare_ctl", NOW).unwrap(), Ok(ControlOutcome::NotDeclared { .. })));
    let control = json!({"name": "my-control", "provider": {"type": "python", "module": "ctl"}});
    assert_eq!(b.validate_control("ctl", &control, NOW).unwrap(), Ok(ControlOutcome::Called));
    let bad = json!({"name": "bad-control", "bad": true});
    match b.validate_control("ctl", &bad, NOW).unwrap() {
        Err(ControlError::Raised(e)) => assert_eq!(e.summary, "ValueError: control is bad"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        b.validate_control("no_such_control", &control, NOW).unwrap(),
        Err(ControlError::ModuleNotFound { .. })
    ));
    assert_eq!(take(&b), vec![json!({"hook": "cleanup"}), json!({"hook": "validate", "name": "my-control"})]);
}
