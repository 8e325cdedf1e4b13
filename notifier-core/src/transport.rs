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

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LOCATION, RETRY_AFTER, USER_AGENT};
use reqwest::{Client, Method, StatusCode, Url};

use crate::channel::{CONNECT_TIMEOUT, HttpDef};
use crate::redact::{MASK, Redactor, is_sensitive_name};
use crate::report::FailureKind;
use crate::signing::SigningKey;
use crate::template::MissingVar;

/// Most bytes of a response body read (the rest is dropped with the connection).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// First backoff before a retry; doubled each time, capped at [`MAX_BACKOFF`].
pub const BASE_BACKOFF: Duration = Duration::from_millis(500);
/// Longest backoff between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The `User-Agent` of our requests.
pub const USER_AGENT_VALUE: &str = concat!("notifier/", env!("CARGO_PKG_VERSION"), " (chaostoolkit-compatible)");

/// An HTTP channel with its `${VAR}`s resolved and its request parts checked.
///
/// `Debug` shows the masked URL and masks every header value a secret could be in.
pub struct HttpTarget {
    /// The URL as written in the settings (variables unresolved): safe to print.
    pub configured_url: String,
    /// The resolved URL with every variable's value shown as `***` and credentials
    /// masked (`https://h/hooks/***?token=***`): safe to print.
    pub display_url: String,
    /// The resolved URL.
    pub url: Url,
    /// POST with the envelope, or GET without a body.
    pub method: Method,
    /// Defaults, then the channel's headers (which override them).
    pub headers: HeaderMap,
    /// Verify certificates.
    pub verify_tls: bool,
    /// Standard Webhooks key, if the channel signs.
    pub signing: Option<SigningKey>,
    /// Masks every secret this channel knows.
    pub redactor: Redactor,
}

/// Why an HTTP channel cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// A `${VAR}` is unset.
    #[error("{0}")]
    MissingVar(#[from] MissingVar),
    /// The resolved URL is not an http(s) URL.
    #[error("the URL `{0}` is not a valid http(s) URL")]
    BadUrl(String),
    /// A header is not valid HTTP after resolution.
    #[error("header `{0}` is not a valid HTTP header (after resolving variables)")]
    BadHeader(String),
    /// The signing secret is not base64.
    #[error("{0}")]
    BadSecret(#[from] crate::signing::BadSigningSecret),
}

impl HttpTarget {
    /// Resolves a channel definition against `lookup` (the environment).
    pub fn resolve(def: &HttpDef, lookup: &dyn Fn(&str) -> Option<String>) -> Result<HttpTarget, TargetError> {
        let mut redactor = Redactor::default();
        // Values of variables are secrets by default: they are where secrets belong.
        let note_vars = |t: &crate::Template, redactor: &mut Redactor| {
            for name in t.vars() {
                if let Some(v) = lookup(name) {
                    redactor.add(v);
                }
            }
        };
        note_vars(&def.url, &mut redactor);
        for name in def.url.vars() {
            if let Some(v) = lookup(name) {
                for form in url_forms(&v) {
                    redactor.add(form);
                }
            }
        }
        let url_text = def.url.resolve_with(lookup)?;
        let configured_url = crate::redact::redact_url(&def.url.source_text());
        // The URL as printed: never the resolved text, which URL parsing may have
        // re-encoded past recognition; the values of variables are masked instead.
        let masked = def
            .url
            .resolve_with(&|name| lookup(name).filter(|v| !v.is_empty()).map(|_| MASK.to_owned()))
            .unwrap_or_else(|_| def.url.source_text());
        let display_url = crate::redact::redact_url(&redactor.redact(&masked));
        let url = Url::parse(&url_text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| TargetError::BadUrl(display_url.clone()))?;
        if let Some(pw) = url.password() {
            redactor.add(pw.to_owned());
        }
        for (k, v) in url.query_pairs() {
            if is_sensitive_name(&k) {
                redactor.add(v.into_owned());
            }
        }
        let method = if def.forward_event_payload { Method::POST } else { Method::GET };
        let mut headers = HeaderMap::new();
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        if method == Method::POST {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        for (name, value) in def.headers.iter() {
            note_vars(value, &mut redactor);
            let value = value.resolve_with(lookup)?;
            if is_sensitive_name(name) {
                redactor.add(value.clone());
                // `Bearer xyz`: the token alone is a secret too.
                if let Some((_, token)) = value.split_once(' ') {
                    redactor.add(token.to_owned());
                }
            }
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| TargetError::BadHeader(name.to_string()))?;
            let mut v = HeaderValue::from_str(&value).map_err(|_| TargetError::BadHeader(name.to_string()))?;
            v.set_sensitive(is_sensitive_name(name));
            headers.insert(n, v);
        }
        let signing = match &def.signing_secret {
            Some(t) => {
                note_vars(t, &mut redactor);
                let secret = t.resolve_with(lookup)?;
                redactor.add(secret.clone());
                Some(SigningKey::from_secret(&secret)?)
            }
            None => None,
        };
        Ok(HttpTarget {
            configured_url,
            display_url,
            url,
            method,
            headers,
            verify_tls: def.verify_tls,
            signing,
            redactor,
        })
    }

    /// A URL the server gave (a redirect's `Location`, the final URL after redirects) as
    /// it may be printed: the channel's own URL is shown masked, any other one with every
    /// known secret and credential masked.
    fn printable_url(&self, url: &str) -> String {
        if url == self.url.as_str() {
            self.display_url.clone()
        } else {
            crate::redact::redact_url(&self.redactor.redact(url))
        }
    }

    /// The request as it would be sent, with secrets masked (for `--dry-run`).
    pub fn describe_request(&self, body: Option<&[u8]>) -> String {
        let mut out = format!("{} {}\n", self.method, self.display_url);
        for (name, value) in &self.headers {
            let shown = if is_sensitive_name(name.as_str()) || value.is_sensitive() {
                MASK.to_owned()
            } else {
                self.redactor.redact(&String::from_utf8_lossy(value.as_bytes()))
            };
            out.push_str(&format!("{name}: {shown}\n"));
        }
        if self.signing.is_some() {
            out.push_str("webhook-id: msg_…\nwebhook-timestamp: …\nwebhook-signature: v1,***\n");
        }
        if let Some(body) = body.filter(|_| self.method == Method::POST) {
            out.push('\n');
            out.push_str(&self.redactor.redact(&String::from_utf8_lossy(body)));
            out.push('\n');
        }
        out
    }
}

/// How a value placed in each part of an http(s) URL reads once the URL is parsed and
/// written back (spaces and non-ASCII percent-encoded, `\` turned into `/` in the
/// path…), so that the redactor recognises it in URLs a server sends back.
fn url_forms(value: &str) -> Vec<String> {
    let Ok(base) = Url::parse("https://h.invalid/") else { return Vec::new() };
    let mut forms = Vec::new();
    let mut url = base.clone();
    url.set_path(value);
    forms.push(url.path().trim_start_matches('/').to_owned());
    url = base.clone();
    url.set_query(Some(value));
    forms.extend(url.query().map(str::to_owned));
    url = base.clone();
    url.query_pairs_mut().append_pair("k", value);
    forms.extend(url.query().and_then(|q| q.strip_prefix("k=")).map(str::to_owned));
    url = base.clone();
    url.set_fragment(Some(value));
    forms.extend(url.fragment().map(str::to_owned));
    url = base;
    if url.set_password(Some(value)).is_ok() {
        forms.extend(url.password().map(str::to_owned));
    }
    if url.set_username(value).is_ok() {
        forms.push(url.username().to_owned());
    }
    forms.retain(|f| f != value);
    forms
}

impl std::fmt::Debug for HttpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let shown = if is_sensitive_name(name.as_str()) || value.is_sensitive() {
                    MASK.to_owned()
                } else {
                    self.redactor.redact(&String::from_utf8_lossy(value.as_bytes()))
                };
                format!("{name}: {shown}")
            })
            .collect();
        f.debug_struct("HttpTarget")
            .field("url", &self.display_url)
            .field("method", &self.method)
            .field("headers", &headers)
            .field("verify_tls", &self.verify_tls)
            .field("signing", &self.signing)
            .field("redactor", &self.redactor)
            .finish()
    }
}

/// The shared clients: one per (certificate verification, redirect policy) pair, built
/// on first use and reused for every event (keep-alive).
#[derive(Debug, Default)]
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
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}

/// The result of one channel delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
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
fn next_wait(failed_attempts: u32, retry_after: Option<Duration>, deadline: Instant) -> Option<Duration> {
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

/// A blocking JSON POST for plugins that talk HTTP themselves (the Slack plugin): runs on
/// the delivery runtime and waits with a deadline, so it is safe from any thread,
/// including a tokio worker. Returns the status and up to 64 KiB of the body.
pub fn post_json_blocking(
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<(u16, Vec<u8>), String> {
    static CLIENTS: Clients = Clients::new();
    let client = CLIENTS.get(true, &Method::POST)?.clone();
    // Headers given by the caller replace the defaults (a plugin may need its own
    // Content-Type); `RequestBuilder::header` would append a second one.
    let mut map = HeaderMap::new();
    map.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (k, v) in headers {
        let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| format!("invalid header name `{k}`"))?;
        let mut value = HeaderValue::from_str(v).map_err(|_| format!("invalid value for header `{k}`"))?;
        value.set_sensitive(is_sensitive_name(k));
        map.insert(name, value);
    }
    let request = client.post(url).headers(map).timeout(timeout).body(body);
    let fut = async move {
        let mut response = request.send().await.map_err(|e| e.without_url().to_string())?;
        let status = response.status().as_u16();
        let mut out = Vec::new();
        while out.len() < MAX_RESPONSE_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => out.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => return Err(e.without_url().to_string()),
            }
        }
        out.truncate(MAX_RESPONSE_BYTES);
        Ok((status, out))
    };
    crate::engine::run_until(fut, crate::engine::deadline_in(timeout + Duration::from_millis(250)))
        .unwrap_or_else(|| Err(format!("timed out after {:.1} s", timeout.as_secs_f64())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Template;
    use std::borrow::Cow;

    fn def(url: &str, headers: &[(&'static str, &str)]) -> HttpDef {
        HttpDef {
            url: Template::parse(url).unwrap(),
            headers: Cow::Owned(
                headers.iter().map(|(k, v)| (Cow::Borrowed(*k), Template::parse(v).unwrap())).collect(),
            ),
            verify_tls: true,
            forward_event_payload: true,
            signing_secret: None,
        }
    }

    #[test]
    fn resolution_masks_every_secret() {
        let env = |n: &str| match n {
            "TOKEN" => Some("tok-123456".to_owned()),
            "HOOK" => Some("AAAABBBBCCCC".to_owned()),
            _ => None,
        };
        let d = def("https://h.example/services/${HOOK}?api_token=qqq999", &[("Authorization", "Bearer ${TOKEN}")]);
        let t = HttpTarget::resolve(&d, &env).unwrap();
        assert_eq!(t.url.as_str(), "https://h.example/services/AAAABBBBCCCC?api_token=qqq999");
        let shown = t.describe_request(Some(b"{\"x\": \"tok-123456\"}"));
        for secret in ["tok-123456", "AAAABBBBCCCC", "qqq999"] {
            assert!(!shown.contains(secret), "{secret} leaked in:\n{shown}");
        }
        assert!(shown.contains("POST https://h.example/services/***?api_token=***"), "{shown}");
        assert_eq!(t.configured_url, "https://h.example/services/${HOOK}?api_token=***");
    }

    #[test]
    fn debug_and_reencoded_urls_never_show_secrets() {
        // A space, a backslash and non-ASCII: the URL parser rewrites all of them.
        let secret = "Pl4nted s\\ecr\u{e9}t";
        let env = move |_: &str| Some(secret.to_owned());
        let d = def("https://h.example/${A}/x?q=${A}#${A}", &[("X-Plain", "v-${A}"), ("Authorization", "${A}")]);
        let t = HttpTarget::resolve(&d, &env).unwrap();
        assert!(t.url.as_str().contains("Pl4nted%20s/ecr%C3%A9t"), "{}", t.url);
        let debug = format!("{t:?}");
        let shown = t.describe_request(Some(b"body"));
        let other = format!("{}&more", t.url);
        for text in [&debug, &shown, &t.printable_url(t.url.as_str()), &t.printable_url(&other)] {
            assert!(!text.contains("Pl4nted") && !text.contains("/ecr"), "leaked in:\n{text}");
        }
        assert!(shown.starts_with("POST https://h.example/***/x?q=***#***\n"), "{shown}");
        let bad = HttpTarget::resolve(&def("${A}", &[]), &env).unwrap_err().to_string();
        assert!(!bad.contains("Pl4nted"), "{bad}");
    }

    #[test]
    fn resolution_errors() {
        let none = |_: &str| None;
        assert_eq!(
            HttpTarget::resolve(&def("https://x/${NOPE}", &[]), &none).unwrap_err().to_string(),
            "environment variable `NOPE` is not set"
        );
        let env = |_: &str| Some("ftp://x".to_owned());
        assert!(matches!(HttpTarget::resolve(&def("${U}", &[]), &env), Err(TargetError::BadUrl(_))));
        let env = |_: &str| Some("a\nb".to_owned());
        assert!(matches!(
            HttpTarget::resolve(&def("https://x", &[("X", "${V}")]), &env),
            Err(TargetError::BadHeader(_))
        ));
    }

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
