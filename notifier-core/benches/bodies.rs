//! Body rendering costs (issue 13), measured with divan in one run:
//!
//! * `render_teams_card`: the `teams` format (an Adaptive Card) rendered for one
//!   `run-failed` notification with the journal chaostoolkit-lib 1.45.1 recorded
//!   (`conformance/golden/run-failed-journal.json`, 1.6 KB) — goal ≤ 5 µs;
//! * `render_custom_template`: a typical custom JSON template (a dozen expressions,
//!   filters, a condition), same envelope — goal ≤ 5 µs;
//! * `render_envelope_default`: the default body, chaostoolkit-lib's envelope through the
//!   Python-compatible encoder (what every channel without `template`/`format` sends);
//! * `compile_teams_card`: compiling the format, done once per channel when a notifier is
//!   built, never per notification.
//!
//! `cargo bench -p notifier-core --bench bodies`

use std::sync::Arc;

use divan::{Bencher, black_box};
use notifier_core::body::Body;
use notifier_core::{Envelope, Event};
use serde_json::{Map, Value};

fn main() {
    divan::main();
}

/// The recorded `run-failed` envelope.
fn envelope() -> Arc<Envelope> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../conformance/golden/run-failed-journal.json");
    let recording: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("the recording")).unwrap();
    let body: Value = serde_json::from_str(recording["post"]["body"].as_str().unwrap()).unwrap();
    Arc::new(Envelope::at(Event::RunFailed, body["payload"].clone(), body.get("error").cloned(), 1_795_976_704.5))
}

const CUSTOM: &str = r#"{
  "title": {{ headline }},
  "text": {{ summary | truncate(500) }},
  "experiment": {{ title }},
  "status": {{ status }},
  "deviated": {{ deviated }},
  "duration": {{ duration }},
  "at": {{ time }},
  "node": {{ payload.node }},
  "probe": {{ payload.steady_states.before.probes[0].activity.name }},
  {%- if error %}
  "error": {{ error_text | truncate(300) }},
  {%- endif %}
  "team": {{ options.team }}
}"#;

#[divan::bench]
fn render_teams_card(bencher: Bencher) {
    let body = Body::format("teams", Map::new()).unwrap();
    let env = envelope();
    assert!(body.render(&env).unwrap().is_some());
    bencher.bench_local(|| body.render(black_box(&env)));
}

#[divan::bench]
fn render_custom_template(bencher: Bencher) {
    let mut options = Map::new();
    options.insert("team".into(), Value::String("SRE".into()));
    let body = Body::template(CUSTOM, "application/json", options).unwrap();
    let env = envelope();
    let out = body.render(&env).unwrap().unwrap();
    assert!(String::from_utf8(out).unwrap().contains("\"probe\": \"call-closed-port\""));
    bencher.bench_local(|| body.render(black_box(&env)));
}

#[divan::bench]
fn render_envelope_default(bencher: Bencher) {
    let body = Body::envelope();
    let env = envelope();
    bencher.bench_local(|| body.render(black_box(&env)));
}

#[divan::bench]
fn compile_teams_card(bencher: Bencher) {
    bencher.bench_local(|| Body::format("teams", black_box(Map::new())));
}
