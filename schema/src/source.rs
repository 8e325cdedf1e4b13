//! Reading a file into text, with the limits that keep hostile files harmless: the one
//! bounded reader of the workspace, for settings files, experiments and payloads.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Settings files larger than this are refused before parsing: real ones are a few KiB,
/// and refusing early keeps `check` from spending seconds (or memory) on a mistake.
pub const MAX_FILE_BYTES: u64 = FileKind::Settings.limit();

/// What a file is read as: it decides the size limit and how messages name the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A Chaos Toolkit settings file (8 MiB at most).
    Settings,
    /// A Chaos Toolkit experiment (16 MiB at most: journals of long runs are pasted in).
    Experiment,
    /// An event payload given to `notifier send --payload @FILE` (16 MiB at most).
    Payload,
}

impl FileKind {
    /// The largest file accepted, in bytes.
    pub const fn limit(self) -> u64 {
        match self {
            FileKind::Settings => 8 * 1024 * 1024,
            FileKind::Experiment | FileKind::Payload => 16 * 1024 * 1024,
        }
    }

    /// What messages call such a file.
    pub const fn noun(self) -> &'static str {
        match self {
            FileKind::Settings => "settings file",
            FileKind::Experiment => "experiment",
            FileKind::Payload => "payload file",
        }
    }

    fn too_large_hint(self) -> &'static str {
        match self {
            FileKind::Settings => "; is this really a Chaos Toolkit settings file?",
            _ => "",
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.noun())
    }
}

/// A settings file's text and the name diagnostics use for it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as given by the user (what diagnostics print).
    pub name: String,
    /// The file contents.
    pub text: String,
    line_starts: Vec<usize>,
}

/// Why a file could not be turned into text (exit code 2 for `notifier check`).
/// Displayed as `path: reason`, or `path:line:col: reason` (see [`ReadError::reason`]).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("{}: {}", path.display(), self.reason())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// What it was read as.
        kind: FileKind,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than its kind's [limit](FileKind::limit).
    #[error("{}: {}", path.display(), self.reason())]
    TooLarge {
        /// The path.
        path: PathBuf,
        /// What it was read as.
        kind: FileKind,
        /// Its size in bytes.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The file is not UTF-8 text.
    #[error("{}:{line}:{column}: {}", path.display(), self.reason())]
    NotUtf8 {
        /// The path.
        path: PathBuf,
        /// What it was read as.
        kind: FileKind,
        /// 1-based line of the first invalid byte.
        line: usize,
        /// 1-based column (in characters) of the first invalid byte.
        column: usize,
        /// The first invalid byte.
        byte: u8,
    },
}

impl ReadError {
    /// What went wrong, without the path and position.
    pub fn reason(&self) -> String {
        match self {
            ReadError::Io { kind, source, .. } => format!("cannot read {kind}: {source}"),
            ReadError::TooLarge { kind, size, limit, .. } => {
                format!("{kind} is {size} bytes, more than the {limit} byte limit{}", kind.too_large_hint())
            }
            ReadError::NotUtf8 { kind, byte, .. } => format!("{kind} is not UTF-8 text (invalid byte 0x{byte:02x})"),
        }
    }

    /// The 1-based line and column of the problem, when it is inside the file.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            ReadError::NotUtf8 { line, column, .. } => Some((*line, *column)),
            ReadError::Io { .. } | ReadError::TooLarge { .. } => None,
        }
    }

    /// The path of the file that failed.
    pub fn path(&self) -> &Path {
        match self {
            ReadError::Io { path, .. } | ReadError::TooLarge { path, .. } | ReadError::NotUtf8 { path, .. } => path,
        }
    }
}

impl SourceFile {
    /// Wraps text that is already in memory.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let line_starts = line_starts(&text);
        SourceFile { name: name.into(), text, line_starts }
    }

    /// Reads a settings file, refusing ones that are too large or not UTF-8.
    pub fn read(path: &Path) -> Result<SourceFile, ReadError> {
        Self::read_as(path, FileKind::Settings)
    }

    /// Reads a file of the given kind, refusing one larger than the kind's limit (before
    /// reading it when its size is known, and by reading at most one byte more than the
    /// limit otherwise: a pipe or a growing file cannot make it read without end), a
    /// directory, or text that is not UTF-8.
    pub fn read_as(path: &Path, kind: FileKind) -> Result<SourceFile, ReadError> {
        let io = |source| ReadError::Io { path: path.to_owned(), kind, source };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.is_dir() {
            return Err(io(std::io::Error::other("is a directory")));
        }
        if meta.len() > kind.limit() {
            return Err(ReadError::TooLarge { path: path.to_owned(), kind, size: meta.len(), limit: kind.limit() });
        }
        let mut bytes = Vec::new();
        std::fs::File::open(path).and_then(|f| f.take(kind.limit() + 1).read_to_end(&mut bytes)).map_err(io)?;
        Self::from_bytes_as(path, bytes, kind)
    }

    /// Reads at most a kind's limit (plus one byte, to tell) from `reader`, e.g. stdin.
    pub fn read_from(name: &Path, reader: impl Read, kind: FileKind) -> Result<SourceFile, ReadError> {
        let mut bytes = Vec::new();
        reader.take(kind.limit() + 1).read_to_end(&mut bytes).map_err(|source| ReadError::Io {
            path: name.to_owned(),
            kind,
            source,
        })?;
        Self::from_bytes_as(name, bytes, kind)
    }

    /// Decodes bytes read from the settings file `path`.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<SourceFile, ReadError> {
        Self::from_bytes_as(path, bytes, FileKind::Settings)
    }

    /// Decodes bytes read from `path`, a file of the given kind.
    pub fn from_bytes_as(path: &Path, bytes: Vec<u8>, kind: FileKind) -> Result<SourceFile, ReadError> {
        if bytes.len() as u64 > kind.limit() {
            return Err(ReadError::TooLarge {
                path: path.to_owned(),
                kind,
                size: bytes.len() as u64,
                limit: kind.limit(),
            });
        }
        match String::from_utf8(bytes) {
            Ok(text) => Ok(SourceFile::new(path.display().to_string(), text)),
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let bytes = e.as_bytes();
                let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
                let starts = line_starts(prefix);
                let line = starts.len();
                let column = prefix[starts[line - 1]..].chars().count() + 1;
                Err(ReadError::NotUtf8 { path: path.to_owned(), kind, line, column, byte: bytes[valid] })
            }
        }
    }

    /// Byte offset of a 1-based line and 0-based character column, clamped to the line
    /// (a line past the end gives the length of the text).
    pub fn byte_offset(&self, line: usize, col: usize) -> usize {
        let range = self.line_range(line);
        let line_text = &self.text[range.clone()];
        range.start + line_text.char_indices().nth(col).map_or(line_text.len(), |(i, _)| i)
    }

    /// The byte range of a 1-based line, without its line break (empty past the end).
    pub fn line_range(&self, line: usize) -> std::ops::Range<usize> {
        let index = line.saturating_sub(1);
        let Some(&start) = self.line_starts.get(index) else {
            return self.text.len()..self.text.len();
        };
        let next = self.line_starts.get(index + 1).copied().unwrap_or(self.text.len());
        let content = &self.text[start..next];
        let content = content.strip_suffix('\n').unwrap_or(content);
        let content = content.strip_suffix('\r').unwrap_or(content);
        start..start + content.len()
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        &self.text[self.line_range(line)]
    }

    /// Number of lines.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

/// Byte offsets where lines start. A line ends at `\n`, `\r\n` or a lone `\r`: YAML
/// counts all three as line breaks, and so do the parser's positions.
fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut starts = vec![0];
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            starts.push(i + 1);
        }
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_characters() {
        let s = SourceFile::new("x", "a: é\nbé: c\n");
        assert_eq!(s.byte_offset(2, 0), 6);
        assert_eq!(&s.text[s.byte_offset(2, 4)..], "c\n");
        assert_eq!(s.line_text(2), "bé: c");
        assert_eq!(s.byte_offset(99, 0), s.text.len());
    }

    #[test]
    fn every_yaml_line_break_counts() {
        let s = SourceFile::new("x", "a: 1\r\nb: 2\rc: 3\n\nd");
        assert_eq!(s.line_count(), 5);
        let lines: Vec<&str> = (1..=5).map(|l| s.line_text(l)).collect();
        assert_eq!(lines, ["a: 1", "b: 2", "c: 3", "", "d"]);
        assert_eq!(&s.text[s.byte_offset(3, 3)..], "3\n\nd");
        assert_eq!(s.byte_offset(2, 99), s.line_range(2).end);
        let err = SourceFile::from_bytes(Path::new("s.yaml"), b"a: 1\rb: \xff".to_vec()).unwrap_err();
        assert_eq!(err.to_string(), "s.yaml:2:4: settings file is not UTF-8 text (invalid byte 0xff)");
    }

    #[test]
    fn non_utf8_points_at_the_byte() {
        let err = SourceFile::from_bytes(Path::new("s.yaml"), b"a: 1\nb: \xff\n".to_vec()).unwrap_err();
        assert_eq!(err.to_string(), "s.yaml:2:4: settings file is not UTF-8 text (invalid byte 0xff)");
    }
}
