//! Python semantics over JSON values, where Chaos Toolkit's behaviour depends on them:
//! `str()`, `repr()`, `str.strip()`, truthiness, `==`, `in` and ordering of the objects
//! `json.loads` makes of them (CPython 3.12).
//!
//! One definition for every user: the Slack plugin (chaostoolkit-slack formats tolerance
//! outputs with `str.format`, so a message shows `str(value)`), and the experiment runner
//! (`${…}` substitution, process arguments, tolerances, messages), so that `notifier run`
//! passes exactly the arguments `chaos run` passes. [`python_str`] and [`python_repr`]:
//!
//! | JSON | Python |
//! |---|---|
//! | `null`, `true`, `false` | `None`, `True`, `False` |
//! | `1`, `2.0`, `1e16` | `1`, `2.0`, `1e+16` (float `repr`: shortest round-trip digits) |
//! | `"it's"` | `"it's"` (single quotes unless the text has `'` and no `"`) |
//! | `{"k": [1, "v"]}` | `{'k': [1, 'v']}` |
//!
//! String escapes follow CPython's `unicode_repr`: `\\`, the chosen quote, `\t`, `\n`,
//! `\r`, `\xhh` for other ASCII controls and non-printable code points up to U+00FF,
//! `\uhhhh` and `\Uhhhhhhhh` above. "Printable" is `str.isprintable()` of CPython 3.12
//! (Unicode 15.0), from a generated table; `conformance/golden-slack/_python_text.json`
//! holds what CPython answered, and a test compares the two for every code point.

use std::fmt::Write as _;

use serde_json::Value;

mod nonprintable;

use std::cmp::Ordering;

use self::nonprintable::NON_PRINTABLE;
use crate::wire::python_number_text;

/// `str(value)`: a string is returned as it is, every other value as [`python_repr`].
pub fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

/// `repr(value)` of the Python object that `json.loads` makes of `value`.
pub fn python_repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, value);
    out
}

fn write_repr(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => out.push_str(&python_number_text(&n.to_string())),
        Value::String(s) => write_str_repr(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_str_repr(out, key);
                out.push_str(": ");
                write_repr(out, item);
            }
            out.push('}');
        }
    }
}

/// `repr(text)` for a Python `str`.
pub fn python_str_repr(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    write_str_repr(&mut out, text);
    out
}

fn write_str_repr(out: &mut String, text: &str) {
    let quote = if text.contains('\'') && !text.contains('"') { '"' } else { '\'' };
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_python_printable(c) => out.push(c),
            c => {
                let cp = u32::from(c);
                // Writing into a String cannot fail.
                let _ = match cp {
                    0..=0xFF => write!(out, "\\x{cp:02x}"),
                    0x100..=0xFFFF => write!(out, "\\u{cp:04x}"),
                    _ => write!(out, "\\U{cp:08x}"),
                };
            }
        }
    }
    out.push(quote);
}

/// CPython's `str.isprintable()` for one character (Unicode 15.0): false for the
/// categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs, except the ASCII space.
pub fn is_python_printable(c: char) -> bool {
    let cp = u32::from(c);
    NON_PRINTABLE
        .binary_search_by(|&(first, last)| {
            if last < cp {
                Ordering::Less
            } else if first > cp {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        })
        .is_err()
}

/// CPython's `str.isspace()` for one character: the whitespace that `str.strip()` removes.
///
/// Unlike [`char::is_whitespace`], it includes the information separators U+001C–U+001F.
pub fn is_python_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | '\u{1C}'..='\u{20}'
            | '\u{85}'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200A}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}'
    )
}

/// `text.strip()`: removes [Python whitespace](is_python_whitespace) from both ends.
pub fn python_strip(text: &str) -> &str {
    text.trim_matches(is_python_whitespace)
}

/// Python truthiness (`None`, `False`, `0`, `0.0`, `""`, `[]`, `{}` are falsy).
pub fn truthy(value: &Value) -> bool {
    crate::envelope::is_truthy(value)
}

/// A number view of a value, Python's `bool` being an `int`.
pub fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// Python's `==` between two values (`1 == 1.0`, `True == 1`, dicts regardless of order).
pub fn python_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| python_eq(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| python_eq(v, w)))
        }
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(p), Some(q)) => p == q,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(p), Some(q)) => p == q,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        _ => match (as_number(a), as_number(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

/// Python's `needle in haystack` for a list.
pub fn python_in(needle: &Value, haystack: &[Value]) -> bool {
    haystack.iter().any(|v| python_eq(needle, v))
}

/// Python's ordering where it is defined (numbers with numbers, strings with strings,
/// lists lexicographically); `None` where Python would raise `TypeError`.
pub fn python_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                if !python_eq(p, q) {
                    return python_cmp(p, q);
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        _ => as_number(a)?.partial_cmp(&as_number(b)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equality_and_order_follow_python() {
        assert!(python_eq(&json!(1), &json!(1.0)));
        assert!(python_eq(&json!(true), &json!(1)));
        assert!(!python_eq(&json!("1"), &json!(1)));
        assert!(python_eq(&json!({"a": 1, "b": 2}), &json!({"b": 2, "a": 1})));
        assert!(!python_eq(&json!([1, 2]), &json!([2, 1])));
        assert!(python_in(&json!(2.0), &[json!(1), json!(2)]));
        assert_eq!(python_cmp(&json!(1), &json!("a")), None);
        assert_eq!(python_cmp(&json!("a"), &json!("b")), Some(Ordering::Less));
        assert_eq!(python_cmp(&json!([1, 2]), &json!([1, 3])), Some(Ordering::Less));
    }

    #[test]
    fn scalars() {
        let cases = [
            (json!(null), "None"),
            (json!(true), "True"),
            (json!(false), "False"),
            (json!(0), "0"),
            (json!(-7), "-7"),
            (json!(u64::MAX), "18446744073709551615"),
            (json!(2.0), "2.0"),
            (json!(0.1), "0.1"),
            (json!(1e-5), "1e-05"),
            (json!(1e16), "1e+16"),
            (json!(-0.0), "-0.0"),
            (json!(1795561658.327614), "1795561658.327614"),
        ];
        for (value, want) in cases {
            assert_eq!(python_repr(&value), want, "{value}");
            assert_eq!(python_str(&value), want, "{value}");
        }
    }

    #[test]
    fn strings_choose_quotes_and_escape_like_cpython() {
        // Outputs of CPython 3.12 `repr(...)`.
        let cases = [
            ("", "''"),
            ("plain", "'plain'"),
            ("it's", "\"it's\""),
            ("say \"hi\"", "'say \"hi\"'"),
            ("it's \"both\"", "'it\\'s \"both\"'"),
            ("back\\slash", "'back\\\\slash'"),
            ("tab\tnl\ncr\r", "'tab\\tnl\\ncr\\r'"),
            ("\u{0}\u{1b}\u{7f}", "'\\x00\\x1b\\x7f'"),
            ("\u{80}\u{a0}\u{ad}\u{e9}\u{ff}", "'\\x80\\xa0\\xadé\u{ff}'"),
            ("\u{200d}\u{2028}\u{e000}\u{378}", "'\\u200d\\u2028\\ue000\\u0378'"),
            ("\u{1F600}\u{E0001}\u{10FFFF}", "'\u{1F600}\\U000e0001\\U0010ffff'"),
        ];
        for (text, want) in cases {
            assert_eq!(python_str_repr(text), want, "{text:?}");
            assert_eq!(python_repr(&json!(text)), want);
            assert_eq!(python_str(&json!(text)), text, "str() of a string is the string");
        }
    }

    #[test]
    fn containers_keep_key_order() {
        let v = json!({"status": 1, "stdout": "", "stderr": "it's", "z": [null, true, 2.5, {}], "a": []});
        assert_eq!(
            python_str(&v),
            "{'status': 1, 'stdout': '', 'stderr': \"it's\", 'z': [None, True, 2.5, {}], 'a': []}"
        );
    }

    #[test]
    fn strip_uses_python_whitespace() {
        assert_eq!(python_strip("\u{1c}\t x y \u{3000}\n"), "x y");
        assert_eq!(python_strip("\u{200b}x\u{feff}"), "\u{200b}x\u{feff}", "ZWSP and BOM are not whitespace");
        assert!(is_python_whitespace('\u{1f}') && !'\u{1f}'.is_whitespace());
    }
}
