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

/// The byte ranges of `url` that [`redact_url`] masks: the user information's password
/// (the whole user information when it has no `:`) and the values of credential-like
/// query parameters, empty ones included (as empty ranges). For renderers that must keep
/// the text's length (source snippets).
pub fn url_secret_ranges(url: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let base_end = url.find('#').unwrap_or(url.len());
    let query_start = url[..base_end].find('?');
    let before_query = &url[..query_start.unwrap_or(base_end)];
    if let Some(scheme_end) = before_query.find("://") {
        let authority_start = scheme_end + 3;
        let rest = &before_query[authority_start..];
        let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            match userinfo.find(':') {
                Some(colon) => out.push(authority_start + colon + 1..authority_start + at),
                None => out.push(authority_start..authority_start + at),
            }
        }
    }
    if let Some(q) = query_start {
        let mut pos = q + 1;
        for pair in url[q + 1..base_end].split('&') {
            if let Some((k, v)) = pair.split_once('=')
                && (is_sensitive_name(k) || k.eq_ignore_ascii_case("sig"))
            {
                let start = pos + k.len() + 1;
                out.push(start..start + v.len());
            }
            pos += pair.len() + 1;
        }
    }
    out
}

/// Masks known secret values in any text (log lines, error chains, dry runs).
///
/// Each channel collects the values it must never show: resolved `${VAR}` values,
/// credential header values, URL passwords and token query values.
///
/// A secret is found wherever it appears **as written or encoded**: every byte may
/// also appear percent-encoded (`%2F`, `%2f`, as URL parsers and servers write it; a
/// space also as `+`), and the JSON (`\"`, `\u00e9`) and Rust `Debug` (`\"`, `\n`)
/// escapes of the secret are masked too. Values shorter than
/// [`MIN_SECRET_LEN`](Redactor::MIN_SECRET_LEN) bytes are not masked (they would mask
/// ordinary text).
///
/// `Debug` shows how many secrets are registered, never the secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redactor {
    /// The secrets and their escaped forms, longest first.
    needles: Vec<String>,
    /// Number of secrets added (for `Debug`).
    count: usize,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secret(s))", self.count)
    }
}

impl Redactor {
    /// Shortest value treated as a secret; shorter ones (`1`, `on`) would mask ordinary text.
    pub const MIN_SECRET_LEN: usize = 4;

    /// Adds a value to mask.
    pub fn add(&mut self, secret: impl Into<String>) {
        let secret = secret.into();
        if secret.len() < Self::MIN_SECRET_LEN || self.needles.contains(&secret) {
            return;
        }
        self.count += 1;
        let json = serde_json::to_string(&secret).unwrap_or_default();
        let python = String::from_utf8(crate::wire::to_python_json(&secret)).unwrap_or_default();
        let debug = format!("{secret:?}");
        let mut forms = vec![secret];
        for quoted in [json, python, debug] {
            let inner = quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or_default().to_owned();
            if !inner.is_empty() && !forms.contains(&inner) {
                forms.push(inner);
            }
        }
        for form in forms {
            if !self.needles.contains(&form) {
                self.needles.push(form);
            }
        }
        // Longest first, so a secret containing another is masked whole.
        self.needles.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// Whether there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// `text` with every known secret (as written, percent-encoded or escaped) replaced
    /// by [`MASK`].
    pub fn redact(&self, text: &str) -> String {
        if self.needles.is_empty() {
            return text.to_owned();
        }
        let bytes = text.as_bytes();
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for needle in &self.needles {
            let needle = needle.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                match match_encoded(needle, &bytes[i..]) {
                    Some(len) => {
                        ranges.push((i, i + len));
                        i += len;
                    }
                    None => i += 1,
                }
            }
        }
        if ranges.is_empty() {
            return text.to_owned();
        }
        ranges.sort_unstable();
        let mut out = String::with_capacity(text.len());
        // End of the last mask written; overlapping or touching matches extend it.
        let mut masked_to: Option<usize> = None;
        for (start, end) in ranges {
            match masked_to {
                Some(to) if start <= to => masked_to = Some(to.max(end)),
                _ => {
                    out.push_str(&text[masked_to.unwrap_or(0)..start]);
                    out.push_str(MASK);
                    masked_to = Some(end);
                }
            }
        }
        out.push_str(&text[masked_to.unwrap_or(0)..]);
        out
    }
}

/// If `text` starts with `needle`, each byte written as is or percent-encoded (either
/// case of hex digits; a space also as `+`), the number of bytes of `text` it takes (the
/// longest way, when a `%` of the needle can be read both as is and as `%25`).
///
/// A match always starts and ends on a character boundary of valid UTF-8 text: it
/// starts with the needle's first byte or a `%`, and a percent-encoded byte can never
/// sit next to a raw continuation byte in valid UTF-8.
fn match_encoded(needle: &[u8], text: &[u8]) -> Option<usize> {
    // Every position of `text` the needle read so far can end at (an NFA's states);
    // only a `%` in the needle gives two.
    let mut at: Vec<usize> = vec![0];
    let mut next: Vec<usize> = Vec::new();
    for &b in needle {
        next.clear();
        for &t in &at {
            let Some(&c) = text.get(t) else { continue };
            if c == b || (c == b'+' && b == b' ') {
                next.push(t + 1);
            }
            if c == b'%' && text.get(t + 1..t + 3).and_then(hex_byte) == Some(b) {
                next.push(t + 3);
            }
        }
        if next.is_empty() {
            return None;
        }
        next.sort_unstable();
        next.dedup();
        std::mem::swap(&mut at, &mut next);
    }
    at.last().copied()
}

fn hex_byte(two: &[u8]) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16);
    Some((digit(two[0])? * 16 + digit(two[1])?) as u8)
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
    fn url_secret_ranges_are_what_redact_url_masks() {
        for url in [
            "https://u:pw@h:8/p?token=abc&a=1#f",
            "https://tok@h/p?sig=zz&api_key=k&x=",
            "http://127.0.0.1:80/x",
            "not a url?password=p",
            "https://h/p#frag?token=x",
        ] {
            let mut masked = url.to_owned();
            for r in url_secret_ranges(url).into_iter().rev() {
                masked.replace_range(r, MASK);
            }
            assert_eq!(masked, redact_url(url), "{url}");
        }
    }

    #[test]
    fn sensitive_names() {
        for n in ["Authorization", "X-Api-Key", "slack_token", "signing_secret", "Cookie", "password"] {
            assert!(is_sensitive_name(n), "{n}");
        }
        for n in ["Content-Type", "channel", "url", "X-Custom"] {
            assert!(!is_sensitive_name(n), "{n}");
        }
    }

    #[test]
    fn redactor_masks_longest_first() {
        let mut r = Redactor::default();
        r.add("abcd");
        r.add("abcdefgh");
        r.add("on");
        assert_eq!(r.redact("x abcdefgh y abcd on"), "x *** y *** on");
    }

    #[test]
    fn encoded_and_escaped_forms_are_masked() {
        let mut r = Redactor::default();
        r.add("p@ss w/rd\"é");
        for shown in [
            "p@ss w/rd\"é",
            "p%40ss%20w%2Frd%22%C3%A9",
            "p%40ss+w/rd%22%c3%a9",
            "p@ss%20w/rd\\\"\\u00e9",
            "p@ss w/rd\\\"é",
        ] {
            let out = r.redact(&format!("<{shown}>"));
            assert_eq!(out, "<***>", "{shown}");
        }
        // Touching and overlapping matches become one mask; the rest is kept.
        r.add("abcdabcd");
        assert_eq!(r.redact("xabcdabcdabcdabcdy"), "x***y");
        assert_eq!(r.redact("nothing here %zz %4"), "nothing here %zz %4");
        assert_eq!(format!("{r:?}"), "Redactor(2 secret(s))");
    }
}
