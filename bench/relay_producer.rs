//! One producer of `bench/relay.sh`: sends N events through the channels of a settings
//! file (a `notifier.nats` channel, or an http channel straight to the sink) in one
//! process, as a runner embedding the library would, and prints how long each `notify`
//! blocked it: `{"events": N, "blocked_total_s": …, "p50_us": …, "p99_us": …}`.
//!
//! `cargo run --release --features cli --example relay_producer -- SETTINGS N NAME`

use std::time::Instant;

use notifier::{Event, Notifier, PluginRegistry};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, settings, n, name] = args.as_slice() else {
        eprintln!("usage: relay_producer SETTINGS N NAME");
        std::process::exit(2);
    };
    let n: usize = n.parse().expect("N");
    let loaded = notifier::load_channels(settings.as_ref(), &PluginRegistry::new()).expect("settings");
    let notifier = Notifier::builder(loaded.channels).build();
    let mut blocked = Vec::with_capacity(n);
    let mut failed = 0;
    for i in 0..n {
        let payload = serde_json::json!({"title": name, "i": i});
        let started = Instant::now();
        let report = notifier.notify(Event::RunStarted, payload, None);
        blocked.push(started.elapsed().as_secs_f64());
        failed += report.failures().count();
    }
    let total: f64 = blocked.iter().sum();
    blocked.sort_by(f64::total_cmp);
    let at = |q: f64| blocked[((blocked.len() - 1) as f64 * q).round() as usize] * 1e6;
    println!(
        "{}",
        serde_json::json!({"events": n, "failed": failed, "blocked_total_s": total, "p50_us": at(0.5), "p99_us": at(0.99)})
    );
}
