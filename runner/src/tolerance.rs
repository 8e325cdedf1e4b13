//! Step 4b: does a probe's output meet its tolerance? (chaostoolkit-lib's
//! `within_tolerance`, with Python's equality and ordering).
//!
//! A string tolerance is substituted first and the check is chosen by the type of the
//! result, so `"${expected}"` bound to `200` is an integer tolerance.
//!
//! | tolerance | met when |
//! |---|---|
//! | `true`/`false` | output `==` tolerance |
//! | integer | output's `status` `==` tolerance for a mapping with `status`, else output `==` tolerance |
//! | string | output `==` tolerance |
//! | list | output's `status` in the list for a mapping with `status`; `lo <= output <= hi` for 2 items; membership otherwise |
//! | `{"type": "regex", "pattern", "target"?}` | the pattern is found in the output (or `output[target]`) |
//! | `{"type": "range", "range": [lo, hi], "target"?}` | the number (or numeric string) is within `[lo, hi]` |
//! | `{"type": "jsonpath", "path", "count"?, "expect"?, "target"?}` | the path matches (exactly `count` times, or yielding exactly `expect`) |
//! | `{"type": "probe", …}` | the probe succeeds: exit status 0 (process) or a status below 400 (http); it receives the output as its `value` argument |
//!
//! Regexes use Rust's `regex` syntax (no look-around or back-references; Python's
//! `re.search` semantics otherwise). JSONPath uses RFC 9535 syntax (`serde_json_path`)
//! where chaostoolkit-lib uses the `jsonpath2` package; a string output is parsed as
//! JSON first when it can be. Outputs of a type a check cannot handle (a regex against a
//! mapping…) do not meet the tolerance; the reference raises a Python `TypeError` there.

use serde_json::{Map, Value};

use crate::substitute::Scope;
use notifier_core::pyvalue::{as_number, python_cmp, python_eq, python_in};

/// Runs a probe tolerance (`type: probe`): the provider, given the output as `value`.
pub type ProbeRunner<'a> = dyn Fn(&Map<String, Value>) -> bool + 'a;

/// Checks `output` against `tolerance` (see the module docs).
pub fn within_tolerance(tolerance: &Value, output: &Value, scope: &Scope<'_>, run_probe: &ProbeRunner<'_>) -> bool {
    let tolerance = match tolerance {
        Value::String(_) => scope.substitute(tolerance),
        other => other.clone(),
    };
    match &tolerance {
        Value::Bool(_) | Value::String(_) => python_eq(output, &tolerance),
        Value::Number(n) if n.is_i64() || n.is_u64() => match status_of(output) {
            Some(status) => python_eq(status, &tolerance),
            None => python_eq(output, &tolerance),
        },
        Value::Array(items) => {
            if let Some(status) = status_of(output) {
                python_in(status, items)
            } else if items.len() == 2 {
                matches!(
                    (python_cmp(&items[0], output), python_cmp(output, &items[1])),
                    (Some(a), Some(b)) if a.is_le() && b.is_le()
                )
            } else {
                python_in(output, items)
            }
        }
        Value::Object(spec) => match spec.get("type").and_then(Value::as_str) {
            Some("regex") => regex_met(spec, output, scope),
            Some("range") => range_met(spec, output),
            Some("jsonpath") => jsonpath_met(spec, output, scope),
            Some("probe") => {
                let mut probe = spec.clone();
                if let Some(Value::Object(provider)) = probe.get_mut("provider") {
                    let arguments = provider.entry("arguments").or_insert_with(|| Value::Object(Map::new()));
                    if arguments.is_null() {
                        *arguments = Value::Object(Map::new());
                    }
                    if let Value::Object(arguments) = arguments {
                        arguments.insert("value".into(), output.clone());
                    }
                }
                run_probe(&probe)
            }
            _ => false,
        },
        _ => false,
    }
}

fn status_of(output: &Value) -> Option<&Value> {
    output.as_object().and_then(|o| o.get("status"))
}

fn target<'v>(spec: &Map<String, Value>, output: &'v Value) -> &'v Value {
    match spec.get("target").and_then(Value::as_str) {
        Some(t) if !t.is_empty() => output.as_object().and_then(|o| o.get(t)).unwrap_or(output),
        _ => output,
    }
}

fn regex_met(spec: &Map<String, Value>, output: &Value, scope: &Scope<'_>) -> bool {
    let pattern = spec.get("pattern").map(|p| scope.substitute(p)).unwrap_or(Value::Null);
    let Some(pattern) = pattern.as_str() else {
        return false;
    };
    tracing::debug!("Applied pattern is: {pattern}");
    let Ok(rx) = regex::Regex::new(pattern) else {
        tracing::debug!("pattern {pattern} does not compile");
        return false;
    };
    match target(spec, output) {
        Value::String(s) => rx.is_match(s),
        other => {
            tracing::debug!("regex tolerance needs a string, got {other}");
            false
        }
    }
}

fn range_met(spec: &Map<String, Value>, output: &Value) -> bool {
    let value = match target(spec, output) {
        Value::String(s) => s.trim().parse::<f64>().ok(),
        other => as_number(other),
    };
    let Some(value) = value else {
        tracing::debug!("range check expects a number value");
        return false;
    };
    let bounds = spec.get("range").and_then(Value::as_array);
    match bounds.map(|b| b.iter().map(as_number).collect::<Vec<_>>()) {
        Some(b) if b.len() == 2 => match (b[0], b[1]) {
            (Some(lo), Some(hi)) => lo <= value && value <= hi,
            _ => false,
        },
        _ => false,
    }
}

fn jsonpath_met(spec: &Map<String, Value>, output: &Value, scope: &Scope<'_>) -> bool {
    let path = spec.get("path").map(|p| scope.substitute(p)).unwrap_or(Value::Null);
    let Some(path) = path.as_str() else {
        return false;
    };
    tracing::debug!("Applied jsonpath is: {path}");
    let Ok(compiled) = serde_json_path::JsonPath::parse(path.trim()) else {
        return false;
    };
    let mut value = target(spec, output).clone();
    if let Value::String(s) = &value
        && let Ok(parsed) = serde_json::from_str::<Value>(s)
    {
        value = parsed;
    }
    let found: Vec<Value> = compiled.query(&value).all().into_iter().cloned().collect();
    let mut met = !found.is_empty();
    if let Some(count) = spec.get("count").filter(|c| !c.is_null()) {
        met = python_eq(&Value::from(found.len()), count);
    }
    if let Some(expect) = spec.get("expect") {
        let expect = scope.substitute(expect);
        let expected = match expect {
            Value::Array(items) => items,
            single => vec![single],
        };
        met = found.len() == expected.len() && found.iter().zip(&expected).all(|(a, b)| python_eq(a, b));
    }
    if !met {
        let found = Value::Array(found);
        tracing::debug!("jsonpath found '{found}'");
    }
    met
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn met(tolerance: Value, output: Value) -> bool {
        let conf = json!({"expected": 200, "word": "hel+o"});
        let conf = conf.as_object().cloned().unwrap_or_default();
        let secrets = Map::new();
        let scope = Scope::new(&conf, &secrets);
        within_tolerance(&tolerance, &output, &scope, &|_| true)
    }

    #[test]
    fn scalar_tolerances() {
        assert!(met(json!(true), json!(true)));
        assert!(!met(json!(true), json!(1.5)));
        assert!(met(json!(0), json!({"status": 0, "stdout": ""})));
        assert!(!met(json!(0), json!({"status": 1})));
        assert!(met(json!(3), json!(3.0)));
        assert!(met(json!("ok"), json!("ok")));
        assert!(met(json!("${expected}"), json!({"status": 200})));
    }

    #[test]
    fn list_tolerances() {
        assert!(met(json!([200, 201, 204]), json!({"status": 204})));
        assert!(met(json!([1, 5]), json!(3)));
        assert!(!met(json!([1, 5]), json!(6)));
        assert!(!met(json!([1, 5]), json!("x")));
        assert!(met(json!(["a", "b", "c"]), json!("b")));
    }

    #[test]
    fn mapping_tolerances() {
        let out = json!({"status": 0, "stdout": "hello world\n", "body": "{\"items\": [1, 2, 3]}"});
        assert!(met(json!({"type": "regex", "pattern": "^hello", "target": "stdout"}), out.clone()));
        assert!(met(json!({"type": "regex", "pattern": "${word}", "target": "stdout"}), out.clone()));
        assert!(!met(json!({"type": "regex", "pattern": "^world", "target": "stdout"}), out.clone()));
        assert!(!met(json!({"type": "regex", "pattern": "x"}), out.clone()));
        assert!(met(json!({"type": "range", "range": [0, 1], "target": "status"}), out.clone()));
        assert!(met(json!({"type": "range", "range": [1.5, 2.5]}), json!(" 2 ")));
        assert!(!met(json!({"type": "range", "range": [1, 2]}), json!("abc")));
        assert!(met(json!({"type": "jsonpath", "path": "$.items[*]", "target": "body", "count": 3}), out.clone()));
        assert!(met(json!({"type": "jsonpath", "path": "$.items[0]", "target": "body", "expect": 1}), out.clone()));
        assert!(!met(json!({"type": "jsonpath", "path": "$.items[0]", "target": "body", "expect": 2}), out.clone()));
        assert!(!met(json!({"type": "jsonpath", "path": "$.nope", "target": "body"}), out.clone()));
        assert!(!met(json!({"type": "unknown"}), out));
    }
}
