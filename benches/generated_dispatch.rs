//! The `settings!` side of the performance goals (issue 5), measured with divan:
//!
//! * `macro_expansion`: what the macro does at build time for a 100-channel file
//!   (read + validate + lower + generate tokens), goal ≤ 10 ms;
//! * `dispatch_decision`: the generated, unrolled dispatch of an event that none of the
//!   100 channels takes (filters only, no I/O), goal ≤ 1 µs per event.
//!
//! `cargo bench --bench generated_dispatch`

use std::path::Path;

use divan::{Bencher, black_box};
use notifier::schema::codegen::{CodegenOptions, generate};
use notifier::{Envelope, Event};
use serde_json::Value;

notifier::settings! {
    mod hundred {
        path: "benches/settings-100.yaml",
    }
}

fn main() {
    divan::main();
}

#[divan::bench]
fn macro_expansion() -> usize {
    let compiled = notifier::schema::compile_file(black_box(Path::new("benches/settings-100.yaml"))).expect("readable");
    let table = compiled.table.expect("valid settings");
    let tokens = generate(&table, &CodegenOptions::default()).expect("no plugins to map");
    tokens.into_iter().count()
}

#[divan::bench]
fn dispatch_decision(bencher: Bencher) {
    let notifications = hundred::Notifications::new();
    assert_eq!(hundred::CHANNELS.len(), 100);
    bencher.bench_local(|| {
        let report = notifications.notify_envelope(Envelope::at(black_box(Event::RunStarted), Value::Null, None, 1.0));
        black_box(report.channels.len())
    });
}
