//! The delivery engine: one private tokio runtime per process, driven from any thread.
//!
//! Callers may be plain threads or tasks of their own tokio runtime. Work is spawned on
//! our runtime and awaited through a `std::sync::mpsc` channel with a deadline, which
//! never panics inside an async context (unlike `reqwest::blocking` or `block_on`),
//! and never lets a stuck future hold the caller past its budget.

use std::future::Future;
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio::runtime::{Handle, Runtime};

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        // rustls needs a process-wide crypto provider; ring is the one compiled in.
        // Ignoring the result: another part of the program may have installed one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("notifier-delivery")
            .enable_all()
            .build()
            .expect("cannot start the notification delivery runtime (threads or timers unavailable)")
    })
}

/// The runtime's handle, for spawning delivery tasks.
pub(crate) fn handle() -> &'static Handle {
    runtime().handle()
}

/// Makes sure the process-wide TLS provider is installed before building clients.
pub(crate) fn init() {
    let _ = runtime();
}

/// Runs `fut` on the delivery runtime and waits for it until `deadline`.
/// `None` means the deadline passed first (the future is left to finish on its own).
pub(crate) fn run_until<F>(fut: F, deadline: Instant) -> Option<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = mpsc::sync_channel(1);
    handle().spawn(async move {
        let out = fut.await;
        let _ = tx.send(out);
    });
    rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).ok()
}

/// A deadline `budget` from now, saturating instead of overflowing.
pub(crate) fn deadline_in(budget: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(budget).unwrap_or(now + Duration::from_secs(86_400 * 365))
}
