//! The safety net behind the semantic checks (feature `validation`): the document
//! validated against the settings JSON Schema by the `jsonschema` crate, with its
//! resolvers compiled out (no `$ref` can reach the network or the disk).

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use crate::schema::settings_schema;

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
