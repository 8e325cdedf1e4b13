//! Step 1: load an experiment file into a JSON value, keeping the key order.
//!
//! The format is chosen by extension like chaostoolkit-lib: `.json` is JSON, `.yaml`
//! and `.yml` are YAML, anything else is refused with the reference's
//! `only files with json, yaml or yml extensions are supported`. YAML goes through
//! `serde_norway` (a maintained fork of serde_yaml), which implements the YAML 1.2 core
//! schema: unlike PyYAML (YAML 1.1), `yes`/`no`/`on`/`off` stay strings.

use std::io::Read;
use std::path::Path;

use serde_json::Value;

use crate::error::{LoadError, UnsupportedFormat};

/// The largest experiment file accepted (16 MiB): bigger is almost certainly a mistake.
pub const MAX_EXPERIMENT_BYTES: u64 = 16 * 1024 * 1024;

/// The two experiment formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.json`.
    Json,
    /// `.yaml` or `.yml`.
    Yaml,
}

impl Format {
    /// The format of a path, by extension (case-sensitive, like the reference).
    pub fn of(path: &Path) -> Result<Format, UnsupportedFormat> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Ok(Format::Json),
            Some("yaml" | "yml") => Ok(Format::Yaml),
            _ => Err(UnsupportedFormat),
        }
    }
}

/// Loads the experiment at `path`, exactly as written (no substitution, no defaults).
///
/// A missing file gives the reference's `Path "…" does not exist.`; the extension is
/// checked after existence, as the reference does. Parse errors carry the file and,
/// where the parser knows it, the line and column.
pub fn load_experiment(path: &Path) -> Result<Value, LoadError> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(LoadError::NotFound { path: path.to_path_buf() });
        }
        Err(source) => {
            return Err(LoadError::Read { path: path.to_path_buf(), source });
        }
    };
    let format =
        Format::of(path).map_err(|source| LoadError::UnsupportedExtension { path: path.to_path_buf(), source })?;
    if meta.len() > MAX_EXPERIMENT_BYTES {
        return Err(LoadError::TooLarge { path: path.to_path_buf(), size: meta.len(), limit: MAX_EXPERIMENT_BYTES });
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_EXPERIMENT_BYTES + 1).read_to_end(&mut bytes).map(|_| ()))
        .map_err(|source| LoadError::Read { path: path.to_path_buf(), source })?;
    if bytes.len() as u64 > MAX_EXPERIMENT_BYTES {
        return Err(LoadError::TooLarge {
            path: path.to_path_buf(),
            size: bytes.len() as u64,
            limit: MAX_EXPERIMENT_BYTES,
        });
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| LoadError::NotUtf8 { path: path.to_path_buf(), offset: e.utf8_error().valid_up_to() })?;
    parse_experiment(path, &text, format)
}

/// Parses experiment text in the given format; `path` only labels errors.
pub fn parse_experiment(path: &Path, text: &str, format: Format) -> Result<Value, LoadError> {
    match format {
        Format::Json => serde_json::from_str(text).map_err(|e| LoadError::Json {
            path: path.to_path_buf(),
            line: e.line(),
            // serde_json says column 0 for an error right after a newline (e.g. at the end).
            column: e.column().max(1),
            message: strip_json_location(&e.to_string()),
        }),
        Format::Yaml => {
            // An empty (or comment-only) document is `null`, like PyYAML's safe_load.
            if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
                return Ok(Value::Null);
            }
            let value: Value = serde_norway::from_str(text).map_err(|e| {
                let location = e.location();
                LoadError::Yaml {
                    path: path.to_path_buf(),
                    line: location.as_ref().map(|l| l.line()),
                    column: location.as_ref().map(|l| l.column()),
                    message: strip_yaml_location(&e.to_string()),
                }
            })?;
            Ok(value)
        }
    }
}

/// serde_json appends ` at line L column C`; the error carries them separately.
fn strip_json_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// serde_norway appends ` at line L column C` (or prefixes the path); keep the reason.
fn strip_yaml_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_key_order_and_reports_line_and_column() {
        let v = parse_experiment(Path::new("x.json"), r#"{"z": 1, "a": 2}"#, Format::Json).unwrap_or_default();
        let keys: Vec<_> = v.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
        assert_eq!(keys, ["z", "a"]);
        let err = parse_experiment(Path::new("x.json"), "{\n  \"a\": ,\n}", Format::Json).err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("x.json:2:8: invalid JSON experiment: expected value"));
    }

    #[test]
    fn yaml_keeps_key_order_and_reports_line_and_column() {
        let v = parse_experiment(Path::new("x.yaml"), "z: 1\na: [1, two]\n", Format::Yaml).unwrap_or_default();
        assert_eq!(v.to_string(), r#"{"z":1,"a":[1,"two"]}"#);
        let err = parse_experiment(Path::new("x.yaml"), "a: 1\n b: [\n", Format::Yaml).err().and_then(|e| e.location());
        assert!(matches!(err, Some((2, _))), "{err:?}");
        assert_eq!(parse_experiment(Path::new("x.yml"), "# nothing\n", Format::Yaml).ok(), Some(Value::Null));
    }

    #[test]
    fn extension_decides_the_format() {
        assert_eq!(Format::of(Path::new("a.json")), Ok(Format::Json));
        assert_eq!(Format::of(Path::new("a.yml")), Ok(Format::Yaml));
        assert_eq!(
            Format::of(Path::new("a.txt")).map_err(|e| e.to_string()),
            Err("only files with json, yaml or yml extensions are supported".to_string())
        );
    }
}
