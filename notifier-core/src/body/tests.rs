use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::*;
use crate::event::Event;

fn render(body: &Body, env: Envelope) -> Result<Option<String>, RenderError> {
    body.render(&Arc::new(env)).map(|b| b.map(|b| String::from_utf8(b).unwrap()))
}

#[test]
fn interpolated_values_are_json_values() {
    let body = Body::template(
        r#"{"t": {{ title }}, "p": {{ payload.experiment }}, "n": {{ nope.x }}}"#,
        "application/json",
        Map::new(),
    )
    .unwrap();
    let out = render(&body, samples::envelope(Event::RunFailed)).unwrap().unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["t"], json!("Stop the DB"));
    assert_eq!(v["p"]["title"], json!("Stop the DB"));
    assert_eq!(v["n"], Value::Null);
}

#[test]
fn text_bodies_are_not_escaped() {
    let body = Body::template("{{ event }}: {{ title }}", "text/plain", Map::new()).unwrap();
    assert_eq!(render(&body, samples::envelope(Event::RunFailed)).unwrap().unwrap(), "run-failed: Stop the DB");
}

#[test]
fn syntax_errors_have_a_range() {
    let err = Body::template("{\"a\": {{ event }", "application/json", Map::new()).unwrap_err();
    let BodyError::Syntax { range, message } = err else { panic!() };
    assert!(range.is_some(), "{message}");
}

#[test]
fn an_empty_render_sends_nothing_and_invalid_json_is_an_error() {
    let body = Body::template("{% if outcome == 'failed' %}{}{% endif %}", "application/json", Map::new()).unwrap();
    assert_eq!(render(&body, samples::envelope(Event::RunStarted)).unwrap(), None);
    let body = Body::template(r#"{"a": "{{ event }}"}"#, "application/json", Map::new()).unwrap();
    let err = render(&body, samples::envelope(Event::RunStarted)).unwrap_err();
    assert!(err.message.contains("not valid JSON"), "{err}");
}

#[test]
fn runaway_templates_run_out_of_fuel() {
    let body = Body::template(
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "text/plain",
        Map::new(),
    )
    .unwrap();
    let err = render(&body, samples::envelope(Event::RunStarted)).unwrap_err();
    assert!(err.message.contains("fuel"), "{err}");
}

#[test]
fn unknown_variables_are_listed_with_their_place() {
    let src =
        r#"{"a": {{ paylod.title }}, "b": {{ payload.x }}{% set y = 1 %}, "c": {{ y }}, "d": {{ range(2) | list }}}"#;
    let body = Body::template(src, "application/json", Map::new()).unwrap();
    let unknown = body.unknown_variables();
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert_eq!(unknown[0].0, "paylod.title");
    assert_eq!(&src[unknown[0].1.clone().unwrap()], "paylod.title");
}

#[test]
fn every_format_renders_valid_bodies_for_every_sample() {
    for format in FORMATS {
        let mut options = Map::new();
        if format.name == "pagerduty" {
            options.insert("routing_key".into(), json!("R0UT1NGKEY"));
        }
        let body = Body::format(format.name, options).unwrap_or_else(|e| panic!("{}: {e}", format.name));
        for event in Event::ALL {
            let out =
                render(&body, samples::envelope(event)).unwrap_or_else(|e| panic!("{} {event}: {e}", format.name));
            if let Some(out) = out {
                serde_json::from_str::<Value>(&out).unwrap_or_else(|e| panic!("{} {event}: {e}\n{out}", format.name));
            }
        }
    }
}

#[test]
fn the_envelope_template_gives_the_envelope_value() {
    let body = Body::template(FORMATS[0].template_text(), "application/json", Map::new()).unwrap();
    for event in Event::ALL {
        let env = samples::envelope(event);
        let want: Value = serde_json::from_slice(&env.to_wire_json()).unwrap();
        let got: Value = serde_json::from_str(&render(&body, env).unwrap().unwrap()).unwrap();
        assert_eq!(got, want, "{event}");
    }
}

#[test]
fn iso_times() {
    assert_eq!(iso_time(0.0), "1970-01-01T00:00:00.000000Z");
    assert_eq!(iso_time(samples::SAMPLE_TS), "2026-11-29T18:25:04.494940Z");
    assert_eq!(iso_time(951_782_400.5), "2000-02-29T00:00:00.500000Z");
    assert_eq!(iso_time(-1.0), "1969-12-31T23:59:59.000000Z");
}

#[test]
fn content_types() {
    assert!(is_json("application/json; charset=UTF-8"));
    assert!(is_json("application/cloudevents+json"));
    assert!(!is_json("text/plain"));
    assert!(is_valid_content_type("application/json; charset=UTF-8"));
    assert!(!is_valid_content_type("json"));
    assert!(!is_valid_content_type("text/plain\r\nX: y"));
}

#[test]
fn invalid_json_is_located_in_the_template() {
    let src = r#"{"text": "Run {{ title }} failed"}"#;
    let body = Body::template(src, "application/json", Map::new()).unwrap();
    let err = body.render_located(&Arc::new(samples::envelope(Event::RunFailed))).unwrap_err();
    assert_eq!(&src[err.range.unwrap()], "title");
    let src = "{\"a\": 1,\n \"b\": {{ event }} }}";
    let body = Body::template(src, "application/json", Map::new()).unwrap();
    let err = body.render_located(&Arc::new(samples::envelope(Event::RunFailed))).unwrap_err();
    let range = err.range.clone().unwrap();
    assert_eq!(&src[range.clone()], "}", "{err}");
    assert_eq!(range.start, src.len() - 1);
}
