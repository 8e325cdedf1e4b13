//! The built-in body formats, rendered for all 13 events from payloads recorded from the
//! real chaostoolkit-lib 1.45.1 (`conformance/golden/*.json`), compared with golden files
//! (`tests/golden/formats/NAME.json`; regenerate with `NOTIFIER_BLESS=1` and review the
//! diff), and each body checked against what its receiver publishes:
//!
//! * CloudEvents: parsed by the `cloudevents-sdk` crate, plus the spec's rules it does not
//!   check (specversion, attribute names, `data` is the envelope unchanged);
//! * Teams: the Adaptive Card 1.5 JSON Schema (`tests/fixtures/formats/`), plus the
//!   Workflows envelope and the message size limit;
//! * PagerDuty Events API v2, Opsgenie Alert API, Slack Block Kit, Discord, Google Chat,
//!   Mattermost: the field rules and limits of their API references, cited at each rule.
//!
//! A hostile payload (megabyte titles and errors, quotes, control characters, markup)
//! must still give bodies within every limit: truncation keeps them valid.

use std::path::Path;
use std::sync::Arc;

use notifier_core::body::{Body, FORMATS};
use notifier_core::{Envelope, Event};
use serde_json::{Map, Value, json};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The recording of each event in `conformance/golden/`.
const RECORDED: [(Event, &str); 13] = [
    (Event::DiscoveryStarted, "discovery-started-package-name"),
    (Event::DiscoveryCompleted, "discovery-completed-result"),
    (Event::DiscoveryFailed, "discovery-failed-exception"),
    (Event::InitStarted, "init-started-null-payload"),
    (Event::InitCompleted, "init-completed-new-experiment"),
    (Event::InitFailed, "init-failed-exception"),
    (Event::RunStarted, "run-started-experiment"),
    (Event::RunCompleted, "run-completed-journal"),
    (Event::RunFailed, "run-failed-journal"),
    (Event::RunDeviated, "run-deviated-journal"),
    (Event::ValidateStarted, "validate-started-experiment"),
    (Event::ValidateCompleted, "validate-completed-experiment"),
    (Event::ValidateFailed, "validate-failed-exception"),
];

/// The envelope chaostoolkit-lib posted for `event`, as recorded.
fn recorded(event: Event, case: &str) -> Envelope {
    let path = Path::new(ROOT).join("conformance/golden").join(format!("{case}.json"));
    let recording: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let body: Value = serde_json::from_str(recording["post"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["name"], json!(event.name()), "{case}");
    Envelope::at(event, body["payload"].clone(), body.get("error").cloned(), body["ts"].as_f64().unwrap())
}

fn options(format: &str) -> Map<String, Value> {
    match format {
        "pagerduty" => json!({"routing_key": "0123456789abcdef0123456789abcdef"}),
        "opsgenie" => json!({"responders": [{"type": "team", "name": "SRE"}]}),
        "cloudevents" => json!({"source": "https://ci.example/chaostoolkit"}),
        _ => json!({}),
    }
    .as_object()
    .cloned()
    .unwrap()
}

fn render(body: &Body, env: Envelope) -> Option<Value> {
    let bytes = body.render(&Arc::new(env.clone())).unwrap_or_else(|e| panic!("{body:?} for {}: {e}", env.event))?;
    Some(serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}:\n{}", String::from_utf8_lossy(&bytes))))
}

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

#[test]
fn every_format_matches_its_golden_file_and_its_receiver() {
    let mut rewritten = Vec::new();
    for format in FORMATS.iter().filter(|f| f.template.is_some()) {
        let body = Body::format(format.name, options(format.name)).unwrap();
        let mut rendered = Map::new();
        for (event, case) in RECORDED {
            let env = recorded(event, case);
            let out = render(&body, env.clone());
            if let Some(out) = &out {
                validate(format.name, event, &env, out);
            }
            expect_sent(format.name, event, &env, out.is_some());
            rendered.insert(event.name().to_owned(), out.unwrap_or(Value::Null));
        }
        let text = serde_json::to_string_pretty(&Value::Object(rendered)).unwrap() + "\n";
        let golden = Path::new(ROOT).join("tests/golden/formats").join(format!("{}.json", format.name));
        let on_disk = std::fs::read_to_string(&golden).unwrap_or_default();
        if on_disk != text && std::env::var_os("NOTIFIER_BLESS").is_some() {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&golden, &text).unwrap();
            rewritten.push(golden.display().to_string());
            continue;
        }
        assert_eq!(on_disk, text, "{} differs (NOTIFIER_BLESS=1 regenerates it)", golden.display());
    }
    // Blessing never passes: a run that changed a golden file must be reviewed and rerun.
    assert!(rewritten.is_empty(), "rewritten: {rewritten:?}; review the diff and run again");
}

/// Which events each format sends a body for.
fn expect_sent(format: &str, event: Event, env: &Envelope, sent: bool) {
    let failed = event.name().ends_with("-failed");
    let deviated_run = env.payload.get("deviated") == Some(&Value::Bool(true));
    let want = match format {
        "pagerduty" => failed || event == Event::RunDeviated || (event == Event::RunCompleted && !deviated_run),
        "opsgenie" => failed || event == Event::RunDeviated,
        _ => true,
    };
    assert_eq!(sent, want, "{format} for {event}");
}

#[test]
fn hostile_payloads_stay_within_every_limit() {
    let huge =
        format!("\"}}\n{}<b>&</b> `x` {}\u{0}\u{1b}\u{85}\u{2028}é😀", "{{ x }}".repeat(5_000), "a".repeat(200_000));
    let journal = json!({
        "experiment": {"title": huge, "description": huge},
        "status": huge, "deviated": false, "duration": 1e300,
        "run": (0..1_000).map(|i| json!({"activity": {"name": format!("a{i}")}})).collect::<Vec<_>>(),
    });
    for format in FORMATS.iter().filter(|f| f.template.is_some()) {
        let body = Body::format(format.name, options(format.name)).unwrap();
        for event in Event::ALL {
            let payload = match event {
                Event::DiscoveryStarted | Event::DiscoveryFailed => json!(huge),
                Event::InitStarted => Value::Null,
                _ => journal.clone(),
            };
            let error = event.name().ends_with("-failed").then(|| json!(huge));
            let env = Envelope::at(event, payload, error, 1_795_976_704.494_94);
            if let Some(out) = render(&body, env.clone()) {
                validate(format.name, event, &env, &out);
            }
        }
    }
}

fn validate(format: &str, event: Event, env: &Envelope, body: &Value) {
    let size = serde_json::to_vec(body).unwrap().len();
    match format {
        "cloudevents" => cloudevents(event, env, body),
        "teams" => teams(body, size),
        "slack" => slack(body),
        "discord" => discord(body),
        "google-chat" => google_chat(body, size),
        "mattermost" => mattermost(body, size),
        "pagerduty" => pagerduty(event, body, size),
        "opsgenie" => opsgenie(body),
        other => panic!("no receiver rules for format `{other}`"),
    }
}

/// CloudEvents 1.0 (cloudevents/spec v1.0.2 `spec.md`, `formats/json-format.md`).
fn cloudevents(event: Event, env: &Envelope, body: &Value) {
    use cloudevents::AttributesReader;
    let parsed: cloudevents::Event = serde_json::from_value(body.clone()).expect("cloudevents-sdk parses the event");
    assert_eq!(parsed.specversion().to_string(), "1.0");
    assert_eq!(parsed.ty(), format!("org.chaostoolkit.{}", event.name().replacen('-', ".", 1)));
    assert_eq!(parsed.source().to_string(), "https://ci.example/chaostoolkit");
    assert!(!parsed.id().is_empty());
    assert!(parsed.time().is_some(), "time is RFC 3339");
    assert_eq!(parsed.datacontenttype(), Some("application/json"));
    // "data": the envelope, unchanged (as a JSON value, key order included).
    let data: Value = serde_json::from_slice(&env.to_wire_json()).unwrap();
    assert_eq!(body["data"], data);
    assert_eq!(serde_json::to_string(&body["data"]).unwrap(), serde_json::to_string(&data).unwrap());
    // Attribute and extension names: [a-z0-9], at most 20 characters (spec.md,
    // "Attribute Naming Convention"); strings without control characters ("Type System").
    for (name, value) in body.as_object().unwrap() {
        assert!(name.len() <= 20 && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{name}");
        if let (false, Some(s)) = (name == "data", value.as_str()) {
            assert!(!s.is_empty() && !s.chars().any(char::is_control), "{name}: {s:?}");
        }
    }
    assert!(!(body.get("data").is_some() && body.get("data_base64").is_some()));
    // The id is stable: the same event renders the same id again.
    let again = Body::format("cloudevents", options("cloudevents")).unwrap();
    let again = render(&again, env.clone()).unwrap();
    assert_eq!(again["id"], body["id"]);
}

/// Teams Workflows webhook (learn.microsoft.com/en-us/connectors/teams, "Microsoft Teams
/// Webhook" request body) with an Adaptive Card validated against its 1.5 schema.
fn teams(body: &Value, size: usize) {
    use std::sync::OnceLock;
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = SCHEMA.get_or_init(|| {
        let path = Path::new(ROOT).join("tests/fixtures/formats/adaptive-card-1.5.json");
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        jsonschema::draft6::new(&schema).expect("the Adaptive Card schema compiles")
    });
    assert_eq!(body["type"], json!("message"));
    let attachments = body["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1);
    let a = &attachments[0];
    assert_eq!(a["contentType"], json!("application/vnd.microsoft.card.adaptive"));
    assert_eq!(a["contentUrl"], Value::Null);
    let card = &a["content"];
    let errors: Vec<String> = validator.iter_errors(card).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "the card does not follow the Adaptive Card schema: {errors:?}");
    // `version` "is required for the top-level card" (the schema does not say it).
    assert_eq!(card["version"], json!("1.4"));
    assert!(chars(&card["fallbackText"]) > 0);
    // "If the message size exceeds 28 KB, the action fails": keep a margin (20 KB).
    assert!(size <= 20 * 1024, "{size} bytes");
}

/// Slack Block Kit (docs.slack.dev/reference/block-kit/blocks): `text` is the fallback
/// and is required with `blocks`; at most 50 blocks; header plain_text ≤ 150; section
/// text ≤ 3000; ≤ 10 fields of ≤ 2000; ≤ 10 context elements.
fn slack(body: &Value) {
    assert!(chars(&body["text"]) > 0 && chars(&body["text"]) <= 40_000);
    let blocks = body["blocks"].as_array().unwrap();
    assert!(!blocks.is_empty() && blocks.len() <= 50);
    for b in blocks {
        match b["type"].as_str().unwrap() {
            "header" => {
                assert_eq!(b["text"]["type"], json!("plain_text"));
                assert!((1..=150).contains(&chars(&b["text"]["text"])));
            }
            "section" => {
                assert!((1..=3000).contains(&chars(&b["text"]["text"])));
                if let Some(fields) = b.get("fields") {
                    let fields = fields.as_array().unwrap();
                    assert!(fields.len() <= 10);
                    assert!(fields.iter().all(|f| (1..=2000).contains(&chars(&f["text"]))));
                }
            }
            "context" => {
                let elements = b["elements"].as_array().unwrap();
                assert!(!elements.is_empty() && elements.len() <= 10);
            }
            other => panic!("unexpected block type {other}"),
        }
    }
}

/// Discord Execute Webhook and "Embed Limits" (discord-api-docs, resources/webhook.mdx and
/// message.mdx): content or embeds; ≤ 10 embeds; title ≤ 256, description ≤ 4096, ≤ 25
/// fields (name ≤ 256, value ≤ 1024, both non-empty), footer ≤ 2048, all embed text ≤ 6000;
/// color an integer; username 1–80.
fn discord(body: &Value) {
    assert!((1..=80).contains(&chars(&body["username"])));
    assert_eq!(body["allowed_mentions"], json!({"parse": []}));
    let embeds = body["embeds"].as_array().unwrap();
    assert!(!embeds.is_empty() && embeds.len() <= 10);
    let mut total = 0;
    for e in embeds {
        assert!(chars(&e["title"]) <= 256);
        assert!(chars(&e["description"]) <= 4096);
        assert!(e["color"].is_u64());
        let fields = e["fields"].as_array().unwrap();
        assert!(fields.len() <= 25);
        for f in fields {
            assert!((1..=256).contains(&chars(&f["name"])) && (1..=1024).contains(&chars(&f["value"])));
            total += chars(&f["name"]) + chars(&f["value"]);
        }
        assert!(chars(&e["footer"]["text"]) <= 2048);
        total += chars(&e["title"]) + chars(&e["description"]) + chars(&e["footer"]["text"]);
    }
    assert!(total <= 6000, "{total} characters of embed text");
}

/// Google Chat (developers.google.com/workspace/chat/limits and the Card reference):
/// ≤ 32,000 bytes per message, ≤ 100 widgets per card.
fn google_chat(body: &Value, size: usize) {
    assert!(size <= 32_000, "{size} bytes");
    assert!(chars(&body["text"]) > 0);
    for card in body["cardsV2"].as_array().unwrap() {
        assert!(chars(&card["cardId"]) > 0);
        let widgets: usize =
            card["card"]["sections"].as_array().unwrap().iter().map(|s| s["widgets"].as_array().unwrap().len()).sum();
        assert!((1..=100).contains(&widgets));
    }
}

/// Mattermost incoming webhooks (developers.mattermost.com/integrate/webhooks/incoming,
/// reference/message-attachments): text ≤ 16,383 characters; attachments need `fallback`;
/// footer ≤ 300; the request ≤ 300,000 bytes by default.
fn mattermost(body: &Value, size: usize) {
    assert!(size <= 300_000);
    assert!((1..=16_383).contains(&chars(&body["text"])));
    for a in body["attachments"].as_array().unwrap() {
        assert!(chars(&a["fallback"]) > 0);
        assert!(chars(&a["footer"]) <= 300);
        assert!(chars(&a["text"]) <= 16_383);
    }
}

/// PagerDuty Events API v2 (developer.pagerduty.com/docs/events-api-v2/trigger-events and
/// PagerDuty/api-schema `reference/events-v2/openapiv3.json`): `routing_key` and
/// `event_action` (trigger|acknowledge|resolve) required; `dedup_key` ≤ 255, required for
/// resolve; a trigger needs `payload.summary` (≤ 1024), `payload.source`,
/// `payload.severity` (critical|error|warning|info); the whole event ≤ 512 KB.
fn pagerduty(event: Event, body: &Value, size: usize) {
    assert!(size <= 512 * 1024);
    assert_eq!(body["routing_key"], json!("0123456789abcdef0123456789abcdef"));
    let key = body["dedup_key"].as_str().unwrap();
    assert!(!key.is_empty() && key.chars().count() <= 255);
    match body["event_action"].as_str().unwrap() {
        "trigger" => {
            let p = &body["payload"];
            assert!((1..=1024).contains(&chars(&p["summary"])));
            assert!(chars(&p["source"]) > 0);
            let want = if event == Event::RunDeviated { "warning" } else { "error" };
            assert_eq!(p["severity"], json!(want));
            assert!(p["custom_details"].is_object());
        }
        "resolve" => {
            assert_eq!(event, Event::RunCompleted);
            assert!(body.get("payload").is_none());
        }
        other => panic!("event_action {other}"),
    }
}

/// Opsgenie Alert API, create alert (docs.opsgenie.com/docs/alert-api#create-alert):
/// `message` required, ≤ 130; `alias` ≤ 512; `description` ≤ 15,000; ≤ 20 tags of ≤ 50;
/// `details` ≤ 8,000 characters in all; `entity` ≤ 512; `source` ≤ 100; priority P1–P5.
fn opsgenie(body: &Value) {
    assert!((1..=130).contains(&chars(&body["message"])));
    assert!((1..=512).contains(&chars(&body["alias"])));
    assert!(chars(&body["description"]) <= 15_000);
    let tags = body["tags"].as_array().unwrap();
    assert!(tags.len() <= 20 && tags.iter().all(|t| (1..=50).contains(&chars(t))));
    let details = body["details"].as_object().unwrap();
    assert!(details.values().all(Value::is_string));
    assert!(details.iter().map(|(k, v)| k.chars().count() + chars(v)).sum::<usize>() <= 8_000);
    assert!(chars(&body["entity"]) <= 512 && chars(&body["source"]) <= 100);
    assert!(["P1", "P2", "P3", "P4", "P5"].contains(&body["priority"].as_str().unwrap()));
}

/// PagerDuty: a failed run opens an alert and a later completed run of the same
/// experiment resolves it, with the same `dedup_key`; another experiment's key differs.
#[test]
fn pagerduty_resolves_what_a_failed_run_of_the_same_experiment_opened() {
    let body = Body::format("pagerduty", options("pagerduty")).unwrap();
    let failed = render(&body, recorded(Event::RunFailed, "run-failed-journal")).unwrap();
    let mut later = recorded(Event::RunFailed, "run-failed-journal");
    later.event = Event::RunCompleted;
    later.payload["status"] = json!("completed");
    later.ts += 3600.0;
    let resolved = render(&body, later.clone()).unwrap();
    assert_eq!(failed["event_action"], json!("trigger"));
    assert_eq!(resolved["event_action"], json!("resolve"));
    assert_eq!(failed["dedup_key"], resolved["dedup_key"]);
    later.payload["experiment"]["title"] = json!("Another experiment");
    assert_ne!(render(&body, later).unwrap()["dedup_key"], failed["dedup_key"]);
}

/// docs/TEMPLATES.md documents every context variable, format, option and body code the
/// code has (the lists come from the code; the doc must keep up).
#[test]
fn the_templates_doc_lists_every_variable_format_option_and_code() {
    let doc = std::fs::read_to_string(Path::new(ROOT).join("docs/TEMPLATES.md")).unwrap();
    for entry in notifier_core::body::CONTEXT {
        assert!(doc.contains(&format!("| `{}` |", entry.name)), "context variable `{}`", entry.name);
    }
    for format in FORMATS {
        assert!(doc.contains(&format!("| `{}` |", format.name)), "format `{}`", format.name);
        for option in format.options {
            assert!(doc.contains(&format!("| `{}` |", option.name)), "option `{}.{}`", format.name, option.name);
        }
    }
    use notifier::schema::Code;
    for code in [
        Code::TemplateSyntax,
        Code::UnknownTemplateVariable,
        Code::InvalidBody,
        Code::UnknownFormat,
        Code::InvalidFormatOption,
        Code::BodyConflict,
        Code::InvalidContentType,
    ] {
        assert!(doc.contains(&format!("| `{code}` |")), "code `{code}`");
    }
}
