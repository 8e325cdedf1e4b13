//! A program with its notification channels compiled in.
//!
//! `settings!` reads `examples/compiled_in.yaml` at build time: a mistake in it is a
//! compile error pointing at its line. The program starts a small HTTP server on
//! 127.0.0.1, sends a run's events to it and to a Rust plugin, and prints what arrived.
//!
//! ```sh
//! cargo run --example compiled_in
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use notifier::{Envelope, Event, PluginConfig, PluginError};
use serde_json::json;

/// The Rust side of the `example.audit` plugin channel.
mod audit {
    use super::*;

    pub fn notify(config: &PluginConfig, envelope: &Envelope) -> Result<(), PluginError> {
        let team = config.get_str("team").unwrap_or("nobody");
        println!("  audit plugin: {} for team {team}", envelope.name());
        Ok(())
    }
}

notifier::settings! {
    /// The channels of `examples/compiled_in.yaml`.
    mod channels {
        path: "examples/compiled_in.yaml",
        plugins: { "example.audit" => crate::audit },
    }
}

/// A one-thread HTTP server that reports each request line and body.
fn serve(listener: TcpListener, seen: mpsc::Sender<String>) {
    for stream in listener.incoming().flatten() {
        let mut reader = BufReader::new(stream);
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let mut length = 0;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
                    break;
                }
                if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                break;
            }
            let name = serde_json::from_slice::<serde_json::Value>(&body)
                .map(|v| v["name"].as_str().unwrap_or_default().to_owned())
                .unwrap_or_default();
            let _ = seen.send(format!("{} {name}", line.trim()));
            let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
            if reader.get_mut().write_all(reply).is_err() {
                break;
            }
        }
    }
}

fn main() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let url = format!("http://{}", listener.local_addr().expect("local address"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || serve(listener, tx));

    // `${WEBHOOK_URL}` comes from this lookup instead of the process environment.
    let notifications = channels::Notifications::with(|builder| {
        builder.env(move |name| if name == "WEBHOOK_URL" { Some(url.clone()) } else { std::env::var(name).ok() })
    });
    println!("{} channels compiled in", channels::CHANNELS.len());

    let experiment = json!({"title": "CPU burn on one node", "description": "..."});
    for (event, payload) in [
        (Event::RunStarted, experiment.clone()),
        (Event::RunFailed, json!({"experiment": experiment, "status": "failed"})),
    ] {
        println!("{event}:");
        let report = notifications.notify(event, payload, None);
        for outcome in &report.channels {
            println!("  {outcome}");
        }
    }
    drop(notifications);
    for request in rx.try_iter() {
        println!("server received: {request}");
    }
}
