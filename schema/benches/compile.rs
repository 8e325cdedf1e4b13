//! `compile()` on realistic settings files, and each stage on its own to see where the
//! time goes.
//!
//!     cargo bench -p notifier-schema --bench compile

use notifier_schema::{SourceFile, compile};

fn main() {
    divan::main();
}

/// A settings file as teams write them: controls and other keys next to a handful of
/// channels, with filters, headers and `${VAR}` secrets.
const REALISTIC: &str = r#"# Chaos Toolkit settings
controls:
  opentracing:
    provider:
      type: python
      module: chaostracing.control
auths:
  hooks.example.com:
    type: bearer
    value: ${HOOKS_TOKEN:-unset}
runtime:
  rollbacks:
    strategy: always
notifications:
  - type: http
    url: https://hooks.example.com/chaos/${TEAM:-sre}
    verify_tls: true
    headers:
      Authorization: "Bearer ${HOOKS_TOKEN:-unset}"
      X-Team: sre
    events:
      - run-started
      - run-completed
      - run-failed
      - run-deviated
  - type: http
    url: https://status.example.com/api/experiments
    forward_event_payload: false
    events: [run-failed, validate-failed]
    timeout: 2.5
    retries: 2
  - type: plugin
    module: chaosslack.notification
    token: ${SLACK_TOKEN:-unset}
    channel: chaos-engineering
    events:
      - run-failed
      - run-deviated
  - type: plugin
    module: notifier.jsonl
    path: /var/log/chaos/events.jsonl
"#;

fn many_channels(n: usize) -> String {
    let mut text = String::from("notifications:\n");
    for i in 0..n {
        text.push_str(&format!(
            "  - type: http\n    url: https://hooks{i}.example.com/chaos\n    headers: {{X-Index: \"{i}\"}}\n    events: [run-failed, run-completed]\n"
        ));
    }
    text
}

#[divan::bench]
fn realistic_file() -> bool {
    compile(SourceFile::new("settings.yaml", divan::black_box(REALISTIC))).has_errors()
}

#[divan::bench]
fn documented_example() -> bool {
    let text = include_str!("../../examples/settings.yaml");
    compile(SourceFile::new("settings.yaml", divan::black_box(text))).has_errors()
}

#[divan::bench(args = [10, 100, 1000])]
fn channels(bencher: divan::Bencher, n: usize) {
    let text = many_channels(n);
    bencher.bench(|| compile(SourceFile::new("settings.yaml", divan::black_box(text.as_str()))).has_errors());
}

/// The stages of `compile()` on the realistic file.
mod stages {
    use super::REALISTIC;
    use notifier_schema::located::to_json;
    use notifier_schema::yaml::parse;

    #[divan::bench]
    fn yaml_parse() -> usize {
        parse(divan::black_box(REALISTIC)).map_or(0, |n| n.map_or(0, |n| n.span.end.line))
    }

    #[divan::bench]
    fn to_json_with_positions(bencher: divan::Bencher) {
        let root = parse(REALISTIC).unwrap();
        bencher.bench(|| to_json(divan::black_box(root.as_ref())).duplicates.len());
    }

    #[divan::bench]
    fn json_schema_validation(bencher: divan::Bencher) {
        let doc = to_json(parse(REALISTIC).unwrap().as_ref()).value;
        let _ = notifier_schema::validate::violations(&doc);
        bencher.bench(|| notifier_schema::validate::violations(divan::black_box(&doc)).len());
    }
}
