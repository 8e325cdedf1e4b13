//! Planted secrets never leave the process except to their endpoint: the real binary is
//! run with a distinctive secret in its environment, used by a settings file in a
//! header, in the URL path and query, in the Slack plugin's token, base URL and an extra
//! plugin field, and as the signing secret. Then stdout, stderr and the log file
//! (`--verbose` too) of `send` (delivered, HTTP 500, refused, TLS error, timeout,
//! redirect), `send --dry-run`, `check` in the three formats and `run`/`validate` are
//! searched for it.
//!
//! The compiled binary of the macro example (`examples/compiled_in.rs`) is built with
//! the variables of its settings file set at build time and searched for their values
//! and for a comment of the YAML file.
//!
//! Each scenario first checks that the secret reached the endpoint, so the leak checks
//! cannot pass because the secret was never used.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use notifier_test_support::{Recorded, Reply, Sink, refused_port};

/// The planted secret; `7f3a9c` and `Pl4nted` survive any escaping or encoding.
const TOKEN: &str = "Pl4nted-7f3a9c-t0ken s/@+~";
/// `whsec_` + base64 of `PLANTED-SIGN-qwzk-3b1d!`.
const SIGNING: &str = "whsec_UExBTlRFRC1TSUdOLXF3emstM2IxZCE=";
const MARKERS: &[&str] = &["7f3a9c", "Pl4nted", "UExBTlRFRC1TSUdOLXF3emst", "qwzk-3b1d"];

#[track_caller]
fn assert_no_leak(what: &str, text: &str) {
    let found: Vec<&str> = MARKERS.iter().copied().filter(|m| text.contains(m)).collect();
    assert!(found.is_empty(), "{what} leaks {found:?}:\n{text}");
}

/// A settings file using the secret everywhere; `http` and `slack` are base URLs.
fn write_settings(dir: &Path, http: &str, slack: &str) -> PathBuf {
    let text = format!(
        r#"# Planted-secret settings.
notifications:
  - type: http
    url: "{http}/hooks/${{PLANT_TOKEN}}?sig=${{PLANT_TOKEN}}&plain=${{PLANT_TOKEN}}"
    headers:
      Authorization: "Bearer ${{PLANT_TOKEN}}"
      X-Hook: "${{PLANT_TOKEN}}"
    signing_secret: "${{PLANT_SIGNING}}"
    timeout: 1
  - type: plugin
    module: chaosslack.notification
    token: "${{PLANT_TOKEN}}"
    channel: chaos
    base_url: "{slack}/api/${{PLANT_TOKEN}}/"
    webhook: "https://hooks.example/${{PLANT_TOKEN}}"
    timeout: 1
"#
    );
    let path = dir.join("settings.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the binary in `dir` with the secrets in its environment.
fn notifier(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_notifier"))
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        // The outbox goes to $HOME/.local/state too, never the real one.
        .env_remove("XDG_STATE_HOME")
        .env("NO_COLOR", "1")
        .env("PLANT_TOKEN", TOKEN)
        .env("PLANT_SIGNING", SIGNING)
        .output()
        .expect("run the notifier binary")
}

/// Checks stdout, stderr and the log file of one run; returns them for more checks.
#[track_caller]
fn assert_clean(what: &str, out: &Output, log_file: &Path) -> (String, String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let log = std::fs::read_to_string(log_file).unwrap_or_default();
    assert_no_leak(&format!("{what}: stdout"), &stdout);
    assert_no_leak(&format!("{what}: stderr"), &stderr);
    assert_no_leak(&format!("{what}: log file"), &log);
    (stdout, stderr, log)
}

/// The secret reached the endpoint (header, path, signature) or the Slack API.
#[track_caller]
fn assert_secret_used(requests: &[Recorded]) {
    let hook = requests.iter().find(|r| r.path.starts_with("/hooks/")).expect("the http channel was called");
    assert_eq!(hook.header("Authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(hook.header("X-Hook"), Some(TOKEN));
    assert!(hook.path.contains("Pl4nted-7f3a9c-t0ken%20s/@+~"), "{}", hook.path);
    assert!(hook.header("webhook-signature").is_some_and(|s| s.starts_with("v1,")));
    let slack = requests.iter().find(|r| r.path.starts_with("/api/")).expect("the Slack plugin was called");
    assert_eq!(slack.header("Authorization"), Some(format!("Bearer {TOKEN}").as_str()));
}

/// `send` with and without `--verbose` against endpoints that answer with `reply`.
fn send_scenario(name: &str, sink: &Sink, expect_exit: i32) -> Vec<(String, String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let settings = write_settings(dir.path(), &sink.url(""), &sink.url(""));
    let settings = settings.to_str().unwrap();
    let mut outputs = Vec::new();
    for verbose in [false, true] {
        let log = dir.path().join(format!("send-{verbose}.log"));
        let mut args = vec!["--settings", settings, "--log-file", log.to_str().unwrap()];
        if verbose {
            args.push("--verbose");
        }
        args.extend(["send", "run-failed", "--payload", r#"{"title": "t"}"#, "--error", "boom"]);
        let out = notifier(dir.path(), &args);
        let texts = assert_clean(&format!("send ({name}, verbose {verbose})"), &out, &log);
        assert_eq!(out.status.code(), Some(expect_exit), "{name}: {texts:?}");
        outputs.push(texts);
    }
    outputs
}

#[test]
fn send_delivered() {
    let sink = Sink::start();
    let outputs = send_scenario("delivered", &sink, 0);
    assert_secret_used(&sink.requests());
    assert!(outputs[0].0.contains("delivered (200)"), "{outputs:?}");
}

#[test]
fn send_http_500_with_the_request_echoed() {
    let sink = Sink::with(|r, _| Reply::status(500).body(format!("{{\"ok\": false, \"error\": \"{}\"}}", r.path)));
    let outputs = send_scenario("500", &sink, 1);
    assert_secret_used(&sink.requests());
    assert!(outputs[0].2.contains("500 Server Error"), "the log has the reason: {outputs:?}");
    assert!(outputs[0].1.contains("2 of 2 notifications failed"), "{outputs:?}");
}

#[test]
fn send_redirect_echoing_the_url() {
    let sink = Sink::with(|r, _| {
        Reply::status(302)
            .header("Location", &format!("https://elsewhere.example{}&again", r.path))
            .body(format!("{{\"error\": \"{}\"}}", r.path))
    });
    let outputs = send_scenario("redirect", &sink, 1);
    assert_secret_used(&sink.requests());
    assert!(outputs[0].2.contains("was redirected (302) to https://elsewhere.example/hooks/***"), "{outputs:?}");
}

#[test]
fn send_hung_endpoint_times_out() {
    let sink = Sink::with(|_, _| Reply::ok().delay(Duration::from_secs(3)));
    let outputs = send_scenario("timeout", &sink, 1);
    assert_secret_used(&sink.requests());
    assert!(outputs[1].1.contains("timed out"), "{outputs:?}");
}

#[test]
fn send_refused_and_tls_errors() {
    let refused = format!("http://127.0.0.1:{}", refused_port());
    let tls = Sink::start_tls(|_, _| Reply::ok());
    for (name, base) in [("refused", refused.as_str()), ("tls", &tls.url(""))] {
        let dir = tempfile::tempdir().unwrap();
        let settings = write_settings(dir.path(), base, base);
        for verbose in [false, true] {
            let log = dir.path().join("send.log");
            let mut args = vec!["--settings", settings.to_str().unwrap(), "--log-file", log.to_str().unwrap()];
            if verbose {
                args.push("-v");
            }
            args.extend(["send", "run-started"]);
            let out = notifier(dir.path(), &args);
            let (_, stderr, log) = assert_clean(&format!("send ({name}, verbose {verbose})"), &out, &log);
            assert_eq!(out.status.code(), Some(1), "{stderr}");
            let kind = if name == "tls" { "TLS error" } else { "connection failed" };
            assert!(stderr.contains(kind), "{stderr}");
            assert!(log.contains("failed calling notification endpoint"), "{log}");
        }
    }
    assert_eq!(tls.requests().len(), 0, "the handshake failed before any request");
}

#[test]
fn dry_run_shows_the_requests_masked() {
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let settings = write_settings(dir.path(), &sink.url(""), &sink.url(""));
    let log = dir.path().join("dry.log");
    let out = notifier(
        dir.path(),
        &[
            "--settings",
            settings.to_str().unwrap(),
            "--log-file",
            log.to_str().unwrap(),
            "-v",
            "send",
            "run-failed",
            "--dry-run",
            "--payload",
            r#"{"title": "t"}"#,
        ],
    );
    let (stdout, stderr, _) = assert_clean("dry run", &out, &log);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("/hooks/***?sig=***&plain=***"), "{stdout}");
    assert!(stdout.contains("authorization: ***"), "{stdout}");
    assert!(stdout.contains("x-hook: ***"), "{stdout}");
    assert!(stdout.contains("webhook-signature: v1,***"), "{stdout}");
    assert!(stdout.contains("plugin chaosslack.notification.notify with"), "{stdout}");
    assert!(sink.requests().is_empty(), "a dry run sends nothing");
}

#[test]
fn check_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let settings = write_settings(dir.path(), "https://hooks.example", "https://slack.example");
    // A second file with mistakes around the secrets, so that there is something to say.
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        "notifications:\n  - type: http\n    url: \"ftp://u:${PLANT_TOKEN}@h/${PLANT_TOKEN}\"\n    headers:\n      \
         Authorization: \"Bearer ${PLANT_TOKEN\"\n    signing_secret: 12345\n  - type: plugin\n    module: \
         chaosslack.notification\n    token: \"${PLANT_UNSET}\"\n    channel: 7\n",
    )
    .unwrap();
    for format in ["human", "json", "github"] {
        let out =
            notifier(dir.path(), &["check", "--format", format, settings.to_str().unwrap(), broken.to_str().unwrap()]);
        let (stdout, stderr, _) = assert_clean(&format!("check --format {format}"), &out, &dir.path().join("none"));
        assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
        assert!(stdout.contains("PLANT_UNSET"), "{stdout}");
    }
}

#[test]
fn run_and_validate_summaries() {
    let failing = Sink::with(|_, _| Reply::status(500));
    let fine = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let experiment = dir.path().join("experiment.json");
    std::fs::write(
        &experiment,
        r#"{"title": "planted", "description": "d",
            "method": [{"type": "action", "name": "a", "provider": {"type": "process", "path": "true"}}]}"#,
    )
    .unwrap();
    for (name, sink) in [("failing", &failing), ("fine", &fine)] {
        let settings = write_settings(dir.path(), &sink.url(""), &sink.url(""));
        for command in ["run", "validate"] {
            let log = dir.path().join(format!("{name}-{command}.log"));
            let out = notifier(
                dir.path(),
                &[
                    "--settings",
                    settings.to_str().unwrap(),
                    "--log-file",
                    log.to_str().unwrap(),
                    "-v",
                    command,
                    experiment.to_str().unwrap(),
                ],
            );
            let (_, stderr, _) = assert_clean(&format!("{command} ({name})"), &out, &log);
            assert!(stderr.contains("notifications"), "{command} prints a summary: {stderr}");
        }
        assert_secret_used(&sink.requests());
    }
    let journal = std::fs::read_to_string(dir.path().join("journal.json")).unwrap_or_default();
    assert_no_leak("journal.json", &journal);
}

/// The example's binary, built by cargo with its settings' variables set at build time.
fn build_example(token: &str, url: &str) -> PathBuf {
    // `cargo rustc` with an extra `--cfg` changes the example's fingerprint, so it is
    // compiled again now, with the variables set, even if `cargo test` just built it
    // (an artifact with this fingerprint can only come from this test, with these
    // variables). Same target directory as the test run: only the example is built.
    let out = Command::new(env!("CARGO"))
        .args(["rustc", "--locked", "-p", "notifier", "--example", "compiled_in", "--message-format=json", "--quiet"])
        .args(["--", "--cfg", "notifier_secret_scan", "--check-cfg", "cfg(notifier_secret_scan)"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("WEBHOOK_TOKEN", token)
        .env("WEBHOOK_URL", url)
        .output()
        .expect("run cargo");
    assert!(out.status.success(), "cargo rustc failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "compiled_in")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo reports the example's executable")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_macro_example_binary_holds_neither_secrets_nor_the_yaml() {
    // Letters that are not hex digits, so that no symbol hash matches by chance.
    let token = "BuildTimeSecret-qxzvkw";
    let url = "http://build-time-url-jqwvmy.example";
    let exe = build_example(token, url);
    let bytes = std::fs::read(&exe).unwrap();
    // The scan reads the right file: what the channel table must hold is there.
    assert!(contains(&bytes, b"chaos-engineering"), "{} is not the example", exe.display());
    assert!(contains(&bytes, b"WEBHOOK_TOKEN"), "the variable's name is compiled in");
    for needle in [token, "qxzvkw", url, "jqwvmy", "never at build time: no URL or secret is in the binary"] {
        assert!(!contains(&bytes, needle.as_bytes()), "{} contains {needle:?}", exe.display());
    }
    // And at run time the secret is used but not printed.
    let out = Command::new(&exe).env("WEBHOOK_TOKEN", token).output().unwrap();
    assert!(out.status.success());
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("delivered (200)"), "{text}");
    assert!(!text.contains("qxzvkw"), "{text}");
}

/// Credentials written in the file itself: `check` warns about them and must not copy
/// them into CI logs, neither in source snippets nor in messages.
#[test]
fn check_does_not_repeat_plain_text_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.yaml");
    std::fs::write(
        &path,
        r##"auths:
  hooks.example: {type: bearer, value: plainAuthsQvk, value: plainAuthsQvk}
notifications:
  - type: http
    url: https://user:plainPwQvk@hooks.example/x?token=plainQueryQvk&a=1
    headers: {Authorization: "Bearer plainHeaderQvk", X-Api-Key: 9876543210, "Bad Name": "v"}
    api_token: plainUnknownKeyQvk
    signing_secret: "plainSigningQvk"
  - type: plugin
    module: chaosslack.notification
    token: 1234567890
    channel: "#c"
    password: |
      plainBlockQvk
  - "https://u:plainBareQvk@h.example/hook"
"##,
    )
    .unwrap();
    for format in ["human", "json", "github"] {
        let out = notifier(dir.path(), &["check", "--format", format, path.to_str().unwrap()]);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(text.contains("plain-text-secret"), "{text}");
        for secret in ["Qvk", "9876543210", "1234567890"] {
            assert!(!text.contains(secret), "check --format {format} shows {secret}:\n{text}");
        }
    }
}

/// Every byte of the outbox (database, WAL, shared memory), read as text.
fn outbox_bytes(home: &Path) -> String {
    let dir = home.join(".local/state/notifier");
    let mut text = String::new();
    for entry in std::fs::read_dir(&dir).expect("the outbox directory exists") {
        text.push_str(&String::from_utf8_lossy(&std::fs::read(entry.unwrap().path()).unwrap()));
    }
    text
}

#[test]
fn the_outbox_file_holds_no_secret() {
    let echo = Sink::with(|r, _| Reply::status(500).body(format!("{{\"ok\": false, \"error\": \"{}\"}}", r.path)));
    let redirect =
        Sink::with(|r, _| Reply::status(302).header("Location", &format!("https://elsewhere.example{}", r.path)));
    let refused = format!("http://127.0.0.1:{}", refused_port());
    let dir = tempfile::tempdir().unwrap();
    let mut recorded = 0;
    for base in [echo.url(""), redirect.url(""), refused] {
        let settings = write_settings(dir.path(), &base, &base);
        for background in [false, true] {
            let mut args = vec!["--settings", settings.to_str().unwrap(), "--no-log-file", "send", "run-failed"];
            args.extend(["--payload", r#"{"title": "t"}"#]);
            if background {
                args.push("--background");
            }
            let out = notifier(dir.path(), &args);
            assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
            recorded += 2;
        }
    }
    assert_secret_used(&echo.requests());
    // A replay against the echoing endpoint writes its error too.
    let settings = write_settings(dir.path(), &echo.url(""), &echo.url(""));
    let replay = notifier(dir.path(), &["--settings", settings.to_str().unwrap(), "outbox", "replay"]);
    assert_clean("outbox replay", &replay, &dir.path().join("none.log"));
    let list = notifier(dir.path(), &["outbox", "list", "--format", "json"]);
    let (stdout, _, _) = assert_clean("outbox list", &list, &dir.path().join("none.log"));
    let entries: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(entries.len(), recorded, "{stdout}");
    assert!(stdout.contains("500 Server Error") && stdout.contains("${PLANT_TOKEN}"), "{stdout}");
    assert_no_leak("the outbox files", &outbox_bytes(dir.path()));
}
