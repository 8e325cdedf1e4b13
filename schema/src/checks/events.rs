//! The `events` filter of a channel.

use serde_json::{Map, Value};

use notifier_core::Event;

use super::describe::describe;
use crate::code::Code;
use crate::report::Report;
use crate::suggest::did_you_mean;

/// Checks `events`: a list of known, distinct event names.
pub(super) fn check_events(ptr: &str, entry: &Map<String, Value>, r: &mut Report<'_>) {
    let ep = format!("{ptr}/events");
    let names = || Event::names();
    match entry.get("events") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) if items.is_empty() => r
            .warning(Code::EmptyEvents, &ep, "`events: []` sends every event")
            .help("an empty filter means no filter; remove the key, or list the events you want"),
        Some(Value::Array(items)) => {
            let mut seen = Vec::new();
            for (j, item) in items.iter().enumerate() {
                let ip = format!("{ep}/{j}");
                match item {
                    Value::String(name) if Event::from_name(name).is_some() => {
                        if seen.contains(name) {
                            r.warning(Code::DuplicateEvent, &ip, format!("`{name}` is listed twice"));
                        }
                        seen.push(name.clone());
                    }
                    Value::String(name) => {
                        let reported = r.error(Code::UnknownEvent, &ip, format!("unknown event `{name}`"));
                        match did_you_mean(name, names()) {
                            Some(s) => reported.fix(s).help(format!("did you mean `{s}`?")),
                            None => {
                                reported.help(format!("the events are: {}", names().collect::<Vec<_>>().join(", ")))
                            }
                        }
                    }
                    other => r
                        .error(
                            Code::UnknownEvent,
                            &ip,
                            format!("an event name must be a string, found {}", describe(other)),
                        )
                        .help(format!("the events are: {}", names().collect::<Vec<_>>().join(", "))),
                }
            }
        }
        Some(Value::String(s)) => {
            r.error(Code::EventsNotList, &ep, "`events` must be a list of event names, found a string").help(format!(
                "write `events: [{s}]`; with a string Chaos Toolkit matches any event whose name is a substring of it"
            ))
        }
        Some(other) => r
            .error(
                Code::EventsNotList,
                &ep,
                format!("`events` must be a list of event names, found {}", describe(other)),
            )
            .help("write `events: [run-failed, run-deviated]`"),
    }
}
