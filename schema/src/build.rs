//! Building Rust from a settings file: the one step behind `settings!` and `notifier
//! codegen`, with the diagnostics both show.
//!
//! A compiled-in table is all or nothing: any error (in the file, or a plugin module with
//! no Rust mapping) gives no items. Warnings that depend on where the program will run
//! (an environment variable unset on the build machine, a plugin module the build maps
//! itself) are not shown: [`shown_when_building`] is the one filter.

use proc_macro2::TokenStream;

use crate::code::Code;
use crate::codegen::{CodegenOptions, generate};
use crate::compile::Compiled;
use crate::diagnostic::{self, Diagnostic, Severity};
use crate::located::PositionIndex;
use crate::report::Report;
use crate::yaml::{Pos, Span};

/// What a build front door gets from a compiled settings file.
#[derive(Debug, Clone)]
pub struct Build {
    /// The items of the generated module, when there is no error.
    pub items: Option<TokenStream>,
    /// Every error (the file's, then plugin modules with no Rust mapping), by position.
    pub errors: Vec<Diagnostic>,
    /// The warnings worth showing at build time, by position.
    pub warnings: Vec<Diagnostic>,
}

/// Whether `settings!` and `notifier codegen` show a diagnostic: every error, and every
/// warning except those that depend on where the program runs
/// ([`Code::depends_on_where_it_runs`]).
pub fn shown_when_building(d: &Diagnostic) -> bool {
    d.is_error() || !d.code.depends_on_where_it_runs()
}

/// Generates the dispatch table of a compiled file with `opts` (the file is named in the
/// generated code and in diagnostics as `compiled.source.name`).
pub fn build(compiled: &Compiled, opts: &CodegenOptions) -> Build {
    let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) =
        compiled.diagnostics.iter().filter(|d| shown_when_building(d)).cloned().partition(Diagnostic::is_error);
    let table = match &compiled.table {
        Some(table) if errors.is_empty() => table,
        _ => return Build { items: None, errors, warnings },
    };
    match generate(table, opts) {
        Ok(items) => Build { items: Some(items), errors, warnings },
        Err(unresolved) => {
            let index = PositionIndex::default();
            let mut report = Report::new(&compiled.source, &index);
            for u in &unresolved {
                // At the channel, like the run-time loader's message; underlined to the
                // end of its line.
                let start = Pos { line: u.line as usize, col: (u.column as usize).saturating_sub(1) };
                let span = Span { start, end: Pos::default() };
                let pointer = format!("/notifications/{}", u.number - 1);
                report.push_span(Severity::Error, Code::UnmappedPlugin, &pointer, span, u.message()).help(u.help());
            }
            let mut errors = report.into_diagnostics();
            diagnostic::sort(&mut errors);
            Build { items: None, errors, warnings }
        }
    }
}
