//! What a body template sees: the envelope's fields, one-line helpers, the options.
//!
//! The context is a minijinja object over the shared envelope, so nothing is copied or
//! computed until the template reads it: `payload.experiment.title` walks the JSON in
//! place, and a card that never mentions `summary` never formats one.

use std::fmt::Write as _;
use std::sync::Arc;

use minijinja::Value as JValue;
use minijinja::value::{Enumerator, Object, ObjectRepr};
use serde_json::Value;

use crate::envelope::Envelope;
use crate::event::Event;

/// One name of the template context, with what it holds (`notifier formats`, the docs
/// and the "unknown variable" warnings use this list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContextEntry {
    /// The variable.
    pub name: &'static str,
    /// What it holds.
    pub doc: &'static str,
}

/// Every variable of the template context, in the order `docs/TEMPLATES.md` lists them.
pub const CONTEXT: &[ContextEntry] = &[
    ContextEntry { name: "event", doc: "the event name, e.g. `run-failed` (the envelope's `name`)" },
    ContextEntry { name: "phase", doc: "`discovery`, `init`, `run` or `validate`" },
    ContextEntry { name: "outcome", doc: "the event's last word: `started`, `completed`, `failed` or `deviated`" },
    ContextEntry { name: "ts", doc: "Unix epoch seconds (UTC) as a float, the envelope's `ts`" },
    ContextEntry { name: "time", doc: "`ts` in ISO 8601 / RFC 3339, UTC, microseconds: `2026-11-29T18:00:00.123456Z`" },
    ContextEntry { name: "payload", doc: "the event's payload (experiment, journal, discovery result, …) or none" },
    ContextEntry { name: "error", doc: "the error of a `*-failed` event, or none" },
    ContextEntry { name: "envelope", doc: "the whole envelope `{name, payload, phase, ts[, error]}`" },
    ContextEntry { name: "title", doc: "the experiment's title (from a journal or an experiment), or none" },
    ContextEntry {
        name: "subject",
        doc: "what the event is about: `title`, or the extension name of discovery events, or none",
    },
    ContextEntry { name: "status", doc: "the journal's `status` (`completed`, `failed`, `aborted`, …), or none" },
    ContextEntry { name: "deviated", doc: "true when the run deviated (journal `deviated`, or `run-deviated`)" },
    ContextEntry { name: "duration", doc: "the journal's `duration` in seconds, or none" },
    ContextEntry { name: "duration_text", doc: "`duration` as text, `12.3 s`, or none" },
    ContextEntry { name: "error_text", doc: "`error` as one string (JSON text when it is not a string), or none" },
    ContextEntry { name: "headline", doc: "`Chaos run failed`, `Chaos validate started`, …" },
    ContextEntry { name: "summary", doc: "one line: `run-failed: Stop the DB (status failed, 12.3 s): <error>`" },
    ContextEntry {
        name: "event_id",
        doc: "a stable id of this event (UUID form): the same for every channel and retry",
    },
    ContextEntry {
        name: "experiment_key",
        doc: "a stable key per experiment, `chaostoolkit/<title-slug>-<hash>`: PagerDuty `dedup_key`, Opsgenie `alias`",
    },
    ContextEntry { name: "options", doc: "the channel's `options` mapping (with a format's defaults)" },
];

/// The context of one render.
#[derive(Debug)]
pub(super) struct Ctx {
    env: Arc<Envelope>,
    options: JValue,
}

impl Ctx {
    pub(super) fn new(env: Arc<Envelope>, options: JValue) -> Ctx {
        Ctx { env, options }
    }
}

impl Object for Ctx {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &JValue) -> Option<JValue> {
        let env = &self.env;
        Some(match key.as_str()? {
            "event" => JValue::from(env.name()),
            "phase" => JValue::from(env.phase().as_str()),
            "outcome" => JValue::from(outcome(env.event)),
            "ts" => JValue::from(env.ts),
            "time" => JValue::from(iso_time(env.ts)),
            "payload" => JsonRef::root(env, Root::Payload),
            "error" => match &env.error {
                Some(_) => JsonRef::root(env, Root::Error),
                None => JValue::from(()),
            },
            "envelope" => JValue::from_object(EnvelopeRef(env.clone())),
            "title" => title(env).map_or_else(none, JValue::from),
            "subject" => subject(env).map_or_else(none, JValue::from),
            "status" => status(env).map_or_else(none, JValue::from),
            "deviated" => JValue::from(deviated(env)),
            "duration" => duration(env).map_or_else(none, JValue::from),
            "duration_text" => duration(env).map_or_else(none, |d| JValue::from(duration_text(d))),
            "error_text" => error_text(env).map_or_else(none, JValue::from),
            "headline" => JValue::from(headline(env.event)),
            "summary" => JValue::from(summary(env)),
            "event_id" => JValue::from(event_id(env)),
            "experiment_key" => JValue::from(experiment_key(env)),
            "options" => self.options.clone(),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(CONTEXT.iter().map(|e| JValue::from(e.name)).collect())
    }
}

fn none() -> JValue {
    JValue::from(())
}

/// Which JSON value of the envelope a [`JsonRef`] starts from.
#[derive(Debug, Clone, Copy)]
enum Root {
    Payload,
    Error,
}

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

/// An array or object inside the envelope, read in place.
#[derive(Debug)]
struct JsonRef {
    env: Arc<Envelope>,
    root: Root,
    path: Vec<Seg>,
}

impl JsonRef {
    fn root(env: &Arc<Envelope>, root: Root) -> JValue {
        let node = match root {
            Root::Payload => &env.payload,
            Root::Error => env.error.as_ref().unwrap_or(&Value::Null),
        };
        wrap(node, || JsonRef { env: env.clone(), root, path: Vec::new() })
    }

    fn node(&self) -> &Value {
        let mut node = match self.root {
            Root::Payload => &self.env.payload,
            Root::Error => self.env.error.as_ref().unwrap_or(&Value::Null),
        };
        for seg in &self.path {
            node = match (seg, node) {
                (Seg::Key(k), Value::Object(m)) => m.get(k).unwrap_or(&Value::Null),
                (Seg::Index(i), Value::Array(a)) => a.get(*i).unwrap_or(&Value::Null),
                _ => &Value::Null,
            };
        }
        node
    }

    fn child(&self, seg: Seg, node: &Value) -> JValue {
        wrap(node, || {
            let mut path = Vec::with_capacity(self.path.len() + 1);
            path.extend(self.path.iter().cloned());
            path.push(seg);
            JsonRef { env: self.env.clone(), root: self.root, path }
        })
    }
}

/// A JSON value as a template value: scalars by value, arrays and objects by reference.
fn wrap(node: &Value, reference: impl FnOnce() -> JsonRef) -> JValue {
    match node {
        Value::Null => JValue::from(()),
        Value::Bool(b) => JValue::from(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                JValue::from(i)
            } else if let Some(u) = n.as_u64() {
                JValue::from(u)
            } else {
                JValue::from(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => JValue::from(s.as_str()),
        Value::Array(_) | Value::Object(_) => JValue::from_object(reference()),
    }
}

impl Object for JsonRef {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        if self.node().is_array() { ObjectRepr::Seq } else { ObjectRepr::Map }
    }

    fn get_value(self: &Arc<Self>, key: &JValue) -> Option<JValue> {
        let node = self.node();
        match node {
            Value::Object(map) => {
                let k = key.as_str()?;
                map.get(k).map(|v| self.child(Seg::Key(k.to_owned()), v))
            }
            Value::Array(items) => {
                let i = i64::try_from(key.clone()).ok()?;
                let i = if i < 0 { items.len().checked_sub(i.unsigned_abs() as usize)? } else { i as usize };
                items.get(i).map(|v| self.child(Seg::Index(i), v))
            }
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match self.node() {
            Value::Object(map) => Enumerator::Values(map.keys().map(|k| JValue::from(k.as_str())).collect()),
            Value::Array(items) => Enumerator::Seq(items.len()),
            _ => Enumerator::Empty,
        }
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        match self.node() {
            Value::Object(map) => Some(map.len()),
            Value::Array(items) => Some(items.len()),
            _ => Some(0),
        }
    }

    fn is_true(self: &Arc<Self>) -> bool {
        crate::envelope::is_truthy(self.node())
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // As text (non-JSON bodies, `~`, `string`): the JSON text.
        f.write_str(&serde_json::to_string(&crate::wire::Bounded::new(self.node())).unwrap_or_default())
    }
}

/// The whole envelope, written as its JSON object.
#[derive(Debug)]
struct EnvelopeRef(Arc<Envelope>);

impl Object for EnvelopeRef {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &JValue) -> Option<JValue> {
        let env = &self.0;
        Some(match key.as_str()? {
            "name" => JValue::from(env.name()),
            "payload" => JsonRef::root(env, Root::Payload),
            "phase" => JValue::from(env.phase().as_str()),
            "ts" => JValue::from(env.ts),
            "error" if env.error.is_some() => JsonRef::root(env, Root::Error),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let keys: &'static [&'static str] = if self.0.error.is_some() {
            &["name", "payload", "phase", "ts", "error"]
        } else {
            &["name", "payload", "phase", "ts"]
        };
        Enumerator::Str(keys)
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&serde_json::to_string(&*self.0).unwrap_or_default())
    }
}

/// Writes `s` as a JSON string (quotes included): `"`, `\\` and control characters
/// escaped, everything else as is (UTF-8), in runs.
pub(super) fn write_json_str(out: &mut impl std::fmt::Write, s: &str) -> std::fmt::Result {
    out.write_char('"')?;
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f | 0x7f => "",
            _ => continue,
        };
        out.write_str(&s[start..i])?;
        if escape.is_empty() {
            write!(out, "\\u{b:04x}")?;
        } else {
            out.write_str(escape)?;
        }
        start = i + 1;
    }
    out.write_str(&s[start..])?;
    out.write_char('"')
}

/// A template value as JSON text: envelope values straight from the envelope (fast, in
/// its key order), anything else through minijinja's serialisation. Non-finite numbers
/// become `null`, so the result is always JSON.
pub(super) fn to_json(value: &JValue) -> Result<String, serde_json::Error> {
    if let Some(r) = value.downcast_object_ref::<JsonRef>() {
        return serde_json::to_string(&crate::wire::Bounded::new(r.node()));
    }
    if let Some(e) = value.downcast_object_ref::<EnvelopeRef>() {
        return serde_json::to_string(&*e.0);
    }
    serde_json::to_string(value)
}

fn outcome(event: Event) -> &'static str {
    let name = event.name();
    name.rsplit('-').next().unwrap_or(name)
}

fn headline(event: Event) -> String {
    format!("Chaos {} {}", event.phase().as_str(), outcome(event))
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

/// The experiment's title: `payload.experiment.title` (a journal) or `payload.title`
/// (an experiment).
fn title(env: &Envelope) -> Option<&str> {
    str_at(&env.payload, &["experiment", "title"]).or_else(|| str_at(&env.payload, &["title"]))
}

/// The title, else the extension name of a discovery event.
fn subject(env: &Envelope) -> Option<&str> {
    title(env).or_else(|| env.payload.as_str())
}

fn status(env: &Envelope) -> Option<&str> {
    match env.event {
        Event::RunCompleted | Event::RunFailed | Event::RunDeviated => str_at(&env.payload, &["status"]),
        _ => None,
    }
}

fn deviated(env: &Envelope) -> bool {
    env.event == Event::RunDeviated || env.payload.get("deviated") == Some(&Value::Bool(true))
}

fn duration(env: &Envelope) -> Option<f64> {
    match env.event {
        Event::RunCompleted | Event::RunFailed | Event::RunDeviated => env.payload.get("duration")?.as_f64(),
        _ => None,
    }
}

/// `12.3 s`: tenths, rounded (written by hand: `{:.1}` takes a slow exact path for
/// small numbers).
fn duration_text(seconds: f64) -> String {
    let tenths = (seconds * 10.0).round();
    if !tenths.is_finite() || tenths.abs() >= 1e15 {
        return format!("{seconds:.1} s");
    }
    let tenths = tenths as i64;
    let sign = if tenths < 0 { "-" } else { "" };
    format!("{sign}{}.{} s", tenths.unsigned_abs() / 10, tenths.unsigned_abs() % 10)
}

fn error_text(env: &Envelope) -> Option<String> {
    match env.error.as_ref()? {
        Value::String(s) => Some(s.clone()),
        other => serde_json::to_string(&crate::wire::Bounded::new(other)).ok(),
    }
}

/// `run-failed: Stop the DB (status failed, 12.3 s): An exception was raised: …`, on one
/// line (line breaks of the title or the error become spaces), at most about 1 000
/// characters.
fn summary(env: &Envelope) -> String {
    let mut s = String::from(env.name());
    if let Some(t) = subject(env) {
        s.push_str(": ");
        s.push_str(&one_line(t, 300));
    }
    let mut details = Vec::new();
    if let Some(st) = status(env) {
        details.push(format!("status {}", one_line(st, 40)));
    }
    if deviated(env) && env.event != Event::RunDeviated {
        details.push("deviated".to_owned());
    }
    if let Some(d) = duration(env) {
        details.push(duration_text(d));
    }
    if !details.is_empty() {
        let _ = write!(s, " ({})", details.join(", "));
    }
    if let Some(e) = error_text(env) {
        s.push_str(": ");
        s.push_str(&one_line(&e, 600));
    }
    s
}

/// `text` on one line, cut to `max` characters (with `…`).
fn one_line(text: &str, max: usize) -> String {
    // The common case: short, printable, nothing to trim.
    if text.len() <= max && !text.chars().any(char::is_control) && text.trim().len() == text.len() {
        return text.to_owned();
    }
    let flat: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let flat = flat.trim();
    if flat.chars().count() <= max {
        return flat.to_owned();
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// 64-bit FNV-1a: small, stable across versions and platforms (unlike std's hasher).
fn fnv1a(seed: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(seed, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// A stable id of the event: derived from its name, its timestamp and what it is about,
/// so every channel, every retry and a dry run give the same id. UUID form (version 8,
/// "custom").
pub fn event_id(env: &Envelope) -> String {
    let subject = subject(env).unwrap_or("");
    let a = fnv1a(FNV_OFFSET, env.name().as_bytes());
    let a = fnv1a(a, &env.ts.to_bits().to_le_bytes());
    let a = fnv1a(a, subject.as_bytes());
    let b = fnv1a(a ^ 0x9e37_79b9_7f4a_7c15, subject.as_bytes());
    let b = fnv1a(b, &env.ts.to_bits().to_be_bytes());
    let hi = (a & 0xffff_ffff_ffff_0fff) | 0x8000;
    let lo = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

/// A stable key per experiment: `chaostoolkit/<slug of the title>-<8 hex digits of its
/// hash>` (at most 222 characters), the same for every run of the experiment, so a
/// later successful run resolves what a failed one opened. Events without an experiment
/// use the extension name (discovery) or the phase.
pub fn experiment_key(env: &Envelope) -> String {
    let subject = subject(env).unwrap_or(env.phase().as_str());
    let slug = super::filters::slug(subject, 200);
    let hash = fnv1a(FNV_OFFSET, subject.as_bytes()) as u32;
    if slug.is_empty() { format!("chaostoolkit/{hash:08x}") } else { format!("chaostoolkit/{slug}-{hash:08x}") }
}

/// Unix epoch seconds as RFC 3339 UTC with microseconds: `2026-11-29T18:00:00.123456Z`.
/// Times outside years 0–9999 are clamped to them.
pub fn iso_time(ts: f64) -> String {
    let ts = if ts.is_finite() { ts.clamp(-62_167_219_200.0, 253_402_300_799.0) } else { 0.0 };
    let micros_total = (ts * 1e6).round() as i64;
    let secs = micros_total.div_euclid(1_000_000);
    let micros = micros_total.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    // By hand: `format!` with seven padded fields costs more than the rest of a card.
    let mut out = String::with_capacity(27);
    let mut digits = |value: u64, width: u32, then: Option<char>| {
        for i in (0..width).rev() {
            out.push(char::from(b'0' + ((value / 10u64.pow(i)) % 10) as u8));
        }
        if let Some(c) = then {
            out.push(c);
        }
    };
    digits(y.clamp(0, 9999) as u64, 4, Some('-'));
    digits(u64::from(m), 2, Some('-'));
    digits(u64::from(d), 2, Some('T'));
    digits((rem / 3600) as u64, 2, Some(':'));
    digits(((rem / 60) % 60) as u64, 2, Some(':'));
    digits((rem % 60) as u64, 2, Some('.'));
    digits(micros as u64, 6, Some('Z'));
    out
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's
/// algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}
