//! The relay's counters, its summary line, and `/metrics` in the Prometheus text format
//! (a few lines written by hand over a tokio listener: no HTTP server dependency).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Upper bounds (seconds) of the end-to-end latency histogram's buckets.
pub const LATENCY_BUCKETS: [f64; 14] =
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

/// What a relay has done since it started.
#[derive(Default)]
pub struct Metrics {
    received: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    redelivered: AtomicU64,
    dead_lettered: AtomicU64,
    latency: Mutex<Histogram>,
}

#[derive(Default, Clone)]
struct Histogram {
    /// Counts per bucket (not cumulative), plus one for +Inf.
    buckets: [u64; LATENCY_BUCKETS.len() + 1],
    sum: f64,
    count: u64,
    /// The last latencies (for the summary's percentiles), at most `RECENT`.
    recent: Vec<f64>,
}

const RECENT: usize = 4096;

/// A copy of the counters.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Messages taken from the consumer (redeliveries included).
    pub received: u64,
    /// Messages every channel took, acked.
    pub delivered: u64,
    /// Deliveries that failed (negatively acked or dead-lettered).
    pub failed: u64,
    /// Messages received more than once.
    pub redelivered: u64,
    /// Messages copied to the dead-letter subject and terminated.
    pub dead_lettered: u64,
    /// Median end-to-end latency (publish time to ack) of recent deliveries, seconds.
    pub p50: Option<f64>,
    /// 99th percentile of the same.
    pub p99: Option<f64>,
}

impl Snapshot {
    /// The summary line: `relay: received 10, delivered 9, …`.
    pub fn line(&self) -> String {
        let ms = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |s| format!("{:.1} ms", s * 1000.0));
        format!(
            "relay: received {}, delivered {}, failed {}, redelivered {}, dead-lettered {}; latency p50 {}, p99 {}",
            self.received,
            self.delivered,
            self.failed,
            self.redelivered,
            self.dead_lettered,
            ms(self.p50),
            ms(self.p99)
        )
    }
}

impl Metrics {
    pub(crate) fn received(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn redelivered(&self) {
        self.redelivered.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn dead_lettered(&self) {
        self.dead_lettered.fetch_add(1, Ordering::Relaxed);
    }

    /// One delivered message: `latency` from its envelope's `ts` to the ack.
    pub(crate) fn delivered(&self, latency: f64, _handling: Duration) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
        let mut h = self.latency.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = LATENCY_BUCKETS.iter().position(|&b| latency <= b).unwrap_or(LATENCY_BUCKETS.len());
        h.buckets[bucket] += 1;
        h.sum += latency;
        h.count += 1;
        if h.recent.len() == RECENT {
            h.recent.remove(0);
        }
        h.recent.push(latency);
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        let h = self.latency.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let mut recent = h.recent;
        recent.sort_by(f64::total_cmp);
        let at = |q: f64| (!recent.is_empty()).then(|| recent[((recent.len() - 1) as f64 * q).round() as usize]);
        Snapshot {
            received: self.received.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            redelivered: self.redelivered.load(Ordering::Relaxed),
            dead_lettered: self.dead_lettered.load(Ordering::Relaxed),
            p50: at(0.5),
            p99: at(0.99),
        }
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn prometheus(&self) -> String {
        let s = self.snapshot();
        let h = self.latency.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let mut out = String::new();
        for (name, help, value) in [
            ("received", "Messages taken from the consumer, redeliveries included.", s.received),
            ("delivered", "Messages every channel took (acked).", s.delivered),
            ("failed", "Deliveries that failed (negatively acked or dead-lettered).", s.failed),
            ("redelivered", "Messages received that JetStream had delivered before.", s.redelivered),
            ("dead_lettered", "Messages copied to the dead-letter subject and terminated.", s.dead_lettered),
        ] {
            out.push_str(&format!(
                "# HELP notifier_relay_{name}_total {help}\n# TYPE notifier_relay_{name}_total counter\n\
                 notifier_relay_{name}_total {value}\n"
            ));
        }
        let name = "notifier_relay_latency_seconds";
        out.push_str(&format!(
            "# HELP {name} End-to-end latency of delivered messages: the event's ts to the relay's ack.\n\
             # TYPE {name} histogram\n"
        ));
        let mut cumulative = 0;
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            cumulative += h.buckets[i];
            out.push_str(&format!("{name}_bucket{{le=\"{bound}\"}} {cumulative}\n"));
        }
        cumulative += h.buckets[LATENCY_BUCKETS.len()];
        out.push_str(&format!(
            "{name}_bucket{{le=\"+Inf\"}} {cumulative}\n{name}_sum {}\n{name}_count {}\n",
            h.sum, h.count
        ));
        out
    }
}

/// Serves `GET /metrics` on `addr` until the task is aborted.
pub(crate) async fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    Ok(tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { continue };
            let metrics = metrics.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                // The request line and headers, within a short time and size.
                let read = tokio::time::timeout(Duration::from_secs(5), async {
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                })
                .await;
                if read.is_err() {
                    return;
                }
                let line = String::from_utf8_lossy(&request);
                let (status, body) = if line.starts_with("GET /metrics ") || line.starts_with("GET /metrics?") {
                    ("200 OK", metrics.prometheus())
                } else {
                    ("404 Not Found", "only /metrics is served\n".to_owned())
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_counts_and_buckets() {
        let m = Metrics::default();
        m.received();
        m.received();
        m.delivered(0.02, Duration::ZERO);
        m.failed();
        let text = m.prometheus();
        assert!(text.contains("notifier_relay_received_total 2\n"), "{text}");
        assert!(text.contains("notifier_relay_delivered_total 1\n"), "{text}");
        assert!(text.contains("notifier_relay_latency_seconds_bucket{le=\"0.01\"} 0\n"), "{text}");
        assert!(text.contains("notifier_relay_latency_seconds_bucket{le=\"0.025\"} 1\n"), "{text}");
        assert!(text.contains("notifier_relay_latency_seconds_bucket{le=\"+Inf\"} 1\n"), "{text}");
        assert!(text.contains("notifier_relay_latency_seconds_count 1\n"), "{text}");
        assert_eq!(m.snapshot().p50, Some(0.02));
        assert!(m.snapshot().line().starts_with("relay: received 2, delivered 1, failed 1"));
    }
}
