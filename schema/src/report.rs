//! Collecting diagnostics: JSON pointers and YAML spans turned into `file:line:col` and
//! byte ranges. Every stage of the compiler (the checks, the schema safety net, the
//! lowering, the build step) reports through a [`Report`].

use crate::code::Code;
use crate::diagnostic::{Diagnostic, RunTime, Severity};
use crate::located::PositionIndex;
use crate::source::SourceFile;
use crate::yaml::{Pos, Span};

/// Collects diagnostics, turning JSON pointers into positions.
pub(crate) struct Report<'a> {
    source: &'a SourceFile,
    index: &'a PositionIndex,
    diags: Vec<Diagnostic>,
}

/// The diagnostic just reported, to add a help or move its caret to the key.
pub(crate) struct Reported<'r> {
    diagnostic: &'r mut Diagnostic,
    source: &'r SourceFile,
    index: &'r PositionIndex,
    /// Whether the diagnostic's span covers the whole node (it is cut at the end of the
    /// first line otherwise), so that replacing it replaces the node.
    whole: bool,
}

impl Reported<'_> {
    /// How to fix it.
    pub(crate) fn help(self, help: impl Into<String>) {
        self.diagnostic.help = Some(help.into());
    }

    /// The text that fixes the problem when it replaces the node reported (the value,
    /// or the key after [`Reported::at_key`]); ignored for a node spanning several lines.
    pub(crate) fn fix(self, replacement: impl Into<String>) -> Self {
        if self.whole {
            self.diagnostic.fix = Some(replacement.into());
        }
        self
    }

    /// Points at the mapping key the value is under (unknown keys, invalid header names)
    /// instead of the value.
    pub(crate) fn at_key(mut self) -> Self {
        if let Some(key) = self.index.get(&self.diagnostic.pointer).and_then(|p| p.key) {
            let (line, column, span, whole) = locate(self.source, key);
            (self.diagnostic.line, self.diagnostic.column, self.diagnostic.span) = (line, column, span);
            self.whole = whole;
        }
        self
    }
}

impl<'a> Report<'a> {
    pub(crate) fn new(source: &'a SourceFile, index: &'a PositionIndex) -> Report<'a> {
        Report { source, index, diags: Vec::new() }
    }

    /// Reports an error at the value of `pointer` (or its nearest located ancestor).
    pub(crate) fn error(&mut self, code: Code, pointer: &str, message: impl Into<String>) -> Reported<'_> {
        self.push(Severity::Error, code, pointer, message.into())
    }

    /// Reports a warning at the value of `pointer` (or its nearest located ancestor).
    pub(crate) fn warning(&mut self, code: Code, pointer: &str, message: impl Into<String>) -> Reported<'_> {
        self.push(Severity::Warning, code, pointer, message.into())
    }

    fn push(&mut self, severity: Severity, code: Code, pointer: &str, message: String) -> Reported<'_> {
        let span = match self.index.get(pointer) {
            Some(pos) => pos.value,
            None => self.index.nearest(pointer).map_or_else(Span::default, |p| p.value),
        };
        self.push_span(severity, code, pointer, span, message)
    }

    /// Reports at an explicit span.
    pub(crate) fn push_span(
        &mut self,
        severity: Severity,
        code: Code,
        pointer: &str,
        span: Span,
        message: impl Into<String>,
    ) -> Reported<'_> {
        let (line, column, span, whole) = locate(self.source, span);
        self.diags.push(Diagnostic {
            file: self.source.name.clone(),
            line,
            column,
            pointer: pointer.to_owned(),
            severity,
            code,
            message: message.into(),
            help: None,
            run_time: RunTime::None,
            span,
            fix: None,
        });
        let diagnostic = self.diags.last_mut().expect("just pushed");
        Reported { diagnostic, source: self.source, index: self.index, whole }
    }

    /// Reports at characters of the string value at `pointer` (whose text is `value`):
    /// `range` is a byte range of `value` (a template's offending part), mapped back
    /// through the YAML scalar's quoting, escapes, folding and indentation to the
    /// file's line and column. Without a range, or when the characters cannot be placed,
    /// the diagnostic points at the value.
    pub(crate) fn push_in_value(
        &mut self,
        severity: Severity,
        code: Code,
        pointer: &str,
        value: &str,
        range: Option<std::ops::Range<usize>>,
        message: impl Into<String>,
    ) -> Reported<'_> {
        let placed = range.zip(self.index.get(pointer)).and_then(|(range, pos)| {
            let positions = crate::scalar::char_positions(self.source, pos.value, value)?;
            let first = value.get(..range.start.min(value.len()))?.chars().count();
            let last = value.get(..range.end.min(value.len()))?.chars().count().max(first + 1) - 1;
            let start = *positions.get(first)?;
            let end = positions.get(last).map_or(start, |p| Pos { line: p.line, col: p.col + 1 });
            Some(Span { start, end })
        });
        match placed {
            Some(span) => self.push_span(severity, code, pointer, span, message),
            None => self.push(severity, code, pointer, message.into()),
        }
    }

    /// The line a pointer is at (for "same as channel #1 (line 3)").
    pub(crate) fn line_of(&self, pointer: &str) -> usize {
        self.index.nearest(pointer).map_or(0, |p| p.value.start.line)
    }

    /// Whether an error was reported at `pointer`, inside it, or at one of its ancestors.
    #[cfg(feature = "validation")]
    pub(crate) fn has_error_on_path(&self, pointer: &str) -> bool {
        let related = |a: &str, b: &str| a == b || a.starts_with(&format!("{b}/")) || b.starts_with(&format!("{a}/"));
        self.diags.iter().any(|d| d.is_error() && related(&d.pointer, pointer))
    }

    /// Everything reported, in the order reported.
    pub(crate) fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diags
    }
}

/// The 1-based line and column of a span's start, the byte range to underline, always
/// inside the text, and whether that range is the whole span.
fn locate(source: &SourceFile, span: Span) -> (usize, usize, std::ops::Range<usize>, bool) {
    let mut start = if span.start.line == 0 { Pos { line: 1, col: 0 } } else { span.start };
    // The parser reports "unexpected end of input" one line past the last one when
    // the text does not end with a line break; keep every position inside the text.
    let last = source.line_count();
    if start.line > last {
        start = Pos { line: last, col: usize::MAX };
    }
    start.col = start.col.min(source.line_text(start.line).chars().count());
    let begin = source.byte_offset(start.line, start.col);
    // Underline the node on its first line only; long values would drown the output.
    let line_end = source.line_range(start.line).end.max(begin);
    let whole = span.start == start && span.end.line == start.line && span.end.line != 0 && span.end.col > start.col;
    let end = if span.end.line == start.line && span.end.line != 0 {
        source.byte_offset(span.end.line, span.end.col).clamp(begin, line_end)
    } else {
        line_end
    };
    (start.line, start.col + 1, begin..end.max(begin), whole && end <= line_end)
}
