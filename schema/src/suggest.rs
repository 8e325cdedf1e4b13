//! "Did you mean …?" suggestions.

/// The candidate closest to `input`, if one is close enough to be a plausible typo.
///
/// A case-insensitive match wins outright (`HTTP` → `http`); otherwise the smallest
/// Damerau–Levenshtein distance within a third of the longer word (at least 2).
pub fn did_you_mean<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    if let Some(exact) = candidates.iter().find(|c| c.eq_ignore_ascii_case(input)) {
        return Some(exact);
    }
    let lowered = input.to_ascii_lowercase().replace('_', "-");
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&lowered, &c.replace('_', "-")), c))
        .filter(|(d, c)| *d <= (c.len().max(input.len()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENTS: &[&str] = &["discovery-started", "run-started", "run-failed", "run-completed", "run-deviated"];

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("run-fail", EVENTS.iter().copied()), Some("run-failed"));
        assert_eq!(did_you_mean("discover-started", EVENTS.iter().copied()), Some("discovery-started"));
        assert_eq!(did_you_mean("HTTP", ["http", "plugin"]), Some("http"));
        assert_eq!(did_you_mean("htttp", ["http", "plugin"]), Some("http"));
        assert_eq!(did_you_mean("verify_ssl", ["verify_tls", "url"]), Some("verify_tls"));
        assert_eq!(did_you_mean("webhook", ["http", "plugin"]), None);
    }
}
