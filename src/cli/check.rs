//! `notifier check`: validate settings files, print every problem, exit 0/1/2.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use notifier_schema::{Compiled, Diagnostic, ReadError, Severity, compile_file};

use super::{CheckArgs, Color, Format};

/// Exit code when every file is valid (warnings allowed).
pub const EXIT_OK: u8 = 0;
/// Exit code when a file has errors (or warnings with `--deny-warnings`).
pub const EXIT_INVALID: u8 = 1;
/// Exit code when a file could not be read as text, or is not YAML at all.
pub const EXIT_UNREADABLE: u8 = 2;

/// Runs `notifier check`.
pub fn run(args: &CheckArgs, default_settings: PathBuf, color: Color) -> io::Result<u8> {
    let files = if args.files.is_empty() { vec![default_settings] } else { args.files.clone() };
    // Buffered: stdout is line-buffered, and a run over many files writes many lines.
    let mut out = io::BufWriter::new(io::stdout().lock());
    let styled = color.enabled_for_stdout();
    let mut all = Vec::new();
    let mut exit = EXIT_OK;
    let mut summary = Summary::default();
    let mut sarif = super::sarif::SarifLog::default();
    for_each_compiled(&files, |path, result| {
        match result {
            Ok(compiled) => {
                let (errors, warnings) = compiled.counts();
                summary.errors += errors;
                summary.warnings += warnings;
                summary.files += 1;
                if compiled.is_unparsable() {
                    // Not YAML at all (syntax error, alias bomb, …): like an unreadable file.
                    exit = EXIT_UNREADABLE;
                } else if errors > 0 || (args.deny_warnings && warnings > 0) {
                    exit = exit.max(EXIT_INVALID);
                }
                match args.format {
                    Format::Human => {
                        render_human(&mut out, &compiled, &compiled.diagnostics, styled)?;
                        if let Some(note) = compiled.run_time_note() {
                            writeln!(out, "note: {}: {note}\n", compiled.source.name)?;
                        }
                    }
                    Format::Github => render_github(&mut out, &compiled.diagnostics)?,
                    Format::Sarif => sarif.add_file(&compiled),
                    Format::Json => {}
                }
                if args.format == Format::Json {
                    all.extend(compiled.diagnostics);
                }
            }
            Err(e) => {
                exit = EXIT_UNREADABLE;
                summary.unreadable += 1;
                // Keep stdout and stderr in file order when both go to a terminal.
                out.flush()?;
                eprintln!("error: {e}");
                let d = Diagnostic::unreadable(&path.display().to_string(), &e);
                if args.format == Format::Github {
                    render_github(&mut out, std::slice::from_ref(&d))?;
                }
                if args.format == Format::Sarif {
                    sarif.add_unreadable(&d);
                }
                all.push(d);
            }
        }
        Ok(())
    })?;
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &all)?;
            writeln!(out)?;
        }
        Format::Sarif => sarif.write(&mut out, exit)?,
        Format::Human if !args.quiet => summary.print(&mut out, args.deny_warnings)?,
        _ => {}
    }
    out.flush()?;
    Ok(exit)
}

/// Files compiled per round of [`for_each_compiled`]: bounds the memory held by results
/// that wait for their turn to be printed.
const BATCH: usize = 256;

/// Reads and compiles `files` on every CPU and hands each result to `report` in file
/// order (so the output does not depend on scheduling).
fn for_each_compiled(
    files: &[PathBuf],
    mut report: impl FnMut(&Path, Result<Compiled, ReadError>) -> io::Result<()>,
) -> io::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len());
    if threads <= 1 {
        return files.iter().try_for_each(|path| report(path, compile_file(path)));
    }
    for batch in files.chunks(BATCH) {
        let next = AtomicUsize::new(0);
        let slots: Vec<OnceLock<Result<Compiled, ReadError>>> = batch.iter().map(|_| OnceLock::new()).collect();
        let work = || {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = batch.get(i) else { break };
                let _ = slots[i].set(compile_file(path));
            }
        };
        std::thread::scope(|scope| {
            for _ in 1..threads.min(batch.len()) {
                scope.spawn(work);
            }
            work();
        });
        for (path, slot) in batch.iter().zip(slots) {
            let result = slot.into_inner().expect("every file of the batch was compiled");
            report(path, result)?;
        }
    }
    Ok(())
}

#[derive(Default)]
struct Summary {
    files: usize,
    unreadable: usize,
    errors: usize,
    warnings: usize,
}

impl Summary {
    fn print(&self, out: &mut dyn Write, deny_warnings: bool) -> io::Result<()> {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let mut parts = vec![plural(self.files, "file") + " checked"];
        if self.unreadable > 0 {
            parts.push(plural(self.unreadable, "unreadable file"));
        }
        parts.push(plural(self.errors, "error"));
        parts.push(plural(self.warnings, "warning"));
        let verdict =
            if self.errors + self.unreadable > 0 || (deny_warnings && self.warnings > 0) { "FAILED" } else { "ok" };
        writeln!(out, "{verdict}: {}", parts.join(", "))
    }
}

/// rustc-style output of `diagnostics` (of the `compiled` file): `error: message`,
/// ` --> file:line:col`, the source line, a caret under the offending node, and the help.
pub fn render_human(
    out: &mut dyn Write,
    compiled: &Compiled,
    diagnostics: &[Diagnostic],
    styled: bool,
) -> io::Result<()> {
    let renderer = if styled { Renderer::styled() } else { Renderer::plain() };
    // The credentials' texts too: the same value elsewhere (a YAML anchor, the first of
    // two duplicate keys) is masked as well.
    let secrets: Vec<&str> = compiled
        .secret_spans
        .iter()
        .filter_map(|r| compiled.source.text.get(r.clone()))
        .filter(|t| t.len() >= 4)
        .collect();
    for d in diagnostics {
        let level = match d.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        // Only the offending line goes to the renderer: files can be megabytes long.
        let line_text = compiled.source.line_text(d.line);
        let line_start = compiled.source.byte_offset(d.line, 0);
        let start = d.span.start.saturating_sub(line_start).min(line_text.len());
        let end = d.span.end.saturating_sub(line_start).clamp(start, line_text.len());
        let end = if end == start { (start + 1).min(line_text.len()).max(start) } else { end };
        // Plain-text credentials on the line are shown as `*`s (CI logs are often
        // more widely readable than the repository).
        let (line_text, offsets) = mask_line(line_text, line_start, &compiled.secret_spans, &secrets);
        let (start, end) = (offsets[start], offsets[end]);
        let line_text = line_text.as_str();
        let label = match d.pointer.as_str() {
            "" => String::new(),
            p => p.to_owned(),
        };
        let mut groups = vec![
            level.primary_title(d.message.as_str()).id(d.code.as_str()).element(
                Snippet::source(line_text)
                    .line_start(d.line)
                    .path(d.file.as_str())
                    .annotation(AnnotationKind::Primary.span(start..end).label(label)),
            ),
        ];
        if let Some(help) = &d.help {
            groups.push(Group::with_title(Level::HELP.secondary_title(help.as_str())));
        }
        writeln!(out, "{}\n", renderer.render(&groups))?;
    }
    Ok(())
}

/// `line` (at byte `line_start` of the text) with every character inside one of `spans`
/// or inside an occurrence of one of `texts` replaced by `*` (one per character, so
/// columns stay right), and, for each byte offset of `line` (and its end), the offset
/// in the masked line.
fn mask_line(line: &str, line_start: usize, spans: &[std::ops::Range<usize>], texts: &[&str]) -> (String, Vec<usize>) {
    let line_end = line_start + line.len();
    let mut on_line: Vec<std::ops::Range<usize>> =
        spans.iter().filter(|r| r.start < line_end && r.end > line_start).cloned().collect();
    for text in texts {
        on_line.extend(line.match_indices(text).map(|(i, t)| line_start + i..line_start + i + t.len()));
    }
    let mut out = String::with_capacity(line.len());
    let mut offsets = vec![0; line.len() + 1];
    for (i, c) in line.char_indices() {
        offsets[i..i + c.len_utf8()].fill(out.len());
        if on_line.iter().any(|r| r.contains(&(line_start + i))) {
            out.push('*');
        } else {
            out.push(c);
        }
    }
    offsets[line.len()] = out.len();
    (out, offsets)
}

/// GitHub Actions workflow commands, one per diagnostic.
pub fn render_github(out: &mut dyn Write, diags: &[Diagnostic]) -> io::Result<()> {
    for d in diags {
        let kind = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        writeln!(
            out,
            "::{kind} file={},line={},col={},title={}::{}",
            escape_property(&d.file),
            d.line.max(1),
            d.column.max(1),
            escape_property(&format!("notifier check ({})", d.code)),
            escape_data(&message)
        )?;
    }
    Ok(())
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_lines_keep_their_columns() {
        let line = "  token: \"s\u{e9}cr\u{e9}t\", x: 1";
        let start = 100;
        let (shown, offsets) = mask_line(line, start, &[start + 10..start + 18, 0..3], &[]);
        assert_eq!(shown, "  token: \"******\", x: 1");
        assert_eq!(offsets[10], 10);
        assert_eq!(offsets[18], 16);
        assert_eq!(offsets[line.len()], shown.len());
        assert_eq!(mask_line("abc", 0, &[], &[]).0, "abc");
        assert_eq!(mask_line("k: abcd, j: abcd", 0, &[], &["abcd"]).0, "k: ****, j: ****");
    }

    #[test]
    fn github_escaping() {
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        assert_eq!(escape_data("x: y\nz"), "x: y%0Az");
    }
}
