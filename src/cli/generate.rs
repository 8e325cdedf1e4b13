//! `notifier completions` and `notifier man`: shell completion scripts and manual pages,
//! both generated from the clap definitions in this module's parent, so that the help,
//! the completions and the man pages can never disagree.

use std::io::{self, Write};
use std::path::Path;

use clap::CommandFactory;

use super::{Cli, CompletionsArgs, ManArgs, SchemaArgs};

/// The name the completion scripts complete (the binary's name).
const BIN: &str = "notifier";

/// The whole command tree, built (so subcommands know their display names, such as
/// `notifier-check`), without the `help` subcommand, which has no page of its own.
fn command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// `notifier completions SHELL`: the completion script on `out`.
pub fn completions(args: &CompletionsArgs, out: &mut dyn Write) -> io::Result<u8> {
    // Into a buffer first: clap_complete panics when its writer fails (`| head`).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), BIN, &mut script);
    out.write_all(&script)?;
    Ok(0)
}

/// `notifier man`: one page (roff) on `out`, or every page written to `--dir`.
/// Exit status 2 for an unknown subcommand.
pub fn man(args: &ManArgs, out: &mut dyn Write) -> io::Result<u8> {
    let cmd = command();
    if let Some(dir) = &args.dir {
        std::fs::create_dir_all(dir).map_err(|e| with_path(e, dir))?;
        clap_mangen::generate_to(cmd, dir).map_err(|e| with_path(e, dir))?;
        return Ok(0);
    }
    let page = match args.subcommand.as_deref() {
        None => cmd,
        Some(name) => match cmd.find_subcommand(name) {
            Some(sub) => sub.clone(),
            None => {
                let names: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).collect();
                let hint = match notifier_schema::suggest::did_you_mean(name, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("the subcommands are: {}", names.join(", ")),
                };
                eprintln!("error: no subcommand `{name}`; {hint}");
                return Ok(2);
            }
        },
    };
    clap_mangen::Man::new(page).render(out)?;
    Ok(0)
}

/// `notifier schema`: the settings JSON Schema on `out`, or written to `--output`.
pub fn schema(args: &SchemaArgs, out: &mut dyn Write) -> io::Result<u8> {
    let text = notifier_schema::settings_schema_text();
    match &args.output {
        None => out.write_all(text.as_bytes())?,
        Some(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| with_path(e, parent))?;
            }
            std::fs::write(path, text).map_err(|e| with_path(e, path))?;
        }
    }
    Ok(0)
}

/// `e`, naming the file or directory it is about.
fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}
