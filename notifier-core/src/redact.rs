//! Keeping secrets out of logs, reports, dry runs and error messages.

/// What replaces a secret in any output.
pub const MASK: &str = "***";

/// Whether a header or configuration key names a credential: `Authorization`, `Cookie`,
/// or anything containing `token`, `secret`, `password`, `passwd` or `key`
/// (case-insensitive; `X-Api-Key`, `slack_token`, `signing_secret`).
pub fn is_sensitive_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(n.as_str(), "authorization" | "proxy-authorization" | "cookie" | "set-cookie")
        || ["token", "secret", "password", "passwd", "key", "credential", "auth"].iter().any(|w| n.contains(w))
}

/// A URL with its user-info password and sensitive query values masked:
/// `https://user:pw@h/p?token=x&a=1` → `https://user:***@h/p?token=***&a=1`.
///
/// Works on unparsable text too (it only rewrites what it recognises).
pub fn redact_url(url: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let (before_query, query) = match base.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (base, None),
    };
    let mut out = String::with_capacity(url.len());
    match before_query.split_once("://") {
        Some((scheme, rest)) => {
            out.push_str(scheme);
            out.push_str("://");
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => {
                    match userinfo.split_once(':') {
                        Some((user, _)) => {
                            out.push_str(user);
                            out.push(':');
                            out.push_str(MASK);
                        }
                        None => out.push_str(MASK),
                    }
                    out.push('@');
                    out.push_str(host);
                }
                None => out.push_str(authority),
            }
            out.push_str(path);
        }
        None => out.push_str(before_query),
    }
    if let Some(q) = query {
        out.push('?');
        let pairs: Vec<String> = q
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if is_sensitive_name(k) || k.eq_ignore_ascii_case("sig") => format!("{k}={MASK}"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// Masks known secret values in any text (log lines, error chains, dry runs).
///
/// Each channel collects the values it must never show: resolved `${VAR}` values,
/// credential header values, URL passwords and token query values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Shortest value treated as a secret; shorter ones (`1`, `on`) would mask ordinary text.
    pub const MIN_SECRET_LEN: usize = 4;

    /// Adds a value to mask.
    pub fn add(&mut self, secret: impl Into<String>) {
        let secret = secret.into();
        if secret.len() >= Self::MIN_SECRET_LEN && !self.secrets.contains(&secret) {
            self.secrets.push(secret);
            // Longest first, so a secret containing another is masked whole.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Whether there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every known secret replaced by [`MASK`].
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        out
    }
}

/// A value that must never be printed: `Debug` and `Display` show [`MASK`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it (a header, a signature).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(MASK)
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(MASK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_credentials() {
        assert_eq!(redact_url("https://u:pw@h:8/p?token=abc&a=1#f"), "https://u:***@h:8/p?token=***&a=1#f");
        assert_eq!(redact_url("https://tok@h/p"), "https://***@h/p");
        assert_eq!(redact_url("http://127.0.0.1:80/x"), "http://127.0.0.1:80/x");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn sensitive_names() {
        for n in ["Authorization", "X-Api-Key", "slack_token", "signing_secret", "Cookie", "password"] {
            assert!(is_sensitive_name(n), "{n}");
        }
        for n in ["Content-Type", "channel", "url", "X-Custom"] {
            assert!(!is_sensitive_name(n), "{n}");
        }
        assert_eq!(format!("{:?} {}", Secret::new("x"), Secret::new("x")), "*** ***");
    }

    #[test]
    fn redactor_masks_longest_first() {
        let mut r = Redactor::default();
        r.add("abcd");
        r.add("abcdefgh");
        r.add("on");
        assert_eq!(r.redact("x abcdefgh y abcd on"), "x *** y *** on");
    }
}
