//! Problems found in a settings file, each pointing at a line and column.

use std::fmt;

use serde::Serialize;

use crate::code::Code;
use crate::source::ReadError;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Suspicious but usable (plain-text secret, `verify_tls: false`, …).
    Warning,
    /// The file cannot be used as written.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One problem in a settings file.
///
/// `line` and `column` are 1-based (columns count characters); `pointer` is the JSON
/// pointer of the offending value (`/notifications/0/url`). `span` is the byte range
/// in the file text, for renderers that show the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file, as the user named it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// JSON pointer of the value concerned.
    pub pointer: String,
    /// Error or warning.
    pub severity: Severity,
    /// The rule concerned; displayed and serialised as a stable kebab-case name, e.g.
    /// `unknown-event`.
    pub code: Code,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when we know.
    pub help: Option<String>,
    /// What the problem does when the file is loaded at run time (`notifier send`,
    /// `notifier run`, `Notifier::from_settings_file`).
    pub run_time: RunTime,
    /// Byte range in the source text.
    #[serde(skip)]
    pub span: std::ops::Range<usize>,
    /// The text that fixes the problem when it replaces `span`, where the check is sure
    /// of it (a quoted boolean, a "did you mean" name); `span` then covers the whole
    /// value or key. `notifier check --format sarif` offers it as a fix.
    #[serde(skip)]
    pub fix: Option<String>,
}

/// What a problem does at run time, where a settings file is loaded leniently, like
/// Chaos Toolkit loads it: a broken channel is skipped alone, and only a file that is
/// not YAML, or whose `notifications` is not a list, gives no channel at all.
///
/// Serialised in `notifier check --format json` as
/// `{"effect": "none"}`, `{"effect": "channel-skipped", "channel": 2}`,
/// `{"effect": "channel-may-be-skipped", "channel": 2}` or `{"effect": "no-notifications"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(tag = "effect", rename_all = "kebab-case")]
pub enum RunTime {
    /// None: the file is used as written (warnings, and problems the loader tolerates).
    #[default]
    None,
    /// This channel is skipped (with a warning naming its position); the others deliver.
    ChannelSkipped {
        /// The channel's 1-based number in `notifications`.
        channel: usize,
    },
    /// This channel is skipped unless what the warning names is there where the file
    /// is used: an environment variable that is unset here, a plugin module that must
    /// be importable by the Python interpreter or registered by the program.
    ChannelMayBeSkipped {
        /// The channel's 1-based number in `notifications`.
        channel: usize,
    },
    /// No channel of the file is used.
    NoNotifications,
}

impl fmt::Display for RunTime {
    /// The note `check` prints under an error.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunTime::None => f.write_str("at run time the file is used as written"),
            RunTime::ChannelSkipped { channel } => {
                write!(f, "at run time channel #{channel} is skipped; the other channels still deliver")
            }
            RunTime::ChannelMayBeSkipped { channel } => write!(
                f,
                "at run time channel #{channel} is skipped unless this is fixed where it runs; the others still deliver"
            ),
            RunTime::NoNotifications => f.write_str("at run time this file gives no notifications at all"),
        }
    }
}

impl Diagnostic {
    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:col: message (help: …)` on one line, without the severity (for log
    /// lines that carry their own level).
    pub fn one_line(&self) -> String {
        let mut s = format!("{}: {}", self.location(), self.message);
        if let Some(help) = &self.help {
            s.push_str(&format!(" (help: {help})"));
        }
        s
    }
}

impl Diagnostic {
    /// A file that could not be read as text, named `file`, as a diagnostic
    /// ([`Code::Unreadable`]; line and column 0 unless the problem has a position).
    pub fn unreadable(file: &str, error: &ReadError) -> Diagnostic {
        let (line, column) = error.position().unwrap_or((0, 0));
        Diagnostic {
            file: file.to_owned(),
            line,
            column,
            pointer: String::new(),
            severity: Severity::Error,
            code: Code::Unreadable,
            message: error.reason(),
            help: None,
            run_time: RunTime::NoNotifications,
            span: 0..0,
            fix: None,
        }
    }

    /// `file:line:col`, or `file` for a problem without a position.
    fn location(&self) -> String {
        if self.line == 0 { self.file.clone() } else { format!("{}:{}:{}", self.file, self.line, self.column) }
    }

    /// The text `settings!` shows for this diagnostic (in a `compile_error!`, or in the
    /// note of a deprecation warning): `file:line:col: message (at pointer)` and, on the
    /// next line, `= help: …`.
    pub fn build_message(&self) -> String {
        let mut text = format!("{}: {}", self.location(), self.message);
        if !self.pointer.is_empty() {
            text.push_str(&format!(" (at {})", self.pointer));
        }
        if let Some(help) = &self.help {
            text.push_str(&format!("\n  = help: {help}"));
        }
        text
    }
}

impl fmt::Display for Diagnostic {
    /// `file:line:col: severity: message` and, on the next line, the help.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.location(), self.severity, self.message)?;
        if !self.pointer.is_empty() {
            write!(f, " (at {})", self.pointer)?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Sorts diagnostics by position (then severity, errors first) and drops exact repeats.
pub fn sort(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| {
        (a.line, a.column, std::cmp::Reverse(a.severity), &a.message).cmp(&(
            b.line,
            b.column,
            std::cmp::Reverse(b.severity),
            &b.message,
        ))
    });
    diags.dedup_by(|a, b| a.line == b.line && a.column == b.column && a.message == b.message);
}
