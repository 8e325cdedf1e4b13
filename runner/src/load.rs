//! Step 1: load an experiment file into a JSON value, keeping the key order.
//!
//! The format is chosen by extension like chaostoolkit-lib: `.json` is JSON, `.yaml`
//! and `.yml` are YAML, anything else is refused with the reference's
//! `only files with json, yaml or yml extensions are supported`. The file is read by the
//! settings compiler's bounded reader (16 MiB for an experiment) and YAML by its loader,
//! which resolves scalars as PyYAML (YAML 1.1) does, like `chaos run`: `yes`/`no`/`on`/
//! `off` are booleans, `017` is octal, and errors carry the file's line and column.

use std::path::Path;

use notifier_schema::{FileKind, SourceFile};
use serde_json::Value;

use crate::error::{LoadError, UnsupportedFormat};

/// The largest experiment file accepted (16 MiB): bigger is almost certainly a mistake.
pub const MAX_EXPERIMENT_BYTES: u64 = FileKind::Experiment.limit();

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
    if let Err(e) = std::fs::metadata(path)
        && e.kind() == std::io::ErrorKind::NotFound
    {
        return Err(LoadError::NotFound { path: path.to_path_buf() });
    }
    let format =
        Format::of(path).map_err(|source| LoadError::UnsupportedExtension { path: path.to_path_buf(), source })?;
    let source = SourceFile::read_as(path, FileKind::Experiment)?;
    parse_experiment(path, &source.text, format)
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
        Format::Yaml => match notifier_schema::yaml::parse(text) {
            // An empty (or comment-only) document is `null`, like PyYAML's safe_load.
            Ok(None) => Ok(Value::Null),
            Ok(Some(root)) => Ok(notifier_schema::located::to_json(Some(&root)).value),
            Err(e) => Err(LoadError::Yaml {
                path: path.to_path_buf(),
                line: Some(e.pos.line.max(1)),
                column: Some(e.pos.col + 1),
                message: match &e.help {
                    Some(help) => format!("{} ({help})", e.message),
                    None => e.message.clone(),
                },
            }),
        },
    }
}

/// serde_json appends ` at line L column C`; the error carries them separately.
fn strip_json_location(message: &str) -> String {
    match message.rfind(" at line ") {
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
    fn yaml_scalars_are_read_as_pyyaml_reads_them() {
        let text = "flag: yes\noff_: off\noctal: 017\nfloat: 1e-05\nexp: 1.0e-5\nquoted: 'yes'\nnull_: ~\n";
        let v = parse_experiment(Path::new("x.yaml"), text, Format::Yaml).unwrap_or_default();
        // PyYAML 6: `1e-05` (no dot) is a string, `1.0e-5` a float.
        assert_eq!(
            v.to_string(),
            r#"{"flag":true,"off_":false,"octal":15,"float":"1e-05","exp":0.00001,"quoted":"yes","null_":null}"#
        );
        assert_eq!(v["exp"].as_f64(), Some(1e-5));
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
