//! `notifier check` end to end: the real binary on real files.
//!
//! The rendered human output of a few representative files is compared with snapshots in
//! `tests/snapshots/` (insta). A mismatch fails the test; CI runs with `INSTA_UPDATE=no`
//! so nothing is written there. After an intended change to the output, review and
//! accept the new snapshots with `cargo insta review` (or `INSTA_UPDATE=always`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Several mistakes, one per line, with where each one must be reported.
const MISTAKES: &str = "\
notifications:
  - type: HTTP
    url: https://hooks.example.com/chaos
  - type: http
    url: ftp://files.example.com/drop
    verify_tls: \"false\"
    events: [run-fail]
    headers:
      X-Retry: 3
  - type: plugin
    func: null
  - type: plugin
    module: chaosslack.notification
    token: xop-1235
    channel: general
";

/// (code, line, text the caret must be on) for every diagnostic of [`MISTAKES`], in order.
const MISTAKES_EXPECTED: &[(&str, usize, &str)] = &[
    ("unknown-type", 2, "HTTP"),
    ("invalid-url", 5, "ftp://"),
    ("not-a-boolean", 6, "\"false\""),
    ("unknown-event", 7, "run-fail"),
    ("invalid-header-value", 9, "3"),
    ("missing-module", 10, "type"),
    ("invalid-func", 11, "null"),
    ("plain-text-secret", 14, "xop-1235"),
];

/// Runs `notifier` with `args` in `dir`, without colours, and with a HOME that has no
/// settings file unless the test puts one there.
fn notifier(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_notifier"))
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("run the notifier binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

#[track_caller]
fn assert_exit(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "exit status\nstdout:\n{}\nstderr:\n{}", stdout(o), stderr(o));
}

/// 1-based character column of the first `needle` on 1-based `line`.
#[track_caller]
fn column_of(text: &str, line: usize, needle: &str) -> usize {
    let l = text.lines().nth(line - 1).unwrap();
    l[..l.find(needle).unwrap_or_else(|| panic!("`{needle}` not on line {line}"))].chars().count() + 1
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write a settings file");
    path
}

fn json(o: &Output) -> Vec<Value> {
    match serde_json::from_str(&stdout(o)) {
        Ok(Value::Array(items)) => items,
        other => panic!("--format json did not print a JSON array: {other:?}\n{}", stdout(o)),
    }
}

/// The `file:line:col` locations of human output (` --> file:line:col` lines).
fn human_locations(text: &str) -> Vec<String> {
    text.lines().filter_map(|l| l.trim_start().strip_prefix("--> ")).map(str::to_owned).collect()
}

// ---------------------------------------------------------------------------------------
// The documented example.
// ---------------------------------------------------------------------------------------

#[test]
fn the_documented_example_is_valid() {
    let o = notifier(Path::new(ROOT), &["check", "examples/settings.yaml"]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    assert!(out.ends_with("ok: 1 file checked, 0 errors, 3 warnings\n"), "{out}");
    assert!(!out.contains("error["), "{out}");
}

// ---------------------------------------------------------------------------------------
// Every mistake at once, in all three formats.
// ---------------------------------------------------------------------------------------

#[test]
fn every_mistake_is_reported_at_its_line_and_column_in_one_run() {
    let dir = tempdir();
    write(dir.path(), "settings.yaml", MISTAKES);
    let o = notifier(dir.path(), &["check", "settings.yaml"]);
    assert_exit(&o, 1);
    let out = stdout(&o);
    let expected: Vec<String> = MISTAKES_EXPECTED
        .iter()
        .map(|(_, line, at)| format!("settings.yaml:{line}:{}", column_of(MISTAKES, *line, at)))
        .collect();
    assert_eq!(human_locations(&out), expected, "{out}");
    for (code, _, _) in MISTAKES_EXPECTED {
        assert!(out.contains(&format!("[{code}]: ")), "`{code}` missing from:\n{out}");
    }
    // The source line is shown with a caret under the offending value.
    assert!(out.contains("2 |   - type: HTTP\n  |           ^^^^"), "{out}");
    assert!(out.contains("help: did you mean `http`?"), "{out}");
    assert!(out.ends_with("FAILED: 1 file checked, 7 errors, 1 warning\n"), "{out}");
}

#[test]
fn json_output_parses_and_carries_the_same_positions() {
    let dir = tempdir();
    write(dir.path(), "settings.yaml", MISTAKES);
    let human = stdout(&notifier(dir.path(), &["check", "settings.yaml"]));
    let o = notifier(dir.path(), &["check", "--format", "json", "settings.yaml"]);
    assert_exit(&o, 1);
    let items = json(&o);
    let keys: BTreeSet<&str> =
        ["file", "line", "column", "pointer", "severity", "code", "message", "help", "run_time"].into();
    for item in &items {
        let object = item.as_object().expect("each diagnostic is an object");
        assert_eq!(object.keys().map(String::as_str).collect::<BTreeSet<_>>(), keys, "{item}");
        assert!(item["help"].is_string() || item["help"].is_null(), "{item}");
        // Each problem says what it does at run time: errors skip their channel alone.
        let expected = match (item["severity"].as_str(), item["pointer"].as_str().unwrap().split('/').nth(2)) {
            (Some("error"), Some(i)) => json!({"effect": "channel-skipped", "channel": i.parse::<u64>().unwrap() + 1}),
            _ => json!({"effect": "none"}),
        };
        assert_eq!(item["run_time"], expected, "{item}");
    }
    let positions: Vec<String> =
        items.iter().map(|d| format!("{}:{}:{}", d["file"].as_str().unwrap(), d["line"], d["column"])).collect();
    assert_eq!(positions, human_locations(&human));
    let codes: Vec<&str> = items.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, MISTAKES_EXPECTED.iter().map(|(c, _, _)| *c).collect::<Vec<_>>());
    let first = &items[0];
    assert_eq!(first["pointer"], "/notifications/0/type");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["message"], "unknown channel type `HTTP`");
    assert_eq!(items.last().unwrap()["severity"], "warning");
    // Nothing else on stdout: the output pipes straight into jq.
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn json_output_of_a_valid_file_is_an_empty_array() {
    let dir = tempdir();
    write(dir.path(), "settings.yaml", "notifications:\n  - type: http\n    url: https://x.example.com\n");
    let o = notifier(dir.path(), &["check", "--format", "json", "settings.yaml"]);
    assert_exit(&o, 0);
    assert_eq!(json(&o), Vec::<Value>::new());
}

#[test]
fn github_annotations() {
    let dir = tempdir();
    write(dir.path(), "settings.yaml", MISTAKES);
    let o = notifier(dir.path(), &["check", "--format", "github", "settings.yaml"]);
    assert_exit(&o, 1);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), MISTAKES_EXPECTED.len(), "one annotation per diagnostic, one line each:\n{out}");
    assert_eq!(
        lines[0],
        "::error file=settings.yaml,line=2,col=11,title=notifier check (unknown-type)::unknown channel type `HTTP`\
         %0Ahelp: did you mean `http`? Chaos Toolkit matches the type exactly and silently ignores this channel"
    );
    assert!(
        lines[7].starts_with("::warning file=settings.yaml,line=14,col=12,title=notifier check (plain-text-secret)::")
    );
    for (line, (code, at_line, at)) in lines.iter().zip(MISTAKES_EXPECTED) {
        let col = column_of(MISTAKES, *at_line, at);
        assert!(line.contains(&format!("line={at_line},col={col},title=notifier check ({code})::")), "{line}");
    }
}

#[test]
fn github_annotation_for_an_unreadable_file() {
    let dir = tempdir();
    let o = notifier(dir.path(), &["check", "--format", "github", "missing.yaml"]);
    assert_exit(&o, 2);
    let out = stdout(&o);
    assert!(
        out.starts_with(
            "::error file=missing.yaml,line=1,col=1,title=notifier check (unreadable)::cannot read settings file"
        ),
        "{out}"
    );
}

// ---------------------------------------------------------------------------------------
// Exit codes.
// ---------------------------------------------------------------------------------------

#[test]
fn exit_codes() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "clean.yaml", "notifications:\n  - type: http\n    url: https://x.example.com\n");
    write(d, "warn.yaml", "notifications:\n  - type: http\n    url: https://x.example.com\n    verify_tls: false\n");
    write(d, "bad.yaml", "notifications:\n  - type: htp\n    url: https://x.example.com\n");
    write(d, "syntax.yaml", "notifications: [\n");
    let code = |args: &[&str]| notifier(d, args).status.code();
    assert_eq!(code(&["check", "clean.yaml"]), Some(0));
    assert_eq!(code(&["check", "--deny-warnings", "clean.yaml"]), Some(0));
    assert_eq!(code(&["check", "warn.yaml"]), Some(0));
    assert_eq!(code(&["check", "--deny-warnings", "warn.yaml"]), Some(1));
    assert_eq!(code(&["check", "-D", "warn.yaml"]), Some(1));
    assert_eq!(code(&["check", "bad.yaml"]), Some(1));
    assert_eq!(code(&["check", "clean.yaml", "bad.yaml", "warn.yaml"]), Some(1));
    // Not YAML at all, or not readable: 2, whatever else is wrong.
    assert_eq!(code(&["check", "syntax.yaml"]), Some(2));
    assert_eq!(code(&["check", "bad.yaml", "syntax.yaml", "clean.yaml"]), Some(2));
    assert_eq!(code(&["check", "bad.yaml", "nope.yaml"]), Some(2));
    assert_eq!(code(&["check", "--format", "json", "nope.yaml", "bad.yaml"]), Some(2));
}

#[test]
fn deny_warnings_says_failed() {
    let dir = tempdir();
    write(dir.path(), "warn.yaml", "notifications:\n  - type: http\n    url: https://x.example.com\n    events: []\n");
    let out = stdout(&notifier(dir.path(), &["check", "warn.yaml"]));
    assert!(out.ends_with("ok: 1 file checked, 0 errors, 1 warning\n"), "{out}");
    let out = stdout(&notifier(dir.path(), &["check", "--deny-warnings", "warn.yaml"]));
    assert!(out.ends_with("FAILED: 1 file checked, 0 errors, 1 warning\n"), "{out}");
}

#[test]
fn several_files_in_one_run() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "a.yaml", "notifications:\n  - type: htp\n    url: https://x.example.com\n");
    write(d, "b.yaml", "notifications:\n  - type: http\n    url: https://x.example.com\n");
    write(d, "c.yaml", "notifications:\n  - type: http\n    url: https://x.example.com\n    events: [run-fial]\n");
    let o = notifier(d, &["check", "a.yaml", "b.yaml", "c.yaml"]);
    assert_exit(&o, 1);
    let out = stdout(&o);
    assert_eq!(human_locations(&out), ["a.yaml:2:11", "c.yaml:4:14"]);
    assert!(out.ends_with("FAILED: 3 files checked, 2 errors, 0 warnings\n"), "{out}");
    let o = notifier(d, &["check", "--quiet", "b.yaml"]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "");
}

// ---------------------------------------------------------------------------------------
// Which file: the default from HOME, --settings, missing files and directories.
// ---------------------------------------------------------------------------------------

#[test]
fn default_file_is_under_home() {
    let home = tempdir();
    std::fs::create_dir(home.path().join(".chaostoolkit")).unwrap();
    let settings = write(
        &home.path().join(".chaostoolkit"),
        "settings.yaml",
        "notifications:\n  - type: plugin\n    module: notifier.jsonl\n    path: x.jsonl\n    events: [run-fail]\n",
    );
    let o = notifier(home.path(), &["check"]);
    assert_exit(&o, 1);
    let out = stdout(&o);
    assert_eq!(human_locations(&out), [format!("{}:5:14", settings.display())], "{out}");
}

#[test]
fn missing_default_file_is_reported_with_its_path() {
    let home = tempdir();
    let o = notifier(home.path(), &["check"]);
    assert_exit(&o, 2);
    let expected = home.path().join(".chaostoolkit").join("settings.yaml");
    let err = stderr(&o);
    assert!(err.contains(&format!("error: {}: cannot read settings file: ", expected.display())), "{err}");
    assert!(stdout(&o).contains("1 unreadable file"), "{}", stdout(&o));
}

#[test]
fn settings_option_names_the_file_when_none_is_given() {
    let dir = tempdir();
    write(dir.path(), "ci.yaml", "notifications:\n  - type: http\n    url: gopher://x.example.com\n");
    let o = notifier(dir.path(), &["--settings", "ci.yaml", "check"]);
    assert_exit(&o, 1);
    assert_eq!(human_locations(&stdout(&o)), ["ci.yaml:3:10"]);
}

#[test]
fn missing_file() {
    let dir = tempdir();
    let o = notifier(dir.path(), &["check", "does-not-exist.yaml"]);
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(err.starts_with("error: does-not-exist.yaml: cannot read settings file: "), "{err}");
    assert!(err.contains("No such file or directory"), "{err}");
}

#[test]
fn directory_instead_of_a_file() {
    let dir = tempdir();
    std::fs::create_dir(dir.path().join("settings.yaml")).unwrap();
    let o = notifier(dir.path(), &["check", "settings.yaml"]);
    assert_exit(&o, 2);
    assert_eq!(stderr(&o), "error: settings.yaml: cannot read settings file: is a directory\n");
    let o = notifier(dir.path(), &["check", "--format", "json", "settings.yaml"]);
    assert_exit(&o, 2);
    let items = json(&o);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["code"], "unreadable");
    assert_eq!(items[0]["message"], "cannot read settings file: is a directory");
}

// ---------------------------------------------------------------------------------------
// Hostile files.
// ---------------------------------------------------------------------------------------

#[test]
fn non_utf8_bytes_are_located() {
    let dir = tempdir();
    write(dir.path(), "latin1.yaml", b"notifications:\n  - type: http\n    url: https://caf\xe9.example.com\n");
    let o = notifier(dir.path(), &["check", "latin1.yaml"]);
    assert_exit(&o, 2);
    // The byte follows `    url: https://caf` on line 3.
    let column = "    url: https://caf".len() + 1;
    assert_eq!(
        stderr(&o),
        format!("error: latin1.yaml:3:{column}: settings file is not UTF-8 text (invalid byte 0xe9)\n")
    );
    let o = notifier(dir.path(), &["check", "--format", "json", "latin1.yaml"]);
    assert_exit(&o, 2);
    let d = &json(&o)[0];
    assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(3), Some(column as u64)), "{d}");
    assert_eq!(d["message"], "settings file is not UTF-8 text (invalid byte 0xe9)");
}

#[test]
fn a_50_mb_file_is_refused_by_its_size() {
    let dir = tempdir();
    let line = "key: a value that is long enough to make the file big\n";
    let big = line.repeat(50 * 1024 * 1024 / line.len() + 1);
    assert!(big.len() > 50 * 1024 * 1024);
    write(dir.path(), "big.yaml", &big);
    let o = notifier(dir.path(), &["check", "big.yaml"]);
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!(
            "error: big.yaml: settings file is {} bytes, more than the 8388608 byte limit",
            big.len()
        )),
        "{err}"
    );
}

#[test]
fn an_alias_bomb_is_refused() {
    let dir = tempdir();
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 9].join(", ")));
    }
    text.push_str("notifications: *a9\n");
    write(dir.path(), "bomb.yaml", &text);
    let o = notifier(dir.path(), &["check", "--format", "json", "bomb.yaml"]);
    assert_exit(&o, 2);
    let items = json(&o);
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["code"], "yaml");
    assert!(items[0]["message"].as_str().unwrap().contains("aliases expand to more than"), "{items:?}");
}

#[test]
fn deeply_nested_values_are_refused() {
    let dir = tempdir();
    let flow = format!("notifications: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    write(dir.path(), "flow.yaml", flow);
    let block: String = (0..1_000).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
    write(dir.path(), "block.yaml", block);
    for file in ["flow.yaml", "block.yaml"] {
        let o = notifier(dir.path(), &["check", "--format", "json", file]);
        assert_exit(&o, 2);
        let items = json(&o);
        assert_eq!((items.len(), items[0]["code"].as_str()), (1, Some("yaml")), "{file}: {items:?}");
    }
}

#[test]
fn root_that_is_a_list_or_a_scalar() {
    let dir = tempdir();
    write(dir.path(), "list.yaml", "- type: http\n  url: https://x.example.com\n");
    write(dir.path(), "scalar.yaml", "notifications\n");
    for file in ["list.yaml", "scalar.yaml"] {
        let o = notifier(dir.path(), &["check", file]);
        assert_exit(&o, 1);
        assert!(stdout(&o).contains("error[settings-not-mapping]: the settings file must be a mapping of keys"));
        assert_eq!(human_locations(&stdout(&o)), [format!("{file}:1:1")]);
    }
}

#[test]
fn empty_comment_only_and_null_notifications_are_valid() {
    let dir = tempdir();
    let files = [
        ("empty.yaml", ""),
        ("comments.yaml", "# my settings\n# nothing here yet\n"),
        ("null.yaml", "notifications: null\n"),
        ("list.yaml", "notifications: []\n"),
        ("other.yaml", "runtime:\n  rollbacks:\n    strategy: always\n"),
    ];
    for (name, text) in files {
        write(dir.path(), name, text);
    }
    let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
    let o = notifier(dir.path(), &[&["check", "--deny-warnings"][..], &names].concat());
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "ok: 5 files checked, 0 errors, 0 warnings\n");
}

// ---------------------------------------------------------------------------------------
// Snapshots of the human output.
// ---------------------------------------------------------------------------------------

/// Human output for a file under the repository root, with its path as given.
fn human(relative: &str) -> (i32, String) {
    let o = notifier(Path::new(ROOT), &["check", "--color", "never", relative]);
    (o.status.code().unwrap_or(-1), stdout(&o))
}

#[test]
fn snapshot_documented_example() {
    let (code, out) = human("examples/settings.yaml");
    assert_eq!(code, 0);
    insta::assert_snapshot!("documented_example", out);
}

#[test]
fn snapshot_several_mistakes() {
    let (code, out) = human("tests/fixtures/check/mistakes.yaml");
    assert_eq!(code, 1);
    insta::assert_snapshot!("several_mistakes", out);
}

#[test]
fn snapshot_reference_crash_cases() {
    let (code, out) = human("tests/fixtures/check/crashes.yaml");
    assert_eq!(code, 1);
    insta::assert_snapshot!("reference_crash_cases", out);
}

#[test]
fn snapshot_notifications_as_a_mapping() {
    let (code, out) = human("tests/fixtures/check/not-a-list.yaml");
    assert_eq!(code, 1);
    insta::assert_snapshot!("notifications_as_a_mapping", out);
}

#[test]
fn snapshot_bodies() {
    let (code, out) = human("tests/fixtures/check/bodies.yaml");
    assert_eq!(code, 1);
    insta::assert_snapshot!("bodies", out);
}

/// Template problems are located at the offending character inside the template, through
/// a literal block, a double-quoted scalar with escapes and a folded block; each skips only
/// its own channel at run time.
#[test]
fn template_problems_point_into_the_template() {
    let o = notifier(Path::new(ROOT), &["check", "--format", "json", "tests/fixtures/check/bodies.yaml"]);
    assert_exit(&o, 1);
    let text = std::fs::read_to_string(Path::new(ROOT).join("tests/fixtures/check/bodies.yaml")).unwrap();
    let found: Vec<(String, usize, usize, String)> = json(&o)
        .iter()
        .map(|d| {
            let at = |k: &str| d[k].as_u64().unwrap() as usize;
            (d["code"].as_str().unwrap().to_owned(), at("line"), at("column"), d["run_time"]["effect"].to_string())
        })
        .collect();
    let has = |code: &str, line: usize, needle: &str| {
        let column = column_of(&text, line, needle);
        assert!(
            found.iter().any(|(c, l, col, _)| c == code && *l == line && *col == column),
            "no {code} at {line}:{column} (`{needle}`) in {found:?}"
        );
    };
    // `truncate(200 }}`: the `}` where a `,` or `)` was expected.
    has("template-syntax", 8, "}}");
    // Inside a double-quoted scalar, after `\"` escapes.
    has("unknown-template-variable", 12, "paylod.title");
    has("invalid-body", 17, "title");
    has("unknown-format", 20, "msteams");
    has("invalid-format-option", 26, "fatal");
    has("plain-text-secret", 25, "0123456789abcdef");
    has("body-conflict", 30, "format");
    for (code, _, _, effect) in &found {
        let want =
            if code.ends_with("variable") || code == "plain-text-secret" { "\"none\"" } else { "\"channel-skipped\"" };
        assert_eq!(effect, want, "{code}");
    }
}

#[test]
fn snapshot_malformed_yaml() {
    let (code, out) = human("tests/fixtures/check/malformed.yaml");
    assert_eq!(code, 2);
    insta::assert_snapshot!("malformed_yaml", out);
}

// ---------------------------------------------------------------------------------------
// Plugin functions Rust cannot name.
// ---------------------------------------------------------------------------------------

#[test]
fn a_func_rust_cannot_name_is_an_error_and_a_keyword_is_not() {
    let dir = tempdir();
    let text = "notifications:\n  - type: plugin\n    module: acme.hooks\n    func: self\n  - type: plugin\n    module: acme.hooks\n    func: type\n";
    write(dir.path(), "settings.yaml", text);
    let o = notifier(dir.path(), &["check", "settings.yaml"]);
    assert_exit(&o, 1);
    let out = stdout(&o);
    assert!(out.contains("error[reserved-func]: `self` cannot name a Rust function\n --> settings.yaml:4:11"), "{out}");
    assert_eq!(out.matches("error[").count(), 1, "`type` is written `r#type`:\n{out}");
    assert!(out.ends_with("FAILED: 1 file checked, 1 error, 2 warnings\n"), "{out}");
}

// ---------------------------------------------------------------------------------------
// The README's sample output.
// ---------------------------------------------------------------------------------------

/// The README shows `notifier check` on `tests/fixtures/check/sample.yaml`: the block must
/// be exactly what the binary prints, so the README cannot go stale.
#[test]
fn the_readme_sample_is_what_check_prints() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README.md");
    let blocks: Vec<&str> =
        readme.split("```text\n").skip(1).filter_map(|b| b.split_once("```\n")).map(|b| b.0).collect();
    let shown: Vec<&&str> = blocks.iter().filter(|b| b.contains(" --> sample.yaml:")).collect();
    assert_eq!(shown.len(), 1, "one README block shows the output on sample.yaml");
    let o = notifier(&Path::new(ROOT).join("tests/fixtures/check"), &["check", "--color", "never", "sample.yaml"]);
    assert_exit(&o, 1);
    assert_eq!(*shown[0], stdout(&o), "README.md's sample output is stale; paste the actual output");
}
