//! The settings contract is written once: the serde types of `model.rs`, from which the
//! JSON Schema is generated. The semantic checks read their key lists, limits and channel
//! types from there; these tests fail if the three ever disagree again.

use serde::Deserialize;
use serde_json::{Value, json};

use notifier_schema::model::{Channel, HttpChannel};
use notifier_schema::validate::violations;
use notifier_schema::{Code, SourceFile, compile};

/// A minimal valid entry of each channel type.
fn base(kind: &str) -> Value {
    match kind {
        "http" => json!({"type": "http", "url": "https://x.example/h"}),
        _ => json!({"type": "plugin", "module": "acme.hooks"}),
    }
}

/// Compiles a document (JSON is YAML) and returns the codes of its errors.
fn check_errors(doc: &Value) -> Vec<Code> {
    let compiled = compile(SourceFile::new("contract.yaml", doc.to_string()));
    compiled.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.code).collect()
}

/// For each value of `key` on each channel type: the checks refuse it exactly when the
/// schema does, and never leave the refusal to the schema's safety net.
fn limits_agree(kinds: &[&str], key: &str, values: &[Value]) {
    for kind in kinds {
        for value in values {
            let mut entry = base(kind);
            entry[key] = value.clone();
            let doc = json!({ "notifications": [entry] });
            let schema_refuses = !violations(&doc).is_empty();
            let errors = check_errors(&doc);
            assert!(!errors.contains(&Code::Schema), "{kind} {key}: {value}: only the schema refuses it: {errors:?}");
            assert_eq!(!errors.is_empty(), schema_refuses, "{kind} {key}: {value}: checks {errors:?}");
        }
    }
}

#[test]
fn timeout_limits_agree() {
    let values = [0.0, 0.0005, 0.000_999, 0.001, 0.0015, 1.0, 299.999, 300.0, 300.001, -1.0];
    limits_agree(&["http", "plugin"], "timeout", &values.map(|v| json!(v)));
    limits_agree(&["http", "plugin"], "timeout", &[json!(0), json!(1), json!(300), json!(301)]);
}

#[test]
fn retries_limits_agree() {
    let values = [json!(0), json!(1), json!(10), json!(11), json!(255), json!(256), json!(-1), json!(2.5)];
    limits_agree(&["http"], "retries", &values);
}

#[test]
fn signing_secret_length_agrees() {
    limits_agree(&["http"], "signing_secret", &[json!(""), json!("whsec_c2VjcmV0")]);
}

#[test]
fn module_and_func_names_agree() {
    let funcs = ["notify", "_x", "x1", "A_Z9", "1x", "a-b", "a.b", "é", "", "a b", "r#type"];
    limits_agree(&["plugin"], "func", &funcs.map(|f| json!(f)));
    let modules = ["acme.hooks", "a", "_a._b1", "a..b", ".a", "a.", "a-b.c", "1a.b", ""];
    limits_agree(&["plugin"], "module", &modules.map(|m| json!(m)));
}

#[test]
fn the_retries_limit_is_the_run_time_limit() {
    let mut entry = base("http");
    entry["retries"] = json!(notifier_core::channel::MAX_RETRIES);
    assert!(check_errors(&json!({ "notifications": [entry.clone()] })).is_empty());
    entry["retries"] = json!(notifier_core::channel::MAX_RETRIES + 1);
    assert_eq!(check_errors(&json!({ "notifications": [entry] })), [Code::InvalidRetries]);
}

/// A deserializer that only records the field list serde's derive passes to
/// `deserialize_struct`: the keys a struct interprets, as serde sees them.
struct FieldNames;

#[derive(Debug)]
struct Fields(Vec<&'static str>);

impl std::fmt::Display for Fields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::error::Error for Fields {}

impl serde::de::Error for Fields {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Fields(Vec::new())
    }
}

impl<'de> serde::Deserializer<'de> for FieldNames {
    type Error = Fields;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Fields> {
        Err(Fields(Vec::new()))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Fields> {
        Err(Fields(fields.to_vec()))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

#[test]
fn http_keys_are_the_serde_fields() {
    let Err(Fields(serde_fields)) = HttpChannel::deserialize(FieldNames) else {
        panic!("serde did not ask for a struct")
    };
    let keys = notifier_schema::schema::channel_keys("http").expect("http is a channel type");
    assert_eq!(keys[0], "type", "the tag comes first");
    assert_eq!(&keys[1..], serde_fields.as_slice());
}

#[test]
fn plugin_keys_are_what_serde_does_not_pass_through() {
    let keys = notifier_schema::schema::channel_keys("plugin").expect("plugin is a channel type");
    assert_eq!(keys[0], "type", "the tag comes first");
    // Every listed key is a field of `PluginChannel`; a key not listed is passed to the plugin.
    let mut entry = json!({"type": "plugin", "module": "acme.hooks", "func": "notify", "events": null, "timeout": 1.5});
    for key in keys {
        assert!(entry.get(key.as_str()).is_some(), "give `{key}` a value in this test");
    }
    entry["plugin_specific"] = json!("x");
    let Ok(Channel::Plugin(plugin)) = Channel::deserialize(&entry) else { panic!("a valid plugin channel") };
    assert_eq!(plugin.extra.keys().collect::<Vec<_>>(), ["plugin_specific"]);
}

#[test]
fn unknown_http_keys_are_refused_by_checks_schema_and_serde_alike() {
    let valid = json!({
        "verify_tls": false, "headers": {"X-A": "b"}, "forward_event_payload": false, "events": ["run-failed"],
        "timeout": 2.5, "retries": 3, "signing_secret": "${SECRET}",
        "template": "{{ summary }}", "content_type": "text/plain", "format": "teams", "options": {"a": 1},
    });
    // Keys that only mean something beside another one.
    let companions = json!({"content_type": {"template": "{{ summary }}"}, "options": {"template": "{{ options.a }}"}});
    for key in notifier_schema::schema::channel_keys("http").unwrap() {
        let mut entry = base("http");
        if entry.get(key.as_str()).is_none() {
            entry[key.as_str()] = valid.get(key.as_str()).unwrap_or_else(|| panic!("give `{key}` a value")).clone();
        }
        if let Some(Value::Object(extra)) = companions.get(key.as_str()) {
            for (k, v) in extra {
                entry[k.as_str()] = v.clone();
            }
        }
        assert!(Channel::deserialize(&entry).is_ok(), "serde refuses `{key}`");
        assert!(check_errors(&json!({ "notifications": [entry] })).is_empty(), "checks refuse `{key}`");
    }
    let mut entry = base("http");
    entry["verify_ssl"] = json!(false);
    assert!(Channel::deserialize(&entry).is_err());
    let doc = json!({ "notifications": [entry] });
    assert!(!violations(&doc).is_empty());
    assert_eq!(check_errors(&doc), [Code::UnknownKey]);
}

#[test]
fn channel_types_are_the_serde_tags() {
    let types: Vec<&str> = notifier_schema::schema::channel_types().collect();
    assert_eq!(types, ["http", "plugin"]);
    for t in types {
        assert!(Channel::deserialize(&base(t)).is_ok(), "serde refuses type `{t}`");
    }
}
