//! `notifier.console`: one short line per event on standard error (or output).
//!
//! ```yaml
//! notifications:
//!   - type: plugin
//!     module: notifier.console
//!     stream: stderr          # or stdout; default stderr
//! ```
//!
//! `[notifier] run-failed: This machine can run its tools (status failed) · error: An
//! exception was raised: …`: the event, the experiment's title, the journal's status
//! and deviation, and the error, on one line of at most [`MAX_LINE`] characters. It is
//! what `notifier run` shows when no settings file exists, so that the flow is visible
//! at a glance without mixing envelopes into the run's standard output.

use std::io::Write;

use serde_json::Value;

use crate::envelope::Envelope;
use crate::plugin::{PluginConfig, PluginError};

/// Longest line written, in characters (longer ones end with `…`).
pub const MAX_LINE: usize = 240;

/// The plugin function.
pub fn notify(config: &PluginConfig, envelope: &Envelope) -> Result<(), PluginError> {
    let line = format!("{}\n", line(envelope));
    let written = match config.get("stream") {
        None | Some(Value::Null) => write_to(&mut std::io::stderr().lock(), &line),
        Some(Value::String(s)) if s == "stderr" => write_to(&mut std::io::stderr().lock(), &line),
        Some(Value::String(s)) if s == "stdout" => write_to(&mut std::io::stdout().lock(), &line),
        Some(other) => {
            return Err(PluginError::Config(format!("`stream` must be `stderr` or `stdout`, found {other}")));
        }
    };
    written.map_err(|e| PluginError::failed(format!("cannot write the console line: {e}")))
}

fn write_to(out: &mut dyn Write, line: &str) -> std::io::Result<()> {
    out.write_all(line.as_bytes())?;
    out.flush()
}

/// The line for one envelope, without the line break.
pub fn line(envelope: &Envelope) -> String {
    let payload = &envelope.payload;
    // A journal holds the experiment under `experiment`; other payloads are experiments.
    let title =
        payload.get("experiment").and_then(|e| e.get("title")).or_else(|| payload.get("title")).and_then(Value::as_str);
    let mut parts = vec![format!("[notifier] {}", envelope.name())];
    let mut details = Vec::new();
    if let Some(title) = title {
        details.push(title.to_owned());
    } else if let Some(text) = payload.as_str() {
        details.push(text.to_owned());
    }
    if let Some(status) = payload.get("status").and_then(Value::as_str) {
        let deviated = payload.get("deviated") == Some(&Value::Bool(true));
        details.push(if deviated { format!("(status {status}, deviated)") } else { format!("(status {status})") });
    }
    if !details.is_empty() {
        parts[0].push(':');
        parts.push(details.join(" "));
    }
    let mut line = parts.join(" ");
    if let Some(error) = &envelope.error {
        let text = match error {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        line.push_str(" · error: ");
        line.push_str(&text);
    }
    // One line, whatever the title or the error hold.
    let line: String = line.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if line.chars().count() > MAX_LINE {
        let mut cut: String = line.chars().take(MAX_LINE - 1).collect();
        cut.push('…');
        cut
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::event::Event;

    #[test]
    fn lines_say_event_title_status_and_error() {
        let started = Envelope::at(Event::RunStarted, json!({"title": "It works"}), None, 1.0);
        assert_eq!(line(&started), "[notifier] run-started: It works");
        let journal = json!({"experiment": {"title": "It works"}, "status": "failed", "deviated": false});
        let failed = Envelope::at(Event::RunFailed, journal, Some(json!("boom\nagain")), 1.0);
        assert_eq!(line(&failed), "[notifier] run-failed: It works (status failed) · error: boom again");
        let deviated = Envelope::at(Event::RunDeviated, json!({"status": "completed", "deviated": true}), None, 1.0);
        assert_eq!(line(&deviated), "[notifier] run-deviated: (status completed, deviated)");
        assert_eq!(line(&Envelope::at(Event::InitStarted, Value::Null, None, 1.0)), "[notifier] init-started");
        let long = Envelope::at(Event::RunStarted, json!({"title": "x".repeat(1000)}), None, 1.0);
        assert_eq!(line(&long).chars().count(), MAX_LINE);
        assert!(line(&long).ends_with('…'));
    }
}
