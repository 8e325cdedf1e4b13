//! Planted secrets never show: a distinctive secret set through `NotifierBuilder::env`
//! is used in a header, in the URL path and query, in plugin fields and as the signing
//! secret; then every output of the library is searched for it: delivery reports
//! (`Debug` and `Display`), `describe` (the dry run), `Debug` of every public channel
//! and configuration type, the reasons of channels that cannot be set up, the error and
//! panic messages of plugins that echo their configuration, the flush report of
//! background mode, and every log line (DEBUG included).
//!
//! Each test first checks that the secret really reached the endpoint or the plugin, so
//! the leak checks cannot pass because the secret was never used.

mod common;

use std::borrow::Cow;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::{DefExt, http, plugin};
use notifier_core::transport::HttpTarget;
use notifier_core::{
    ChannelDef, ChannelKind, Envelope, Event, Notifier, NotifierBuilder, Outcome, PluginConfig, PluginError,
};
use notifier_test_support::{Reply, Sink, refused_port};
use serde_json::{Value, json};

/// The planted secret: a space, `/`, `@`, `+` and `~`, so that it is percent-encoded in
/// URLs; `7f3a9c` and `Pl4nted` are what no output may contain, in any encoding.
const TOKEN: &str = "Pl4nted-7f3a9c-t0ken s/@+~";
/// The planted signing secret: `whsec_` + base64 of `PLANTED-SIGN-qwzk-3b1d!`.
const SIGNING: &str = "whsec_UExBTlRFRC1TSUdOLXF3emstM2IxZCE=";
/// What must appear nowhere: parts of both secrets that survive any escaping, and the
/// signing key's bytes as text.
const MARKERS: &[&str] = &["7f3a9c", "Pl4nted", "UExBTlRFRC1TSUdOLXF3emst", "qwzk-3b1d"];

fn env(name: &str) -> Option<String> {
    match name {
        "PLANT_TOKEN" => Some(TOKEN.to_owned()),
        "PLANT_SIGNING" => Some(SIGNING.to_owned()),
        // A whole URL with the secret as its password and in its path.
        "PLANT_URL" => Some(format!("ftp://user:{TOKEN}@files.example/{TOKEN}")),
        // A header value that would inject a second header.
        "PLANT_INJECT" => Some(format!("{TOKEN}\r\nX-Injected: 1")),
        _ => None,
    }
}

fn builder(channels: Vec<ChannelDef>) -> NotifierBuilder {
    Notifier::builder(channels).env(env).event_budget(Duration::from_secs(20))
}

/// Panics with every leak found in `text`.
#[track_caller]
fn assert_no_leak(what: &str, text: &str) {
    let found: Vec<&str> = MARKERS.iter().copied().filter(|m| text.contains(m)).collect();
    assert!(found.is_empty(), "{what} leaks {found:?}:\n{text}");
}

/// Every log line of the test binary, from every thread (the delivery runtime's too).
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = Capture(buffer.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this test binary");
        buffer
    })
}

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn log_text() -> String {
    String::from_utf8_lossy(&logs().lock().unwrap()).into_owned()
}

/// An HTTP channel using the secret everywhere it can be: path, query, a credential
/// header, an ordinary header and the signing secret.
fn planted_http(base: &str) -> ChannelDef {
    http(&format!("{base}/hooks/${{PLANT_TOKEN}}?sig=${{PLANT_TOKEN}}&plain=${{PLANT_TOKEN}}"))
        .header("Authorization", "Bearer ${PLANT_TOKEN}")
        .header("X-Hook", "${PLANT_TOKEN}")
        .signed("${PLANT_SIGNING}")
        .timeout(Duration::from_secs(3))
}

/// Everything a caller can print about a notifier and one event.
fn outputs(n: &Notifier, report: &notifier_core::DeliveryReport) -> Vec<(String, String)> {
    let env = Envelope::new(Event::RunFailed, json!({"title": "t"}), Some(json!("boom")));
    let mut out = vec![
        ("report Debug".to_owned(), format!("{report:?}")),
        ("report Display".to_owned(), report.channels.iter().map(|c| format!("{c}\n")).collect()),
        ("describe".to_owned(), n.describe(&env).into_iter().map(|(_, s)| s).collect()),
        ("channel definitions".to_owned(), format!("{:?}", n.channels().collect::<Vec<_>>())),
        ("stats".to_owned(), format!("{:?}", n.stats())),
    ];
    for (i, def) in n.channels().enumerate() {
        out.push((format!("label #{i}"), def.label()));
        if let ChannelKind::Http(h) = &def.kind {
            let resolved = match HttpTarget::resolve(h, &env_lookup) {
                Ok(t) => format!("{t:?}\n{}", t.describe_request(Some(b"{}"))),
                Err(e) => format!("{e} / {e:?}"),
            };
            out.push((format!("HttpTarget #{i}"), resolved));
        }
    }
    out
}

fn env_lookup(name: &str) -> Option<String> {
    env(name)
}

#[test]
fn delivered_and_refused_by_status() {
    logs();
    // 200 for the hook; 500 with the request echoed in the body for `/fail…`.
    let sink = Sink::with(|r, _| {
        if r.path.starts_with("/fail") { Reply::status(500).body(format!("echo {}", r.path)) } else { Reply::ok() }
    });
    let n = builder(vec![planted_http(&sink.url("")), planted_http(&sink.url("/fail")).retries(1)]).build();
    let report = n.notify(Event::RunStarted, json!({"title": "t"}), None);
    assert_eq!(report.channels[0].outcome, Outcome::Delivered { status: Some(200) });
    assert!(report.channels[1].is_failure());
    let reqs = sink.requests();
    assert_eq!(reqs[0].header("Authorization"), Some(format!("Bearer {TOKEN}").as_str()), "the secret was sent");
    assert_eq!(reqs[0].header("X-Hook"), Some(TOKEN));
    assert!(reqs[0].path.contains("Pl4nted-7f3a9c-t0ken%20s/@+~?sig="), "{}", reqs[0].path);
    assert!(reqs[0].header("webhook-signature").is_some());
    for (what, text) in outputs(&n, &report) {
        assert_no_leak(&what, &text);
    }
    assert_no_leak("logs", &log_text());
}

#[test]
fn transport_failures_never_show_the_secret() {
    logs();
    // A redirect that echoes the request (percent-encoded secret) in its Location, a 307
    // to a path that fails (the final URL differs from ours), a hung endpoint.
    let sink = Sink::with(|r, _| {
        if r.path.starts_with("/moved") {
            Reply::status(302).header("Location", &format!("http://elsewhere.example{}&again", r.path))
        } else if r.path.starts_with("/temp") {
            Reply::status(307).header("Location", &format!("/final{}", r.path))
        } else if r.path.starts_with("/final") {
            Reply::status(503)
        } else {
            Reply::ok().delay(Duration::from_secs(2))
        }
    });
    let tls = Sink::start_tls(|_, _| Reply::ok());
    let refused = format!("http://127.0.0.1:{}", refused_port());
    let n = builder(vec![
        planted_http(&sink.url("/moved")),
        planted_http(&sink.url("/temp")).retries(1),
        planted_http(&refused).retries(1),
        planted_http(&tls.url("")),
        planted_http(&sink.url("/hang")).timeout(Duration::from_millis(300)),
    ])
    .build();
    let report = n.notify(Event::RunFailed, json!({}), Some(json!("boom")));
    assert!(report.channels.iter().all(|c| c.is_failure()), "{report:#?}");
    assert!(sink.requests().iter().any(|r| r.path.starts_with("/final/temp/hooks/Pl4nted")), "followed the 307");
    for (what, text) in outputs(&n, &report) {
        assert_no_leak(&what, &text);
    }
    assert_no_leak("logs", &log_text());
}

#[test]
fn channels_that_cannot_be_set_up_say_why_without_the_secret() {
    logs();
    let sink = Sink::start();
    let n = builder(vec![
        http("${PLANT_URL}"),
        http(&sink.url("/x")).header("X-Inject", "${PLANT_INJECT}"),
        http(&sink.url("/y")).signed("${PLANT_TOKEN}"),
        http(&sink.url("/z/${PLANT_TOKEN}")).header("X-Missing", "${PLANT_NOT_SET}"),
    ])
    .build();
    let report = n.notify(Event::RunStarted, json!({}), None);
    let reasons: Vec<String> = report.channels.iter().map(|c| c.to_string()).collect();
    assert!(reasons[0].contains("not a valid http(s) URL"), "{reasons:?}");
    assert!(reasons[1].contains("X-Inject"), "{reasons:?}");
    assert!(reasons[2].contains("signing secret is not base64"), "{reasons:?}");
    assert!(reasons[3].contains("`PLANT_NOT_SET` is not set"), "{reasons:?}");
    assert!(sink.requests().is_empty(), "nothing is sent on a channel that is not set up");
    for (what, text) in outputs(&n, &report) {
        assert_no_leak(&what, &text);
    }
    assert_no_leak("logs", &log_text());
}

/// What the plugins saw, to prove they got the secret.
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Fails with its whole configuration in every form a careless plugin could use.
fn echoing(config: &PluginConfig, _: &Envelope) -> Result<(), PluginError> {
    SEEN.lock().unwrap().push(config.get_str("webhook").unwrap_or_default().to_owned());
    let raw = Value::Object(config.entry().clone());
    Err(PluginError::failed(format!(
        "debug {config:?} | raw {raw} | pretty {raw:#} | field {:?} {:?} | redacted {}",
        config.get_str("webhook"),
        config.get_str("token"),
        config.redacted()
    )))
}

fn config_error(config: &PluginConfig, _: &Envelope) -> Result<(), PluginError> {
    Err(PluginError::Config(format!("bad nested value {:?}", config.get("nested"))))
}

fn panicking(config: &PluginConfig, _: &Envelope) -> Result<(), PluginError> {
    panic!("cannot use {} / {:?}", config.get_str("webhook").unwrap_or_default(), config.entry());
}

/// Prints its configuration (for the `Debug` check) and succeeds.
fn debugging(config: &PluginConfig, _: &Envelope) -> Result<(), PluginError> {
    SEEN.lock().unwrap().push(format!("{config:?} {}", config.redacted()));
    Ok(())
}

#[test]
fn plugins_that_echo_their_configuration() {
    logs();
    let fields = json!({
        "webhook": "https://hooks.example/${PLANT_TOKEN}",
        "token": "${PLANT_TOKEN}",
        "nested": {"list": ["x-${PLANT_TOKEN}"], "signing_key": "${PLANT_SIGNING}"},
    });
    let n = builder(vec![
        plugin("acme.echo", fields.clone(), echoing),
        plugin("acme.config", fields.clone(), config_error),
        plugin("acme.panic", fields.clone(), panicking),
        plugin("acme.debug", fields, debugging),
    ])
    .build();
    let report = n.notify(Event::RunDeviated, json!({}), None);
    assert_eq!(report.channels[3].outcome, Outcome::Delivered { status: None });
    assert!(report.channels[..3].iter().all(|c| c.is_failure()), "{report:#?}");
    let seen = SEEN.lock().unwrap().clone();
    assert!(seen.iter().any(|s| s == &format!("https://hooks.example/{TOKEN}")), "the plugin got the secret: {seen:?}");
    for s in seen.iter().filter(|s| s.starts_with("PluginConfig(")) {
        assert_no_leak("PluginConfig Debug inside the plugin", s);
    }
    for (what, text) in outputs(&n, &report) {
        assert_no_leak(&what, &text);
    }
    assert_no_leak("logs", &log_text());
}

#[test]
fn background_mode_and_its_flush_report() {
    logs();
    let sink = Sink::with(|r, _| if r.path.starts_with("/fail") { Reply::status(500) } else { Reply::ok() });
    let n = builder(vec![
        planted_http(&sink.url("")),
        planted_http(&sink.url("/fail")),
        plugin("acme.echo", json!({"webhook": "${PLANT_TOKEN}"}), echoing),
    ])
    .background(true)
    .build();
    let report = n.notify(Event::RunCompleted, json!({}), None);
    let flushed = n.flush(Duration::from_secs(10));
    assert_eq!(flushed.completed.len(), 3, "{flushed:?}");
    assert_eq!(sink.requests()[0].header("X-Hook"), Some(TOKEN));
    assert_no_leak(
        "flush report",
        &format!("{flushed:?} {}", flushed.completed.iter().map(|(_, c)| c.to_string()).collect::<String>()),
    );
    for (what, text) in outputs(&n, &report) {
        assert_no_leak(&what, &text);
    }
    drop(n);
    assert_no_leak("logs", &log_text());
}

#[test]
fn debug_of_public_types_built_by_hand() {
    // Resolved values only exist in `HttpTarget` and `PluginConfig`; the definitions
    // keep `${VAR}` references.
    let def = planted_http("https://h.example");
    let ChannelKind::Http(h) = &def.kind else { unreachable!() };
    let target = HttpTarget::resolve(h, &env_lookup).unwrap();
    assert!(target.url.as_str().contains("7f3a9c"), "resolved");
    assert_no_leak("HttpTarget", &format!("{target:?} {target:#?}"));
    assert_no_leak("HttpTarget::signing", &format!("{:?}", target.signing));
    assert_no_leak("ChannelDef", &format!("{def:?} {def:#?}"));
    let mut redactor = notifier_core::redact::Redactor::default();
    redactor.add(TOKEN);
    let entry = json!({"type": "plugin", "module": "m", "webhook": TOKEN, "password": "hunter2hunter2"});
    let Value::Object(entry) = entry else { unreachable!() };
    let config = PluginConfig::with_redactor(entry.clone(), redactor.clone());
    let plain = PluginConfig::new(entry);
    for text in [format!("{config:?}"), config.redacted().to_string(), format!("{redactor:?}"), config.redact(TOKEN)] {
        assert_no_leak("PluginConfig / Redactor", &text);
    }
    assert!(!format!("{plain:?}").contains("hunter2"), "credential keys are masked without a redactor too");
    let template = notifier_core::Template::parse("Bearer ${PLANT_TOKEN}").unwrap();
    assert_eq!(format!("{template:?}"), "Template(\"Bearer ${PLANT_TOKEN}\")");
    let origin = notifier_core::Origin { file: Cow::Borrowed("s.yaml"), line: 1, column: 1 };
    assert_no_leak("Origin", &format!("{origin:?}"));
}
