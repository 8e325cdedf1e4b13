//! `notifier codegen`: the Rust the `settings!` macro generates, formatted, and on stderr
//! the diagnostics the macro would show (the same build step, the same filter).

use std::io::Write;

use notifier::schema::build::build;
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
    let built = build(&compiled, &CodegenOptions { plugins, ..CodegenOptions::default() });
    let mut stderr = std::io::stderr().lock();
    render_human(&mut stderr, &compiled, &built.errors, styled)?;
    render_human(&mut stderr, &compiled, &built.warnings, styled)?;
    let Some(items) = built.items else { return Ok(1) };
    match codegen::render_module(&items, &compiled.source.name, &args.module) {
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
