//! No input makes the runner's front end panic, and what it returns keeps its promises:
//! arbitrary JSON documents go through validation (a typed, deterministic answer;
//! anything but a mapping refused), substitution (the shape of the value kept, strings
//! without `$` untouched) and every tolerance check (a deterministic answer); arbitrary
//! text goes through the JSON and YAML loaders (the same value as serde_json for JSON,
//! and a position inside the text for every error). (Nothing here runs a process:
//! random paths could be real commands; and no Python: the bridge's interpreter does not
//! exist, so random python activities get a deterministic "cannot validate" error instead
//! of importing random module names.)

use std::path::Path;

use notifier_runner::load::{Format, parse_experiment};
use notifier_runner::substitute::Scope;
use notifier_runner::tolerance::within_tolerance;
use notifier_runner::validate::ensure_experiment_is_valid_with;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("title".to_string()),
        Just("description".to_string()),
        Just("tags".to_string()),
        Just("method".to_string()),
        Just("rollbacks".to_string()),
        Just("steady-state-hypothesis".to_string()),
        Just("probes".to_string()),
        Just("configuration".to_string()),
        Just("secrets".to_string()),
        Just("controls".to_string()),
        Just("extensions".to_string()),
        Just("type".to_string()),
        Just("name".to_string()),
        Just("provider".to_string()),
        Just("tolerance".to_string()),
        Just("pauses".to_string()),
        Just("ref".to_string()),
        Just("range".to_string()),
        Just("pattern".to_string()),
        Just("path".to_string()),
        Just("target".to_string()),
        "[a-z$_{}.-]{0,8}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            Just("probe"),
            Just("action"),
            Just("process"),
            Just("http"),
            Just("python"),
            Just("env"),
            Just("regex"),
            Just("range"),
            Just("jsonpath"),
            Just("${x}"),
            Just("$"),
            Just("${"),
            Just("$$"),
            Just("[("),
            Just("$[?"),
            Just("")
        ]
        .prop_map(|s| Value::String(s.to_string())),
        ".{0,12}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Validation with a Python that can never start.
fn ensure_experiment_is_valid(experiment: &Value) -> Result<(), notifier_runner::ValidationError> {
    static NO_PYTHON: std::sync::OnceLock<notifier_runner::Python> = std::sync::OnceLock::new();
    let python = NO_PYTHON.get_or_init(|| {
        let bridge = notifier_python::Bridge::builder()
            .interpreter(notifier_python::Interpreter::at("/nonexistent/notifier-test/python3"))
            .build();
        notifier_runner::Python::new(std::sync::Arc::new(bridge), notifier_runner::Interrupt::new())
    });
    ensure_experiment_is_valid_with(experiment, python)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn validation_never_panics(experiment in value()) {
        let first = ensure_experiment_is_valid(&experiment).map_err(|e| e.to_string());
        prop_assert_eq!(&first, &ensure_experiment_is_valid(&experiment).map_err(|e| e.to_string()), "deterministic");
        if !experiment.is_object() {
            prop_assert!(first.is_err(), "only a mapping can be an experiment: {}", experiment);
        }
        if let Err(message) = &first {
            prop_assert!(!message.trim().is_empty());
        }
        let mut with_basics = json!({"title": "t", "description": "d", "method": []});
        if let (Value::Object(base), Value::Object(extra)) = (&mut with_basics, &experiment) {
            for (k, v) in extra {
                base.insert(k.clone(), v.clone());
            }
        }
        let result = ensure_experiment_is_valid(&with_basics);
        if let Err(e) = &result {
            prop_assert!(!e.to_string().trim().is_empty());
        }
    }

    #[test]
    fn substitution_keeps_shapes_and_tolerances_answer(tolerance in value(), output in value(), conf in value()) {
        let conf = conf.as_object().cloned().unwrap_or_default();
        let secrets = Map::new();
        let scope = Scope::new(&conf, &secrets);
        let substituted = scope.substitute(&tolerance);
        prop_assert!(same_shape(&tolerance, &substituted), "{} became {}", tolerance, substituted);
        let first = within_tolerance(&tolerance, &output, &scope, &|_| true);
        prop_assert_eq!(first, within_tolerance(&tolerance, &output, &scope, &|_| true), "deterministic");
    }

    #[test]
    fn loaders_agree_with_serde_json_and_locate_their_errors(text in "\\PC{0,200}") {
        let lines = text.split('\n').count();
        match (parse_experiment(Path::new("x.json"), &text, Format::Json), serde_json::from_str::<Value>(&text)) {
            (Ok(ours), Ok(theirs)) => prop_assert_eq!(ours, theirs),
            (Err(e), Err(_)) => {
                let (line, column) = e.location().expect("a JSON error has a position");
                prop_assert!(line >= 1 && line <= lines && column >= 1, "{}", e);
            }
            (ours, theirs) => prop_assert!(false, "JSON loader {:?} but serde_json {:?}", ours.is_ok(), theirs.is_ok()),
        }
        if let Err(e) = parse_experiment(Path::new("x.yaml"), &text, Format::Yaml) {
            let (line, column) = e.location().expect("a YAML error has a position");
            prop_assert!(line >= 1 && line <= lines + 1 && column >= 1, "{}", e);
        }
    }
}

/// Whether substitution kept the value's shape: the same containers with the same keys
/// and lengths, the same non-string leaves, and strings without `$` unchanged (only a
/// string can become another value).
fn same_shape(before: &Value, after: &Value) -> bool {
    match (before, after) {
        (Value::String(s), other) => s.contains('$') || other == before,
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_shape(x, y)),
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same_shape(v, w)))
        }
        (x, y) => x == y,
    }
}

#[test]
fn yaml_alias_bombs_are_refused_quickly() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    let result = parse_experiment(Path::new("bomb.yaml"), &text, Format::Yaml);
    assert!(result.is_err(), "an alias bomb must not expand");
}
