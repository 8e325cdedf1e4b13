//! The checked-in `schema/settings.schema.json` must equal what the Rust types generate.

use std::path::Path;

#[test]
fn checked_in_schema_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("settings.schema.json");
    let generated = notifier_schema::settings_schema_text();
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    if on_disk != generated && std::env::var_os("NOTIFIER_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write settings.schema.json");
        // Blessing writes the file and still fails: a run that changed a golden file
        // must never pass (CI unsets NOTIFIER_BLESS too). Run again to see it green.
        panic!("schema/settings.schema.json rewritten from the Rust types; review the diff and run the test again");
    }
    assert!(
        on_disk == generated,
        "schema/settings.schema.json is out of date with the Rust types in schema/src/model.rs.\n\
         Regenerate it with:\n\n    NOTIFIER_BLESS=1 cargo test -p notifier-schema --test schema_file\n\n\
         (or `cargo run -q -- schema > schema/settings.schema.json`)"
    );
}

/// Every key an editor can complete has a title, a description (hover text) and examples,
/// and every example is valid where it stands; every definition has a title and a
/// description. A new key without them fails here, naming the key.
#[test]
fn every_key_has_a_title_a_description_and_valid_examples() {
    use serde_json::{Value, json};

    let schema = notifier_schema::settings_schema();
    let defs = schema.get("$defs").cloned().unwrap_or_else(|| json!({}));
    let mut problems = Vec::new();
    let mut keys = 0;

    for (name, def) in defs.as_object().expect("$defs is an object") {
        for field in ["title", "description"] {
            if def.get(field).and_then(Value::as_str).is_none_or(|t| t.trim().is_empty()) {
                problems.push(format!("$defs/{name}: no {field}"));
            }
        }
    }

    // Every `properties` object anywhere in the schema, with its JSON pointer.
    let mut stack = vec![(String::new(), schema.clone())];
    while let Some((pointer, node)) = stack.pop() {
        match &node {
            Value::Object(map) => {
                for (k, v) in map {
                    stack.push((format!("{pointer}/{k}"), v.clone()));
                }
                let Some(properties) = map.get("properties").and_then(Value::as_object) else { continue };
                for (key, property) in properties {
                    keys += 1;
                    let at = format!("{pointer}/properties/{key}");
                    for field in ["title", "description"] {
                        if property.get(field).and_then(Value::as_str).is_none_or(|t| t.trim().is_empty()) {
                            problems.push(format!("{at}: no {field}"));
                        }
                    }
                    let examples = property.get("examples").and_then(Value::as_array).cloned().unwrap_or_default();
                    if examples.is_empty() {
                        problems.push(format!("{at}: no examples"));
                    }
                    // The property's schema on its own, with the definitions it may refer to.
                    let mut alone = property.clone();
                    alone["$defs"] = defs.clone();
                    alone["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
                    let validator = jsonschema::validator_for(&alone).expect("a property schema compiles");
                    for example in &examples {
                        for error in validator.iter_errors(example) {
                            problems.push(format!("{at}: example {example} is invalid: {error}"));
                        }
                    }
                }
            }
            Value::Array(items) => {
                stack.extend(items.iter().enumerate().map(|(i, v)| (format!("{pointer}/{i}"), v.clone())));
            }
            _ => {}
        }
    }
    assert!(keys >= 14, "only {keys} keys found: the walk is broken");
    assert!(
        problems.is_empty(),
        "editors show these keys without help; add #[schemars(title = …, example = …)] and a doc comment \
         in schema/src/model.rs:\n  {}",
        problems.join("\n  ")
    );
}

/// The `$id` does not change from one release to the next, and is where the checked-in
/// copy is served from.
#[test]
fn the_id_is_stable_and_names_the_checked_in_file() {
    let id = notifier_schema::settings_schema()["$id"].as_str().expect("the schema has an $id");
    assert_eq!(id, notifier_schema::model::SCHEMA_ID);
    assert!(id.starts_with(env!("CARGO_PKG_REPOSITORY")) && id.ends_with("/schema/settings.schema.json"), "{id}");
    assert!(!id.contains(env!("CARGO_PKG_VERSION")), "a versioned $id changes with every release: {id}");
}
