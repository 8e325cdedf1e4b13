//! The JSON Schema of the settings file, and what the compiler reads from it.
//!
//! The schema is generated from [`crate::model`] with schemars; the checked-in copy
//! `schema/settings.schema.json` is compared with it by a test. Validation against it is
//! in `validate` (feature `validation`).

use std::sync::OnceLock;

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
