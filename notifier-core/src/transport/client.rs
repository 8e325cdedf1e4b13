//! The connection pools (one per TLS setting and method), each with the redirect policy:
//! never off the origin, and never a POST turned into a GET.

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::{Client, Method, StatusCode, Url};

use crate::channel::CONNECT_TIMEOUT;

#[derive(Debug, Default)]
/// The shared clients: one per (certificate verification, redirect policy) pair, built
/// on first use and reused for every event (keep-alive).
pub struct Clients {
    slots: [OnceLock<Result<Client, String>>; 4],
}

impl Clients {
    /// No client built yet.
    pub const fn new() -> Clients {
        Clients { slots: [const { OnceLock::new() }; 4] }
    }

    /// The client for a target.
    pub fn get(&self, verify_tls: bool, method: &Method) -> Result<&Client, String> {
        let follow_all = *method == Method::GET;
        let slot = usize::from(verify_tls) * 2 + usize::from(follow_all);
        self.slots[slot]
            .get_or_init(|| {
                crate::engine::init();
                // Redirects stay on the same origin: reqwest strips only Authorization and
                // Cookie when leaving it, and a channel's other headers may be credentials
                // too (`X-Api-Key`). POST channels also follow only 307/308, which keep the
                // method and the body; anything else would turn the notification into a GET
                // without the event.
                let redirects = reqwest::redirect::Policy::custom(move |attempt| {
                    let keeps_body =
                        matches!(attempt.status(), StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT);
                    let same_origin = attempt.previous().first().is_none_or(|first| same_origin(first, attempt.url()));
                    if (follow_all || keeps_body) && same_origin && attempt.previous().len() < 10 {
                        attempt.follow()
                    } else {
                        attempt.stop()
                    }
                });
                Client::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .pool_idle_timeout(Duration::from_secs(60))
                    .redirect(redirects)
                    .tls_danger_accept_invalid_certs(!verify_tls)
                    .build()
                    .map_err(|e| format!("cannot build the HTTP client: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// Whether two URLs have the same scheme, host and port.
pub(super) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}
