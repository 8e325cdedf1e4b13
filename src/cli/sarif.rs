//! `notifier check --format sarif`: SARIF 2.1.0, the format code-scanning services read
//! (GitHub code scanning, GitLab, Azure DevOps, SonarQube, IDE viewers).
//!
//! One run per invocation. The tool's rules are every [`Code`], in [`Code::ALL`]'s order,
//! each with its documentation as help text; a result per diagnostic, located by line and
//! column (`columnKind: unicodeCodePoints`, as `check` counts columns) from the start to
//! the end of the offending node on its first line; a fix where `check` is sure of the
//! replacement ([`Diagnostic::fix`]). Files that cannot be read are tool execution
//! notifications, not results: there is nothing in them to point at. No source text is
//! copied into the log (no snippets), so a plain-text credential never reaches it.
//!
//! The model below is the subset of SARIF this command writes, serialised with serde;
//! `tests/sarif.rs` validates the output against the SARIF 2.1.0 JSON Schema.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use notifier_schema::{Code, Compiled, Diagnostic, RunTime, Severity};
use serde::Serialize;

/// The SARIF 2.1.0 schema, as published by OASIS.
const SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The base that relative file names are resolved against (the directory `check` ran in).
const SRCROOT: &str = "%SRCROOT%";

/// Collects the results of one `check` invocation.
#[derive(Default)]
pub struct SarifLog {
    results: Vec<SarifResult>,
    notifications: Vec<Notification>,
}

impl SarifLog {
    /// Adds a result per diagnostic of a compiled file.
    pub fn add_file(&mut self, compiled: &Compiled) {
        for d in &compiled.diagnostics {
            self.results.push(result(compiled, d));
        }
    }

    /// Records a file that could not be read (as a tool execution notification).
    pub fn add_unreadable(&mut self, d: &Diagnostic) {
        self.notifications.push(Notification {
            descriptor: Descriptor { id: d.code.as_str() },
            level: level(d.severity),
            message: Message { text: d.message.clone() },
            locations: vec![Location {
                physical_location: PhysicalLocation { artifact_location: artifact(&d.file), region: None },
            }],
        });
    }

    /// Writes the log (pretty-printed JSON and a line break); `exit_code` is the exit
    /// status `check` ends with.
    pub fn write(self, out: &mut dyn Write, exit_code: u8) -> io::Result<()> {
        let cwd = std::env::current_dir().ok();
        let log = Log {
            schema: SCHEMA,
            version: "2.1.0",
            runs: [Run {
                tool: Tool {
                    driver: Driver {
                        name: "notifier",
                        full_name: format!("notifier check {}", super::VERSION.as_str()),
                        version: env!("CARGO_PKG_VERSION"),
                        semantic_version: env!("CARGO_PKG_VERSION"),
                        information_uri: env!("CARGO_PKG_REPOSITORY"),
                        rules: Code::ALL.iter().map(|&code| rule(code)).collect(),
                    },
                },
                original_uri_base_ids: cwd
                    .as_deref()
                    .and_then(directory_uri)
                    .map(|uri| BTreeMap::from([(SRCROOT, BaseUri { uri })]))
                    .unwrap_or_default(),
                column_kind: "unicodeCodePoints",
                invocations: [Invocation {
                    execution_successful: self.notifications.is_empty(),
                    exit_code,
                    tool_execution_notifications: self.notifications,
                }],
                results: self.results,
            }],
        };
        serde_json::to_writer_pretty(&mut *out, &log)?;
        writeln!(out)
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// Rules whose findings put credentials or traffic at risk (GitHub lists them as
/// security alerts).
fn is_security(code: Code) -> bool {
    matches!(code, Code::PlainTextSecret | Code::TlsVerificationOff | Code::CredentialsOverHttp | Code::HeaderInjection)
}

fn rule(code: Code) -> Rule {
    let description = code.description();
    Rule {
        id: code.as_str(),
        name: format!("{code:?}"),
        short_description: Message { text: code.summary() },
        help: MultiformatMessage {
            markdown: format!(
                "{description}\n\nEach result's message says how to fix that occurrence; \
                 `notifier check FILE` shows it under the source line."
            ),
            text: description.clone(),
        },
        full_description: Message { text: description },
        properties: RuleProperties { tags: vec![if is_security(code) { "security" } else { "correctness" }] },
    }
}

fn result(compiled: &Compiled, d: &Diagnostic) -> SarifResult {
    let region = region(compiled, d);
    let artifact_location = artifact(&d.file);
    let fixes = match (&d.fix, &region) {
        (Some(fix), Some(region)) => vec![Fix {
            description: Message {
                text: match compiled.source.text.get(d.span.clone()) {
                    Some(old) => format!("replace `{old}` with `{fix}`"),
                    None => format!("replace with `{fix}`"),
                },
            },
            artifact_changes: vec![ArtifactChange {
                artifact_location: artifact_location.clone(),
                replacements: vec![Replacement {
                    deleted_region: region.clone(),
                    inserted_content: ArtifactContent { text: fix.clone() },
                }],
            }],
        }],
        _ => vec![],
    };
    let mut text = d.message.clone();
    if let Some(help) = &d.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    SarifResult {
        rule_id: d.code.as_str(),
        rule_index: Code::ALL.iter().position(|&c| c == d.code).unwrap_or_default(),
        level: level(d.severity),
        message: Message { text },
        locations: vec![Location { physical_location: PhysicalLocation { artifact_location, region } }],
        fixes,
        properties: ResultProperties { pointer: d.pointer.clone(), run_time: d.run_time },
    }
}

/// From the diagnostic's position to the end of its span (which `check` keeps on one
/// line), in characters; at least one character when the line has one there.
fn region(compiled: &Compiled, d: &Diagnostic) -> Option<Region> {
    if d.line == 0 {
        return None;
    }
    let text = &compiled.source.text;
    let width = text.get(d.span.clone()).map_or(0, |s| s.chars().count());
    let line_chars = compiled.source.line_text(d.line).chars().count();
    let width = if width == 0 { usize::from(d.column <= line_chars) } else { width };
    Some(Region { start_line: d.line, start_column: d.column, end_line: d.line, end_column: d.column + width })
}

/// A file as `check` was given it: relative to the `%SRCROOT%` base (the working
/// directory), or an absolute `file:` URI.
fn artifact(file: &str) -> ArtifactLocation {
    let path = Path::new(file);
    if path.is_absolute() {
        return ArtifactLocation { uri: file_uri(path), uri_base_id: None };
    }
    let relative = file.trim_start_matches("./").replace('\\', "/");
    ArtifactLocation { uri: percent_encode(&relative), uri_base_id: Some(SRCROOT) }
}

/// `file:///…/` for a directory (with the trailing slash SARIF requires of a base).
fn directory_uri(dir: &Path) -> Option<String> {
    let mut uri = file_uri(dir);
    if !uri.ends_with('/') {
        uri.push('/');
    }
    Some(uri)
}

fn file_uri(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let text = if text.starts_with('/') { text } else { format!("/{text}") };
    format!("file://{}", percent_encode(&text))
}

/// Percent-encodes everything but unreserved characters and `/` (RFC 3986).
fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    original_uri_base_ids: BTreeMap<&'static str, BaseUri>,
    column_kind: &'static str,
    invocations: [Invocation; 1],
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct BaseUri {
    uri: String,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    full_name: String,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: String,
    short_description: Message,
    full_description: Message,
    help: MultiformatMessage,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<&'static str>,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
struct MultiformatMessage {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    exit_code: u8,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    descriptor: Descriptor,
    level: &'static str,
    message: Message,
    locations: Vec<Location>,
}

#[derive(Serialize)]
struct Descriptor {
    id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Message,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<Fix>,
    properties: ResultProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties {
    /// JSON pointer of the offending value, as in `--format json`.
    pointer: String,
    /// What the problem does at run time, as in `--format json`.
    run_time: RunTime,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Fix {
    description: Message,
    artifact_changes: Vec<ArtifactChange>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement {
    deleted_region: Region,
    inserted_content: ArtifactContent,
}

#[derive(Serialize)]
struct ArtifactContent {
    text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(percent_encode("ci/my settings#1.yaml"), "ci/my%20settings%231.yaml");
        assert_eq!(percent_encode("é"), "%C3%A9");
        let a = artifact("./ci/settings.yaml");
        assert_eq!((a.uri.as_str(), a.uri_base_id), ("ci/settings.yaml", Some(SRCROOT)));
        let a = artifact("/home/me/.chaostoolkit/settings.yaml");
        assert_eq!((a.uri.as_str(), a.uri_base_id), ("file:///home/me/.chaostoolkit/settings.yaml", None));
        assert_eq!(directory_uri(Path::new("/work/repo")).as_deref(), Some("file:///work/repo/"));
    }
}
