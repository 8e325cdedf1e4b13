//! `notifier codegen`: the Rust the `settings!` macro generates, formatted.

use std::io::Write;

use notifier::schema::codegen::{self, CodegenOptions};
use notifier::schema::compile_file;

use super::CodegenArgs;
use super::check::render_human;

/// Runs `notifier codegen`; returns the exit code (0, 1 invalid settings, 2 unreadable).
pub fn run(args: &CodegenArgs, styled: bool) -> std::io::Result<u8> {
    let compiled = match compile_file(&args.settings) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(2);
        }
    };
    if compiled.has_errors() {
        render_human(&mut std::io::stderr(), &compiled, styled)?;
        return Ok(1);
    }
    let Some(mut table) = compiled.table else { return Ok(1) };
    table.file = args.settings.display().to_string();
    let mut plugins = Vec::new();
    for mapping in &args.plugins {
        match codegen::parse_plugin_mapping(mapping) {
            Ok(m) => plugins.push(m),
            Err(e) => {
                eprintln!("error: --plugin {e}");
                return Ok(2);
            }
        }
    }
    let opts = CodegenOptions { plugins, ..CodegenOptions::default() };
    match codegen::render_module(&table, &opts, &args.module) {
        Ok(code) => {
            let mut out = std::io::stdout().lock();
            out.write_all(code.as_bytes())?;
            Ok(0)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(1)
        }
    }
}
