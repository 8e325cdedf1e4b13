//! The compiler pipeline: text → located tree → JSON + positions → diagnostics →
//! typed model → channel table (IR).
//!
//! Every stage reports into one `Report`, so a file with several mistakes gets all
//! of them at once; the typed model and the IR are only produced when there is no error.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::code::Code;
use crate::diagnostic::{self, Diagnostic, RunTime, Severity};
use crate::ir::ChannelTable;
use crate::located::{LocatedDocument, PositionIndex, to_json};
use crate::model::Channel;
use crate::report::Report;
use crate::source::{ReadError, SourceFile};
use crate::yaml::{self, Span};

/// The result of compiling one settings file.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The file.
    pub source: SourceFile,
    /// Every problem found, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
    /// The whole document as JSON (`Null` for an empty file or a YAML error).
    pub document: Value,
    /// The channel table, unless the file gives no notifications at all (not YAML, not
    /// a mapping, `notifications` not a list). Channels with errors are in
    /// [`ChannelTable::skipped`], so the table is complete only when the file has no
    /// error: code generation requires that, the lenient run-time loader does not.
    pub table: Option<ChannelTable>,
    /// Byte ranges of the text holding plain-text credentials (values of `token`,
    /// `Authorization`, `*secret*`… keys, URL passwords and token query values), sorted.
    /// Renderers that show source lines mask them.
    pub secret_spans: Vec<std::ops::Range<usize>>,
}

impl Compiled {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Whether the text could not be loaded as a YAML document at all (a syntax error,
    /// a second document, an alias bomb, nesting too deep, an unsupported tag). Such a
    /// file is "not YAML" for `notifier check`, which exits 2 for it.
    pub fn is_unparsable(&self) -> bool {
        self.diagnostics.iter().any(|d| d.code == Code::Yaml)
    }

    /// Number of errors and of warnings.
    pub fn counts(&self) -> (usize, usize) {
        let errors = self.diagnostics.iter().filter(|d| d.is_error()).count();
        (errors, self.diagnostics.len() - errors)
    }

    /// What the problems of the file do at run time, where channels are skipped one by
    /// one (the note `notifier check` prints under a file): `at run time channel #3 is
    /// skipped, and channels #2 and #5 are skipped unless their warnings are fixed where
    /// it runs; the other 3 channels still deliver`. `None` when every channel is used
    /// as written.
    pub fn run_time_note(&self) -> Option<String> {
        let Some(table) = &self.table else {
            return self.has_errors().then(|| RunTime::NoNotifications.to_string());
        };
        let skipped: Vec<usize> = table.skipped.iter().map(|s| s.index + 1).collect();
        let mut maybe: Vec<usize> = self
            .diagnostics
            .iter()
            .filter_map(|d| match d.run_time {
                RunTime::ChannelMayBeSkipped { channel } if !skipped.contains(&channel) => Some(channel),
                _ => None,
            })
            .collect();
        maybe.sort_unstable();
        maybe.dedup();
        if skipped.is_empty() && maybe.is_empty() {
            return None;
        }
        let others = table.channels.len() + table.skipped.len() - skipped.len() - maybe.len();
        let channels = |list: &[usize]| {
            let numbers: Vec<String> = list.iter().map(|n| format!("#{n}")).collect();
            let numbers = match numbers.as_slice() {
                [init @ .., last] if !init.is_empty() => format!("{} and {last}", init.join(", ")),
                _ => numbers.concat(),
            };
            if list.len() == 1 { format!("channel {numbers} is") } else { format!("channels {numbers} are") }
        };
        let mut note = String::from("at run time ");
        if !skipped.is_empty() {
            note.push_str(&format!("{} skipped", channels(&skipped)));
        }
        if !maybe.is_empty() {
            if !skipped.is_empty() {
                note.push_str(", and ");
            }
            note.push_str(&format!("{} skipped unless their warnings are fixed where it runs", channels(&maybe)));
        }
        note.push_str(&match others {
            0 => "; no other channel delivers".to_owned(),
            1 => "; the other channel still delivers".to_owned(),
            n => format!("; the other {n} channels still deliver"),
        });
        Some(note)
    }
}

/// Reads and compiles a settings file. `Err` only when the file cannot be read as text
/// at all; every problem inside the file is a diagnostic.
pub fn compile_file(path: &Path) -> Result<Compiled, ReadError> {
    Ok(compile(SourceFile::read(path)?))
}

/// Compiles settings text.
pub fn compile(source: SourceFile) -> Compiled {
    let root = yaml::parse(&source.text);
    let (doc, yaml_error) = match root {
        Ok(root) => (to_json(root.as_ref()), None),
        Err(e) => {
            let empty = LocatedDocument {
                value: Value::Null,
                index: PositionIndex::default(),
                duplicates: vec![],
                non_finite: vec![],
            };
            (empty, Some(e))
        }
    };
    let mut report = Report::new(&source, &doc.index);
    if let Some(e) = yaml_error {
        let span = Span { start: e.pos, end: e.pos };
        let reported = report.push_span(Severity::Error, Code::Yaml, "", span, e.message);
        if let Some(help) = e.help {
            reported.help(help);
        }
        let mut diagnostics = report.into_diagnostics();
        for d in &mut diagnostics {
            d.run_time = RunTime::NoNotifications;
        }
        return Compiled { document: Value::Null, diagnostics, table: None, source, secret_spans: Vec::new() };
    }
    crate::checks::check(&doc, &mut report);
    // The schema is the safety net: report what the semantic checks did not explain.
    #[cfg(feature = "validation")]
    if doc.value.is_object() {
        for v in crate::validate::violations(&doc.value) {
            if report.has_error_on_path(&v.pointer) {
                continue;
            }
            let message = if v.unexpected.is_empty() {
                v.message
            } else {
                format!("unexpected key(s): {}", v.unexpected.join(", "))
            };
            report.error(Code::Schema, &v.pointer, message);
        }
    }
    let mut diagnostics = report.into_diagnostics();
    diagnostic::sort(&mut diagnostics);
    for d in &mut diagnostics {
        d.run_time = run_time_effect(d);
    }
    let table = if diagnostics.iter().any(|d| d.run_time == RunTime::NoNotifications) {
        None
    } else {
        Some(lower_usable(&doc, &source, &mut diagnostics))
    };
    let secret_spans = crate::checks::secret_spans(&doc.value, &doc.index, &source);
    Compiled { source, diagnostics, document: doc.value, table, secret_spans }
}

/// The channel a JSON pointer is inside (`/notifications/3/url` → 3).
fn channel_of(pointer: &str) -> Option<usize> {
    let rest = pointer.strip_prefix("/notifications/")?;
    rest.split('/').next()?.parse().ok()
}

/// What a diagnostic does when the file is loaded at run time.
fn run_time_effect(d: &Diagnostic) -> RunTime {
    if !d.is_error() {
        return match channel_of(&d.pointer) {
            Some(i) if d.code.depends_on_where_it_runs() => RunTime::ChannelMayBeSkipped { channel: i + 1 },
            _ => RunTime::None,
        };
    }
    if let Some(i) = channel_of(&d.pointer) {
        return RunTime::ChannelSkipped { channel: i + 1 };
    }
    // `notifications` written twice: PyYAML, and so Chaos Toolkit, keeps the last list,
    // and so does the located tree.
    if d.code == Code::DuplicateKey && d.pointer == "/notifications" {
        return RunTime::None;
    }
    RunTime::NoNotifications
}

/// Lowers every channel of a file whose `notifications` is usable: the channels without
/// errors to the IR, the others to [`SkippedChannel`]s carrying their errors.
fn lower_usable(doc: &LocatedDocument, source: &SourceFile, diagnostics: &mut Vec<Diagnostic>) -> ChannelTable {
    let entries = doc.value.get("notifications").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let mut table = ChannelTable { file: source.name.clone(), channels: Vec::new(), skipped: Vec::new() };
    for (i, entry) in entries.iter().enumerate() {
        let mut reasons: Vec<String> = diagnostics
            .iter()
            .filter(|d| d.run_time == RunTime::ChannelSkipped { channel: i + 1 })
            .map(|d| format!("{}:{}: {}", d.line, d.column, d.message))
            .collect();
        if reasons.is_empty() {
            match Channel::deserialize(entry) {
                Ok(channel) => {
                    table.channels.push(crate::ir::lower_channel(i, &channel, entry, &doc.index));
                    continue;
                }
                Err(e) => {
                    // The checks and the schema accept what serde accepts; if they ever
                    // disagree, say so instead of losing the channel silently.
                    let mut r = Report::new(source, &doc.index);
                    let pointer = format!("/notifications/{i}");
                    r.error(Code::Internal, &pointer, format!("internal error: {e}"));
                    for mut d in r.into_diagnostics() {
                        d.run_time = RunTime::ChannelSkipped { channel: i + 1 };
                        reasons.push(format!("{}:{}: {}", d.line, d.column, d.message));
                        diagnostics.push(d);
                    }
                }
            }
        }
        table.skipped.push(crate::ir::skipped_channel(i, entry, &doc.index, reasons));
    }
    table
}
