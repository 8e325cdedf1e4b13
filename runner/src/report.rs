//! Console output for a person: each activity with its status and duration, the
//! hypothesis results and a final summary. Everything goes to a `dyn Write` so tests
//! (and the CLI) decide where it ends up; write errors are ignored (a closed stdout
//! must not change the outcome of an experiment).

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::error::{LoadError, ValidationError};

/// Writes the run's progress for a person.
pub struct Reporter<'w> {
    out: &'w mut dyn Write,
    dry: Option<crate::execute::DryMode>,
}

impl std::fmt::Debug for Reporter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reporter").finish_non_exhaustive()
    }
}

impl<'w> Reporter<'w> {
    /// A reporter writing to `out`.
    pub fn new(out: &'w mut dyn Write) -> Self {
        Reporter { out, dry: None }
    }

    /// The run's `--dry` mode, to mark the activities it skips.
    pub fn dry_mode(&mut self, dry: Option<crate::execute::DryMode>) {
        self.dry = dry;
    }

    fn line(&mut self, text: std::fmt::Arguments<'_>) {
        let _ = self.out.write_fmt(text);
        let _ = self.out.write_all(b"\n");
        let _ = self.out.flush();
    }

    /// `Experiment: <title> (<path>)`.
    pub fn experiment(&mut self, experiment: &Value, path: &Path) {
        let title = experiment.get("title").and_then(Value::as_str).unwrap_or("(untitled)");
        self.line(format_args!("Experiment: {title} ({})", path.display()));
    }

    /// The experiment file could not be loaded.
    pub fn load_failed(&mut self, error: &LoadError) {
        self.line(format_args!("error: {error}"));
    }

    /// Validation passed.
    pub fn validation_passed(&mut self) {
        self.line(format_args!("  validation: ok"));
    }

    /// Validation was skipped (`--no-validation`).
    pub fn validation_skipped(&mut self) {
        self.line(format_args!("  validation: skipped (--no-validation)"));
    }

    /// Validation failed.
    pub fn validation_failed(&mut self, error: &ValidationError) {
        self.line(format_args!("  validation: FAILED"));
        self.line(format_args!("error: {}: {error}", error.kind()));
    }

    /// A heading: `Steady-state hypothesis (before the method): …`, `Method`, `Rollbacks`.
    pub fn section(&mut self, heading: &str) {
        self.line(format_args!("{heading}"));
    }

    /// A remark inside a section.
    pub fn note(&mut self, text: &str) {
        self.line(format_args!("  {text}"));
    }

    /// An activity started in the background.
    pub fn background_started(&mut self, activity: &Value) {
        self.line(format_args!("  {:<6} {:<34} started in the background", kind(activity), name(activity)));
    }

    /// One finished activity (a journal run record).
    pub fn activity(&mut self, run: &Value) {
        let activity = &run["activity"];
        let status = run["status"].as_str().unwrap_or("?");
        let duration = run["duration"].as_f64().unwrap_or_default();
        let mut detail = Vec::new();
        if let Some(met) = run.get("tolerance_met").and_then(Value::as_bool)
            && status == "succeeded"
        {
            detail.push(if met { "tolerance met".to_string() } else { "tolerance NOT met".to_string() });
        }
        if let Some(exception) =
            run.get("exception").and_then(Value::as_array).and_then(|l| l.last()).and_then(Value::as_str)
        {
            detail.push(exception.trim().to_string());
        }
        if crate::execute::is_dry(activity, self.dry) && status == "succeeded" {
            detail.push("dry run".to_string());
        } else if let Some(code) = run["output"].get("status").and_then(Value::as_i64)
            && run.get("tolerance_met").is_none()
            && code != 0
            && activity["provider"]["type"] == "process"
        {
            detail.push(format!("exit status {code}"));
        } else if let Some(code) = run["output"].get("status").and_then(Value::as_i64)
            && activity["provider"]["type"] == "http"
        {
            detail.push(format!("HTTP {code}"));
        }
        let mark =
            if status == "succeeded" && run.get("tolerance_met") != Some(&Value::Bool(false)) { "ok" } else { "!!" };
        self.line(format_args!(
            "  [{mark}] {:<6} {:<34} {:<9} {:>8.3}s{}{}",
            kind(activity),
            name(activity),
            status,
            duration,
            if detail.is_empty() { "" } else { "  " },
            detail.join(" · ")
        ));
    }

    /// An activity that a signal or an unexpected error stopped (its record has no
    /// status).
    pub fn stopped(&mut self, run: &Value, reason: &str) {
        let activity = &run["activity"];
        let duration = run["duration"].as_f64().unwrap_or_default();
        self.line(format_args!(
            "  [!!] {:<6} {:<34} {:<9} {:>8.3}s  {reason}",
            kind(activity),
            name(activity),
            "stopped",
            duration
        ));
    }

    /// The iterations of the during-method hypothesis, one verdict each.
    pub fn during(&mut self, title: &str, states: &[Value]) {
        self.line(format_args!("Steady-state hypothesis (during the method): {title}"));
        if states.is_empty() {
            self.line(format_args!("  (no iteration completed)"));
        }
        for (i, state) in states.iter().enumerate() {
            let probes = state["probes"].as_array().map(Vec::as_slice).unwrap_or_default();
            if state["steady_state_met"] == Value::Bool(true) {
                self.line(format_args!("  iteration {}: met ({} probes)", i + 1, probes.len()));
            } else {
                let last = probes.last().map(|p| name(&p["activity"])).unwrap_or_default();
                self.line(format_args!("  iteration {}: NOT met (probe {last})", i + 1));
            }
        }
    }

    /// The hypothesis verdict.
    pub fn hypothesis(&mut self, met: bool) {
        if met {
            self.line(format_args!("  => steady state met"));
        } else {
            self.line(format_args!("  => steady state NOT met"));
        }
    }

    /// The final summary.
    pub fn summary(&mut self, journal: &Value, journal_path: &Path, journal_error: Option<&str>) {
        let status = journal["status"].as_str().unwrap_or("?");
        let deviated = journal["deviated"].as_bool().unwrap_or(false);
        let duration = journal["duration"].as_f64().unwrap_or_default();
        let verdict = |state: &Value| match state.get("steady_state_met") {
            Some(Value::Bool(true)) => "met",
            Some(Value::Bool(false)) => "NOT met",
            _ => "not run",
        };
        // "3 succeeded, 1 failed" (", 1 stopped" for records without a status).
        let count = |runs: &Value| {
            let runs = runs.as_array().map(Vec::as_slice).unwrap_or_default();
            let ok = runs.iter().filter(|r| r["status"] == "succeeded").count();
            let stopped = runs.iter().filter(|r| r.get("status").is_none()).count();
            let text = format!("{ok} succeeded, {} failed", runs.len() - ok - stopped);
            if stopped > 0 { format!("{text}, {stopped} stopped") } else { text }
        };
        let (method, rollbacks) = (count(&journal["run"]), count(&journal["rollbacks"]));
        self.line(format_args!(""));
        self.line(format_args!("Result: {status}{} in {duration:.2}s", if deviated { ", DEVIATED" } else { "" }));
        let during = journal["steady_states"]["during"].as_array().map(Vec::as_slice).unwrap_or_default();
        let during = if during.is_empty() {
            String::new()
        } else {
            let met = during.iter().filter(|s| s["steady_state_met"] == Value::Bool(true)).count();
            format!(" · during {met} of {} met", during.len())
        };
        self.line(format_args!(
            "  steady state: before {}{during} · after {}",
            verdict(&journal["steady_states"]["before"]),
            verdict(&journal["steady_states"]["after"])
        ));
        if let Some(interruption) = journal.get("interruption") {
            self.line(format_args!("  interrupted by {}", interruption["name"].as_str().unwrap_or("?")));
        }
        self.line(format_args!("  method: {method} · rollbacks: {rollbacks}"));
        match journal_error {
            None => self.line(format_args!("  journal: {}", journal_path.display())),
            Some(e) => self.line(format_args!("  journal: NOT WRITTEN: {e}")),
        }
    }
}

fn kind(activity: &Value) -> &str {
    activity["type"].as_str().unwrap_or("?")
}

fn name(activity: &Value) -> String {
    let name = activity["name"].as_str().or_else(|| activity["ref"].as_str()).unwrap_or("?");
    if name.chars().count() > 34 {
        let cut: String = name.chars().take(33).collect();
        format!("{cut}…")
    } else {
        name.to_string()
    }
}
