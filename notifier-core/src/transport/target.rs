//! An HTTP channel resolved into a checked request: URL, method, headers, signing key,
//! and the redactor that masks every secret it holds.

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use reqwest::{Method, Url};

use crate::body::{Body, BodyDef};
use crate::channel::HttpDef;
use crate::redact::{MASK, Redactor, is_sensitive_name};
use crate::signing::SigningKey;
use crate::template::MissingVar;

use super::USER_AGENT_VALUE;

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
    /// The request body, compiled once (the envelope unless the channel has a
    /// `template` or a `format`).
    pub body: Body,
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
    /// The body template or format cannot be compiled with these options.
    #[error("body: {0}")]
    Body(String),
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
        let body = compile_body(&def.body, lookup, &mut redactor)?;
        let mut headers = HeaderMap::new();
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        if method == Method::POST {
            let content_type = HeaderValue::from_str(body.content_type())
                .map_err(|_| TargetError::Body(format!("`{}` is not a valid Content-Type", body.content_type())))?;
            headers.insert(CONTENT_TYPE, content_type);
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
            body,
        })
    }

    /// A URL the server gave (a redirect's `Location`, the final URL after redirects) as
    /// it may be printed: the channel's own URL is shown masked, any other one with every
    /// known secret and credential masked.
    pub(super) fn printable_url(&self, url: &str) -> String {
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

/// Compiles a channel's body once: its `options` with `${VAR}`s resolved (their values
/// and sensitive options such as `routing_key` join the channel's redactor).
fn compile_body(
    def: &BodyDef,
    lookup: &dyn Fn(&str) -> Option<String>,
    redactor: &mut Redactor,
) -> Result<Body, TargetError> {
    let options = match def.options_json() {
        None | Some("") => serde_json::Map::new(),
        Some(json) => {
            let value: serde_json::Value =
                serde_json::from_str(json).map_err(|e| TargetError::Body(format!("invalid `options`: {e}")))?;
            match crate::template::resolve_json(value, "options", lookup, redactor).map_err(TargetError::Body)? {
                serde_json::Value::Object(map) => map,
                serde_json::Value::Null => serde_json::Map::new(),
                _ => return Err(TargetError::Body("`options` must be a mapping".into())),
            }
        }
    };
    Body::compile(def, options).map_err(|e| TargetError::Body(e.to_string()))
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
            body: BodyDef::Envelope,
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
}
