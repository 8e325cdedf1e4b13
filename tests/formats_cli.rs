//! `notifier formats`: the list names every built-in format with its content type and
//! options; `formats show NAME` prints exactly the template the format renders (so a copy
//! under `template:` behaves the same); `--render EVENT` prints a sample body; an unknown
//! name exits 2 with a suggestion.

use std::process::{Command, Output};
use std::sync::Arc;

use notifier_core::Event;
use notifier_core::body::{Body, FORMATS, samples};
use serde_json::{Map, Value};

fn notifier(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_notifier")).args(args).output().expect("run notifier")
}

#[test]
fn the_list_names_every_format_and_option() {
    let o = notifier(&["formats"]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    for f in FORMATS {
        assert!(text.contains(&format!("\n{:<13} {}", f.name, f.summary)), "{}:\n{text}", f.name);
        assert!(text.contains(&format!("Content-Type: {}", f.content_type)), "{}", f.name);
        for opt in f.options {
            assert!(text.contains(&format!("options.{}", opt.name)), "{}.{}", f.name, opt.name);
        }
    }
}

#[test]
fn show_prints_the_template_a_copy_renders_the_same() {
    for f in FORMATS.iter().filter(|f| f.template.is_some()) {
        let o = notifier(&["formats", "show", f.name]);
        assert_eq!(o.status.code(), Some(0), "{}", f.name);
        let shown = String::from_utf8(o.stdout).unwrap();
        assert_eq!(shown, f.template_text());
        // The copy, as a `template:` with the format's content type and options, makes
        // the same body for every event.
        let mut options = Map::new();
        if f.name == "pagerduty" {
            options.insert("routing_key".into(), Value::String("k".into()));
        }
        let resolved = f.resolve_options(&options).unwrap();
        let copy = Body::template(&shown, f.content_type, resolved).unwrap();
        let original = Body::format(f.name, options).unwrap();
        for event in Event::ALL {
            let env = Arc::new(samples::envelope(event));
            assert_eq!(copy.render(&env).unwrap(), original.render(&env).unwrap(), "{} {event}", f.name);
        }
    }
}

#[test]
fn render_prints_a_sample_body_and_unknown_names_are_refused() {
    let o = notifier(&["formats", "show", "teams", "--render", "run-failed"]);
    assert_eq!(o.status.code(), Some(0));
    let body: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(body["attachments"][0]["content"]["type"], "AdaptiveCard");
    let o = notifier(&["formats", "show", "pagerduty", "--render", "run-started"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("sends nothing for `run-started`"));
    let o = notifier(&["formats", "show", "temas"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did you mean `teams`?"), "{o:?}");
}
