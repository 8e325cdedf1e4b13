//! The notification envelope: `{"name", "payload", "phase", "ts"[, "error"]}`.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::event::{Event, Phase};

/// One flow event as every channel receives it.
///
/// Built once per event by the dispatcher, so `ts` is identical for every channel.
/// Serialises with the keys in the reference's order: `name`, `payload`, `phase`, `ts`,
/// and `error` only when there is one.
///
/// [`Envelope::new`] and [`Envelope::at`] replace arrays and objects nested deeper than
/// [`MAX_DEPTH`](crate::wire::MAX_DEPTH) levels in the payload and the error with the
/// string [`TOO_DEEP`](crate::wire::TOO_DEEP), so an envelope can be encoded, cloned,
/// printed and dropped on any thread; serialising bounds the depth again for envelopes
/// built field by field.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The event.
    pub event: Event,
    /// Event-specific data: the experiment, the journal, a discovery result, a name…
    pub payload: Value,
    /// Unix epoch seconds (UTC) with microsecond resolution, as a float.
    pub ts: f64,
    /// The error that made the flow fail, if any. Never a "falsy" JSON value.
    pub error: Option<Value>,
}

impl Envelope {
    /// An envelope stamped with the current time.
    ///
    /// `error` is kept only when it is truthy in Python's sense (not `null`, `false`, `0`,
    /// `""`, `[]` or `{}`), because the reference adds the key only `if error:`.
    pub fn new(event: Event, payload: Value, error: Option<Value>) -> Envelope {
        Envelope::at(event, payload, error, now_ts())
    }

    /// An envelope with an explicit timestamp (tests, replays).
    pub fn at(event: Event, mut payload: Value, error: Option<Value>, ts: f64) -> Envelope {
        crate::wire::limit_depth(&mut payload, crate::wire::MAX_DEPTH);
        let error = error.filter(is_truthy).map(|mut e| {
            crate::wire::limit_depth(&mut e, crate::wire::MAX_DEPTH);
            e
        });
        Envelope { event, payload, ts, error }
    }

    /// The event name (`name` key).
    pub fn name(&self) -> &'static str {
        self.event.name()
    }

    /// The phase (`phase` key).
    pub fn phase(&self) -> Phase {
        self.event.phase()
    }

    /// The body an HTTP channel posts: the envelope encoded like Python's `json.dumps`.
    pub fn to_wire_json(&self) -> Vec<u8> {
        crate::wire::to_python_json(self)
    }

    /// The envelope as a JSON value (for plugins that want a map).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl Serialize for Envelope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(if self.error.is_some() { 5 } else { 4 }))?;
        map.serialize_entry("name", self.event.name())?;
        map.serialize_entry("payload", &crate::wire::Bounded::new(&self.payload))?;
        map.serialize_entry("phase", self.event.phase().as_str())?;
        map.serialize_entry("ts", &self.ts)?;
        if let Some(error) = &self.error {
            map.serialize_entry("error", &crate::wire::Bounded::new(error))?;
        }
        map.end()
    }
}

/// The current time as Unix epoch seconds with microsecond resolution, like Python's
/// `datetime.now(UTC).timestamp()`.
pub fn now_ts() -> f64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    since.as_secs() as f64 + f64::from(since.subsec_micros()) / 1e6
}

/// Renders an error the way chaostoolkit-lib's `PayloadEncoder` renders a Python
/// exception: `An exception was raised: Kind('message')`.
///
/// Like the reference, quotes inside the message are not escaped.
pub fn exception_text(kind: &str, message: &str) -> String {
    format!("An exception was raised: {kind}('{message}')")
}

/// [`exception_text`] as a JSON string value, ready for [`Envelope::new`]'s `error`.
pub fn exception(kind: &str, message: &str) -> Value {
    Value::String(exception_text(kind, message))
}

/// Renders a Rust error as an exception value: the kind is the last segment of the
/// error's type name (`InvalidExperiment` for `runner::InvalidExperiment`).
pub fn error_value<E: std::error::Error + ?Sized>(error: &E) -> Value {
    let full = std::any::type_name::<E>();
    let base = full.split('<').next().unwrap_or(full);
    let kind = base.rsplit("::").next().unwrap_or(base);
    exception(kind, &error.to_string())
}

/// Python truthiness of a JSON value.
pub fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_and_optional_error() {
        let e = Envelope::at(Event::RunStarted, json!({"title": "t"}), None, 1.5);
        assert_eq!(
            String::from_utf8(e.to_wire_json()).unwrap(),
            r#"{"name": "run-started", "payload": {"title": "t"}, "phase": "run", "ts": 1.5}"#
        );
        let e = Envelope::at(Event::ValidateFailed, Value::Null, Some(exception("E", "it's \"q\"")), 2.0);
        assert_eq!(
            String::from_utf8(e.to_wire_json()).unwrap(),
            r#"{"name": "validate-failed", "payload": null, "phase": "validate", "ts": 2.0, "error": "An exception was raised: E('it's \"q\"')"}"#
        );
    }

    #[test]
    fn falsy_errors_are_dropped_like_the_reference() {
        for falsy in [json!(null), json!(""), json!(0), json!(false), json!([]), json!({})] {
            assert_eq!(Envelope::new(Event::InitStarted, Value::Null, Some(falsy)).error, None);
        }
        assert!(Envelope::new(Event::InitStarted, Value::Null, Some(json!({"code": 1}))).error.is_some());
    }

    #[test]
    fn rust_errors_render_with_their_type_name() {
        #[derive(Debug, thiserror::Error)]
        #[error("experiment requires a description")]
        struct InvalidExperiment;
        assert_eq!(
            error_value(&InvalidExperiment),
            json!("An exception was raised: InvalidExperiment('experiment requires a description')")
        );
    }

    #[test]
    fn timestamps_have_microsecond_resolution() {
        let ts = now_ts();
        assert!(ts > 1.7e9);
        assert!(((ts * 1e6).round() - ts * 1e6).abs() < 1.0);
    }
}
