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
