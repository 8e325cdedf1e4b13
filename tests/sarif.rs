//! `notifier check --format sarif` against the SARIF 2.1.0 JSON Schema, and what code
//! scanning needs beyond the schema: one rule per diagnostic code with its help text,
//! regions that cover exactly the offending text, and fixes that fix.
//!
//! The schema is not vendored: it comes from the npm registry package
//! `@microsoft/jest-sarif@1.0.0-beta.0` (MIT), which ships the OASIS SARIF 2.1.0 schema
//! (`sarif-2.1.0-rtm.5.json`: the final 2.1.0 schema but for its title and its draft-04
//! header). The first run fetches it with `npm pack` into the target directory
//! (`target/tmp/sarif-schema/`); later runs reuse it. Without npm, set
//! `NOTIFIER_SARIF_SCHEMA` to a copy of the schema; with neither, the test fails: it
//! never passes without having validated anything.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use notifier::schema::Code;
use serde_json::{Value, json};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

const NPM_PACKAGE: &str = "@microsoft/jest-sarif@1.0.0-beta.0";
const SCHEMA_IN_PACKAGE: &str = "package/lib/schemas/sarif-2.1.0-rtm.5.json";
const SCHEMA_TITLE: &str = "Static Analysis Results Format (SARIF) Version 2.1.0-rtm.5 JSON Schema";

/// The SARIF 2.1.0 schema, fetched once per target directory.
fn sarif_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = match std::env::var_os("NOTIFIER_SARIF_SCHEMA") {
            Some(p) => PathBuf::from(p),
            None => fetch_schema(),
        };
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let schema: Value = serde_json::from_str(&text).expect("the SARIF schema is JSON");
        let mut schema = schema;
        assert_eq!(schema["title"], SCHEMA_TITLE, "{} is not the SARIF 2.1.0 schema", path.display());
        // The pattern of the `language` properties (of a run, a tool component; never
        // written by this log) has a stray `]` that the `jsonschema` crate refuses as a
        // regex: written as meant, a language code such as `en` or `en-US`.
        let definitions = schema["definitions"].as_object_mut().expect("definitions");
        let mut patched = 0;
        for definition in definitions.values_mut() {
            if let Some(pattern) = definition.pointer_mut("/properties/language/pattern") {
                assert_eq!(*pattern, json!("^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$"));
                *pattern = json!("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
                patched += 1;
            }
        }
        assert!(patched > 0, "no `language` pattern in the schema");
        schema
    })
}

/// `npm pack`s the package into the target directory (once) and returns the schema's path.
fn fetch_schema() -> PathBuf {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sarif-schema");
    let schema = cache.join("jest-sarif-1.0.0-beta.0").join(SCHEMA_IN_PACKAGE);
    if schema.is_file() {
        return schema;
    }
    std::fs::create_dir_all(&cache).expect("create the schema cache");
    let work = tempfile::tempdir_in(&cache).expect("temp dir");
    let run = |cmd: &mut Command, what: &str| {
        let o = cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| {
            panic!(
                "{what}: {e}\nThis test validates against the SARIF schema of the npm package {NPM_PACKAGE}; \
                 install npm (Debian: `apt-get install npm`) or set NOTIFIER_SARIF_SCHEMA to the schema's path."
            )
        });
        assert!(
            o.status.success(),
            "{what} failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_owned()
    };
    let tarball = run(
        Command::new("npm")
            .args(["pack", NPM_PACKAGE, "--silent", "--pack-destination"])
            .arg(work.path())
            .current_dir(work.path()),
        "npm pack",
    );
    let tarball = work.path().join(tarball.lines().last().unwrap_or_default());
    run(Command::new("tar").arg("-xzf").arg(&tarball).arg("-C").arg(work.path()), "tar");
    assert!(work.path().join(SCHEMA_IN_PACKAGE).is_file(), "{NPM_PACKAGE} has no {SCHEMA_IN_PACKAGE}");
    // Another test process may have got there first: either copy will do.
    let _ = std::fs::rename(work.keep(), cache.join("jest-sarif-1.0.0-beta.0"));
    assert!(schema.is_file());
    schema
}

/// Every way `log` breaks the SARIF schema.
fn schema_errors(log: &Value) -> Vec<String> {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator =
        VALIDATOR.get_or_init(|| jsonschema::validator_for(sarif_schema()).expect("the SARIF schema compiles"));
    validator.iter_errors(log).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

fn notifier(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_notifier"))
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run the notifier binary")
}

/// `notifier check --format sarif FILES` in `dir`: the exit code and the log.
fn sarif(dir: &Path, files: &[&str]) -> (i32, Value) {
    let mut args = vec!["check", "--format", "sarif"];
    args.extend_from_slice(files);
    let o = notifier(dir, &args);
    let log = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!("not JSON ({e}):\n{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    });
    (o.status.code().expect("exit code"), log)
}

const MISTAKES: &str = "\
notifications:
  - type: HTTP
    url: https://hooks.example.com/chaos
  - type: http
    url: https://hooks.example.com/chaos/${NOTIFIER_TEST_UNSET_7C1}
    verify_tls: \"False\"
    headers: {X-Équipe: sre, X-Retry: 3}
    forward_event_payload: 'no'
    events: [run-fail, \"validate-faild\"]
    verify_ssl: true
  - type: plugin
    module: chaosslack.notification
    token: xop-1235-secret
    channel: \"général\"
    events: [run-failed]
";

fn files() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("mistakes.yaml"), MISTAKES).unwrap();
    std::fs::write(
        dir.path().join("good settings.yaml"),
        "notifications:\n  - type: http\n    url: https://x.example\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.yaml"), "notifications:\n  - type: http\n  url: [\n").unwrap();
    std::fs::copy(Path::new(ROOT).join("tests/fixtures/check/sample.yaml"), dir.path().join("sample.yaml")).unwrap();
    dir
}

#[test]
fn the_log_is_valid_sarif_2_1_0() {
    let dir = files();
    let (code, log) =
        sarif(dir.path(), &["mistakes.yaml", "good settings.yaml", "broken.yaml", "sample.yaml", "missing.yaml"]);
    assert_eq!(code, 2, "a missing file and a YAML syntax error: exit 2");
    let errors = schema_errors(&log);
    assert!(errors.is_empty(), "not valid SARIF 2.1.0:\n  {}\n{log:#}", errors.join("\n  "));

    // A clean file gives a valid log with no results.
    let (code, clean) = sarif(dir.path(), &["good settings.yaml"]);
    assert_eq!(code, 0);
    assert_eq!(schema_errors(&clean), Vec::<String>::new());
    assert_eq!(clean["runs"][0]["results"], json!([]));
    assert_eq!(clean["runs"][0]["invocations"][0]["executionSuccessful"], true);

    // The file that cannot be read is a tool notification, not a result.
    let run = &log["runs"][0];
    let notes = run["invocations"][0]["toolExecutionNotifications"].as_array().expect("notifications");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "missing.yaml");
    assert_eq!(run["invocations"][0]["executionSuccessful"], false);
    assert_eq!(run["invocations"][0]["exitCode"], 2);
    // A name with a space is a valid URI reference, relative to the working directory.
    assert_eq!(run["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().map(|u| u.starts_with("file:///")), Some(true));
}

#[test]
fn the_validation_is_not_vacuous() {
    let dir = files();
    let (_, log) = sarif(dir.path(), &["mistakes.yaml"]);
    for (pointer, bad) in [
        ("/version", json!("2.0.0")),
        ("/runs/0/results/0/level", json!("fatal")),
        ("/runs/0/results/0/locations/0/physicalLocation/region/startLine", json!(0)),
        ("/runs/0/tool/driver/rules/0/shortDescription", json!("text")),
    ] {
        let mut broken = log.clone();
        *broken.pointer_mut(pointer).unwrap_or_else(|| panic!("no {pointer} in {log:#}")) = bad;
        assert!(!schema_errors(&broken).is_empty(), "the schema accepts a log with {pointer} broken");
    }
}

#[test]
fn one_rule_per_code_with_its_help_and_results_point_at_their_rule() {
    let dir = files();
    let (_, log) = sarif(dir.path(), &["mistakes.yaml"]);
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "notifier");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().expect("rules");
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().expect("id")).collect();
    let codes: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(ids, codes);
    for (rule, code) in rules.iter().zip(Code::ALL) {
        assert_eq!(rule["help"]["text"], code.description(), "{code}");
        assert_eq!(rule["shortDescription"]["text"], code.summary(), "{code}");
        assert!(rule["help"]["markdown"].as_str().is_some_and(|m| m.starts_with(&code.description())));
    }
    let tags = |code: &str| rules.iter().find(|r| r["id"] == code).map(|r| r["properties"]["tags"].clone());
    assert_eq!(tags("plain-text-secret"), Some(json!(["security"])));
    assert_eq!(tags("unknown-event"), Some(json!(["correctness"])));

    let results = log["runs"][0]["results"].as_array().expect("results");
    assert!(results.len() >= 7, "{results:#?}");
    for r in results {
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        assert!(["error", "warning"].contains(&r["level"].as_str().unwrap_or_default()), "{r}");
    }
    // What `--format json` says, in the same order.
    let json_out = notifier(dir.path(), &["check", "--format", "json", "mistakes.yaml"]);
    let diags: Vec<Value> = serde_json::from_slice(&json_out.stdout).expect("json output");
    let from_json: Vec<(Value, Value, Value)> =
        diags.iter().map(|d| (d["code"].clone(), d["severity"].clone(), d["pointer"].clone())).collect();
    let from_sarif: Vec<(Value, Value, Value)> =
        results.iter().map(|r| (r["ruleId"].clone(), r["level"].clone(), r["properties"]["pointer"].clone())).collect();
    assert_eq!(from_sarif, from_json);
    // Never a credential in the log.
    assert!(!log.to_string().contains("xop-1235-secret"), "the plain-text token leaked into the SARIF log");
}

/// The text a SARIF region covers in `text` (one line, 1-based code-point columns,
/// end exclusive).
fn region_text(text: &str, region: &Value) -> String {
    let line = region["startLine"].as_u64().expect("startLine") as usize;
    assert_eq!(region["endLine"].as_u64(), Some(line as u64), "one-line regions");
    let start = region["startColumn"].as_u64().expect("startColumn") as usize;
    let end = region["endColumn"].as_u64().expect("endColumn") as usize;
    text.lines().nth(line - 1).expect("line").chars().skip(start - 1).take(end - start).collect()
}

#[test]
fn regions_cover_the_offending_text_and_the_fixes_fix() {
    let dir = files();
    let (_, log) = sarif(dir.path(), &["mistakes.yaml"]);
    let results = log["runs"][0]["results"].as_array().expect("results");
    let covered: Vec<(String, String)> = results
        .iter()
        .map(|r| {
            let region = &r["locations"][0]["physicalLocation"]["region"];
            (r["ruleId"].as_str().unwrap_or_default().to_owned(), region_text(MISTAKES, region))
        })
        .collect();
    let expected = [
        ("unknown-type", "HTTP"),
        ("unset-variable", "https://hooks.example.com/chaos/${NOTIFIER_TEST_UNSET_7C1}"),
        ("not-a-boolean", "\"False\""),
        ("invalid-header-name", "X-Équipe"),
        ("invalid-header-value", "3"),
        ("not-a-boolean", "'no'"),
        ("unknown-event", "run-fail"),
        ("unknown-event", "\"validate-faild\""),
        ("unknown-key", "verify_ssl"),
        ("plain-text-secret", "xop-1235-secret"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(c, t)| (c.to_string(), t.to_string())).collect();
    assert_eq!(covered, expected);

    // Each fix replaces exactly its result's region; applying them all fixes those results.
    let mut edits = Vec::new();
    for r in results {
        let Some(fixes) = r["fixes"].as_array() else { continue };
        assert_eq!(fixes.len(), 1);
        let change = &fixes[0]["artifactChanges"][0];
        assert_eq!(change["artifactLocation"]["uri"], "mistakes.yaml");
        let replacement = &change["replacements"][0];
        assert_eq!(replacement["deletedRegion"], r["locations"][0]["physicalLocation"]["region"]);
        let region = &replacement["deletedRegion"];
        edits.push((
            region["startLine"].as_u64().unwrap() as usize,
            region["startColumn"].as_u64().unwrap() as usize,
            region["endColumn"].as_u64().unwrap() as usize,
            replacement["insertedContent"]["text"].as_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(edits.len(), 6, "fixes for the quoted booleans, the type, the events and the key: {edits:?}");
    edits.sort_by_key(|e| std::cmp::Reverse((e.0, e.1)));
    let mut lines: Vec<String> = MISTAKES.lines().map(str::to_owned).collect();
    for (line, start, end, text) in edits {
        let chars: Vec<char> = lines[line - 1].chars().collect();
        let before: String = chars[..start - 1].iter().collect();
        let after: String = chars[end - 1..].iter().collect();
        lines[line - 1] = format!("{before}{text}{after}");
    }
    std::fs::write(dir.path().join("fixed.yaml"), lines.join("\n") + "\n").unwrap();
    let (_, fixed) = sarif(dir.path(), &["fixed.yaml"]);
    let left: Vec<&str> =
        fixed["runs"][0]["results"].as_array().unwrap().iter().map(|r| r["ruleId"].as_str().unwrap()).collect();
    // The unset variable, the headers and the plain-text token need a person;
    // `verify_ssl` became a second `verify_tls`.
    assert_eq!(
        left,
        ["unset-variable", "invalid-header-name", "invalid-header-value", "duplicate-key", "plain-text-secret"],
        "{fixed:#}"
    );
}
