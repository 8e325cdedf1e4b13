//! Step 5: the journal, with chaostoolkit-lib's keys in its order.
//!
//! ```text
//! notifier-version, platform, node, experiment, start, status, deviated,
//! steady_states {before, after, during}, run, rollbacks, end, duration
//! ```
//!
//! `notifier-version` replaces the reference's `chaoslib-version`. Times are ISO-8601
//! in UTC with a `+00:00` offset and microseconds (omitted when zero, like Python's
//! `isoformat()`); durations are float seconds.

use std::path::Path;
use std::time::SystemTime;

use chrono::{DateTime, Timelike, Utc};
use serde_json::{Map, Value, json};

use crate::error::JournalError;

/// The journal key that replaces `chaoslib-version`.
pub const VERSION_KEY: &str = "notifier-version";

/// This crate's version, the value of [`VERSION_KEY`].
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A point in time, rendered like Python's `datetime.now(UTC).isoformat()`.
pub fn iso(time: SystemTime) -> String {
    let dt: DateTime<Utc> = time.into();
    if dt.nanosecond() / 1000 == 0 {
        dt.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    } else {
        dt.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
    }
}

/// Seconds between two instants with microsecond resolution, like
/// `timedelta.total_seconds()`.
pub fn seconds_between(start: SystemTime, end: SystemTime) -> f64 {
    let d = end.duration_since(start).unwrap_or_default();
    (d.as_micros() as f64) / 1e6
}

/// `platform.platform()`-like: `Linux-6.1.0-x86_64`.
pub fn platform() -> String {
    let os = read_trimmed("/proc/sys/kernel/ostype").unwrap_or_else(capitalised_os);
    match read_trimmed("/proc/sys/kernel/osrelease") {
        Some(release) => format!("{os}-{release}-{}", std::env::consts::ARCH),
        None => format!("{os}-{}", std::env::consts::ARCH),
    }
}

fn capitalised_os() -> String {
    let os = std::env::consts::OS;
    let mut c = os.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// `platform.node()`: the host name.
pub fn node() -> String {
    read_trimmed("/proc/sys/kernel/hostname")
        .or_else(|| read_trimmed("/etc/hostname"))
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default()
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// A fresh journal for `experiment` (which already has its `dry` key), status `null`.
pub fn initialize(experiment: &Map<String, Value>, start: SystemTime) -> Map<String, Value> {
    let mut journal = Map::new();
    journal.insert(VERSION_KEY.into(), json!(VERSION));
    journal.insert("platform".into(), json!(platform()));
    journal.insert("node".into(), json!(node()));
    journal.insert("experiment".into(), Value::Object(experiment.clone()));
    journal.insert("start".into(), json!(iso(start)));
    journal.insert("status".into(), Value::Null);
    journal.insert("deviated".into(), json!(false));
    journal.insert("steady_states".into(), json!({"before": null, "after": null, "during": []}));
    journal.insert("run".into(), json!([]));
    journal.insert("rollbacks".into(), json!([]));
    journal
}

/// Writes the journal as indented JSON (UTF-8, not ASCII-escaped), like `chaos run`.
pub fn write(journal: &Value, path: &Path) -> Result<(), JournalError> {
    let mut text = serde_json::to_string_pretty(journal)
        .map_err(|e| JournalError { path: path.to_path_buf(), source: std::io::Error::other(e) })?;
    text.push('\n');
    std::fs::write(path, text).map_err(|source| JournalError { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn iso_matches_python_isoformat() {
        let t = UNIX_EPOCH + Duration::from_micros(1_795_561_511_416_393);
        assert_eq!(iso(t), "2026-11-24T23:05:11.416393+00:00");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_561_511);
        assert_eq!(iso(t), "2026-11-24T23:05:11+00:00");
        let t2 = t + Duration::from_micros(2414);
        assert_eq!(seconds_between(t, t2), 0.002414);
        assert_eq!(seconds_between(t2, t), 0.0);
    }

    #[test]
    fn journal_keys_in_reference_order() {
        let j = initialize(&Map::new(), SystemTime::now());
        let keys: Vec<&str> = j.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "notifier-version",
                "platform",
                "node",
                "experiment",
                "start",
                "status",
                "deviated",
                "steady_states",
                "run",
                "rollbacks"
            ]
        );
    }
}
