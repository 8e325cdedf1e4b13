//! JSON bytes exactly as chaostoolkit-lib puts them on the wire.
//!
//! The reference posts with `requests.post(json=…)`, which encodes with Python's
//! `json.dumps` defaults: `", "` and `": "` separators, `ensure_ascii=True` (everything
//! outside printable ASCII as a lowercase `\uXXXX` escape, surrogate pairs above the BMP)
//! and floats in Python's `repr` form (`1e-05`, `1e+16`, `2.5`). Object keys keep their
//! insertion order (serde_json's `preserve_order`), as Python dicts do.
//!
//! Non-finite floats cannot occur here: `serde_json::Value` has no NaN or infinity
//! (converting one gives `null`), so a NaN in a payload becomes `null` instead of
//! dropping the whole notification as the reference does; a non-finite `f64` given to
//! the encoder directly (an envelope's `ts`) is written `null` too.
//!
//! Nesting is bounded: serde's serialiser (like `Drop`, `Clone` and `Debug` of a
//! `serde_json::Value`) recurses once per level, so a payload nested 100 000 levels deep
//! would overflow the stack and abort the process. Arrays and objects deeper than
//! [`MAX_DEPTH`] levels are replaced with the string [`TOO_DEEP`] when an envelope is
//! built ([`limit_depth`], which neither recurses nor drops recursively) and again when
//! it is encoded ([`Bounded`]). Python's `json.dumps` fails on such payloads with a
//! `RecursionError` (the reference then sends nothing); serde_json's own parser refuses
//! JSON text nested deeper than 127 levels, so payloads read from JSON files hardly
//! ever reach the limit.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq};
use serde_json::Value;
use serde_json::ser::{CharEscape, Formatter, Serializer};

/// The chaostoolkit-lib release whose wire this crate follows: envelopes, request bodies
/// and headers, plugin calls (`notifier --version` prints it; the recordings under
/// `conformance/` were made with it, and a test compares the two).
pub const CHAOSTOOLKIT_LIB_VERSION: &str = "1.45.1";

/// Deepest nesting of arrays and objects kept in a payload or an error (the value
/// itself is level 1). With the envelope around it, a body nests at most 127 levels:
/// the most serde_json's parser accepts by default, so Rust receivers can read every
/// body we send (CPython 3.12's `json` reads and writes about 1 500).
pub const MAX_DEPTH: usize = 126;

/// What replaces an array or object nested deeper than [`MAX_DEPTH`] levels.
pub const TOO_DEEP: &str = "[omitted: nested deeper than 126 levels]";

/// Replaces every array or object of `value` nested deeper than `max` levels (the value
/// itself being level 1) with the string [`TOO_DEEP`]. Returns whether anything was
/// replaced. Works with an explicit stack, and frees what it removes the same way, so
/// any depth is safe.
pub fn limit_depth(value: &mut Value, max: usize) -> bool {
    let mut replaced = false;
    let mut stack: Vec<(&mut Value, usize)> = vec![(value, 1)];
    while let Some((v, depth)) = stack.pop() {
        // Empty ones too: a parser counts every level.
        if depth > max && (v.is_array() || v.is_object()) {
            drop_iteratively(std::mem::replace(v, Value::String(TOO_DEEP.to_owned())));
            replaced = true;
            continue;
        }
        match v {
            Value::Array(items) => stack.extend(items.iter_mut().map(|c| (c, depth + 1))),
            Value::Object(map) => stack.extend(map.values_mut().map(|c| (c, depth + 1))),
            _ => {}
        }
    }
    replaced
}

/// Drops a value of any depth without recursing (the default `Drop` of a deeply nested
/// `serde_json::Value` overflows the stack).
pub fn drop_iteratively(value: Value) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

/// Serialises a JSON value with arrays and objects deeper than [`MAX_DEPTH`] levels
/// written as [`TOO_DEEP`], so encoding can never overflow the stack.
#[derive(Debug, Clone, Copy)]
pub struct Bounded<'a> {
    value: &'a Value,
    depth: usize,
}

impl<'a> Bounded<'a> {
    /// `value` as the top level.
    pub fn new(value: &'a Value) -> Bounded<'a> {
        Bounded { value, depth: 1 }
    }
}

impl Serialize for Bounded<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let too_deep = self.depth > MAX_DEPTH;
        match self.value {
            Value::Array(_) | Value::Object(_) if too_deep => s.serialize_str(TOO_DEEP),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Bounded { value: item, depth: self.depth + 1 })?;
                }
                seq.end()
            }
            Value::Object(map) => {
                let mut m = s.serialize_map(Some(map.len()))?;
                for (k, v) in map {
                    m.serialize_entry(k, &Bounded { value: v, depth: self.depth + 1 })?;
                }
                m.end()
            }
            scalar => scalar.serialize(s),
        }
    }
}

/// Encodes `value` as Python's `json.dumps` would.
pub fn to_python_json<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_python_json(&mut out, value).expect("serialising JSON values into memory cannot fail");
    out
}

/// Writes `value` as Python's `json.dumps` would.
pub fn write_python_json<W: Write, T: Serialize + ?Sized>(writer: W, value: &T) -> Result<(), serde_json::Error> {
    let mut ser = Serializer::with_formatter(writer, PythonFormatter);
    value.serialize(&mut ser)
}

/// A [`Formatter`] reproducing Python's `json.dumps` output.
#[derive(Debug, Clone, Copy, Default)]
pub struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        w.write_all(python_float_repr(value).as_bytes())
    }

    fn write_f32<W: ?Sized + Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(w, f64::from(value))
    }

    fn write_string_fragment<W: ?Sized + Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        // serde_json has already escaped quotes, backslashes and C0 controls; what is
        // left to do is Python's ensure_ascii: DEL and everything non-ASCII.
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if (' '..='~').contains(&c) {
                continue;
            }
            w.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(w, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    fn write_char_escape<W: ?Sized + Write>(&mut self, w: &mut W, escape: CharEscape) -> io::Result<()> {
        let s: &[u8] = match escape {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            CharEscape::Solidus => b"/",
            CharEscape::Backspace => b"\\b",
            CharEscape::FormFeed => b"\\f",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            CharEscape::AsciiControl(byte) => return write!(w, "\\u{:04x}", byte),
        };
        w.write_all(s)
    }
}

/// The JSON number `text` as Python writes it back after `json.loads`: a number with a
/// fraction or an exponent is a float (`1E+2` → `100.0`, `1e16` → `1e+16`), anything else
/// an exact integer of any size, where `-0` becomes `0`. A float that overflows to
/// infinity becomes `null`, like every non-finite float here.
///
/// Used to render numbers the way Python prints them (the Slack plugin's `repr`). Without
/// serde_json's `arbitrary_precision`, integers beyond 64 bits and `-0` are already floats
/// by the time a `Number` is turned into text.
pub fn python_number_text(text: &str) -> Cow<'_, str> {
    if text.contains(['.', 'e', 'E']) {
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Cow::Owned(python_float_repr(f)),
            _ => Cow::Borrowed("null"),
        }
    } else if text.trim_start_matches('-').bytes().all(|b| b == b'0') {
        Cow::Borrowed("0")
    } else {
        Cow::Borrowed(text)
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed notation when
/// the decimal exponent is in `-4 < exp <= 16`, else `d.ddde±XX`.
pub fn python_float_repr(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    // `{:e}` gives the shortest round-trip digits, e.g. "1.2345e-7" or "-5e0".
    let sci = format!("{value:e}");
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` exponent is an integer");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    // Position of the decimal point relative to the first digit (Python's `decpt`).
    let decpt = exp + 1;
    if (-3..=16).contains(&decpt) {
        let n = digits.len() as i32;
        let body = if decpt <= 0 {
            format!("0.{}{}", "0".repeat((-decpt) as usize), digits)
        } else if decpt >= n {
            format!("{}{}.0", digits, "0".repeat((decpt - n) as usize))
        } else {
            let (int, frac) = digits.split_at(decpt as usize);
            format!("{int}.{frac}")
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{frac}e{esign}{:02}", exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn float_repr_matches_python() {
        // Pairs checked against CPython 3.12 `repr(float)`.
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (2.5, "2.5"),
            (0.1, "0.1"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (1.5e-5, "1.5e-05"),
            (123456789.0, "123456789.0"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345e16, "1.2345e+16"),
            (1795561504.49494, "1795561504.49494"),
            (1e100, "1e+100"),
            (-3.25e-10, "-3.25e-10"),
            (0.01063847541809082, "0.01063847541809082"),
        ];
        for (v, want) in cases {
            assert_eq!(python_float_repr(v), want, "{v:e}");
        }
    }

    #[test]
    fn separators_and_ascii_escapes_match_python() {
        let v =
            json!({"b": [1, 2.0, "x"], "a": {"k": null, "t": true}, "s": "Caf\u{e9} \u{2615} \u{1F600}\u{7f}\n\"/"});
        let got = String::from_utf8(to_python_json(&v)).unwrap();
        assert_eq!(
            got,
            r#"{"b": [1, 2.0, "x"], "a": {"k": null, "t": true}, "s": "Caf\u00e9 \u2615 \ud83d\ude00\u007f\n\"/"}"#
        );
    }

    #[test]
    fn number_text_is_normalised_like_python() {
        // What CPython 3.12 prints for `json.dumps(json.loads(text))`, except the
        // overflow, which Python cannot send at all.
        let cases = [
            ("0", "0"),
            ("-0", "0"),
            ("-1", "-1"),
            ("18446744073709551616", "18446744073709551616"),
            ("-9223372036854775809", "-9223372036854775809"),
            ("123456789012345678901234567890", "123456789012345678901234567890"),
            ("-0.0", "-0.0"),
            ("2.0", "2.0"),
            ("1E+2", "100.0"),
            ("1e16", "1e+16"),
            ("0.00001", "1e-05"),
            ("9007199254740993.0", "9007199254740992.0"),
            ("1e400", "null"),
        ];
        for (text, want) in cases {
            assert_eq!(python_number_text(text), want, "{text}");
        }
    }

    #[test]
    fn non_finite_floats_become_null() {
        let v = serde_json::to_value(f64::NAN).unwrap();
        assert_eq!(to_python_json(&v), b"null");
        for f in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(to_python_json(&f), b"null", "{f}");
            assert_eq!(to_python_json(&[f]), b"[null]", "{f}");
        }
    }

    /// `[[[…]]]` nested `depth` levels, built without recursion.
    fn nested(depth: usize) -> Value {
        let mut v = json!(["bottom"]);
        for i in 1..depth {
            // Not `json!({"k": v})`, which would serialise `v`, recursively.
            v = if i % 2 == 0 {
                Value::Array(vec![v])
            } else {
                Value::Object([("k".to_owned(), v)].into_iter().collect())
            };
        }
        v
    }

    #[test]
    fn depth_is_limited_at_the_boundary() {
        let keep = nested(MAX_DEPTH);
        let mut v = keep.clone();
        assert!(!limit_depth(&mut v, MAX_DEPTH));
        assert_eq!(v, keep);
        assert_eq!(to_python_json(&Bounded::new(&keep)), to_python_json(&keep));

        let mut over = nested(MAX_DEPTH + 1);
        let encoded = String::from_utf8(to_python_json(&Bounded::new(&over))).unwrap();
        assert!(limit_depth(&mut over, MAX_DEPTH));
        assert_eq!(to_python_json(&over), encoded.as_bytes());
        assert_eq!(encoded.matches(TOO_DEEP).count(), 1);
        assert!(!encoded.contains("bottom"));
        // Scalars are kept at any depth; containers, even empty, are not.
        let mut shallow = json!([[], {}, 1]);
        assert!(limit_depth(&mut shallow, 1));
        assert_eq!(shallow, json!([TOO_DEEP, TOO_DEEP, 1]));
        assert_eq!(to_python_json(&Bounded { value: &json!(1.5), depth: MAX_DEPTH + 5 }), b"1.5");
        assert_eq!(
            to_python_json(&Bounded { value: &json!({}), depth: MAX_DEPTH + 1 }),
            format!("\"{TOO_DEEP}\"").as_bytes()
        );
    }

    #[test]
    fn a_hundred_thousand_levels_neither_overflow_nor_recurse() {
        // On the default stack of a spawned thread (2 MiB), as a tokio worker has.
        std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(|| {
                let mut v = nested(100_000);
                assert!(limit_depth(&mut v, MAX_DEPTH));
                let text = to_python_json(&v);
                let back: Value = serde_json::from_slice(&text).unwrap();
                assert_eq!(back, v);
                drop_iteratively(back);
                drop_iteratively(v);
                let deep = nested(100_000);
                assert!(to_python_json(&Bounded::new(&deep)).ends_with(b"]}]}"));
                drop_iteratively(deep);
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
