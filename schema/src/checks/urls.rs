//! The `url` of an http channel.

use notifier_core::redact::is_sensitive_name;

use super::secrets::plain_text_secret;
use super::templates::check_template;
use crate::code::Code;
use crate::report::Report;

/// Checks a URL; returns whether it is a plain `http://` URL.
pub(super) fn check_url(ptr: &str, url: &str, r: &mut Report<'_>) -> bool {
    let Some(template) = check_template(ptr, url, r) else {
        return false;
    };
    // With variables, only the literal prefix can be checked here.
    let text = match template.segments().first() {
        Some(notifier_core::Segment::Lit(prefix)) if template.is_literal() => prefix.to_string(),
        Some(notifier_core::Segment::Lit(prefix)) => {
            let prefix = prefix.to_string();
            let lower = prefix.to_ascii_lowercase();
            if lower.starts_with("http://") || lower.starts_with("https://") {
                return lower.starts_with("http://");
            }
            match prefix.split_once("://") {
                Some((scheme, _))
                    if !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
                {
                    bad_scheme(ptr, &prefix, r)
                }
                _ => not_absolute(ptr, r),
            }
            return false;
        }
        _ => return false,
    };
    if text.trim() != text {
        r.error(Code::InvalidUrl, ptr, "the URL has spaces or line breaks around it").help("remove them");
        return false;
    }
    match url::Url::parse(&text) {
        Err(e) => {
            r.error(
                Code::InvalidUrl,
                ptr,
                format!("`{}` is not a valid URL: {e}", notifier_core::redact::redact_url(&text)),
            )
            .help("write an absolute URL such as `https://example.com/hooks/chaos`");
            false
        }
        Ok(u) if u.scheme() != "http" && u.scheme() != "https" => {
            bad_scheme(ptr, &text, r);
            false
        }
        Ok(u) if !text.to_ascii_lowercase().starts_with(&format!("{}://", u.scheme())) => {
            // `http:x.com` and `http:/x.com` parse (as `http://x.com/`), but nobody means them.
            r.error(
                Code::InvalidUrl,
                ptr,
                format!("`{}` is not written as `{}://host/…`", notifier_core::redact::redact_url(&text), u.scheme()),
            )
            .help("write an absolute URL such as `https://example.com/hooks/chaos`");
            false
        }
        Ok(u) => {
            if u.host_str().is_none_or(str::is_empty) {
                r.error(Code::InvalidUrl, ptr, "the URL has no host")
                    .help("write an absolute URL such as `https://example.com/hooks/chaos`");
            }
            if u.password().is_some() || !u.username().is_empty() {
                plain_text_secret(ptr, "URL user information", r);
            }
            if u.query_pairs().any(|(k, v)| is_sensitive_name(&k) && !v.is_empty()) {
                plain_text_secret(ptr, "URL query", r);
            }
            u.scheme() == "http"
        }
    }
}

fn not_absolute(ptr: &str, r: &mut Report<'_>) {
    r.error(
        Code::InvalidUrl,
        ptr,
        "the URL must start with `http://` or `https://`, or be one `${VARIABLE}` holding the whole URL",
    )
    .help("write an absolute URL such as `https://${HOOK_HOST}/chaos`");
}

fn bad_scheme(ptr: &str, text: &str, r: &mut Report<'_>) {
    let scheme = text.split(':').next().unwrap_or_default();
    r.error(
        Code::InvalidUrl,
        ptr,
        format!("`{scheme}` URLs are not supported; an http channel needs `http://` or `https://`"),
    )
    .help("Chaos Toolkit would only log the failure at debug level; to deliver elsewhere, use a plugin channel");
}
