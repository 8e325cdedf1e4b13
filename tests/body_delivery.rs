//! Bodies end to end, over real loopback HTTP (`notifier-test-support`'s `Sink`): the
//! same settings compiled in with `settings!` and loaded at run time send identical
//! requests for all 13 events (each channel its own body and `Content-Type`, the default
//! channel the envelope byte for byte); signatures cover the rendered body; `options`
//! take `${VAR}`s, which dry runs mask; a format that has nothing to say for an event
//! sends nothing; a body that cannot be made is a delivery failure with its reason,
//! never a panic and never a silent drop.

use std::borrow::Cow;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use notifier::{Envelope, Event, FailureKind, Notifier, Outcome, PluginRegistry};
use notifier_core::body::{Body, samples};
use notifier_core::{BodyDef, ChannelDef, ChannelKind, HttpDef, Origin, Template};
use notifier_test_support::Sink;
use notifier_test_support::webhooks::Verifier;
use serde_json::{Value, json};

const SETTINGS: &str = "tests/settings/bodies.yaml";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PD_KEY: &str = "0123456789abcdef0123456789abcdef";

notifier::settings! {
    mod bodies {
        path: "tests/settings/bodies.yaml",
    }
}

fn env_for(sink: &Sink) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    let base = sink.url("");
    let base = base.trim_end_matches('/').to_owned();
    move |name| match name {
        "SINK" => Some(base.clone()),
        "SECRET" => Some(SECRET.to_owned()),
        "PD_KEY" => Some(PD_KEY.to_owned()),
        _ => None,
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn format_body(name: &str, options: Value, env: &Envelope) -> Option<Vec<u8>> {
    let body = Body::format(name, options.as_object().cloned().unwrap_or_default()).unwrap();
    body.render(&Arc::new(env.clone())).unwrap()
}

/// What each channel of `SETTINGS` must send for `env`: (path, content type, body).
fn expected(env: &Envelope) -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let mut out = vec![("/teams", "application/json", format_body("teams", json!({}), env).unwrap())];
    if let Some(body) =
        format_body("pagerduty", json!({"routing_key": PD_KEY, "severity": {"failed": "critical"}}), env)
    {
        out.push(("/pagerduty", "application/json", body));
    }
    out.push((
        "/cloudevents",
        "application/cloudevents+json; charset=UTF-8",
        format_body("cloudevents", json!({"source": "urn:chaostoolkit:ci"}), env).unwrap(),
    ));
    let text = Body::template(
        "{{ summary }} [{{ options.team }}]",
        "text/plain; charset=utf-8",
        json!({"team": "SRE"}).as_object().cloned().unwrap(),
    )
    .unwrap();
    out.push(("/text", "text/plain; charset=utf-8", text.render(&Arc::new(env.clone())).unwrap().unwrap()));
    out.push(("/envelope", "application/json", env.to_wire_json()));
    out
}

#[test]
fn compiled_and_loaded_settings_send_each_channel_its_own_body() {
    let loaded = notifier::load_channels(Path::new(SETTINGS), &PluginRegistry::new()).expect("the settings load");
    assert!(loaded.diagnostics.iter().all(|d| !d.is_error()), "{:?}", loaded.diagnostics);
    let verifier = Verifier::new(SECRET);
    for compiled in [true, false] {
        let sink = Sink::start();
        let loaded_notifier = Notifier::builder(loaded.channels.clone()).env(env_for(&sink)).build();
        let compiled_notifier = bodies::Notifications::with(|b| b.env(env_for(&sink)));
        let mut seen = 0;
        for event in Event::ALL {
            let env = samples::envelope(event);
            let report = if compiled {
                compiled_notifier.notify_envelope(env.clone())
            } else {
                loaded_notifier.notify_envelope(env.clone())
            };
            assert_eq!(report.failures().count(), 0, "{report:?}");
            let want = expected(&env);
            let all = sink.wait_for(seen + want.len(), std::time::Duration::from_secs(5));
            let got = all[seen..].to_vec();
            seen = all.len();
            assert_eq!(got.len(), want.len(), "{event}: {got:?}");
            for ((path, content_type, body), r) in want.iter().zip(&got) {
                assert_eq!(&r.path, path, "{event}");
                assert_eq!(r.header("content-type"), Some(*content_type), "{event} {path}");
                assert_eq!(r.body, *body, "{event} {path}: {}", r.body_text());
            }
            // The signature covers the rendered card, not the envelope.
            let header = |name: &str| got[0].header(name).map(str::to_owned);
            assert_eq!(verifier.verify(header, &got[0].body, now()), Ok(()));
            // PagerDuty says nothing for events it has no use for: no request, reported.
            let pd = &report.channels[1];
            let sent = want.iter().any(|w| w.0 == "/pagerduty");
            assert_eq!(matches!(pd.outcome, Outcome::NoBody), !sent, "{event}: {pd}");
        }
    }
}

#[test]
fn dry_runs_show_rendered_bodies_with_secrets_masked() {
    let out = Command::new(env!("CARGO_BIN_EXE_notifier"))
        .args(["--settings", SETTINGS, "--no-log-file", "send", "run-failed", "--dry-run"])
        .args(["--payload", r#"{"experiment": {"title": "Stop the DB"}, "status": "failed"}"#, "--error", "boom"])
        .env("SINK", "https://hooks.example.com")
        .env("SECRET", SECRET)
        .env("PD_KEY", PD_KEY)
        .output()
        .expect("run notifier send");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(r#""type": "AdaptiveCard""#), "{text}");
    assert!(text.contains(r#""routing_key": "***""#), "{text}");
    assert!(text.contains("content-type: application/cloudevents+json; charset=UTF-8"), "{text}");
    assert!(text.contains("run-failed: Stop the DB (status failed): boom [SRE]"), "{text}");
    assert!(!text.contains(PD_KEY) && !text.contains(SECRET), "{text}");
}

#[test]
fn a_body_that_cannot_be_made_is_a_failure_with_its_reason() {
    let sink = Sink::start();
    let def = ChannelDef {
        events: notifier::EventSet::ALL,
        origin: Origin { file: Cow::Borrowed("test"), line: 1, column: 1 },
        timeout: std::time::Duration::from_secs(2),
        retries: 0,
        kind: ChannelKind::Http(HttpDef {
            url: Template::literal(sink.url("/x")),
            headers: Cow::Borrowed(&[]),
            verify_tls: true,
            forward_event_payload: true,
            signing_secret: None,
            body: BodyDef::Template {
                source: Cow::Borrowed(r#"{"n": {{ payload.n + 1 }}}"#),
                content_type: Cow::Borrowed("application/json"),
                options_json: Cow::Borrowed("{}"),
            },
        }),
    };
    let notifier = Notifier::builder(vec![def]).build();
    let report = notifier.notify(Event::RunFailed, json!({"n": "not a number"}), None);
    let Outcome::Failed { kind, reason } = &report.channels[0].outcome else { panic!("{report:?}") };
    assert_eq!(*kind, FailureKind::Body);
    assert!(reason.contains("the body template failed") && reason.contains("template line 1"), "{reason}");
    let report = notifier.notify(Event::RunFailed, json!({"n": 41}), None);
    assert_eq!(report.failures().count(), 0, "{report:?}");
    let got = sink.wait_for(1, std::time::Duration::from_secs(5));
    assert_eq!(got.len(), 1, "only the good event was sent");
    assert_eq!(got[0].json(), json!({"n": 42}));
    assert_eq!(notifier.stats().failed, 1);
}
