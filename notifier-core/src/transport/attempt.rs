//! One delivery: attempts under a total deadline each, retries with backoff and
//! `Retry-After` within the budget, and every failure classified.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderValue, LOCATION, RETRY_AFTER};
use reqwest::{Client, Method};

use crate::report::FailureKind;

use super::client::same_origin;
use super::target::HttpTarget;
use super::{BASE_BACKOFF, MAX_BACKOFF, MAX_RESPONSE_BYTES};

#[derive(Debug, Clone, PartialEq, Eq)]
/// The result of one channel delivery.
pub struct HttpResult {
    /// Success (with the status) or failure.
    pub result: Result<u16, (FailureKind, String)>,
    /// Attempts made.
    pub attempts: u32,
}

struct AttemptError {
    kind: FailureKind,
    message: String,
    retryable: bool,
    retry_after: Option<Duration>,
}

/// Delivers `body` to `target`, with up to `retries` extra attempts, each bounded by
/// `attempt_timeout`, everything done by `deadline`.
pub async fn deliver(
    client: Client,
    target: std::sync::Arc<HttpTarget>,
    body: bytes::Bytes,
    message_id: String,
    attempt_timeout: Duration,
    retries: u8,
    deadline: Instant,
) -> HttpResult {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let remaining = deadline.saturating_duration_since(Instant::now());
        let timeout = attempt_timeout.min(remaining);
        let err = match attempt(&client, &target, &body, &message_id, timeout).await {
            Ok(status) => return HttpResult { result: Ok(status), attempts },
            Err(e) => e,
        };
        let last = attempts > u32::from(retries) || !err.retryable;
        let backoff = if last { None } else { next_wait(attempts, err.retry_after, deadline) };
        match backoff {
            Some(wait) => {
                tracing::debug!(target: "chaostoolkit", "notification to {} failed ({}), retrying in {:.1} s", target.configured_url, err.message, wait.as_secs_f64());
                tokio::time::sleep(wait).await;
            }
            None => {
                let mut message = err.message;
                if !last {
                    message.push_str(" (no time left in the budget for another attempt)");
                }
                return HttpResult { result: Err((err.kind, message)), attempts };
            }
        }
    }
}

/// Exponential backoff with full jitter, or the server's `Retry-After`, if the wait and
/// at least a short attempt fit before `deadline`.
pub(crate) fn next_wait(failed_attempts: u32, retry_after: Option<Duration>, deadline: Instant) -> Option<Duration> {
    let wait = match retry_after {
        Some(wait) => wait,
        None => {
            let exp = BASE_BACKOFF.saturating_mul(1 << failed_attempts.saturating_sub(1).min(16)).min(MAX_BACKOFF);
            exp.mul_f64(fastrand::f64())
        }
    };
    let remaining = deadline.saturating_duration_since(Instant::now());
    (wait + Duration::from_millis(100) < remaining).then_some(wait)
}

async fn attempt(
    client: &Client,
    target: &HttpTarget,
    body: &bytes::Bytes,
    message_id: &str,
    timeout: Duration,
) -> Result<u16, AttemptError> {
    let started = Instant::now();
    let mut request = client.request(target.method.clone(), target.url.clone()).headers(target.headers.clone());
    let payload: &[u8] = if target.method == Method::POST { body } else { b"" };
    if target.method == Method::POST {
        request = request.body(body.clone());
    }
    if let Some(key) = &target.signing {
        let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        request = request
            .header("webhook-id", message_id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", key.sign(message_id, ts, payload));
    }
    // One deadline for the whole attempt. Once a success status is in, the endpoint has
    // the notification: a body that trickles past the deadline is abandoned (with the
    // connection), but the delivery counts, as the reference would eventually count it.
    let until = tokio::time::Instant::now() + timeout;
    let timed_out = || AttemptError {
        kind: FailureKind::Timeout,
        message: format!(
            "notification to {} timed out after {:.1} s (total per-attempt deadline)",
            target.configured_url,
            started.elapsed().as_secs_f64()
        ),
        retryable: false,
        retry_after: None,
    };
    let response = match tokio::time::timeout_at(until, request.send()).await {
        // Without the URL: reqwest would print the resolved one, secrets included.
        Ok(sent) => sent.map_err(|e| classify(&e.without_url(), target))?,
        Err(_) => return Err(timed_out()),
    };
    let status = response.status();
    if status.is_success() || status.is_informational() {
        let _ = tokio::time::timeout_at(until, drain(response, MAX_RESPONSE_BYTES)).await;
        return Ok(status.as_u16());
    }
    if status.is_redirection() {
        let raw_location = response.headers().get(LOCATION).and_then(|v| v.to_str().ok());
        let location = raw_location.map(|l| target.printable_url(l)).unwrap_or_else(|| "nowhere".into());
        let other_origin = raw_location
            .and_then(|l| response.url().join(l).ok())
            .is_some_and(|next| !same_origin(response.url(), &next));
        let why = if other_origin {
            "it leads to another host, and the channel's headers may hold credentials"
        } else {
            "it would turn the POST into a GET without the event"
        };
        return Err(AttemptError {
            kind: FailureKind::Redirect,
            message: format!(
                "notification sent to {} was redirected ({}) to {location}; not followed because {why}: \
                 point the channel at the new location",
                target.configured_url,
                status.as_u16()
            ),
            retryable: false,
            retry_after: None,
        });
    }
    let retry_after = response.headers().get(RETRY_AFTER).and_then(parse_retry_after);
    let final_url = target.printable_url(response.url().as_str());
    let _ = tokio::time::timeout_at(until, drain(response, 4096)).await;
    let class = if status.is_client_error() { "Client" } else { "Server" };
    let reason = status.canonical_reason().unwrap_or("Unknown");
    Err(AttemptError {
        kind: FailureKind::HttpStatus,
        // The reference's wording (requests' HTTPError), with secrets masked.
        message: format!(
            "notification sent to {} failed with: {} {class} Error: {reason} for url: {final_url}",
            target.configured_url,
            status.as_u16()
        ),
        retryable: matches!(status.as_u16(), 408 | 429) || (status.is_server_error() && status.as_u16() != 501),
        retry_after,
    })
}

/// Reads and discards up to `cap` bytes of the body, so a small response leaves the
/// connection reusable and a huge or endless one costs nothing more.
async fn drain(mut response: reqwest::Response, cap: usize) {
    let mut read = 0;
    while read < cap {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            _ => return,
        }
    }
}

fn parse_retry_after(value: &HeaderValue) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate(text)?;
    Some(when.duration_since(std::time::SystemTime::now()).unwrap_or_default())
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only date form senders
/// must use in `Retry-After`.
fn httpdate(text: &str) -> Option<std::time::SystemTime> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else { return None };
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| m == month)? as i64
        + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else { return None };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + m * 60 + s;
    Some(std::time::UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

fn classify(e: &reqwest::Error, target: &HttpTarget) -> AttemptError {
    let mut chain = e.to_string();
    let mut source = std::error::Error::source(e);
    let mut tls = false;
    while let Some(s) = source {
        tls |= s.downcast_ref::<rustls::Error>().is_some();
        let text = s.to_string();
        if !chain.contains(&text) {
            chain.push_str(": ");
            chain.push_str(&text);
        }
        source = s.source();
    }
    let lowered = chain.to_ascii_lowercase();
    tls |=
        lowered.contains("certificate") || lowered.contains("tls handshake") || lowered.contains("invalidcontenttype");
    let (kind, retryable) = if tls {
        (FailureKind::Tls, false)
    } else if e.is_timeout() {
        // A connect timeout is a connection error; a response timeout may have been
        // processed by the endpoint, so it is not retried.
        (FailureKind::Timeout, e.is_connect())
    } else if e.is_connect() {
        (FailureKind::Connect, true)
    } else {
        (FailureKind::Transport, false)
    };
    let message = format!("failed calling notification endpoint {}: {}", target.configured_url, chain);
    AttemptError { kind, message: target.redactor.redact(&message), retryable, retry_after: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after(&HeaderValue::from_static("3")), Some(Duration::from_secs(3)));
        let when = httpdate("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(when.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(), 784_111_777);
        assert_eq!(parse_retry_after(&HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT")), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(&HeaderValue::from_static("soon")), None);
    }

    #[test]
    fn backoff_stays_within_budget() {
        let far = Instant::now() + Duration::from_secs(60);
        for n in 1..20 {
            assert!(next_wait(n, None, far).unwrap() <= MAX_BACKOFF);
        }
        assert_eq!(next_wait(1, Some(Duration::from_secs(1)), far), Some(Duration::from_secs(1)));
        assert_eq!(next_wait(1, Some(Duration::from_secs(120)), far), None);
        assert_eq!(next_wait(1, None, Instant::now()), None);
    }
}
