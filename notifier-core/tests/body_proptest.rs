//! JSON bodies are JSON by construction: for any payload and error (any strings, quotes,
//! backslashes, control characters, template syntax, nesting), a JSON template renders a
//! document that parses, has exactly the keys its author wrote, and carries every
//! interpolated value unchanged; no payload can add a key or break the document. The
//! built-in formats give JSON for any payload too.
//!
//! 1,000 cases per property by default; `PROPTEST_CASES` for longer runs.

use std::sync::Arc;

use notifier_core::body::{Body, FORMATS};
use notifier_core::{Envelope, Event};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000)
}

/// Strings meant to break out of a JSON string or a template: quotes, backslashes, braces,
/// template delimiters, control characters, non-ASCII, lone-surrogate-looking escapes.
fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\"\\\\{}\\[\\]:,%#\\n\\t\\u{0}\\u{1f}\\u{7f}\\u{2028}é😀 a-z]{0,24}",
        Just("\", \"injected\": true, \"x\": \"".to_owned()),
        Just("{{ payload }}{% raw %}".to_owned()),
        Just("\\u0022}, {\"k\": 1".to_owned()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        hostile_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((hostile_string(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// A payload shaped like a journal or an experiment, with hostile values where the
/// helpers and templates look.
fn payload() -> impl Strategy<Value = Value> {
    (json_value(), hostile_string(), json_value(), prop::collection::vec(json_value(), 0..5), hostile_string())
        .prop_map(|(any, title, k, list, status)| {
            json!({"experiment": {"title": title}, "title": title, "k": k, "list": list, "status": status,
                   "deviated": any.is_null(), "duration": 1.5, "other": any})
        })
}

fn event() -> impl Strategy<Value = Event> {
    prop::sample::select(Event::ALL.to_vec())
}

const TEMPLATE: &str = r#"{"a": {{ payload }}, "k": {{ payload.k }}, "t": {{ title }}, "e": {{ error }},
 "s": {{ summary }}, "x": {{ "prefix " ~ (payload.k | string) }}, "cut": {{ title | truncate(7) }},
 "l": [{% for v in payload.list %}{{ v }}{% if not loop.last %}, {% endif %}{% endfor %}],
 "m": {{ payload.missing.deeper }}, "env": {{ envelope }}}"#;

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn json_templates_cannot_be_broken_by_a_payload(
        event in event(), payload in payload(), error in proptest::option::of(json_value()),
    ) {
        let body = Body::template(TEMPLATE, "application/json", Map::new()).unwrap();
        let env = Arc::new(Envelope::at(event, payload, error, 1_795_976_704.494_94));
        let out = body.render(&env).unwrap().expect("a body");
        let doc: Value = serde_json::from_slice(&out).expect("always JSON");
        let keys: Vec<&str> = doc.as_object().unwrap().keys().map(String::as_str).collect();
        prop_assert_eq!(keys, vec!["a", "k", "t", "e", "s", "x", "cut", "l", "m", "env"]);
        prop_assert_eq!(&doc["a"], &env.payload);
        prop_assert_eq!(&doc["k"], &env.payload["k"]);
        prop_assert_eq!(&doc["l"], &env.payload["list"]);
        prop_assert_eq!(&doc["e"], env.error.as_ref().unwrap_or(&Value::Null));
        prop_assert_eq!(doc["t"].as_str(), env.payload["experiment"]["title"].as_str());
        prop_assert!(doc["cut"].as_str().unwrap().chars().count() <= 7);
        prop_assert_eq!(&doc["m"], &Value::Null);
        let wire: Value = serde_json::from_slice(&env.to_wire_json()).unwrap();
        prop_assert_eq!(&doc["env"], &wire);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() / 10 + 1, ..ProptestConfig::default() })]

    #[test]
    fn built_in_formats_are_json_for_any_payload(
        event in event(), payload in payload(), error in proptest::option::of(json_value()),
    ) {
        let env = Arc::new(Envelope::at(event, payload, error, 1_795_976_704.494_94));
        for format in FORMATS {
            let mut options = Map::new();
            if format.name == "pagerduty" {
                options.insert("routing_key".into(), json!("k"));
            }
            let body = Body::format(format.name, options).unwrap();
            if let Some(out) = body.render(&env).unwrap() {
                prop_assert!(serde_json::from_slice::<Value>(&out).is_ok(), "{}", format.name);
            }
        }
    }
}
