//! The shape of the document: a mapping whose `notifications` is a list of channels,
//! each a mapping with a known `type`.

use serde_json::Value;

use super::describe::describe;
use super::duplicates::check_duplicate_channels;
use super::events::check_events;
use super::http::check_http;
use super::numbers::check_timeout;
use super::plugins::check_plugin;
use crate::code::Code;
use crate::report::Report;
use crate::schema::channel_types;
use crate::suggest::did_you_mean;

/// Checks a whole document.
pub(super) fn check_document(root: &Value, r: &mut Report<'_>) {
    let map = match root {
        Value::Null => return,
        Value::Object(map) => map,
        other => {
            r.error(
                Code::SettingsNotMapping,
                "",
                format!("the settings file must be a mapping of keys, found {}", describe(other)),
            )
            .help("start with `notifications:` followed by a list of channels");
            return;
        }
    };
    let Some(notifications) = map.get("notifications") else {
        return;
    };
    match notifications {
        Value::Null => {}
        Value::Array(channels) => {
            for (i, channel) in channels.iter().enumerate() {
                check_channel(i, channel, r);
            }
            check_duplicate_channels(channels, r);
        }
        Value::Object(_) => r
            .error(
                Code::NotificationsNotList,
                "/notifications",
                "`notifications` must be a list of channels, found a mapping",
            )
            .help("start each channel with `- ` (Chaos Toolkit would iterate over the mapping's keys and crash)"),
        other => r
            .error(
                Code::NotificationsNotList,
                "/notifications",
                format!("`notifications` must be a list of channels, found {}", describe(other)),
            )
            .help("write one `- ` item per channel, e.g.\n  notifications:\n    - type: http\n      url: https://…"),
    }
}

/// Checks entry `i` of `notifications`: a mapping, its `events`, `timeout` and `type`,
/// then the checks of that type.
fn check_channel(i: usize, channel: &Value, r: &mut Report<'_>) {
    let ptr = format!("/notifications/{i}");
    let Value::Object(entry) = channel else {
        let help = match channel {
            Value::String(s) if s.contains("://") => {
                let url = notifier_core::redact::redact_url(s);
                format!("write the channel as a mapping:\n  - type: http\n    url: {url}")
            }
            _ => "a channel is a mapping with a `type` (`http` or `plugin`) and its fields".into(),
        };
        r.error(
            Code::ChannelNotMapping,
            &ptr,
            format!("channel #{} must be a mapping, found {}", i + 1, describe(channel)),
        )
        .help(help);
        return;
    };
    check_events(&ptr, entry, r);
    check_timeout(&ptr, entry, r);
    match entry.get("type") {
        None => r.error(Code::MissingType, &ptr, "channel has no `type`").help(if entry.contains_key("url") {
            "add `type: http`; Chaos Toolkit silently ignores a channel without a type"
        } else if entry.contains_key("module") {
            "add `type: plugin`; Chaos Toolkit silently ignores a channel without a type"
        } else {
            "add `type: http` or `type: plugin`"
        }),
        Some(Value::String(t)) if t == "http" => check_http(&ptr, entry, r),
        Some(Value::String(t)) if t == "plugin" => check_plugin(&ptr, entry, r),
        Some(Value::String(t)) => {
            let suggestion = did_you_mean(t, channel_types());
            let help = match suggestion {
                Some(s) => format!(
                    "did you mean `{s}`? Chaos Toolkit matches the type exactly and silently ignores this channel"
                ),
                None => "expected `http` or `plugin`; Chaos Toolkit silently ignores other types".into(),
            };
            let reported = r.error(Code::UnknownType, &format!("{ptr}/type"), format!("unknown channel type `{t}`"));
            match suggestion {
                Some(s) => reported.fix(s).help(help),
                None => reported.help(help),
            }
        }
        Some(other) => r
            .error(
                Code::UnknownType,
                &format!("{ptr}/type"),
                format!("channel `type` must be `http` or `plugin`, found {}", describe(other)),
            )
            .help("write `type: http` or `type: plugin`"),
    }
}
