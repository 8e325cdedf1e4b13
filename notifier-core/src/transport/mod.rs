//! The HTTP transport: resolved HTTP targets, the shared clients, one delivery with
//! deadlines and retries.
//!
//! Differences from the reference, all on purpose:
//! * every attempt has a **total** deadline (connect + send + response), so a trickling
//!   endpoint costs at most the channel's `timeout`, not `5 s × reads` (once a 2xx status
//!   is in, the notification counts as delivered and a slow body is abandoned);
//! * connections are kept alive and reused (one client pool per notifier);
//! * a POST is never turned into a body-less GET by a redirect: only 307/308 (which keep
//!   the method and body) are followed; a 301/302/303 answer is reported as a failure
//!   that names the new location. GET channels follow redirects like the reference. No
//!   redirect to another origin is followed (other headers may be credentials too);
//! * retries (opt-in per channel) for connection errors, 408, 429 and 5xx (not 501),
//!   with exponential backoff, full jitter and `Retry-After`, all within the budget;
//! * at most 64 KiB of a response body is ever read.
//!
//! One module per concern: [`target`] resolves a channel into a checked request
//! (`HttpTarget`), `client` keeps the shared connection pools and the redirect policy,
//! `attempt` makes one delivery with its attempts, retries and backoff, `post` is the
//! small blocking POST the built-in plugins use.

mod attempt;
mod client;
mod post;
pub mod target;

use std::time::Duration;

#[cfg(feature = "nats")]
pub(crate) use self::attempt::next_wait;
pub use self::attempt::{HttpResult, deliver};
pub use self::client::Clients;
pub use self::post::post_json_blocking;
pub use self::target::{HttpTarget, TargetError};

/// Most bytes of a response body read (the rest is dropped with the connection).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// First backoff before a retry; doubled each time, capped at [`MAX_BACKOFF`].
pub const BASE_BACKOFF: Duration = Duration::from_millis(500);
/// Longest backoff between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The `User-Agent` of our requests.
pub const USER_AGENT_VALUE: &str = concat!("notifier/", env!("CARGO_PKG_VERSION"), " (chaostoolkit-compatible)");
