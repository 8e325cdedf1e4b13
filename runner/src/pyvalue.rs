//! Python semantics over JSON values, where the reference's behaviour depends on them:
//! truthiness, `str()`, `==` (numbers compare by value, `True == 1`) and ordering.

use std::cmp::Ordering;

use serde_json::Value;

/// Python truthiness (`None`, `False`, `0`, `""`, `[]`, `{}` are falsy).
pub fn truthy(value: &Value) -> bool {
    notifier_core::envelope::is_truthy(value)
}

/// Truthiness of an optional map entry (a missing key is falsy, like `dict.get`).
pub fn truthy_opt(value: Option<&Value>) -> bool {
    value.is_some_and(truthy)
}

/// Python's `str()` of a JSON value: strings as-is, `True`/`False`/`None`, numbers in
/// their shortest form, containers like `repr()`.
pub fn py_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

/// Python's `repr()` of a JSON value (`{'a': 1}`, `['x', True]`).
pub fn py_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Number(n) => py_number(n),
        Value::String(s) => repr_string(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(py_repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map.iter().map(|(k, v)| format!("{}: {}", repr_string(k), py_repr(v))).collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

fn py_number(n: &serde_json::Number) -> String {
    if n.is_f64() {
        let f = n.as_f64().unwrap_or_default();
        if !f.is_finite() {
            if f.is_nan() {
                "nan".to_string()
            } else if f > 0.0 {
                "inf".to_string()
            } else {
                "-inf".to_string()
            }
        } else if f.abs() >= 1e16 {
            // Python switches to the exponent form here: 1e+16.
            format!("{f:e}").replace('e', "e+").replace("e+-", "e-")
        } else if f == f.trunc() {
            format!("{f:.1}")
        } else {
            f.to_string()
        }
    } else {
        n.to_string()
    }
}

fn repr_string(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A number view of a value, with Python's `bool` being an `int`.
pub fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// Python's `==` between two JSON values.
pub fn py_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
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

/// Python's `in` for a list.
pub fn py_in(needle: &Value, haystack: &[Value]) -> bool {
    haystack.iter().any(|v| py_eq(needle, v))
}

/// Python's ordering where it is defined (numbers with numbers, strings with strings,
/// lists lexicographically); `None` where Python would raise `TypeError`.
pub fn py_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                if !py_eq(p, q) {
                    return py_cmp(p, q);
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        _ => as_number(a)?.partial_cmp(&as_number(b)?),
    }
}

/// The JSON type name, for messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn str_and_repr_follow_python() {
        assert_eq!(py_str(&json!("a")), "a");
        assert_eq!(py_str(&json!(5)), "5");
        assert_eq!(py_str(&json!(1.5)), "1.5");
        assert_eq!(py_str(&json!(2.0)), "2.0");
        assert_eq!(py_str(&json!(true)), "True");
        assert_eq!(py_str(&json!(null)), "None");
        assert_eq!(py_str(&json!({"a": [1, "x"]})), "{'a': [1, 'x']}");
        assert_eq!(py_repr(&json!("it's")), "\"it's\"");
    }

    #[test]
    fn equality_follows_python() {
        assert!(py_eq(&json!(1), &json!(1.0)));
        assert!(py_eq(&json!(true), &json!(1)));
        assert!(!py_eq(&json!("1"), &json!(1)));
        assert!(py_eq(&json!({"a": 1, "b": 2}), &json!({"b": 2, "a": 1})));
        assert!(!py_eq(&json!([1, 2]), &json!([2, 1])));
        assert_eq!(py_cmp(&json!(1), &json!("a")), None);
        assert_eq!(py_cmp(&json!("a"), &json!("b")), Some(Ordering::Less));
    }
}
