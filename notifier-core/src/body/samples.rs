//! A sample envelope of every event, for checking a body before anything runs
//! (`notifier check` renders each template against the events its channel takes) and
//! for `notifier formats show --render`.
//!
//! The payloads have the shape chaostoolkit-lib sends (an experiment, a journal, an
//! extension name, `null`), small but with every field the built-in formats read.

use serde_json::{Value, json};

use crate::envelope::{Envelope, exception};
use crate::event::Event;

/// The timestamp of every sample: 2026-11-29T18:25:04.494940Z.
pub const SAMPLE_TS: f64 = 1_795_976_704.494_94;

/// A sample envelope of `event`.
pub fn envelope(event: Event) -> Envelope {
    let (payload, error) = match event {
        Event::DiscoveryStarted => (json!("chaostoolkit-kubernetes"), None),
        Event::DiscoveryCompleted => {
            (json!({"extension": {"name": "chaostoolkit-kubernetes", "version": "0.26.4"}, "activities": []}), None)
        }
        Event::DiscoveryFailed => (
            json!("chaostoolkit-kubernetes"),
            Some(exception("DiscoveryFailed", "package not found: chaostoolkit-kubernetes")),
        ),
        Event::InitStarted => (Value::Null, None),
        Event::InitCompleted | Event::RunStarted | Event::ValidateStarted | Event::ValidateCompleted => {
            (experiment(), None)
        }
        Event::InitFailed => (Value::Null, Some(exception("InitFailed", "no discovery file"))),
        Event::ValidateFailed => {
            (experiment(), Some(exception("InvalidExperiment", "experiment requires a description")))
        }
        Event::RunCompleted => (journal("completed", false), None),
        Event::RunDeviated => (journal("completed", true), None),
        Event::RunFailed => {
            (journal("failed", false), Some(exception("ActivityFailed", "probe service-answers failed")))
        }
    };
    Envelope::at(event, payload, error, SAMPLE_TS)
}

fn experiment() -> Value {
    json!({
        "title": "Stop the DB",
        "description": "The service survives its database going away",
        "tags": ["database"],
        "steady-state-hypothesis": {
            "title": "The service answers",
            "probes": [{"type": "probe", "name": "service-answers", "tolerance": 200,
                        "provider": {"type": "http", "url": "http://127.0.0.1:8080/health"}}]
        },
        "method": [{"type": "action", "name": "stop-db",
                    "provider": {"type": "process", "path": "systemctl", "arguments": ["stop", "postgresql"]}}],
        "rollbacks": []
    })
}

fn journal(status: &str, deviated: bool) -> Value {
    json!({
        "chaoslib-version": "1.45.1",
        "platform": "Linux",
        "node": "ci-runner-7",
        "experiment": experiment(),
        "start": "2026-11-29T18:25:00.000000+00:00",
        "status": status,
        "deviated": deviated,
        "steady_states": {"before": {"steady_state_met": true, "probes": []},
                          "after": {"steady_state_met": !deviated, "probes": []}, "during": []},
        "run": [{"activity": {"type": "action", "name": "stop-db"}, "status": "succeeded",
                 "start": "2026-11-29T18:25:01.000000+00:00", "end": "2026-11-29T18:25:03.500000+00:00",
                 "duration": 2.5, "output": null}],
        "rollbacks": [],
        "end": "2026-11-29T18:25:04.400000+00:00",
        "duration": 4.4
    })
}
