//! Property tests over hostile input for the runtime's text handling:
//!
//! * templates: `Template::parse` never panics; what it accepts round-trips through
//!   `source_text`, and resolution agrees with a model of `${NAME}`, `${NAME:-default}`
//!   and `$$`;
//! * redaction: a registered secret never survives `Redactor::redact`, whether it
//!   appears as is, percent-encoded (any subset of its bytes, either hex case, `+` for
//!   spaces), or JSON/Python/Rust-escaped, among arbitrary text; text without it is left
//!   alone; an HTTP channel whose URL and headers take the secret (whole, or split over
//!   several variables and URL parts) never shows it in `Debug`, the dry run or its
//!   errors; `redact_url` and `url_secret_ranges` never panic and agree;
//! * the envelope encoder: any JSON value (arbitrary strings, integers, finite floats,
//!   nesting up to and past the limit) encodes to ASCII JSON that parses back to the
//!   same value, or to the value cut at `MAX_DEPTH` levels.
//!
//! 1,000 cases per property by default (CI); `PROPTEST_CASES=1000000` for the long run
//! documented in docs/FUZZING.md.

use std::borrow::Cow;

use notifier_core::channel::HttpDef;
use notifier_core::redact::{Redactor, redact_url, url_secret_ranges};
use notifier_core::template::{Template, TemplateError};
use notifier_core::transport::HttpTarget;
use notifier_core::wire::{Bounded, MAX_DEPTH, TOO_DEEP, drop_iteratively, limit_depth, to_python_json};
use notifier_core::{Envelope, Event};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000)
}

// ---------------------------------------------------------------------------------------
// Templates.
// ---------------------------------------------------------------------------------------

/// A piece of a template, as the model sees it.
#[derive(Debug, Clone)]
enum Piece {
    Lit(String),
    Var { name: String, default: Option<String> },
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        "[a-z $:{}\u{e9}\u{2615}-]{1,8}".prop_map(Piece::Lit),
        ("[A-Za-z_][A-Za-z0-9_]{0,6}", proptest::option::of("[a-z0-9 $:{\u{e9}-]{0,6}"))
            .prop_map(|(name, default)| Piece::Var { name, default }),
    ]
}

/// The text of a template: literal `$` doubled, variables as `${NAME}` / `${NAME:-d}`.
fn render(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Lit(t) => t.replace('$', "$$"),
            Piece::Var { name, default: None } => format!("${{{name}}}"),
            Piece::Var { name, default: Some(d) } => format!("${{{name}:-{d}}}"),
        })
        .collect()
}

/// What resolving should give: set and non-empty values, else the default, else the
/// first missing variable.
fn model(pieces: &[Piece], env: &[(String, String)]) -> Result<String, String> {
    let lookup = |n: &str| env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Lit(t) => out.push_str(t),
            Piece::Var { name, default } => match (lookup(name), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => return Err(name.clone()),
            },
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Redaction.
// ---------------------------------------------------------------------------------------

/// Secrets: URL-special characters, spaces, quotes, backslashes, controls, non-ASCII;
/// never `*` (the mask), at least 4 bytes (shorter values are not secrets).
fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 /?#@:%+&=;,.~!'()\\[\\]{}<>|^`\"\\\\\t\n\u{e9}\u{2615}\u{1F600}-]{4,24}"
}

/// Secrets that are also valid in HTTP header values (visible ASCII and spaces).
fn header_safe_secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 /?#@:%+&=;,.~!'()\\[\\]{}<>|^`\"\\\\-]{4,24}"
}

/// Arbitrary surrounding text, `*` excluded so that masks cannot form part of a secret.
fn noise() -> impl Strategy<Value = String> {
    "[^*]{0,20}"
}

fn quoted_inner(quoted: &str) -> String {
    quoted[1..quoted.len() - 1].to_owned()
}

/// The escaped forms of a secret a careless message could contain.
fn escaped_forms(secret: &str) -> Vec<String> {
    vec![
        secret.to_owned(),
        quoted_inner(&serde_json::to_string(secret).unwrap()),
        quoted_inner(&String::from_utf8(to_python_json(secret)).unwrap()),
        quoted_inner(&format!("{secret:?}")),
    ]
}

/// `%XX` decoded (bytes that are not valid UTF-8 afterwards become U+FFFD), and `+` as a
/// space when `plus`.
fn decode(text: &str, plus: bool) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `text` shows `secret` in any of the forms the redactor promises to mask.
fn reveals(text: &str, secret: &str) -> bool {
    let views = [text.to_owned(), decode(text, false), decode(text, true)];
    escaped_forms(secret).iter().any(|form| views.iter().any(|v| v.contains(form.as_str())))
}

/// How the secret is written into the text.
#[derive(Debug, Clone)]
enum Encoding {
    Raw,
    /// Per byte: (percent-encode it, upper-case hex).
    Percent(Vec<(bool, bool)>),
    Plus,
    Json,
    Python,
    Debug,
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![
        Just(Encoding::Raw),
        prop::collection::vec((any::<bool>(), any::<bool>()), 100).prop_map(Encoding::Percent),
        Just(Encoding::Plus),
        Just(Encoding::Json),
        Just(Encoding::Python),
        Just(Encoding::Debug),
    ]
}

fn encode(secret: &str, how: &Encoding) -> String {
    match how {
        Encoding::Raw => secret.to_owned(),
        Encoding::Percent(choices) => secret
            .bytes()
            .zip(choices.iter().cycle())
            .map(|(b, (enc, upper))| match (enc, upper) {
                (true, true) => format!("%{b:02X}"),
                (true, false) => format!("%{b:02x}"),
                // Bytes of a multi-byte character must be encoded all or none, or the
                // text would not be UTF-8: non-ASCII bytes are always encoded.
                (false, _) if !b.is_ascii() => format!("%{b:02X}"),
                (false, _) => (b as char).to_string(),
            })
            .collect(),
        Encoding::Plus => secret.replace(' ', "+"),
        Encoding::Json => quoted_inner(&serde_json::to_string(secret).unwrap()),
        Encoding::Python => quoted_inner(&String::from_utf8(to_python_json(secret)).unwrap()),
        Encoding::Debug => quoted_inner(&format!("{secret:?}")),
    }
}

/// Where a variable goes in a URL, or a literal in its place.
fn url_part() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("[a-z0-9._~-]{1,6}")
}

fn http_def(url: &str, headers: Vec<(&'static str, &str)>) -> Option<HttpDef> {
    Some(HttpDef {
        url: Template::parse(url).ok()?,
        headers: Cow::Owned(
            headers.into_iter().map(|(k, v)| (Cow::Borrowed(k), Template::parse(v).unwrap())).collect(),
        ),
        verify_tls: true,
        forward_event_payload: true,
        signing_secret: None,
        body: notifier_core::BodyDef::Envelope,
    })
}

// ---------------------------------------------------------------------------------------
// JSON values.
// ---------------------------------------------------------------------------------------

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Any f64: NaN and infinities become null, like every non-finite float.
        any::<f64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[\\x00-\\x7f]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 128, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A value nested `depth` levels deep around `leaf`, alternating arrays and objects.
fn nested(depth: usize, leaf: Value, shape: &[bool]) -> Value {
    let mut v = leaf;
    for i in 0..depth {
        v = if shape[i % shape.len()] {
            Value::Array(vec![v])
        } else {
            Value::Object(Map::from_iter([(format!("k{i}"), v)]))
        };
    }
    v
}

fn depth(v: &Value) -> usize {
    let mut max = 0;
    let mut stack = vec![(v, 1)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|c| (c, d + 1))),
            Value::Object(map) => stack.extend(map.values().map(|c| (c, d + 1))),
            _ => continue,
        }
        max = max.max(d);
    }
    max
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn template_parsing_never_panics(text in "[a-zA-Z0-9_${}:\\- \u{e9}\u{2615}]{0,40}", any_text in any::<String>()) {
        for t in [&text, &any_text] {
            match Template::parse(t) {
                Ok(parsed) => {
                    prop_assert_eq!(Template::parse(&parsed.source_text()).unwrap(), parsed.clone());
                    let _ = parsed.resolve_with(&|n| Some(format!("<{n}>")));
                    let _ = parsed.missing_vars(&|_| None);
                }
                Err(TemplateError::Unclosed { at }) => prop_assert!(at < t.chars().count()),
                Err(TemplateError::BadName { name }) => {
                    let written = format!("${{{name}");
                    prop_assert!(t.contains(&written), "{} not in {}", written, t);
                }
            }
        }
    }

    #[test]
    fn templates_resolve_like_the_model(
        pieces in prop::collection::vec(piece(), 0..8),
        values in prop::collection::vec("[a-z0-9 $]{0,5}", 8),
        set in prop::collection::vec(any::<bool>(), 8),
    ) {
        let names: Vec<String> = pieces.iter().filter_map(|p| match p {
            Piece::Var { name, .. } => Some(name.clone()),
            Piece::Lit(_) => None,
        }).collect();
        let env: Vec<(String, String)> = names.iter().zip(values.iter().zip(&set))
            .filter(|(_, (_, s))| **s)
            .map(|(n, (v, _))| (n.clone(), v.clone()))
            .collect();
        let text = render(&pieces);
        let t = Template::parse(&text).unwrap();
        prop_assert_eq!(t.vars().map(str::to_owned).collect::<Vec<_>>(), names);
        let lookup = |n: &str| env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let got = t.resolve_with(&lookup).map_err(|e| e.name);
        prop_assert_eq!(got, model(&pieces, &env), "{}", text);
        prop_assert_eq!(Template::parse(&t.source_text()).unwrap(), t);
    }

    #[test]
    fn a_registered_secret_never_survives_redaction(
        secret in secret(),
        other in secret(),
        texts in prop::collection::vec(noise(), 3),
        how in prop::collection::vec(encoding(), 2),
    ) {
        prop_assume!(!secret.contains('*'));
        let mut r = Redactor::default();
        r.add(secret.clone());
        r.add(other);
        let text = format!("{}{}{}{}{}", texts[0], encode(&secret, &how[0]), texts[1], encode(&secret, &how[1]), texts[2]);
        let out = r.redact(&text);
        prop_assert!(!reveals(&out, &secret), "secret {:?} in {:?} → {:?}", secret, text, out);
        // Text that does not show the secret is left alone.
        let plain = format!("{}{}", texts[0], texts[2]);
        let mut only = Redactor::default();
        only.add(secret.clone());
        if !reveals(&plain, &secret) {
            prop_assert_eq!(only.redact(&plain), plain);
        }
    }

    #[test]
    fn http_channels_never_show_their_secrets(
        secret in prop_oneof![secret(), header_safe_secret()],
        split in 1usize..23,
        user in url_part(), password in url_part(), path in url_part(), query in url_part(),
        fragment in url_part(),
        header_name in prop::sample::select(vec!["Authorization", "X-Plain", "X-Api-Key"]),
    ) {
        prop_assume!(!secret.contains('*'));
        // The secret whole in `S`, and split over `A` and `B` at a character boundary.
        let bounds: Vec<usize> = secret.char_indices().map(|(i, _)| i).skip(1).collect();
        let cut = if bounds.is_empty() { secret.len() } else { bounds[split % bounds.len()] };
        let (a, b) = secret.split_at(cut);
        let env = |name: &str| match name {
            "S" => Some(secret.clone()),
            "A" => Some(a.to_owned()),
            "B" => Some(b.to_owned()),
            _ => None,
        };
        let var = |p: &Option<String>, v: &str| p.clone().unwrap_or_else(|| format!("${{{v}}}"));
        let url = format!(
            "https://{}:{}@127.0.0.1:9/p/{}/{}?k={}&token={}#{}",
            var(&user, "S"), var(&password, "A"), var(&path, "S"), "${B}",
            var(&query, "S"), var(&query, "A"), var(&fragment, "B"),
        );
        let def = http_def(&url, vec![(header_name, "Bearer ${S}"), ("X-Split", "${A}${B}")]);
        // Only the cases that make a channel prove anything; the others are discarded
        // (and counted by proptest, which fails if too many are).
        prop_assume!(def.is_some());
        let def = def.expect("assumed above");
        let body = to_python_json(&serde_json::json!({"payload": secret, "split": [a, b]}));
        let shown = match HttpTarget::resolve(&def, &env) {
            Ok(t) => format!("{t:?}\n{t:#?}\n{}\n{}", t.describe_request(Some(&body)), t.display_url),
            Err(e) => format!("{e}\n{e:?}"),
        };
        prop_assert!(!reveals(&shown, &secret), "secret {:?} shown:\n{}", secret, shown);
    }

    #[test]
    fn url_redaction_never_panics_and_agrees(url in "[a-z]{0,5}(://)?[a-zA-Z0-9:@/?#&=%._\u{e9}-]{0,30}", any_url in any::<String>()) {
        for u in [&url, &any_url] {
            let redacted = redact_url(u);
            let mut masked = u.to_string();
            for range in url_secret_ranges(u).into_iter().rev() {
                prop_assert!(u.is_char_boundary(range.start) && u.is_char_boundary(range.end));
                masked.replace_range(range, "***");
            }
            prop_assert_eq!(&masked, &redacted);
        }
    }

    #[test]
    fn envelopes_encode_to_json_that_parses_back(payload in json_value(), error in json_value(), ts in any::<f64>()) {
        let envelope = Envelope::at(Event::RunFailed, payload.clone(), Some(error), ts);
        let wire = envelope.to_wire_json();
        prop_assert!(wire.is_ascii(), "ensure_ascii");
        let back: Value = serde_json::from_slice(&wire).unwrap();
        let keys: Vec<&str> = back.as_object().unwrap().keys().map(String::as_str).collect();
        let expected: &[&str] = if envelope.error.is_some() {
            &["name", "payload", "phase", "ts", "error"]
        } else {
            &["name", "payload", "phase", "ts"]
        };
        prop_assert_eq!(keys, expected);
        prop_assert_eq!(&back["payload"], &payload);
        prop_assert_eq!(back.get("error"), envelope.error.as_ref());
        if ts.is_finite() {
            prop_assert_eq!(back["ts"].as_f64(), Some(ts));
        } else {
            prop_assert_eq!(&back["ts"], &Value::Null);
        }
        // The value encoder alone, as plugins and the JSON-lines sink use it.
        let alone: Value = serde_json::from_slice(&to_python_json(&payload)).unwrap();
        prop_assert_eq!(alone, payload);
    }

    #[test]
    fn deep_values_are_cut_at_the_limit(levels in 1usize..600, shape in prop::collection::vec(any::<bool>(), 1..4), leaf in json_value()) {
        let deep = nested(levels, leaf, &shape);
        let before = depth(&deep);
        let encoded = to_python_json(&Bounded::new(&deep));
        let parsed: Value = serde_json::from_slice(&encoded).unwrap();
        let mut limited = deep.clone_bounded();
        let replaced = limit_depth(&mut limited, MAX_DEPTH);
        prop_assert_eq!(replaced, before > MAX_DEPTH);
        prop_assert!(depth(&limited) <= MAX_DEPTH);
        prop_assert_eq!(&parsed, &limited);
        if before <= MAX_DEPTH {
            prop_assert_eq!(&parsed, &deep);
        } else {
            prop_assert!(String::from_utf8(encoded).unwrap().contains(TOO_DEEP));
        }
        let envelope = Envelope::new(Event::RunStarted, limited.clone(), None);
        prop_assert_eq!(&envelope.payload, &limited);
        drop_iteratively(parsed);
        drop_iteratively(limited);
        drop_iteratively(deep);
    }
}

/// `Value::clone` recurses; values here are at most 600 levels deep plus a small leaf,
/// which the test threads' stacks hold in release and debug builds alike, but the copy
/// is made through the encoder's bounded path anyway where possible.
trait CloneBounded {
    fn clone_bounded(&self) -> Value;
}

impl CloneBounded for Value {
    fn clone_bounded(&self) -> Value {
        // Rebuild iteratively: (source, path of indices) → an explicit stack.
        enum Frame<'a> {
            Array(std::slice::Iter<'a, Value>, Vec<Value>),
            Object(serde_json::map::Iter<'a>, Map<String, Value>, Option<String>),
        }
        fn open(v: &Value) -> Result<Frame<'_>, Value> {
            match v {
                Value::Array(items) => Ok(Frame::Array(items.iter(), Vec::with_capacity(items.len()))),
                Value::Object(map) => Ok(Frame::Object(map.iter(), Map::new(), None)),
                scalar => Err(scalar.clone()),
            }
        }
        let mut stack = match open(self) {
            Ok(frame) => vec![frame],
            Err(scalar) => return scalar,
        };
        let mut finished: Option<Value> = None;
        loop {
            let top = stack.last_mut().expect("the stack holds the value being copied");
            if let Some(done) = finished.take() {
                match top {
                    Frame::Array(_, out) => out.push(done),
                    Frame::Object(_, out, key) => {
                        out.insert(key.take().expect("a key is pending"), done);
                    }
                }
            }
            let next = match top {
                Frame::Array(iter, _) => iter.next(),
                Frame::Object(iter, _, key) => iter.next().map(|(k, v)| {
                    *key = Some(k.clone());
                    v
                }),
            };
            match next {
                Some(child) => match open(child) {
                    Ok(frame) => stack.push(frame),
                    Err(scalar) => finished = Some(scalar),
                },
                None => {
                    let value = match stack.pop().expect("non-empty") {
                        Frame::Array(_, out) => Value::Array(out),
                        Frame::Object(_, out, _) => Value::Object(out),
                    };
                    if stack.is_empty() {
                        return value;
                    }
                    finished = Some(value);
                }
            }
        }
    }
}
