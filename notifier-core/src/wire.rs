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
//! dropping the whole notification as the reference does.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter, Serializer};

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

    /// Numbers kept as text (serde_json's `arbitrary_precision`) are written the way Python
    /// re-encodes what `json.loads` made of them: see [`python_number_text`].
    fn write_number_str<W: ?Sized + Write>(&mut self, w: &mut W, value: &str) -> io::Result<()> {
        w.write_all(python_number_text(value).as_bytes())
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
/// Only reached when serde_json keeps numbers as text (its `arbitrary_precision`
/// feature); without it, integers beyond 64 bits and `-0` are already floats by the time
/// they get here.
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
            let mut out = Vec::new();
            PythonFormatter.write_number_str(&mut out, text).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn non_finite_floats_become_null() {
        let v = serde_json::to_value(f64::NAN).unwrap();
        assert_eq!(to_python_json(&v), b"null");
    }
}
