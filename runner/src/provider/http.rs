//! The `http` provider: one HTTP request, its status, headers and body.
//!
//! * `url` (required), `method` (default `GET`), `headers` (mapping), `arguments`,
//!   `timeout`, `verify_tls` (default `true`; `false` accepts any certificate; a string
//!   is a PEM CA bundle to trust instead of the system roots) and `max_retries`
//!   (connection attempts retried, default 0). `url`, `headers`, `timeout` and
//!   `arguments` go through `${name}` substitution.
//! * `GET` sends `arguments` as query parameters; other methods send them as JSON when
//!   the `Content-Type` header is exactly `application/json`, as a form otherwise (a
//!   string is sent as the raw body).
//! * `timeout` is a number (seconds) or `[connect, read]`. The connect part bounds the
//!   connection; the read part bounds the whole exchange after it (the reference
//!   bounds each socket read instead, which a trickling server can stretch forever).
//!   No timeout means none, as in the reference.
//! * The output is `{"status", "headers", "body"}`: the body is parsed JSON when the
//!   response `Content-Type` is exactly `application/json`, text otherwise. Header
//!   names come back capitalised (`Content-Type`) since the HTTP stack lower-cases them;
//!   repeated headers are joined with `, `. 4xx and 5xx responses do not fail the
//!   activity.
//! * A connection failure fails it with `failed to connect to {url}: {reason}` and a
//!   timeout with `activity took too long to complete`.
//!
//! The blocking client always runs on a thread of its own, so calling the runner from
//! inside an async runtime cannot trip reqwest's "blocking inside a runtime" panic.
//! The run waits for that thread's answer or for a signal, whichever comes first: an
//! interrupted request is abandoned at once (its thread ends when the request ends,
//! within the provider's own timeout when it has one) and the activity ends
//! [`Interrupted`](ActivityError::Interrupted).

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::error::{ActivityError, ActivityFailed};
use crate::interrupt::Watch;
use crate::substitute::Scope;
use notifier_core::pyvalue::{python_str, truthy};

/// The request, fully resolved (after substitution).
#[derive(Debug, Clone)]
struct Request {
    url: String,
    method: String,
    headers: Vec<(String, String)>,
    arguments: Value,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    verify_tls: Value,
    max_retries: u64,
}

/// Runs an http provider (the activity has been validated).
///
/// A signal seen by `watch` ends the wait at once with [`ActivityError::Interrupted`].
pub fn run_http(
    provider: &Map<String, Value>,
    scope: &Scope<'_>,
    warn_on_failure: bool,
    watch: &Watch,
) -> Result<Value, ActivityError> {
    let request = resolve(provider, scope);
    let url = request.url.clone();
    let (tx, rx) = std::sync::mpsc::channel::<Result<Value, ActivityError>>();
    let on_signal = tx.clone();
    let _hook = watch.interrupt().on_signal(move |signal| {
        let _ = on_signal.send(Err(ActivityError::Interrupted(signal)));
    });
    watch.check().map_err(ActivityError::Interrupted)?;
    let spawned = std::thread::Builder::new().name("notifier-http-activity".into()).spawn(move || {
        let _ = tx.send(send_with_retries(&request).map_err(ActivityError::from));
    });
    let result = match spawned {
        Err(e) => Err(ActivityFailed::Http { url, reason: format!("cannot start the HTTP thread: {e}") }.into()),
        // The sender in the thread is dropped without a message only if it panicked.
        Ok(_) => rx
            .recv()
            .unwrap_or_else(|_| Err(ActivityFailed::Http { url, reason: "the HTTP client panicked".into() }.into())),
    };
    if let Ok(output) = &result
        && warn_on_failure
        && output["status"].as_u64().is_some_and(|s| s > 399)
    {
        tracing::warn!(
            "This HTTP call returned a response with a HTTP status code above 400. This may indicate some error and not what you expected. Please have a look at the logs."
        );
    }
    result
}

fn resolve(provider: &Map<String, Value>, scope: &Scope<'_>) -> Request {
    let url = provider.get("url").map(|u| python_str(&scope.substitute(u))).unwrap_or_default();
    let method = provider.get("method").map(python_str).unwrap_or_else(|| "GET".into()).to_uppercase();
    let headers = provider
        .get("headers")
        .map(|h| scope.substitute(h))
        .and_then(|h| h.as_object().cloned())
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, python_str(&v)))
        .collect();
    let (connect_timeout, read_timeout) = match provider.get("timeout").map(|t| scope.substitute(t)) {
        Some(Value::Number(n)) => {
            let d = seconds(n.as_f64());
            (d, d)
        }
        Some(Value::Array(pair)) if pair.len() == 2 => (seconds(pair[0].as_f64()), seconds(pair[1].as_f64())),
        _ => (None, None),
    };
    let mut arguments = provider.get("arguments").cloned().unwrap_or(Value::Null);
    if truthy(&arguments) && !scope.is_empty() {
        arguments = scope.substitute(&arguments);
    }
    Request {
        url,
        method,
        headers,
        arguments,
        connect_timeout,
        read_timeout,
        verify_tls: provider.get("verify_tls").cloned().unwrap_or(Value::Bool(true)),
        max_retries: provider.get("max_retries").and_then(Value::as_u64).unwrap_or(0).min(10),
    }
}

fn seconds(s: Option<f64>) -> Option<Duration> {
    s.filter(|f| f.is_finite() && *f > 0.0).map(|f| Duration::from_secs_f64(f.min(1e9)))
}

fn send_with_retries(request: &Request) -> Result<Value, ActivityFailed> {
    let client = client(request)?;
    let mut attempt = 0;
    loop {
        match send(&client, request) {
            Err(ActivityFailed::HttpConnect { .. }) if attempt < request.max_retries => {
                attempt += 1;
                tracing::debug!("retrying {} (attempt {attempt})", request.url);
            }
            other => return other,
        }
    }
}

fn client(request: &Request) -> Result<reqwest::blocking::Client, ActivityFailed> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::blocking::Client::builder()
        .user_agent(concat!("notifier-runner/", env!("CARGO_PKG_VERSION")))
        .timeout(match (request.connect_timeout, request.read_timeout) {
            (Some(c), Some(r)) => Some(c + r),
            (None, Some(r)) => Some(r),
            _ => None,
        });
    if let Some(connect) = request.connect_timeout {
        builder = builder.connect_timeout(connect);
    }
    match &request.verify_tls {
        Value::String(bundle) => {
            let pem = std::fs::read(bundle).map_err(|e| ActivityFailed::Http {
                url: request.url.clone(),
                reason: format!("cannot read the CA bundle {bundle}: {e}"),
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ActivityFailed::Http {
                url: request.url.clone(),
                reason: format!("invalid CA bundle {bundle}: {e}"),
            })?;
            builder = builder.tls_certs_only(certs);
        }
        other if !truthy(other) => builder = builder.tls_danger_accept_invalid_certs(true),
        _ => {}
    }
    builder.build().map_err(|e| ActivityFailed::Http { url: request.url.clone(), reason: error_chain(&e) })
}

fn send(client: &reqwest::blocking::Client, request: &Request) -> Result<Value, ActivityFailed> {
    let http_err = |reason: String| ActivityFailed::Http { url: request.url.clone(), reason };
    let mut url = url::Url::parse(&request.url).map_err(|e| http_err(format!("invalid URL: {e}")))?;
    let method = reqwest::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| http_err(format!("invalid method {:?}", request.method)))?;
    let mut body: Option<(Vec<u8>, Option<&str>)> = None;
    if method == reqwest::Method::GET {
        append_query(&mut url, &request.arguments);
    } else {
        let json_content = request.headers.iter().any(|(k, v)| k == "Content-Type" && v == "application/json");
        body = match &request.arguments {
            Value::Null => None,
            args if json_content => Some((args.to_string().into_bytes(), None)),
            Value::String(s) => Some((s.clone().into_bytes(), None)),
            Value::Object(map) => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in map {
                    for item in as_items(v) {
                        form.append_pair(k, &item);
                    }
                }
                Some((form.finish().into_bytes(), Some("application/x-www-form-urlencoded")))
            }
            other => Some((other.to_string().into_bytes(), None)),
        };
    }
    let mut builder = client.request(method, url.as_str());
    if let Some((_, Some(content_type))) = &body
        && !request.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        builder = builder.header("Content-Type", *content_type);
    }
    for (name, value) in &request.headers {
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| http_err(format!("invalid header name {name:?}")))?;
        let value = reqwest::header::HeaderValue::from_str(value)
            .map_err(|_| http_err(format!("invalid value for header {name}")))?;
        builder = builder.header(name, value);
    }
    if let Some((bytes, _)) = body {
        builder = builder.body(bytes);
    }
    let response = builder.send().map_err(|e| classify(&request.url, &e))?;
    let status = response.status().as_u16();
    let mut headers = Map::new();
    for (name, value) in response.headers() {
        let name = capitalise(name.as_str());
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.get_mut(&name) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                headers.insert(name, Value::String(value));
            }
        }
    }
    let is_json = headers.get("Content-Type").and_then(Value::as_str) == Some("application/json");
    let bytes = response.bytes().map_err(|e| classify(&request.url, &e))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = if is_json { serde_json::from_str(&text).unwrap_or(Value::String(text)) } else { Value::String(text) };
    Ok(json!({"status": status, "headers": headers, "body": body}))
}

fn append_query(url: &mut url::Url, arguments: &Value) {
    match arguments {
        Value::Object(map) if !map.is_empty() => {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in map {
                for item in as_items(v) {
                    pairs.append_pair(k, &item);
                }
            }
        }
        Value::String(s) if !s.is_empty() => {
            let query = match url.query() {
                Some(q) if !q.is_empty() => format!("{q}&{s}"),
                _ => s.clone(),
            };
            url.set_query(Some(&query));
        }
        _ => {}
    }
}

/// A query/form value: lists repeat the key, `null` drops it (as requests does).
fn as_items(value: &Value) -> Vec<String> {
    match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items.iter().filter(|v| !v.is_null()).map(python_str).collect(),
        other => vec![python_str(other)],
    }
}

fn classify(url: &str, e: &reqwest::Error) -> ActivityFailed {
    if e.is_connect() {
        ActivityFailed::HttpConnect { url: url.to_string(), reason: root_cause(e) }
    } else if e.is_timeout() {
        ActivityFailed::HttpTimeout
    } else {
        ActivityFailed::Http { url: url.to_string(), reason: error_chain(e) }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// The innermost error of the chain (`Connection refused (os error 111)`), which says
/// what went wrong without the layers of the HTTP stack.
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// `content-type` → `Content-Type`.
fn capitalise(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_capitalised() {
        assert_eq!(capitalise("content-type"), "Content-Type");
        assert_eq!(capitalise("x-request-id"), "X-Request-Id");
        assert_eq!(capitalise("etag"), "Etag");
    }

    #[test]
    fn query_arguments() {
        let mut url = url::Url::parse("http://h/p?a=1").unwrap_or_else(|_| unreachable!());
        append_query(&mut url, &json!({"b": [1, 2], "c": null, "d": "x y"}));
        assert_eq!(url.as_str(), "http://h/p?a=1&b=1&b=2&d=x+y");
    }

    #[test]
    fn refused_connection_is_an_activity_failure() {
        let (c, s) = (Map::new(), Map::new());
        let scope = Scope::new(&c, &s);
        let provider = json!({"url": "http://127.0.0.1:1/health", "timeout": 2});
        let watch = crate::interrupt::Interrupt::new().watch();
        let err = run_http(provider.as_object().unwrap_or(&Map::new()), &scope, true, &watch);
        match err {
            Err(ActivityError::Failed(ActivityFailed::HttpConnect { url, .. })) => {
                assert_eq!(url, "http://127.0.0.1:1/health")
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_signal_releases_the_run_from_a_hung_request() {
        use crate::interrupt::{Interrupt, Signal};
        use std::net::TcpListener;
        // Accepts the connection and never answers; the provider has no timeout.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let interrupt = Interrupt::new();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let raiser = {
            let interrupt = interrupt.clone();
            std::thread::spawn(move || {
                let held = listener.accept();
                interrupt.raise(Signal::Int);
                // Held until the provider has returned (30 s at most: a hang guard).
                let _ = released.recv_timeout(std::time::Duration::from_secs(30));
                drop(held);
            })
        };
        let (c, s) = (Map::new(), Map::new());
        let provider = json!({"url": format!("http://127.0.0.1:{port}/hang")});
        let started = std::time::Instant::now();
        let out = run_http(
            provider.as_object().unwrap_or(&Map::new()),
            &Scope::new(&c, &s),
            true,
            &interrupt.watch_from_start(),
        );
        // The server answers nothing before it is released below: the provider returned
        // because of the signal alone.
        let _ = release.send(());
        assert_eq!(out, Err(ActivityError::Interrupted(Signal::Int)));
        assert!(started.elapsed() < std::time::Duration::from_secs(25), "hang guard");
        raiser.join().ok();
    }
}
