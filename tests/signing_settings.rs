//! A `signing_secret` that is valid base64 without its `=` padding (the reference
//! libraries of Standard Webhooks accept it, and so does the signer) is accepted by every
//! front door: `notifier check`, the `settings!` macro and the run-time loader; and the
//! requests signed with it verify with the from-spec verifier of `notifier-test-support`.
//! `check` once refused such a file while the signer accepted it (two decoders).

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use notifier::{Event, Notifier, PluginRegistry};
use notifier_test_support::Sink;
use notifier_test_support::webhooks::Verifier;
use serde_json::json;

const SETTINGS: &str = "tests/settings/unpadded_secret.yaml";
/// The secret of [`SETTINGS`]: 27 base64 digits, no padding.
const SECRET: &str = "whsec_dW5wYWRkZWQgc2VjcmV0IGtleSE";

notifier::settings! {
    // The secret is written in plain text on purpose; the macro warns about it.
    #[allow(deprecated)]
    mod signed {
        path: "tests/settings/unpadded_secret.yaml",
    }
}

fn env_for(sink: &Sink) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    let base = sink.url("");
    move |name| (name == "SINK").then(|| base.clone())
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

#[test]
fn the_settings_hold_an_unpadded_secret() {
    let text = std::fs::read_to_string(SETTINGS).unwrap();
    assert!(text.contains(&format!("signing_secret: {SECRET}\n")), "{text}");
    assert_ne!(SECRET.trim_start_matches("whsec_").len() % 4, 0, "the secret must need padding");
}

#[test]
fn check_accepts_an_unpadded_signing_secret() {
    let out = Command::new(env!("CARGO_BIN_EXE_notifier"))
        .args(["check", "--format", "json", SETTINGS])
        .env_remove("SINK")
        .output()
        .expect("run notifier check");
    let items: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json output");
    let codes: Vec<&str> = items.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["unset-variable", "plain-text-secret"], "{items:#?}");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn compiled_and_loaded_channels_sign_requests_that_verify() {
    let sink = Sink::start();
    let compiled = signed::Notifications::with(|b| b.env(env_for(&sink)));
    let report = compiled.notify(Event::RunFailed, json!({"n": 1}), None);
    assert_eq!(report.failures().count(), 0, "{report:?}");

    let loaded = notifier::load_channels(Path::new(SETTINGS), &PluginRegistry::new()).expect("the settings load");
    assert!(loaded.diagnostics.iter().all(|d| !d.is_error()), "{:?}", loaded.diagnostics);
    assert_eq!(loaded.skipped().count(), 0);
    let notifier = Notifier::builder(loaded.channels).env(env_for(&sink)).build();
    let report = notifier.notify(Event::RunFailed, json!({"n": 2}), None);
    assert_eq!(report.failures().count(), 0, "{report:?}");

    let requests = sink.requests();
    assert_eq!(requests.len(), 2);
    let verifier = Verifier::new(SECRET);
    for r in &requests {
        assert_eq!(r.path, "/signed");
        let header = |name: &str| r.header(name).map(str::to_owned);
        assert_eq!(verifier.verify(header, &r.body, now()), Ok(()), "{r:?}");
    }
}
