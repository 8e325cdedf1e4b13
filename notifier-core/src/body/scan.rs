//! Finding things in template text (where an unknown variable is first used).

/// The byte range of the first use of `name` (a dotted path such as `paylod.title`, or a
/// plain name) as a whole identifier inside a `{{ … }}` or `{% … %}` tag of `source`.
pub(super) fn find_identifier(source: &str, name: &str) -> Option<std::ops::Range<usize>> {
    let root = name.split('.').next().unwrap_or(name);
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = source.as_bytes();
    let mut in_tag = false;
    let mut i = 0;
    while i < bytes.len() {
        if !in_tag {
            if bytes[i] == b'{' && matches!(bytes.get(i + 1), Some(b'{' | b'%')) {
                in_tag = true;
                i += 2;
                continue;
            }
            i += 1;
            continue;
        }
        if matches!(bytes[i], b'}' | b'%') && bytes.get(i + 1) == Some(&b'}') {
            in_tag = false;
            i += 2;
            continue;
        }
        // Skip string literals inside tags.
        if matches!(bytes[i], b'"' | b'\'') {
            let quote = bytes[i];
            i += 1;
            while i < bytes.len() && bytes[i] != quote {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            continue;
        }
        if source[i..].starts_with(root)
            && (i == 0 || !(ident(bytes[i - 1]) || bytes[i - 1] == b'.'))
            && !bytes.get(i + root.len()).copied().is_some_and(ident)
        {
            let end = if source[i..].starts_with(name) { i + name.len() } else { i + root.len() };
            return Some(i..end);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_use_inside_tags() {
        let src = r#"{"paylod": {{ paylod.title }}, "x": {{ "paylod" ~ a.paylod }}}"#;
        let r = find_identifier(src, "paylod.title").unwrap();
        assert_eq!(&src[r], "paylod.title");
        assert_eq!(find_identifier("{{ x }}{% if y %}", "y"), Some(13..14));
        assert_eq!(find_identifier("{{ 'y' }}", "y"), None);
    }
}
