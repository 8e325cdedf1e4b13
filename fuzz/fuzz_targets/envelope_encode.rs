//! The envelope encoder on arbitrary JSON: the bytes parsed as JSON (serde_json's own
//! depth limit applies), or, when they are not JSON, read as a nesting program (`[` and
//! `{` open a level, anything else is a leaf) that can go far deeper. The encoded
//! envelope is ASCII JSON that parses back to the payload, cut at `MAX_DEPTH` levels.
#![no_main]

use libfuzzer_sys::fuzz_target;
use notifier_core::wire::{MAX_DEPTH, drop_iteratively, limit_depth};
use notifier_core::{Envelope, Event};
use serde_json::{Map, Value};

/// Builds a value from bytes without recursion.
fn program(data: &[u8]) -> Value {
    let mut v = Value::Null;
    for (i, b) in data.iter().enumerate().rev() {
        v = match b {
            b'[' => Value::Array(vec![v]),
            b'{' => Value::Object(Map::from_iter([(format!("k{i}"), v)])),
            b'"' => {
                let text = &data[i + 1..data.len().min(i + 17)];
                Value::Array(vec![v, Value::String(String::from_utf8_lossy(text).into_owned())])
            }
            other => Value::Array(vec![v, Value::from(f64::from(*other) / 3.0)]),
        };
    }
    v
}

fuzz_target!(|data: &[u8]| {
    let value = || serde_json::from_slice::<Value>(data).unwrap_or_else(|_| program(data));
    let payload = value();
    // Built again rather than cloned: `Value::clone` recurses once per level.
    let mut expected = value();
    limit_depth(&mut expected, MAX_DEPTH);
    let envelope = Envelope::at(Event::RunFailed, payload, None, 1.5);
    let wire = envelope.to_wire_json();
    assert!(wire.is_ascii());
    let back: Value = serde_json::from_slice(&wire).expect("the body is JSON serde_json reads");
    assert_eq!(back["payload"], expected);
    drop_iteratively(back);
    drop_iteratively(expected);
});
