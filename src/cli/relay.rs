//! `notifier relay`: a long-running deliverer from NATS JetStream (crate `notifier-relay`)
//! through the channels of the central settings file.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use notifier::{Notifier, PluginRegistry};
use notifier_relay::Config;

use super::RelayArgs;

/// Runs the relay until SIGTERM/SIGINT; exit status 0 after a graceful stop, 2 when it
/// cannot start (settings, NATS, stream, consumer, metrics address).
pub fn run(args: &RelayArgs, settings: &Path) -> u8 {
    let loaded = match notifier::load_channels(settings, &PluginRegistry::new()) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    loaded.log_warnings();
    if loaded.channels.is_empty() {
        eprintln!("error: {} has no notification channels to deliver to", settings.display());
        return 2;
    }
    // Sequential: the relay acks only what the report says every channel took.
    let notifier = Arc::new(
        Notifier::builder(loaded.channels)
            .background(false)
            .event_budget(Duration::from_secs_f64(args.event_budget))
            .python(args.python.clone())
            .build(),
    );
    let mut config = Config::new(&args.nats, &args.stream);
    config.consumer = args.consumer.clone();
    if !args.subjects.is_empty() {
        config.subjects = args.subjects.clone();
    }
    config.max_deliver = i64::from(args.max_deliver);
    if let Some(dlq) = &args.dead_letter {
        config.dead_letter_subject = dlq.clone();
    }
    config.concurrency = usize::from(args.concurrency);
    config.nak_delay = Duration::from_secs_f64(args.nak_delay);
    // A message whose delivery is still running must not be redelivered elsewhere.
    config.ack_wait = Duration::from_secs_f64(args.ack_wait.unwrap_or(args.event_budget + 30.0));
    config.grace = Duration::from_secs_f64(args.grace);
    config.summary_every = (args.summary_every > 0.0).then(|| Duration::from_secs_f64(args.summary_every));
    config.metrics = args.metrics;
    // Secrets from the environment, never from the command line (other users see it).
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    config.auth = match (&args.creds, var("NATS_TOKEN"), var("NATS_USER"), var("NATS_PASSWORD")) {
        (Some(creds), ..) => notifier_relay::Auth::Creds(creds.clone()),
        (None, Some(token), ..) => notifier_relay::Auth::Token(token),
        (None, None, Some(user), Some(password)) => notifier_relay::Auth::UserPassword(user, password),
        _ => notifier_relay::Auth::None,
    };
    config.tls_ca = args.tls_ca.clone();
    config.tls_client = args.tls_cert.clone().zip(args.tls_key.clone());
    match notifier_relay::run_until_signal(config, notifier.clone()) {
        Ok(_) => {
            let _ = notifier.shutdown(Duration::from_secs(1));
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// `--metrics ADDR`: `host:port`.
pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    s.parse().map_err(|_| format!("`{s}` is not an address such as 127.0.0.1:9464"))
}
