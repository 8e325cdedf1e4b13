//! The bridge against recordings of chaostoolkit-lib 1.45.1 itself
//! (`conformance/python-bridge/recorded.json`, made by `conformance/record_python_bridge.sh`
//! from `cases.json`): every case is run through the bridge, its result put in the
//! recording's shape, and compared. Needs a python3 (pyenv's 3.12.1, the recording's
//! version, when present) but no network and no chaostoolkit.

#![cfg(unix)]

mod common;

use std::path::{Path, PathBuf};

use notifier_python::{
    Bridge, CallOptions, Interpreter, PluginEvent, PluginFailure, ProviderError, ProviderInvalid, PythonProvider,
};
use serde_json::{Map, Value, json};

const NOW: CallOptions = CallOptions::new();

/// Cases where the bridge differs from chaostoolkit-lib on purpose: what the bridge gives,
/// and why. The test fails if one of these starts matching the recording.
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "run-output-nan",
        r#"{"output": [null, null, 1.5]}"#,
        "chaostoolkit writes a bare NaN/Infinity (not JSON); serde_json cannot hold them: null",
    ),
    (
        "run-local-interrupt-execution",
        r#"{"interrupted": "stop the run"}"#,
        "any class named InterruptExecution interrupts, so chaoslib's is recognised without importing chaoslib",
    ),
];

/// Cases whose text depends on the Python version (compared only on the recording's).
const VERSION_SENSITIVE: &[&str] = &["validate-positional-only", "validate-builtin-without-signature"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance/python-bridge")
}

fn interpreter() -> PathBuf {
    let pyenv = Path::new("/root/.pyenv/versions/3.12.1/bin/python3");
    if pyenv.exists() { pyenv.to_path_buf() } else { common::python() }
}

fn modules() -> PathBuf {
    root().join("modules").canonicalize().expect("conformance/python-bridge/modules")
}

fn obj(value: &Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

fn normalise(lines: &[String], modules: &str) -> Vec<String> {
    lines.iter().map(|l| l.replace(modules, "<MODULES>")).collect()
}

fn without_address(text: &str) -> String {
    // `<ctkacts.K object at 0x7f…>` → `0x…`, as the recorder writes it.
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("0x") {
        out.push_str(&rest[..at]);
        out.push_str("0x…");
        rest = rest[at + 2..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
    }
    out.push_str(rest);
    out
}

fn validate(bridge: &Bridge, case: &Value) -> Value {
    let activity = &case["activity"];
    let provider = &activity["provider"];
    let arguments = obj(&provider["arguments"]);
    let p = PythonProvider::new(
        activity["name"].as_str().unwrap(),
        activity["type"].as_str().unwrap(),
        provider["module"].as_str().unwrap(),
        provider["func"].as_str().unwrap(),
    )
    .arguments(&arguments);
    match bridge.validate_provider(&p, NOW).expect("bridge") {
        Ok(()) => json!({"valid": true}),
        Err(invalid) if invalid.is_invalid_activity() => json!({"invalid": invalid.to_string()}),
        Err(ProviderInvalid::Raised { error } | ProviderInvalid::ImportRaised { error, .. }) => {
            json!({"crash": {"type": error.kind, "summary": error.summary}})
        }
        Err(other) => json!({"unexpected": format!("{other:?}")}),
    }
}

fn run(bridge: &Bridge, case: &Value, modules: &str) -> Value {
    let activity = &case["activity"];
    let provider = &activity["provider"];
    let arguments = obj(&provider["arguments"]);
    let configuration = obj(&case["configuration"]);
    // The caller's job: the flat merge of the listed scopes, in order.
    let secrets = provider["secrets"].as_array().map(|scopes| {
        let mut flat = Map::new();
        for scope in scopes {
            if let Some(values) = case["secrets"].get(scope.as_str().unwrap_or_default()).and_then(Value::as_object) {
                flat.extend(values.clone());
            }
        }
        flat
    });
    let mut p = PythonProvider::new(
        activity["name"].as_str().unwrap(),
        activity["type"].as_str().unwrap(),
        provider["module"].as_str().unwrap(),
        provider["func"].as_str().unwrap(),
    )
    .arguments(&arguments)
    .configuration(&configuration);
    p.secrets = secrets.as_ref();
    match bridge.run_provider(&p, NOW).expect("bridge") {
        Ok(output) => json!({"output": output}),
        Err(ProviderError::Failed(f)) => {
            json!({"failed": {"message": f.message, "exception": normalise(&f.exception, modules)}})
        }
        Err(ProviderError::Interrupted(i)) => json!({"interrupted": i.message}),
        Err(ProviderError::Escaped(e)) => json!({"escaped": {"type": e.kind, "summary": e.summary}}),
        Err(other) => json!({"unexpected": format!("{other:?}")}),
    }
}

fn notify(bridge: &Bridge, case: &Value) -> Value {
    let event = &case["event"];
    // notifier renders an exception as `An exception was raised: Kind('message')`.
    let error = case.get("error").map(|e| match e.get("exception") {
        Some(x) => json!(format!(
            "An exception was raised: {}('{}')",
            x["kind"].as_str().unwrap(),
            x["message"].as_str().unwrap()
        )),
        None => e.clone(),
    });
    let plugin_event = PluginEvent {
        name: event["name"].as_str().unwrap(),
        phase: event["phase"].as_str().unwrap(),
        payload: &event["payload"],
        ts: event["ts"].as_f64().unwrap(),
        error: error.as_ref(),
    };
    let logs = match bridge.notify_plugin(&obj(&case["channel"]), &plugin_event, NOW).expect("bridge") {
        Ok(()) => vec![],
        Err(PluginFailure::ModuleNotFound { message } | PluginFailure::FunctionNotFound { message }) => vec![message],
        Err(PluginFailure::Raised(_)) => vec!["failed calling notification plugin".to_string()],
        Err(other) => vec![format!("unexpected {other:?}")],
    };
    let take = PythonProvider::new("take", "probe", "ctkplug", "take");
    let received = bridge.run_provider(&take, NOW).expect("bridge").expect("take");
    json!({"logs": logs, "received": received})
}

/// The reference's result in the shape `ours` has: journal text parsed, and where
/// chaostoolkit crashed writing the journal, what the bridge stores instead (the repr).
fn expected(reference: &Value) -> Value {
    if let Some(text) = reference.get("output_json").and_then(Value::as_str) {
        return match serde_json::from_str::<Value>(text) {
            Ok(output) => json!({"output": output}),
            Err(_) => json!({"not_json": text}),
        };
    }
    if let Some(repr) = reference.get("repr") {
        return json!({"output": repr});
    }
    reference.clone()
}

#[test]
fn the_bridge_does_what_chaostoolkit_lib_does() {
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(root().join("cases.json")).unwrap()).expect("cases.json");
    let recorded: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("recorded.json")).unwrap()).expect("recorded.json");
    let modules = modules();
    let modules_text = modules.to_str().unwrap().to_string();
    let bridge = Bridge::builder()
        .interpreter(Interpreter::at(interpreter()))
        .env("PYTHONPATH", &modules)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .build();
    let version = bridge.ping(NOW).unwrap().version;
    let same_version = recorded["_meta"]["python"].as_str() == Some(version.as_str());
    eprintln!("bridge on Python {version}; recorded with {}", recorded["_meta"]);

    let mut failures = Vec::new();
    let mut known_seen = Vec::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap();
        let Some(reference) = recorded["cases"].get(id) else {
            failures.push(format!("{id}: not recorded (run conformance/record_python_bridge.sh)"));
            continue;
        };
        if !same_version && VERSION_SENSITIVE.contains(&id) {
            eprintln!("{id}: skipped, Python {version} differs from the recording's");
            continue;
        }
        let mut ours = match case["kind"].as_str().unwrap() {
            "validate" => validate(&bridge, case),
            "run" => run(&bridge, case, &modules_text),
            "notify" => notify(&bridge, case),
            kind => panic!("{id}: unknown kind {kind}"),
        };
        let mut want = expected(reference);
        if let Some(output) = ours.get_mut("output").and_then(|o| o.as_str().map(without_address)) {
            ours["output"] = json!(output);
        }
        // Tracebacks match line for line only on the recording's Python (3.11+ adds carets
        // where 3.12 and 3.13 differ); elsewhere compare the message and the last two lines.
        if !same_version {
            for v in [&mut ours, &mut want] {
                if let Some(lines) = v.pointer_mut("/failed/exception").and_then(Value::as_array_mut) {
                    let n = lines.len();
                    lines.drain(..n.saturating_sub(2));
                }
            }
        }
        if let Some((_, ours_expected, why)) = KNOWN_DIFFERENCES.iter().find(|(k, _, _)| *k == id) {
            known_seen.push(id);
            let ours_expected: Value = serde_json::from_str(ours_expected).unwrap();
            if ours != ours_expected {
                failures.push(format!(
                    "{id} (a known difference: {why}):\n  expected ours {ours_expected}\n  got         {ours}"
                ));
            }
            if ours == want {
                failures.push(format!("{id}: listed as a known difference but now matches the reference"));
            }
            continue;
        }
        // Compare as text so that key order counts too (`Value`'s map equality ignores it).
        let text = |v: &Value| serde_json::to_string(v).unwrap_or_default();
        if text(&ours) != text(&want) {
            failures.push(format!("{id}:\n  reference {want}\n  bridge    {ours}"));
        }
    }
    for (id, _, _) in KNOWN_DIFFERENCES {
        assert!(known_seen.contains(id), "known difference {id} has no case");
    }
    let recorded_ids = recorded["cases"].as_object().unwrap().len();
    assert_eq!(recorded_ids, cases.len(), "recorded.json and cases.json disagree: re-record");
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
