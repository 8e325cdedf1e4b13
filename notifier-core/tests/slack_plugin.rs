//! The built-in Slack plugin against a loopback server: the messages chaostoolkit-slack
//! 0.10.0 really sent (recorded in conformance/golden-slack/ by conformance/record_slack.sh),
//! the request line and headers, Slack's error answers, and the Python `str()`/`repr()`
//! renderer against what CPython printed.

mod common;

use std::path::PathBuf;
use std::str::FromStr;

use notifier_core::plugins::slack;
use notifier_core::pyvalue as pyrepr;
use notifier_core::{Envelope, Event, FailureKind, Notifier, Outcome, PluginConfig, PluginError, PluginRegistry};
use notifier_test_support::{Recorded, Reply, Sink, refused_port};
use serde_json::{Map, Value, json};

const TOKEN: &str = "xoxb-test-token";
/// What slackclient sends, and what we send (the documented difference: the transport's
/// `post_json_blocking` cannot replace its own `application/json` yet).
const REFERENCE_CONTENT_TYPE: &str = "application/json;charset=utf-8";
const CONTENT_TYPE: &str = REFERENCE_CONTENT_TYPE;

/// Cases where chaostoolkit-slack raises (and sends nothing) and we send a message.
const KNOWN_DIFFERENCES: &[&str] = &["hypothesis-not-a-mapping", "experiment-null"];

fn conformance(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance").join(path)
}

fn read_json(path: &str) -> Value {
    let file = conformance(path);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn config(entry: &Value, base_url: &str) -> PluginConfig {
    let mut map: Map<String, Value> = entry.as_object().cloned().expect("a channel entry is an object");
    map.insert("base_url".into(), json!(base_url));
    PluginConfig::new(map)
}

fn envelope(case: &Value) -> Envelope {
    let event = Event::from_str(case["event"].as_str().unwrap()).unwrap();
    let error = case.get("error").map(|spec| match spec.get("exception") {
        Some(e) => notifier_core::exception(e["kind"].as_str().unwrap(), e["message"].as_str().unwrap()),
        None => spec.clone(),
    });
    Envelope::at(event, case["payload"].clone(), error, case["ts"].as_f64().unwrap())
}

fn header<'a>(headers: &'a Value, name: &str) -> Vec<&'a str> {
    headers
        .as_array()
        .unwrap()
        .iter()
        .filter(|pair| pair[0].as_str().unwrap().eq_ignore_ascii_case(name))
        .map(|pair| pair[1].as_str().unwrap())
        .collect()
}

fn headers_named<'a>(r: &'a Recorded, name: &str) -> Vec<&'a str> {
    r.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
}

fn body_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn messages_match_chaostoolkit_slack() {
    let cases = read_json("slack_cases.json");
    let cases = cases.as_array().unwrap();
    assert_eq!(read_json("golden-slack/_meta.json")["cases"].as_u64(), Some(cases.len() as u64));
    let sink = Sink::start();
    let base_url = sink.url("/slack/");
    let mut compared = 0;
    let mut reference_raised = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let golden = read_json(&format!("golden-slack/{id}.json"));
        let before = sink.requests().len();
        let result = slack::notify(&config(&case["channel_entry"], &base_url), &envelope(case));
        let sent = sink.requests()[before..].to_vec();

        if let Some(raised) = golden["raised"].as_str() {
            // The reference raised: we send a message anyway (checked below).
            reference_raised.push(id);
            assert!(result.is_ok(), "{id}: {result:?} (the reference raised {raised})");
            assert_eq!(sent.len(), 1, "{id}");
            continue;
        }
        let Some(want) = golden["request"].as_object() else {
            // The reference logged why and sent nothing: a configuration error here.
            let log = golden["logs"][0].as_str().unwrap();
            assert_eq!(result, Err(PluginError::Config(log.to_owned())), "{id}");
            assert!(sent.is_empty(), "{id}: {sent:?}");
            continue;
        };
        assert_eq!(result, Ok(()), "{id}");
        assert_eq!(sent.len(), 1, "{id}");
        let got = &sent[0];
        assert_eq!(got.method, want["method"].as_str().unwrap(), "{id}");
        assert_eq!(got.path, want["path"].as_str().unwrap(), "{id}");
        assert_eq!(headers_named(got, "Authorization"), header(&want["headers"], "Authorization"), "{id}");
        assert_eq!(header(&want["headers"], "Content-Type"), [REFERENCE_CONTENT_TYPE], "{id}");
        assert_eq!(headers_named(got, "Content-Type"), [CONTENT_TYPE], "{id}: one Content-Type header");
        let want_body = want["body"].as_str().unwrap();
        // Same JSON value, keys in the same order (serde_json keeps insertion order)...
        let (got_value, want_value) = (body_json(&got.body_text()), body_json(want_body));
        assert_eq!(
            serde_json::to_string_pretty(&got_value).unwrap(),
            serde_json::to_string_pretty(&want_value).unwrap(),
            "{id}"
        );
        // ...and the same bytes: Python's json.dumps encoding.
        assert_eq!(got.body_text(), want_body, "{id}");
        compared += 1;
    }
    assert_eq!(reference_raised, KNOWN_DIFFERENCES, "the cases where chaostoolkit-slack raises changed");
    assert!(compared >= 30, "only {compared} messages compared");
}

#[test]
fn shapes_the_reference_cannot_handle_still_produce_a_message() {
    let sink = Sink::start();
    let cases = read_json("slack_cases.json");
    let by_id = |id: &str| cases.as_array().unwrap().iter().find(|c| c["id"] == id).unwrap().clone();

    let case = by_id("hypothesis-not-a-mapping");
    slack::notify(&config(&case["channel_entry"], &sink.url("/")), &envelope(&case)).unwrap();
    let case = by_id("experiment-null");
    slack::notify(&config(&case["channel_entry"], &sink.url("/")), &envelope(&case)).unwrap();
    let reqs = sink.requests();
    let fields = |i: usize, a: usize| reqs[i].json()["attachments"][a]["fields"].clone();
    assert_eq!(
        fields(0, 0)[2],
        json!({"title": "Experiment", "value": "Loaded as is", "short": false}),
        "{}",
        reqs[0].body_text()
    );
    assert_eq!(fields(0, 1), json!([{"title": "Hypothesis", "value": "N/A", "short": false}]));
    assert_eq!(fields(1, 0).as_array().unwrap().len(), 2, "no Experiment field: {}", reqs[1].body_text());
    assert_eq!(fields(1, 1), json!([{"title": "Hypothesis", "value": "N/A", "short": false}]));
}

fn plain_case() -> (Value, Envelope) {
    let entry = json!({"type": "plugin", "module": "chaosslack.notification", "token": TOKEN, "channel": "#chaos"});
    let env = Envelope::at(Event::RunStarted, json!({"title": "t"}), None, 1795561658.5);
    (entry, env)
}

#[test]
fn request_line_and_headers() {
    let sink = Sink::start();
    let (entry, env) = plain_case();
    // No trailing slash: one is added.
    slack::notify(&config(&entry, &sink.url("/api")), &env).unwrap();
    let r = &sink.requests()[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/api/chat.postMessage"));
    assert_eq!(headers_named(r, "Authorization"), ["Bearer xoxb-test-token"]);
    assert_eq!(headers_named(r, "Content-Type"), [CONTENT_TYPE]);
    let body = r.json();
    assert_eq!(body["text"], "New Chaos Experiment Event");
    assert_eq!(body["channel"], "#chaos");
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["text", "attachments", "channel"]);
}

#[test]
fn through_the_dispatcher() {
    let sink = Sink::with(|_, i| {
        if i == 0 { Reply::ok() } else { Reply::status(200).body(r#"{"ok": false, "error": "invalid_auth"}"#) }
    });
    let call = PluginRegistry::new().get("chaosslack.notification", "notify").expect("a built-in plugin");
    let n = Notifier::builder(vec![common::plugin(
        "chaosslack.notification",
        json!({"token": TOKEN, "channel": "chaos", "base_url": sink.url("/slack/")}),
        call,
    )])
    .build();
    let report = n.notify(Event::RunStarted, json!({"title": "t"}), None);
    assert_eq!(report.channels[0].outcome, Outcome::Delivered { status: None });
    let report = n.notify(Event::RunFailed, json!({"title": "t"}), None);
    match &report.channels[0].outcome {
        Outcome::Failed { kind: FailureKind::Plugin, reason } => {
            assert!(reason.ends_with("Slack API error: invalid_auth"), "{reason}");
            assert!(!reason.contains(TOKEN), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let reqs = sink.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].json()["attachments"][0]["fields"][1]["value"], "run-failed");
}

#[test]
fn slack_errors_fail_the_channel_without_the_token() {
    let (entry, env) = plain_case();
    let cases: Vec<(Reply, &str)> = vec![
        (Reply::status(200).body(r#"{"ok": false, "error": "invalid_auth"}"#), "Slack API error: invalid_auth"),
        (Reply::status(200).body(r#"{"ok": false}"#), "Slack API error: unknown error"),
        (Reply::status(500).body("boom"), "Slack API answered HTTP 500"),
        (
            Reply::status(429).header("Retry-After", "1").body(r#"{"ok": false, "error": "ratelimited"}"#),
            "Slack API answered HTTP 429: ratelimited",
        ),
        (Reply::status(200).body("<html>"), "Slack API answered HTTP 200 with a body that is not JSON"),
        (
            Reply::status(200).body(format!(r#"{{"ok": false, "error": "token {TOKEN} revoked"}}"#)),
            "Slack API error: token *** revoked",
        ),
    ];
    for (reply, want) in cases {
        let sink = Sink::with(move |_, _| reply.clone());
        let result = slack::notify(&config(&entry, &sink.url("/")), &env);
        assert_eq!(result, Err(PluginError::Failed(want.to_owned())));
        assert_eq!(sink.requests().len(), 1, "exactly one attempt");
    }

    let refused = format!("http://127.0.0.1:{}/", refused_port());
    match slack::notify(&config(&entry, &refused), &env) {
        Err(PluginError::Failed(reason)) => {
            assert!(reason.starts_with("Slack API call failed: "), "{reason}");
            assert!(!reason.contains(TOKEN), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_token_or_channel_sends_nothing() {
    let sink = Sink::start();
    let env = plain_case().1;
    let cases = [
        (json!({"channel": "c"}), "Slack notifier requires a token"),
        (json!({"token": "", "channel": "c"}), "Slack notifier requires a token"),
        (json!({"token": null, "channel": "c"}), "Slack notifier requires a token"),
        (json!({"token": TOKEN}), "Slack notifier requires a channel"),
        (json!({"token": TOKEN, "channel": ""}), "Slack notifier requires a channel"),
        (json!({"token": TOKEN, "channel": ["c"]}), "Slack notifier requires `channel` to be a string"),
    ];
    for (entry, want) in cases {
        let result = slack::notify(&config(&entry, &sink.url("/")), &env);
        assert_eq!(result, Err(PluginError::Config(want.into())), "{entry}");
    }
    assert!(sink.requests().is_empty());
}

#[test]
fn python_str_and_repr_match_cpython() {
    let samples = read_json("golden-slack/_repr.json");
    let samples = samples.as_array().unwrap();
    assert!(samples.len() > 30);
    for sample in samples {
        let value = &sample["value"];
        assert_eq!(pyrepr::python_str(value), sample["str"].as_str().unwrap(), "str({value})");
        assert_eq!(pyrepr::python_repr(value), sample["repr"].as_str().unwrap(), "repr({value})");
    }
}

#[test]
fn printable_and_whitespace_tables_match_cpython() {
    let text = read_json("golden-slack/_python_text.json");
    let ranges: Vec<(u32, u32)> = text["non_printable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_u64().unwrap() as u32, r[1].as_u64().unwrap() as u32))
        .collect();
    let whitespace: Vec<u32> =
        text["whitespace"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap() as u32).collect();
    let mut printable = vec![true; 0x110000];
    for (first, last) in ranges {
        printable[first as usize..=last as usize].fill(false);
    }
    let mut mismatches = Vec::new();
    for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
        let cp = u32::from(c);
        if pyrepr::is_python_printable(c) != printable[cp as usize] {
            mismatches.push(format!("U+{cp:04X} printable"));
        }
        if pyrepr::is_python_whitespace(c) != whitespace.contains(&cp) {
            mismatches.push(format!("U+{cp:04X} whitespace"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches, first: {:?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(10)]
    );
}
