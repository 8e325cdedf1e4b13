//! The JSON Schema of the settings file and validation against it.
//!
//! The schema is generated from [`crate::model`] with schemars; the checked-in copy
//! `schema/settings.schema.json` is compared with it by a test. Validation uses the
//! `jsonschema` crate with its resolvers compiled out (no `$ref` can reach the network).

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use crate::model::Settings;

/// The JSON Schema (draft 2020-12) of a Chaos Toolkit settings file, as a value.
pub fn settings_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| schemars::schema_for!(Settings).to_value())
}

/// The JSON Schema as pretty-printed text with a trailing newline (what
/// `notifier schema` prints and what `schema/settings.schema.json` holds).
pub fn settings_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(settings_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// One channel type as the schema defines it.
struct ChannelKind {
    /// The `type` tag, e.g. `http`.
    tag: String,
    /// The keys the channel interprets, `type` first, then in the order of the fields.
    keys: Vec<String>,
}

/// The channel types of the schema (the branches of `$defs/Channel/oneOf`), read once.
fn channel_kinds() -> &'static [ChannelKind] {
    static KINDS: OnceLock<Vec<ChannelKind>> = OnceLock::new();
    KINDS.get_or_init(|| {
        let schema = settings_schema();
        let branches = schema.pointer("/$defs/Channel/oneOf").and_then(Value::as_array).map(Vec::as_slice);
        let properties = |v: &Value| -> Vec<String> {
            v.get("properties").and_then(Value::as_object).map(|p| p.keys().cloned().collect()).unwrap_or_default()
        };
        branches
            .unwrap_or_default()
            .iter()
            .filter_map(|branch| {
                let tag = branch.pointer("/properties/type/const")?.as_str()?.to_owned();
                // A variant's struct is inlined, or referenced beside the tag.
                let referenced = branch
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix('#'))
                    .and_then(|r| schema.pointer(r));
                let mut keys = vec!["type".to_owned()];
                let fields = properties(branch).into_iter().chain(referenced.map(properties).unwrap_or_default());
                keys.extend(fields.filter(|k| k != "type"));
                Some(ChannelKind { tag, keys })
            })
            .collect()
    })
}

/// The keys a channel of type `tag` (`http`, `plugin`) interprets, `type` first, then in
/// the order of the fields of its `model` type; `None` for an unknown type. An http
/// channel accepts no other key; a plugin channel passes any other key to the plugin.
pub fn channel_keys(tag: &str) -> Option<&'static [String]> {
    channel_kinds().iter().find(|k| k.tag == tag).map(|k| k.keys.as_slice())
}

/// The channel types (`type` tags), in the order of [`crate::model::Channel`]'s variants.
pub fn channel_types() -> impl Iterator<Item = &'static str> {
    channel_kinds().iter().map(|k| k.tag.as_str())
}

fn validator() -> Option<&'static Validator> {
    static VALIDATOR: OnceLock<Option<Validator>> = OnceLock::new();
    VALIDATOR.get_or_init(|| jsonschema::validator_for(settings_schema()).ok()).as_ref()
}

/// One place where a document does not follow the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer of the offending value.
    pub pointer: String,
    /// The validator's message, with instance values masked (they may be secrets).
    pub message: String,
    /// For "additional properties": the unexpected keys.
    pub unexpected: Vec<String>,
}

/// Validates a document against the settings schema and returns every violation,
/// with `oneOf` failures replaced by the errors of the branch the channel's `type`
/// selects.
pub fn violations(document: &Value) -> Vec<Violation> {
    let Some(validator) = validator() else {
        return vec![Violation {
            pointer: String::new(),
            message: "internal error: the settings schema does not compile".into(),
            unexpected: vec![],
        }];
    };
    let mut out = Vec::new();
    for error in validator.iter_errors(document) {
        flatten(&error, document, &mut out);
    }
    out
}

fn flatten(error: &ValidationError<'_>, document: &Value, out: &mut Vec<Violation>) {
    let pointer = error.instance_path().as_str().to_owned();
    match error.kind() {
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            let tag = document.pointer(&format!("{pointer}/type")).and_then(Value::as_str);
            // The branch to report is the one whose `type` constant the value has.
            let chosen = context.iter().find(|branch| {
                tag.is_some()
                    && !branch.iter().any(|e| {
                        e.instance_path().as_str() == format!("{pointer}/type")
                            && matches!(
                                e.kind(),
                                ValidationErrorKind::Constant { .. } | ValidationErrorKind::Enum { .. }
                            )
                    })
            });
            match chosen {
                Some(branch) => branch.iter().for_each(|e| flatten(e, document, out)),
                None => out.push(Violation {
                    pointer,
                    message: "does not match any channel type (`http` or `plugin`)".into(),
                    unexpected: vec![],
                }),
            }
        }
        kind => out.push(Violation {
            pointer,
            message: error.masked().to_string(),
            unexpected: match kind {
                ValidationErrorKind::AdditionalProperties { unexpected } => unexpected.clone(),
                _ => vec![],
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_compiles_and_accepts_the_documented_example() {
        let doc = json!({"notifications": [
            {"type": "http", "url": "https://mystuff.com/api", "verify_tls": false, "headers": {"Authorization": "Bearer 1234"}},
            {"type": "plugin", "module": "chaosslack.notification", "token": "xop-1235", "channel": "general", "events": ["run-failed"]},
        ], "controls": {"anything": [1, 2]}});
        assert_eq!(violations(&doc), vec![]);
    }

    #[test]
    fn one_of_is_flattened_to_the_selected_branch() {
        let doc = json!({"notifications": [{"type": "http", "url": "https://x", "verify_ssl": false}]});
        let v = violations(&doc);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].pointer, "/notifications/0");
        assert_eq!(v[0].unexpected, vec!["verify_ssl".to_owned()]);
    }

    #[test]
    fn violations_do_not_echo_values() {
        let doc =
            json!({"notifications": [{"type": "http", "url": "https://x", "headers": {"Authorization": 12345678}}]});
        let v = violations(&doc);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(!v[0].message.contains("12345678"), "{v:?}");
    }
}
