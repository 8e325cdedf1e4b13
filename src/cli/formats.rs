//! `notifier formats`: the built-in body formats, their options, and their templates
//! (`notifier formats show NAME` prints one, to copy into a channel's `template:`).

use std::io::{self, Write};
use std::sync::Arc;

use notifier_core::body::{Body, FORMATS, Format, OptionKind, formats, samples};
use serde_json::{Map, Value};

use super::{FormatsArgs, FormatsCommand};

/// Runs `notifier formats`; returns the exit code (0, or 2 for an unknown format).
pub fn run(args: &FormatsArgs) -> io::Result<u8> {
    let mut out = io::stdout().lock();
    match &args.command {
        None => list(&mut out),
        Some(FormatsCommand::Show { name, render }) => {
            let Some(format) = formats::find(name) else {
                let names: Vec<&str> = formats::names().collect();
                let hint = match notifier::schema::suggest::did_you_mean(name, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("the built-in formats are: {}", names.join(", ")),
                };
                eprintln!("error: unknown body format `{name}`; {hint}");
                return Ok(2);
            };
            match render {
                None => out.write_all(format.template_text().as_bytes())?,
                Some(event) => return show_rendered(&mut out, format, *event),
            }
            Ok(0)
        }
    }
}

fn list(out: &mut impl Write) -> io::Result<u8> {
    writeln!(out, "Built-in body formats (`format: NAME` on an http channel; options under `options:`):\n")?;
    for f in FORMATS {
        writeln!(out, "{:<13} {}", f.name, f.summary)?;
        writeln!(out, "{:<13} Content-Type: {}", "", f.content_type)?;
        for o in f.options {
            let default = match (o.required, o.default) {
                (true, _) => " (required)".to_owned(),
                (false, Some(d)) => format!(" (default {d})"),
                (false, None) => String::new(),
            };
            let values = match &o.kind {
                OptionKind::Choice { keys, values } => format!("; {{{}}} → {}", keys.join(", "), values.join("|")),
                _ => String::new(),
            };
            writeln!(out, "{:<13} options.{}{default}: {}{values}", "", o.name, o.doc)?;
        }
    }
    writeln!(out, "\n`notifier formats show NAME` prints a format's template, to copy into `template:` and change;")?;
    writeln!(out, "`notifier formats show NAME --render EVENT` renders it for a sample event.")?;
    Ok(0)
}

/// The format rendered for a sample of `event`, required options filled with
/// placeholders.
fn show_rendered(out: &mut impl Write, format: &'static Format, event: notifier::Event) -> io::Result<u8> {
    let mut options = Map::new();
    for o in format.options.iter().filter(|o| o.required) {
        options.insert(o.name.to_owned(), Value::String(format!("<{}>", o.name)));
    }
    let body = match Body::format(format.name, options) {
        Ok(body) => body,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(2);
        }
    };
    match body.render(&Arc::new(samples::envelope(event))) {
        Ok(Some(bytes)) => {
            out.write_all(&bytes)?;
            if !bytes.ends_with(b"\n") {
                writeln!(out)?;
            }
            Ok(0)
        }
        Ok(None) => {
            eprintln!("format `{}` sends nothing for `{event}`", format.name);
            Ok(0)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(1)
        }
    }
}
