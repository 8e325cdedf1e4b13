//! The blocking POST the built-in plugins use (the Slack plugin): same pools, a total
//! deadline, at most [`MAX_RESPONSE_BYTES`] of the answer read.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

use crate::redact::is_sensitive_name;

use super::{Clients, MAX_RESPONSE_BYTES};

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
