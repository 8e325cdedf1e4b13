//! Things written twice: keys in one mapping, whole channels.

use serde_json::Value;

use crate::code::Code;
use crate::diagnostic::Severity::{self, Error, Warning};
use crate::located::{LocatedDocument, escape_pointer};
use crate::report::Report;

/// Reports keys written twice in one mapping.
pub(super) fn check_duplicate_keys(doc: &LocatedDocument, r: &mut Report<'_>) {
    for dup in &doc.duplicates {
        // Inside `notifications`, or `notifications` itself written twice: a whole list of
        // channels would be dropped silently.
        let in_notifications =
            dup.parent.starts_with("/notifications") || (dup.parent.is_empty() && dup.key == "notifications");
        let severity: Severity = if in_notifications { Error } else { Warning };
        r.push_span(
            severity,
            Code::DuplicateKey,
            &format!("{}/{}", dup.parent, escape_pointer(&dup.key)),
            dup.span,
            format!("key `{}` appears twice in this mapping (first at line {})", dup.key, dup.first.start.line),
        )
        .help("Chaos Toolkit keeps the last value silently; remove one");
    }
}

/// Two channels that would send the same thing to the same place.
pub(super) fn check_duplicate_channels(channels: &[Value], r: &mut Report<'_>) {
    let identity = |c: &Value| -> Option<String> {
        let m = c.as_object()?;
        let mut m = m.clone();
        // Channels differing only by filter order are the same.
        if let Some(Value::Array(ev)) = m.get_mut("events") {
            ev.sort_by_key(|v| v.to_string());
        }
        Some(Value::Object(m).to_string())
    };
    // Linear in the number of channels: first occurrence of each identity.
    let mut first_of: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, channel) in channels.iter().enumerate() {
        let Some(id) = identity(channel) else { continue };
        let first = *first_of.entry(id).or_insert(i);
        if first != i {
            let line = r.line_of(&format!("/notifications/{first}"));
            r.warning(
                Code::DuplicateChannel,
                &format!("/notifications/{i}"),
                format!("channel #{} is the same as channel #{} (line {line})", i + 1, first + 1),
            )
            .help("every event would be delivered twice; remove one");
        }
    }
}
