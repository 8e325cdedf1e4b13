//! Notification plugins (`notify_via_plugin`): what the plugin receives, the exception
//! object for notifier's rendered errors, and each failure with the reference's messages.

#![cfg(unix)]

mod common;

use common::{Modules, map};
use notifier_python::{Bridge, CallOptions, InterruptKind, PluginEvent, PluginFailure, PythonProvider};
use serde_json::{Value, json};

const NOW: CallOptions = CallOptions::new();

const PLUG: &str = r#"
    received = []

    def describe(error):
        if isinstance(error, BaseException):
            return {
                "type": type(error).__name__,
                "module": type(error).__module__,
                "repr": repr(error),
                "str": str(error),
                "is_exception": isinstance(error, Exception),
                "bases": [c.__name__ for c in type(error).__mro__],
            }
        return {"raw": error}

    def notify(channel, event):
        received.append({
            "func": "notify",
            "channel": channel,
            "keys": list(event.keys()),
            "event": {k: v for k, v in event.items() if k != "error"},
            "error": describe(event["error"]) if "error" in event else "<absent>",
        })

    def custom(channel, event):
        received.append({"func": "custom", "name": event["name"]})

    def boom(channel, event):
        raise ValueError("plugin failed")

    class InterruptExecution(Exception):
        pass

    def interrupt(channel, event):
        raise InterruptExecution("not special for plugins")

    def ctrl_c(channel, event):
        raise KeyboardInterrupt()

    def leave(channel, event):
        raise SystemExit(3)

    class NotAFunction:
        pass

    callable_instance = NotAFunction()

    def mutate(channel, event):
        channel["added"] = True
        event["name"] = "changed"
        received.append({"func": "mutate"})

    def take():
        out = list(received)
        received.clear()
        return out
"#;

fn modules() -> Modules {
    let m = Modules::new();
    m.add("plug", PLUG);
    m.add("broken_plugin", "raise RuntimeError('plugin import failed')\n");
    m
}

fn notify(b: &Bridge, channel: Value, error: Option<Value>) -> Result<(), PluginFailure> {
    let payload = json!({"title": "t", "nested": {"b": [1, 2.5, null], "a": true}});
    let event = PluginEvent {
        name: "run-failed",
        phase: "run",
        payload: &payload,
        ts: 1_700_000_000.25,
        error: error.as_ref(),
    };
    b.notify_plugin(&map(channel), &event, NOW).expect("bridge")
}

fn take(b: &Bridge) -> Vec<Value> {
    match b.run_provider(&PythonProvider::new("take", "probe", "plug", "take"), NOW).unwrap() {
        Ok(Value::Array(items)) => items,
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_plugin_gets_the_channel_as_written_and_the_envelope_positionally() {
    let m = modules();
    let b = m.bridge();
    let channel = json!({"type": "plugin", "module": "plug", "events": ["run-failed"], "extra": {"a": 1}});
    assert_eq!(notify(&b, channel.clone(), None), Ok(()));
    assert_eq!(
        take(&b),
        vec![json!({
            "func": "notify",
            "channel": channel,
            "keys": ["name", "payload", "phase", "ts"],
            "event": {"name": "run-failed", "payload": {"title": "t", "nested": {"b": [1, 2.5, null], "a": true}},
                      "phase": "run", "ts": 1_700_000_000.25},
            "error": "<absent>",
        })]
    );
    // `func` picks the function; the default is `notify`.
    assert_eq!(notify(&b, json!({"type": "plugin", "module": "plug", "func": "custom"}), None), Ok(()));
    assert_eq!(take(&b), vec![json!({"func": "custom", "name": "run-failed"})]);
    // What a plugin changes stays in Python: the next call gets the entry as written.
    let channel = json!({"type": "plugin", "module": "plug", "func": "mutate"});
    assert_eq!(notify(&b, channel, None), Ok(()));
    assert_eq!(notify(&b, json!({"type": "plugin", "module": "plug"}), None), Ok(()));
    let got = take(&b);
    assert_eq!(got[1]["channel"], json!({"type": "plugin", "module": "plug"}));
}

#[test]
fn a_rendered_exception_reaches_the_plugin_as_an_exception_object() {
    let m = modules();
    let b = m.bridge();
    let channel = json!({"type": "plugin", "module": "plug"});
    let error = json!("An exception was raised: InvalidExperiment('experiment requires a description')");
    notify(&b, channel.clone(), Some(error)).unwrap();
    let error = &take(&b)[0]["error"];
    assert_eq!(error["type"], "InvalidExperiment");
    assert_eq!(error["repr"], "InvalidExperiment('experiment requires a description')");
    assert_eq!(error["str"], "experiment requires a description");
    assert_eq!(error["is_exception"], true);
    assert_eq!(error["module"], "notifier.exceptions", "no chaoslib here: a class of that name");

    // Quotes inside the message are not escaped in notifier's rendering.
    notify(&b, channel.clone(), Some(json!("An exception was raised: E('it's \"q\"')"))).unwrap();
    let error = &take(&b)[0]["error"];
    assert_eq!((&error["type"], &error["str"]), (&json!("E"), &json!("it's \"q\"")));
    notify(&b, channel.clone(), Some(json!("An exception was raised: Empty('')"))).unwrap();
    assert_eq!(take(&b)[0]["error"]["repr"], "Empty('')");

    // Anything else is passed as it is; a falsy error is no error key at all.
    for raw in [json!("boom"), json!({"a": 1}), json!([1]), json!(3), json!("An exception was raised: not-a-name('x')")]
    {
        notify(&b, channel.clone(), Some(raw.clone())).unwrap();
        assert_eq!(take(&b)[0]["error"], json!({"raw": raw}));
    }
    for falsy in [json!(""), json!(false), json!(0), json!([]), json!({}), Value::Null] {
        notify(&b, channel.clone(), Some(falsy)).unwrap();
        assert_eq!(take(&b)[0]["error"], "<absent>");
    }
}

#[test]
fn with_chaoslib_importable_the_plugin_gets_chaoslibs_own_exception_class() {
    let m = modules();
    // A stand-in for chaostoolkit-lib's module, as a user's venv would have it.
    m.add(
        "chaoslib.exceptions",
        r#"
        class ChaosException(Exception):
            pass
        class InvalidExperiment(ChaosException):
            pass
        class ValidationError(ChaosException):
            def __init__(self, msg, errors):
                super().__init__(msg)
        NotAClass = 3
    "#,
    );
    let b = m.bridge();
    let channel = json!({"type": "plugin", "module": "plug"});
    notify(&b, channel.clone(), Some(json!("An exception was raised: InvalidExperiment('no title')"))).unwrap();
    let error = &take(&b)[0]["error"];
    assert_eq!(error["module"], "chaoslib.exceptions");
    assert_eq!(error["bases"], json!(["InvalidExperiment", "ChaosException", "Exception", "BaseException", "object"]));
    assert_eq!(error["repr"], "InvalidExperiment('no title')");
    // chaoslib's class cannot be built from a message alone, or is not a class: a class of that name.
    for kind in ["ValidationError", "NotAClass", "Unknown"] {
        notify(&b, channel.clone(), Some(json!(format!("An exception was raised: {kind}('m')")))).unwrap();
        let error = &take(&b)[0]["error"];
        assert_eq!((&error["module"], &error["repr"]), (&json!("notifier.exceptions"), &json!(format!("{kind}('m')"))));
    }
}

#[test]
fn failures_carry_the_reference_messages() {
    let m = modules();
    let b = m.bridge();
    assert_eq!(
        notify(&b, json!({"type": "plugin", "module": "no_such_plugin"}), None),
        Err(PluginFailure::ModuleNotFound {
            message: "could not find Python plugin 'no_such_plugin' for notification".into()
        })
    );
    for func in ["nope", "NotAFunction", "callable_instance", "received"] {
        assert_eq!(
            notify(&b, json!({"type": "plugin", "module": "plug", "func": func}), None),
            Err(PluginFailure::FunctionNotFound {
                message: format!("could not find function '{func}' in plugin 'plug' for notification")
            })
        );
    }
    match notify(&b, json!({"type": "plugin", "module": "plug", "func": "boom"}), None) {
        Err(f @ PluginFailure::Raised(_)) => {
            let PluginFailure::Raised(e) = &f else { unreachable!() };
            assert_eq!(e.summary, "ValueError: plugin failed");
            assert!(e.traceback_text().contains("in boom\n"), "{}", e.traceback_text());
            assert_eq!(f.to_string(), "failed calling notification plugin: ValueError: plugin failed");
        }
        other => panic!("{other:?}"),
    }
    // InterruptExecution is an Exception like any other for plugins.
    assert!(matches!(notify(&b, json!({"module": "plug", "func": "interrupt"}), None), Err(PluginFailure::Raised(_))));
    match notify(&b, json!({"module": "plug", "func": "ctrl_c"}), None) {
        Err(PluginFailure::Interrupted(i)) => assert_eq!(i.kind, InterruptKind::KeyboardInterrupt),
        other => panic!("{other:?}"),
    }
    match notify(&b, json!({"module": "plug", "func": "leave"}), None) {
        Err(PluginFailure::Exited(code)) => assert_eq!(code.0, json!(3)),
        other => panic!("{other:?}"),
    }
    match notify(&b, json!({"module": "broken_plugin"}), None) {
        Err(PluginFailure::ImportRaised(e)) => assert_eq!(e.summary, "RuntimeError: plugin import failed"),
        other => panic!("{other:?}"),
    }
    // A channel without a module: not a string to import.
    assert!(matches!(notify(&b, json!({"type": "plugin"}), None), Err(PluginFailure::ImportRaised(_))));
    assert_eq!(b.helper_starts(), 1);
}
