//! The `settings!` macro's compiled-in table and `load_channels` (the run-time loader)
//! must behave identically: same requests (method, path, headers, body) and the same
//! plugin calls, for all 13 events, against a real local server.
//!
//! This is also the end-to-end "pass" test of the macro: a program with embedded
//! settings, a real HTTP server and a Rust plugin.

use std::path::Path;
use std::sync::Mutex;

use notifier::{Envelope, Event, Notifier, PluginConfig, PluginError, PluginRegistry};
use notifier_test_support::{Recorded, Sink};
use serde_json::{Value, json};

/// Plugin calls: (function, channel entry, envelope) as JSON.
static CALLS: Mutex<Vec<(String, Value, Value)>> = Mutex::new(Vec::new());

mod recorder {
    use super::*;

    pub fn notify(config: &PluginConfig, envelope: &Envelope) -> Result<(), PluginError> {
        CALLS.lock().unwrap().push(("notify".into(), Value::Object(config.entry().clone()), envelope.to_value()));
        Ok(())
    }

    pub fn other(config: &PluginConfig, envelope: &Envelope) -> Result<(), PluginError> {
        CALLS.lock().unwrap().push(("other".into(), Value::Object(config.entry().clone()), envelope.to_value()));
        Ok(())
    }
}

notifier::settings! {
    mod basic {
        path: "tests/settings/basic.yaml",
        plugins: { "acme.recorder" => crate::recorder },
    }
}

notifier::settings! {
    // `events: []` is deliberate here; the macro reports it as a (deprecation) warning.
    #[allow(deprecated)]
    mod filters {
        path: "tests/settings/filters.yaml",
        plugins: { "acme.recorder" => crate::recorder },
    }
}

notifier::settings! {
    mod timeouts {
        path: "tests/settings/timeouts.yaml",
        plugins: { "acme.recorder" => crate::recorder },
    }
}

fn registry() -> PluginRegistry {
    let mut r = PluginRegistry::new();
    r.register("acme.recorder", "notify", recorder::notify);
    r.register("acme.recorder", "other", recorder::other);
    r
}

fn env_for(sink: &Sink) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    let base = sink.url("");
    move |name| match name {
        "SINK" => Some(base.clone()),
        "TOKEN" => Some("t0ken-value".into()),
        _ => None,
    }
}

/// Every event with a fixed payload, error and timestamp, so both runs send the same bytes.
fn send_all(notify: &dyn Fn(Envelope)) {
    for (i, event) in Event::ALL.into_iter().enumerate() {
        let error = event.name().ends_with("failed").then(|| notifier::exception("ChaosException", "boom"));
        notify(Envelope::at(
            event,
            json!({"title": "eq", "n": i, "nested": {"z": [1.5, null]}}),
            error,
            1.5 + i as f64,
        ));
    }
}

fn comparable(r: &Recorded) -> (String, String, Vec<(String, String)>, Vec<u8>, bool) {
    let headers = r.headers.iter().filter(|(k, _)| !k.eq_ignore_ascii_case("host")).cloned().collect();
    (r.method.clone(), r.path.clone(), headers, r.body.clone(), r.has_body)
}

fn check(path: &str, compiled: impl Fn(&Sink) -> Box<dyn Fn(Envelope)>) {
    let sink = Sink::start();
    CALLS.lock().unwrap().clear();
    send_all(&*compiled(&sink));
    let compiled_requests = sink.requests();
    let compiled_calls = std::mem::take(&mut *CALLS.lock().unwrap());

    let loaded = notifier::load_channels(Path::new(path), &registry()).expect("the settings load");
    let notifier = Notifier::builder(loaded.channels).env(env_for(&sink)).build();
    send_all(&|env| {
        notifier.notify_envelope(env);
    });
    let loaded_requests = sink.requests().split_off(compiled_requests.len());
    let loaded_calls = std::mem::take(&mut *CALLS.lock().unwrap());

    assert!(!compiled_requests.is_empty() || !compiled_calls.is_empty(), "{path}: nothing was sent");
    assert_eq!(compiled_requests.len(), loaded_requests.len(), "{path}: request count");
    for (a, b) in compiled_requests.iter().zip(&loaded_requests) {
        assert_eq!(comparable(a), comparable(b), "{path}: compiled vs loaded request");
    }
    assert_eq!(compiled_calls, loaded_calls, "{path}: plugin calls");
}

/// The tests share the plugin recorder: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn basic_settings_behave_the_same_compiled_or_loaded() {
    let _serial = serial();
    check("tests/settings/basic.yaml", |sink| {
        let n = basic::Notifications::with(|b| b.env(env_for(sink)));
        Box::new(move |env| {
            n.notify_envelope(env);
        })
    });
    // And what was sent is what the settings say.
    let sink = Sink::start();
    let n = basic::Notifications::with(|b| b.env(env_for(&sink)));
    let report = n.notify(Event::RunFailed, json!({"k": 1}), Some(json!("err")));
    assert_eq!(report.failures().count(), 0, "{report:?}");
    let reqs = sink.requests();
    let paths: Vec<&str> = reqs.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/all-post", "/get-only?team=chaos"]);
    assert_eq!(reqs[0].header("Authorization"), Some("Bearer t0ken-value"));
    assert_eq!(reqs[1].method, "GET");
}

#[test]
fn filters_behave_the_same_compiled_or_loaded() {
    let _serial = serial();
    check("tests/settings/filters.yaml", |sink| {
        let n = filters::Notifications::with(|b| b.env(env_for(sink)));
        Box::new(move |env| {
            n.notify_envelope(env);
        })
    });
}

#[test]
fn the_generated_table_mirrors_the_file() {
    assert_eq!(basic::CHANNELS.len(), 3);
    assert_eq!(basic::EVENTS_0, notifier::EventSet::ALL);
    assert_eq!(basic::EVENTS_1, notifier::EventSet::of(&[Event::RunFailed, Event::RunDeviated, Event::ValidateFailed]));
    assert_eq!(filters::EVENTS_4, notifier::EventSet::ALL, "events: [] means every event");
    assert_eq!(basic::CHANNELS[0].origin.line, 5);
    assert_eq!(filters::CHANNELS[0].timeout, std::time::Duration::from_millis(2500));
    assert_eq!(filters::CHANNELS[1].retries, 2);
    // Secrets stay references in the binary.
    let notifier::ChannelKind::Http(h) = &basic::CHANNELS[0].kind else { panic!("http") };
    assert_eq!(h.headers[0].1.source_text(), "Bearer ${TOKEN}");
}

#[test]
fn compiled_and_loaded_tables_hold_the_same_timeouts() {
    for (path, compiled) in [
        ("tests/settings/basic.yaml", &basic::CHANNELS[..]),
        ("tests/settings/filters.yaml", &filters::CHANNELS[..]),
        ("tests/settings/timeouts.yaml", &timeouts::CHANNELS[..]),
    ] {
        let loaded = notifier::load_channels(Path::new(path), &registry()).expect("the settings load").channels;
        let timeouts = |defs: &[notifier::ChannelDef]| defs.iter().map(|d| (d.timeout, d.retries)).collect::<Vec<_>>();
        assert_eq!(timeouts(compiled), timeouts(&loaded), "{path}");
    }
    assert_eq!(timeouts::CHANNELS[0].timeout, std::time::Duration::from_micros(1500));
}

#[test]
fn the_async_dispatch_sends_what_the_blocking_one_sends() {
    let _serial = serial();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    for path in ["tests/settings/basic.yaml", "tests/settings/filters.yaml"] {
        check(path, |sink| {
            let n = basic::Notifications::with(|b| b.env(env_for(sink)));
            let filters = filters::Notifications::with(|b| b.env(env_for(sink)));
            let is_basic = path.ends_with("basic.yaml");
            let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
            Box::new(move |env| {
                let report = if is_basic {
                    runtime.block_on(n.notify_envelope_async(env))
                } else {
                    runtime.block_on(filters.notify_envelope_async(env))
                };
                assert_eq!(report.failures().count(), 0, "{report:?}");
            })
        });
    }
    // And the generated `notify_async` reports like `notify`.
    let sink = Sink::start();
    let n = basic::Notifications::with(|b| b.env(env_for(&sink)));
    let report = runtime.block_on(n.notify_async(Event::RunFailed, json!({"k": 1}), Some(json!("err"))));
    let outcomes: Vec<String> = report.channels.iter().map(|c| format!("{:?}", c.outcome)).collect();
    let blocking = n.notify(Event::RunFailed, json!({"k": 1}), Some(json!("err")));
    assert_eq!(outcomes, blocking.channels.iter().map(|c| format!("{:?}", c.outcome)).collect::<Vec<_>>());
    assert_eq!(sink.requests().len(), 4, "two requests each way");
}
