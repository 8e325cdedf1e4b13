//! Golden conformance: our envelope bytes against chaostoolkit-lib 1.45.1's.
//!
//! `conformance/cases.json` lists the cases; `conformance/golden/<id>.json` holds the
//! requests the reference really sent for each of them (recorded by
//! `conformance/record_reference.sh`, see `conformance/README.md`). For every case the
//! envelope is rebuilt with [`Envelope::at`], taking only `ts` from the recorded body, and
//! [`Envelope::to_wire_json`] must produce the recorded POST body byte for byte. The
//! recorded GET (`forward_event_payload: false`) must have had no body at all.
//!
//! This test reads files only; it needs neither Python nor the network.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use notifier_core::envelope::{Envelope, exception};
use notifier_core::event::Event;
use serde_json::{Map, Value};

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("conformance")
}

fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn cases() -> Vec<Map<String, Value>> {
    let path = conformance_dir().join("cases.json");
    match read_json(&path) {
        Value::Array(cases) => cases
            .into_iter()
            .map(|case| match case {
                Value::Object(map) => map,
                other => panic!("a case must be an object, got {other}"),
            })
            .collect(),
        other => panic!("{} must hold an array, got {other}", path.display()),
    }
}

fn str_field<'a>(map: &'a Map<String, Value>, key: &str, what: &str) -> &'a str {
    map.get(key).and_then(Value::as_str).unwrap_or_else(|| panic!("{what}: `{key}` must be a string"))
}

/// The case's `error` as our API receives it: absent → `None`; `{"exception": {"kind",
/// "message"}}` → the rendered exception; anything else → the raw JSON value.
fn case_error(case: &Map<String, Value>, id: &str) -> Option<Value> {
    let error = case.get("error")?;
    if let Value::Object(map) = error
        && map.len() == 1
        && let Some(Value::Object(exc)) = map.get("exception")
    {
        let kind = str_field(exc, "kind", id);
        let message = str_field(exc, "message", id);
        return Some(exception(kind, message));
    }
    Some(error.clone())
}

/// The text of the top-level `"ts"` value in a recorded body, found by a small scanner
/// that skips strings and nested containers (so a `ts` key inside the payload or the
/// error cannot be mistaken for it).
fn top_level_ts(body: &str) -> &str {
    let bytes = body.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            b'"' => {
                let start = i + 1;
                i += 1;
                while bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if depth == 1 && &body[start..i] == "ts" && body[i + 1..].starts_with(": ") {
                    let value = &body[i + 3..];
                    let end = value.find([',', '}']).expect("the envelope object is closed");
                    return &value[..end];
                }
            }
            _ => {}
        }
        i += 1;
    }
    panic!("no top-level \"ts\" in {body}")
}

/// A readable report of two byte strings that differ.
fn describe_difference(ours: &str, reference: &str) -> String {
    let (a, b) = (ours.as_bytes(), reference.as_bytes());
    let offset = a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    let window = |s: &[u8]| {
        let from = offset.saturating_sub(40);
        let to = (offset + 40).min(s.len());
        String::from_utf8_lossy(&s[from.min(to)..to]).into_owned()
    };
    let mut out = String::new();
    let _ =
        writeln!(out, "first differing byte at offset {offset} (ours {} bytes, reference {} bytes)", a.len(), b.len());
    let _ = writeln!(out, "  ours      …{}…", window(a));
    let _ = writeln!(out, "  reference …{}…", window(b));
    let _ = writeln!(out, "  ours:      {ours}");
    let _ = write!(out, "  reference: {reference}");
    out
}

fn header<'a>(request: &'a Value, name: &str) -> Option<&'a str> {
    request["headers"]
        .as_array()
        .expect("headers is an array of pairs")
        .iter()
        .find(|pair| pair[0].as_str().is_some_and(|k| k.eq_ignore_ascii_case(name)))
        .map(|pair| pair[1].as_str().expect("header values are strings"))
}

/// Cases where we knowingly differ, with the reason. Each must still differ (so a fix
/// shows up here); every other case must match byte for byte.
///
/// Both come from reading JSON with serde_json without `arbitrary_precision` (that
/// feature breaks `#[serde(flatten)]` and tagged enums, which the settings model uses):
/// numbers are kept as `i64`/`u64`/`f64`, unlike Python's unbounded ints.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    ("payload-big-ints", "the integer `-0` is read as the float -0.0 and written `-0.0` (Python: `0`)"),
    (
        "payload-ints-beyond-64-bit",
        "integers beyond 64 bits become floats (`1.8446744073709552e+19`); Python keeps every digit",
    ),
];

#[test]
fn envelopes_match_the_reference_byte_for_byte() {
    let golden_dir = conformance_dir().join("golden");
    let cases = cases();
    assert!(cases.len() >= 30, "expected the full case list");

    let mut failures = Vec::new();
    let mut ids = BTreeSet::new();
    for case in &cases {
        let id = str_field(case, "id", "case");
        assert!(ids.insert(format!("{id}.json")), "duplicate case id {id}");
        let event_name = str_field(case, "event", id);
        let event = Event::from_name(event_name).unwrap_or_else(|| panic!("{id}: unknown event {event_name}"));
        let payload = case.get("payload").cloned().unwrap_or(Value::Null);
        let error = case_error(case, id);

        let golden = read_json(&golden_dir.join(format!("{id}.json")));
        assert_eq!(golden["event"], event_name, "{id}: golden file is for another event");

        // The GET channel: no body, no body headers.
        let get = &golden["get"];
        assert_eq!(get["method"], "GET", "{id}");
        assert!(get["body"].is_null(), "{id}: the GET had a body: {}", get["body"]);
        for name in ["Content-Length", "Content-Type", "Transfer-Encoding"] {
            assert_eq!(header(get, name), None, "{id}: the GET had {name}");
        }

        // The POST channel: the envelope, byte for byte.
        let post = &golden["post"];
        assert_eq!(post["method"], "POST", "{id}");
        let reference = post["body"].as_str().unwrap_or_else(|| panic!("{id}: no POST body"));
        assert_eq!(header(post, "Content-Type"), Some("application/json"), "{id}");
        assert_eq!(
            header(post, "Content-Length"),
            Some(reference.len().to_string().as_str()),
            "{id}: recorded Content-Length"
        );
        let ts_text = top_level_ts(reference);
        let ts: f64 = ts_text.parse().unwrap_or_else(|e| panic!("{id}: ts {ts_text:?}: {e}"));

        let ours = Envelope::at(event, payload, error, ts).to_wire_json();
        let ours = String::from_utf8(ours).expect("the wire encoding is ASCII");
        if let Some((_, why)) = KNOWN_DIFFERENCES.iter().find(|(k, _)| *k == id) {
            assert_ne!(ours, reference, "{id} now matches ({why}): remove it from KNOWN_DIFFERENCES");
        } else if ours != reference {
            failures.push(format!("case {id}: {}", describe_difference(&ours, reference)));
        }
    }

    let on_disk: BTreeSet<String> = fs::read_dir(&golden_dir)
        .expect("conformance/golden exists")
        .map(|entry| entry.expect("readable dir entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json") && name != "_meta.json")
        .collect();
    let stale: Vec<_> = on_disk.difference(&ids).collect();
    assert!(stale.is_empty(), "golden files without a case: {stale:?}");

    let covered: BTreeSet<&str> = cases.iter().map(|case| str_field(case, "event", "case")).collect();
    for event in Event::ALL {
        assert!(covered.contains(event.name()), "no case for {event}");
    }

    assert!(
        failures.is_empty(),
        "{} of {} envelopes differ from chaostoolkit-lib 1.45.1:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_ts_scanner_ignores_nested_ts_keys() {
    let body = r#"{"name": "run-started", "payload": {"ts": 1, "s": "\"ts\": 2"}, "phase": "run", "ts": 3.5, "error": {"ts": 4}}"#;
    assert_eq!(top_level_ts(body), "3.5");
}

#[test]
fn differences_report_the_first_offset() {
    let report = describe_difference(r#"{"a": 1e16}"#, r#"{"a": 1e+16}"#);
    assert!(report.starts_with("first differing byte at offset 8 "), "{report}");
    assert!(report.contains(r#"ours:      {"a": 1e16}"#), "{report}");
}
