//! `notifier --version`, `notifier completions` and `notifier man`: what the clap
//! definitions generate, checked with the real consumers where this machine has them
//! (bash sources and runs the completion script, groff renders the man pages) and against
//! the `--help` text otherwise, so that help, completions and man pages cannot disagree.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The subcommands users type (`help` is clap's own).
const SUBCOMMANDS: &[&str] =
    &["check", "schema", "codegen", "formats", "send", "run", "validate", "outbox", "relay", "completions", "man"];

fn notifier(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_notifier"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run the notifier binary")
}

#[track_caller]
fn ok_stdout(args: &[&str]) -> String {
    let o = notifier(args);
    assert!(o.status.success(), "notifier {args:?}: {:?}\n{}", o.status, String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).expect("UTF-8 output")
}

/// The long options (`--name`) named in a text.
fn long_options(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("--") {
        let name: String =
            text[i + 2..].chars().take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-').collect();
        let before = text[..i].chars().next_back();
        if name.len() > 1 && !name.ends_with('-') && before.is_none_or(|c| !c.is_alphanumeric() && c != '-') {
            out.insert(name);
        }
    }
    out
}

/// The long options `notifier SUBCOMMAND --help` lists (its `Options:` lines).
fn help_options(subcommand: &str) -> BTreeSet<String> {
    let help = ok_stdout(&[subcommand, "--help"]);
    let options: String = help
        .lines()
        .filter(|l| l.trim_start().starts_with('-'))
        .map(|l| l.split("  ").find(|p| !p.trim().is_empty()).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let found = long_options(&options);
    assert!(found.contains("help") && found.contains("color"), "no options read from:\n{help}");
    found
}

#[test]
fn the_subcommands_here_are_those_of_the_help() {
    let help = ok_stdout(&["--help"]);
    let listed: Vec<&str> = help
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .collect();
    assert_eq!(listed, SUBCOMMANDS, "update SUBCOMMANDS so every page and script is checked");
}

#[test]
fn version_names_the_chaostoolkit_lib_release_of_the_recordings() {
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(ROOT).join("conformance/golden/_meta.json")).expect("read _meta.json"),
    )
    .expect("_meta.json is JSON");
    let recorded = meta["chaostoolkit-lib"].as_str().expect("the recordings name their chaostoolkit-lib");
    let version = format!("{} (wire: chaostoolkit-lib {recorded})\n", env!("CARGO_PKG_VERSION"));
    assert_eq!(ok_stdout(&["--version"]), format!("notifier {version}"));
    assert_eq!(ok_stdout(&["check", "--version"]), format!("notifier-check {version}"));
}

/// Runs `script` in a real bash with the completion script loaded; stdout.
fn bash(script: &str) -> String {
    let completion = ok_stdout(&["completions", "bash"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("notifier.bash");
    std::fs::write(&file, completion).expect("write the completion script");
    let o = Command::new("bash")
        .arg("--norc")
        .arg("-c")
        .arg(format!("set -e\nsource '{}'\n{script}", file.display()))
        .stdin(Stdio::null())
        .output()
        .expect("bash is needed for this test (it is on every machine of this project)");
    assert!(o.status.success(), "bash failed: {}\n{}", String::from_utf8_lossy(&o.stderr), script);
    String::from_utf8(o.stdout).expect("UTF-8 output")
}

/// What bash completes for the command line `line` (the cursor at its end).
fn complete_bash(line: &str) -> BTreeSet<String> {
    let script = format!(
        "COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; read -ra COMP_WORDS <<< \"$COMP_LINE\"\n\
         case \"$COMP_LINE\" in *' ') COMP_WORDS+=(''); esac\n\
         COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))\n\
         _notifier notifier \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\""
    );
    bash(&script).lines().map(str::to_owned).collect()
}

#[test]
fn bash_completion_is_registered_and_completes_subcommands_options_and_values() {
    let registered = bash("complete -p notifier");
    assert!(registered.contains("-F _notifier") && registered.trim_end().ends_with(" notifier"), "{registered}");

    let subcommands = complete_bash("notifier ");
    for s in SUBCOMMANDS {
        assert!(subcommands.contains(*s), "`{s}` not completed: {subcommands:?}");
    }
    assert_eq!(complete_bash("notifier ch"), BTreeSet::from(["check".to_owned()]));
    // Options of the subcommand, and values of a value enum.
    for option in help_options("check") {
        let completed = complete_bash("notifier check --");
        assert!(completed.contains(&format!("--{option}")), "--{option} not completed: {completed:?}");
    }
    let formats = complete_bash("notifier check --format ");
    assert!(formats.contains("github") && formats.contains("json") && formats.contains("human"), "{formats:?}");
    assert_eq!(complete_bash("notifier completions z"), BTreeSet::from(["zsh".to_owned()]));
}

#[test]
fn every_shell_gets_a_script_naming_every_subcommand_and_option() {
    let check_options = help_options("check");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = ok_stdout(&["completions", shell]);
        for s in SUBCOMMANDS {
            assert!(script.contains(s), "{shell}: `{s}` missing");
        }
        let offered: BTreeSet<String> = if shell == "fish" {
            // fish names long options without dashes: `-l deny-warnings`.
            script.split(" -l ").skip(1).filter_map(|s| s.split_whitespace().next()).map(str::to_owned).collect()
        } else {
            long_options(&script)
        };
        for o in &check_options {
            assert!(offered.contains(o.as_str()), "{shell}: --{o} missing");
        }
    }
    assert!(ok_stdout(&["completions", "zsh"]).starts_with("#compdef notifier\n"));
    assert!(ok_stdout(&["completions", "fish"]).contains("complete -c notifier "));
    let o = notifier(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2), "an unknown shell is a usage error");
}

/// Renders a roff page with groff (as `man` does: `-k` runs preconv for UTF-8), with
/// every warning enabled; the rendered text.
fn groff(page: &str) -> String {
    let mut child = Command::new("groff")
        .args(["-k", "-man", "-Tutf8", "-ww", "-rLL=200n"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("groff is needed for this test (Debian's groff-base; `man` uses it)");
    let mut stdin = child.stdin.take().expect("stdin");
    let text = page.to_owned();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, text.as_bytes()));
    let o = child.wait_with_output().expect("groff runs");
    writer.join().expect("writer").expect("write to groff");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && stderr.is_empty(), "groff: {:?}\n{stderr}", o.status);
    // Bold and underline are written with backspaces; keep the letters.
    let raw = String::from_utf8(o.stdout).expect("UTF-8 output");
    let mut text = String::new();
    for c in raw.chars() {
        if c == '\u{8}' {
            text.pop();
        } else {
            text.push(c);
        }
    }
    // Justified lines have runs of spaces: one space between words, as in the source.
    let text = text.replace(['\u{2010}', '\u{2212}'], "-");
    text.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join("\n")
}

#[test]
fn man_pages_render_without_warnings_and_document_every_option() {
    let main = groff(&ok_stdout(&["man"]));
    assert!(main.contains("NAME") && main.contains("SYNOPSIS") && main.contains("SUBCOMMANDS"), "{main}");
    for s in SUBCOMMANDS {
        assert!(main.contains(&format!("notifier-{s}(1)")), "notifier(1) does not list notifier-{s}(1):\n{main}");
    }
    assert!(main.contains("chaostoolkit-lib"), "the version line names the wire: {main}");
    for s in SUBCOMMANDS {
        let page = groff(&ok_stdout(&["man", s]));
        assert!(page.contains(&format!("notifier-{s}")), "{page}");
        let documented = long_options(&page);
        for o in help_options(s) {
            assert!(documented.contains(&o), "notifier-{s}(1) does not document --{o}:\n{page}");
        }
    }
    // Exit statuses and examples are in the pages, not only in --help.
    let check = groff(&ok_stdout(&["man", "check"]));
    assert!(check.contains("Exit status") && check.contains("Examples"), "{check}");

    let o = notifier(&["man", "chek"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did you mean `check`?"));
}

#[test]
fn man_dir_writes_one_page_per_subcommand_that_man_can_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("share/man/man1");
    ok_stdout(&["man", "--dir", out.to_str().expect("UTF-8 path")]);
    let mut written: Vec<String> = std::fs::read_dir(&out)
        .expect("the directory was created")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    let mut expected: Vec<String> = SUBCOMMANDS.iter().map(|s| format!("notifier-{s}.1")).collect();
    expected.push("notifier.1".into());
    // Nested subcommands get their own page too.
    expected.push("notifier-formats-show.1".into());
    expected.extend(["list", "replay", "drop"].map(|s| format!("notifier-outbox-{s}.1")));
    expected.sort();
    assert_eq!(written, expected);
    for name in &written {
        let page = std::fs::read_to_string(out.join(name)).expect("read page");
        groff(&page);
    }
    // `man` finds the pages through MANPATH, as after `--dir /usr/local/share/man/man1`.
    let o = Command::new("man")
        .args(["-P", "cat", "notifier-check"])
        .env("MANPATH", dir.path().join("share/man"))
        .env("MANWIDTH", "200")
        .output()
        .expect("man is needed for this test (Debian's man-db)");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && text.contains("deny-warnings"), "man: {text}{}", String::from_utf8_lossy(&o.stderr));
}
