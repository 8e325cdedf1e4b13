//! Numbers: `timeout`, `retries`, and the `.inf`/`.nan` JSON cannot hold.

use serde_json::{Map, Value};

use super::describe::describe;
use crate::code::Code;
use crate::located::LocatedDocument;
use crate::model::{MAX_RETRIES, MAX_TIMEOUT_SECS, MIN_TIMEOUT_SECS};
use crate::report::Report;

/// `timeout`: a number of seconds within the limits the schema states.
pub(super) fn check_timeout(ptr: &str, entry: &Map<String, Value>, r: &mut Report<'_>) {
    match entry.get("timeout") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n))
            if n.as_f64().is_some_and(|t| (MIN_TIMEOUT_SECS..=f64::from(MAX_TIMEOUT_SECS)).contains(&t)) => {}
        Some(other) => r
            .error(
                Code::InvalidTimeout,
                &format!("{ptr}/timeout"),
                format!(
                    "`timeout` must be a number of seconds from {MIN_TIMEOUT_SECS} to {MAX_TIMEOUT_SECS}, found {}",
                    describe(other)
                ),
            )
            .help("write a bare number of seconds, e.g. `timeout: 2.5` (no quotes, no unit)"),
    }
}

/// Reports `.inf` and `.nan` inside `notifications` (JSON, and so the channels, cannot
/// hold them; elsewhere in the file they are none of our business).
pub(super) fn check_non_finite(doc: &LocatedDocument, r: &mut Report<'_>) {
    for (pointer, value) in doc.non_finite.iter().filter(|(p, _)| p.starts_with("/notifications/")) {
        let written = if value.is_nan() {
            ".nan"
        } else if *value > 0.0 {
            ".inf"
        } else {
            "-.inf"
        };
        r.error(
            Code::NotFinite,
            pointer,
            format!("`{written}` is not a usable number here: JSON has no infinity or NaN"),
        )
        .help(if pointer.ends_with("/timeout") {
            format!("write a number of seconds, at most {MAX_TIMEOUT_SECS}")
        } else {
            "write a finite number".into()
        });
    }
}

/// `retries`: a whole number up to the run time's limit.
pub(super) fn check_retries(ptr: &str, entry: &Map<String, Value>, r: &mut Report<'_>) {
    match entry.get("retries") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.as_u64().is_some_and(|n| n <= u64::from(MAX_RETRIES)) => {}
        Some(other) => r
            .error(
                Code::InvalidRetries,
                &format!("{ptr}/retries"),
                format!("`retries` must be a whole number from 0 to {MAX_RETRIES}, found {}", describe(other)),
            )
            .help("write a bare number, e.g. `retries: 2` (extra attempts after a retryable failure)"),
    }
}
