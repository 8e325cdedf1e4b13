//! Describing a value in a message without repeating it (it may be a credential).

use serde_json::Value;

/// A short description of a JSON value's type for messages, without its content
/// (which may be a secret), except for booleans, null and short strings of small words.
pub(super) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.is_empty() => "an empty string".into(),
        Value::String(s) if s.trim().is_empty() => "a blank string".into(),
        Value::String(s) if s.len() <= 12 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => {
            format!("the string \"{s}\"")
        }
        Value::String(_) => "a string".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

/// The type of a value that may be a credential, never its content.
pub(super) fn describe_secret(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(s) if s.is_empty() => "an empty string",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}
