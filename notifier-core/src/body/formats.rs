//! The built-in body formats: templates shipped in the binary, with their options.
//!
//! Each format is an ordinary body template (`notifier formats show NAME` prints it, and
//! a user can copy it into `template:`), a content type, and the options it reads from
//! the channel's `options:` mapping, each with its default. Options are checked by the
//! settings compiler (unknown keys, missing required ones, wrong types or values) and
//! again when a notifier is built; option strings may use `${VAR}`.

use serde_json::{Map, Value};

/// A built-in body format.
#[derive(Debug)]
pub struct Format {
    /// The name written in `format:`.
    pub name: &'static str,
    /// One line: the receiver and what is sent.
    pub summary: &'static str,
    /// The `Content-Type` of its bodies.
    pub content_type: &'static str,
    /// Its template; `None` for `chaostoolkit`, which is the envelope encoder itself.
    pub template: Option<&'static str>,
    /// The options it reads.
    pub options: &'static [OptionSpec],
    /// Where the receiver documents its API.
    pub reference: &'static str,
}

/// One option of a format.
#[derive(Debug)]
pub struct OptionSpec {
    /// The key under `options:`.
    pub name: &'static str,
    /// What values it takes.
    pub kind: OptionKind,
    /// Whether the channel must give it.
    pub required: bool,
    /// Its default, as JSON text (`None`: no default).
    pub default: Option<&'static str>,
    /// What it does.
    pub doc: &'static str,
}

/// The values an option takes.
#[derive(Debug)]
pub enum OptionKind {
    /// A non-empty string of at most this many characters.
    Text(usize),
    /// A mapping from some of `keys` to one of `values` (merged over the default, key
    /// by key).
    Choice {
        /// The keys it may have.
        keys: &'static [&'static str],
        /// The values each key may take.
        values: &'static [&'static str],
    },
    /// A list of at most `items` strings of at most `length` characters each.
    List {
        /// Most items.
        items: usize,
        /// Longest item.
        length: usize,
    },
    /// Any JSON value the receiver accepts (passed through as written).
    Json,
}

/// A problem with one option: `key` is the option (empty for the mapping itself), with
/// a sub-key when it is about an entry of a mapping option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionProblem {
    /// The option, or `option/sub-key`; empty when the problem is a missing option.
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

const ENVELOPE_TEMPLATE: &str = include_str!("formats/chaostoolkit.json.j2");

/// Every built-in format, `chaostoolkit` (the default) first.
pub const FORMATS: &[Format] = &[
    Format {
        name: "chaostoolkit",
        summary: "chaostoolkit-lib's envelope {name, payload, phase, ts[, error]}, byte for byte (the default)",
        content_type: "application/json",
        template: None,
        options: &[],
        reference: "https://chaostoolkit.org/reference/usage/notification/",
    },
    Format {
        name: "cloudevents",
        summary: "CloudEvents 1.0, structured JSON mode; `data` is the envelope",
        content_type: "application/cloudevents+json; charset=UTF-8",
        template: Some(include_str!("formats/cloudevents.json.j2")),
        options: &[
            OptionSpec {
                name: "source",
                kind: OptionKind::Text(2048),
                required: false,
                default: Some(r#""urn:chaostoolkit:notifier""#),
                doc: "the CloudEvents `source` (a URI reference naming this producer)",
            },
            OptionSpec {
                name: "type_prefix",
                kind: OptionKind::Text(200),
                required: false,
                default: Some(r#""org.chaostoolkit""#),
                doc: "reverse-DNS prefix of `type`: `<prefix>.<phase>.<outcome>`, e.g. `org.chaostoolkit.run.failed`",
            },
        ],
        reference: "https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md",
    },
    Format {
        name: "slack",
        summary: "Slack incoming webhook: a Block Kit message with a text fallback",
        content_type: "application/json",
        template: Some(include_str!("formats/slack.json.j2")),
        options: &[],
        reference: "https://api.slack.com/messaging/webhooks",
    },
    Format {
        name: "teams",
        summary: "Microsoft Teams Workflows webhook: an Adaptive Card 1.4 in a message",
        content_type: "application/json",
        template: Some(include_str!("formats/teams.json.j2")),
        options: &[],
        reference: "https://learn.microsoft.com/en-us/connectors/teams/",
    },
    Format {
        name: "discord",
        summary: "Discord webhook: one embed, mentions disabled",
        content_type: "application/json",
        template: Some(include_str!("formats/discord.json.j2")),
        options: &[OptionSpec {
            name: "username",
            kind: OptionKind::Text(80),
            required: false,
            default: Some(r#""chaostoolkit""#),
            doc: "the name the message is posted under (1-80 characters)",
        }],
        reference: "https://discord.com/developers/docs/resources/webhook#execute-webhook",
    },
    Format {
        name: "google-chat",
        summary: "Google Chat incoming webhook: text and a card (cardsV2)",
        content_type: "application/json; charset=UTF-8",
        template: Some(include_str!("formats/google-chat.json.j2")),
        options: &[],
        reference: "https://developers.google.com/workspace/chat/quickstart/webhooks",
    },
    Format {
        name: "mattermost",
        summary: "Mattermost incoming webhook: text and a coloured attachment",
        content_type: "application/json",
        template: Some(include_str!("formats/mattermost.json.j2")),
        options: &[
            OptionSpec {
                name: "username",
                kind: OptionKind::Text(64),
                required: false,
                default: None,
                doc: "post as this user name (the server must allow overrides)",
            },
            OptionSpec {
                name: "channel",
                kind: OptionKind::Text(64),
                required: false,
                default: None,
                doc: "post in this channel (`town-square`, `@user`) instead of the hook's",
            },
        ],
        reference: "https://developers.mattermost.com/integrate/webhooks/incoming/",
    },
    Format {
        name: "pagerduty",
        summary: "PagerDuty Events API v2: trigger on failure or deviation, resolve when a later run completes",
        content_type: "application/json",
        template: Some(include_str!("formats/pagerduty.json.j2")),
        options: &[
            OptionSpec {
                name: "routing_key",
                kind: OptionKind::Text(64),
                required: true,
                default: None,
                doc: "the 32-character integration key of the service (use `${VAR}`)",
            },
            OptionSpec {
                name: "source",
                kind: OptionKind::Text(255),
                required: false,
                default: Some(r#""chaostoolkit""#),
                doc: "`payload.source`: the system the alert is about",
            },
            OptionSpec {
                name: "severity",
                kind: OptionKind::Choice {
                    keys: &["failed", "deviated"],
                    values: &["critical", "error", "warning", "info"],
                },
                required: false,
                default: Some(r#"{"failed": "error", "deviated": "warning"}"#),
                doc: "`payload.severity` of the alert a failed or a deviated event triggers",
            },
        ],
        reference: "https://developer.pagerduty.com/docs/events-api-v2/trigger-events/",
    },
    Format {
        name: "opsgenie",
        summary: "Opsgenie Alert API: create an alert on failure or deviation (send `Authorization: GenieKey …`)",
        content_type: "application/json",
        template: Some(include_str!("formats/opsgenie.json.j2")),
        options: &[
            OptionSpec {
                name: "priority",
                kind: OptionKind::Choice { keys: &["failed", "deviated"], values: &["P1", "P2", "P3", "P4", "P5"] },
                required: false,
                default: Some(r#"{"failed": "P2", "deviated": "P3"}"#),
                doc: "`priority` of the alert a failed or a deviated event creates",
            },
            OptionSpec {
                name: "source",
                kind: OptionKind::Text(100),
                required: false,
                default: Some(r#""chaostoolkit""#),
                doc: "`source` of the alert",
            },
            OptionSpec {
                name: "tags",
                kind: OptionKind::List { items: 20, length: 50 },
                required: false,
                default: Some(r#"["chaostoolkit"]"#),
                doc: "`tags` of the alert (at most 20, each at most 50 characters)",
            },
            OptionSpec {
                name: "responders",
                kind: OptionKind::Json,
                required: false,
                default: None,
                doc: "`responders`, as the Alert API takes them: `[{type: team, name: SRE}]`",
            },
        ],
        reference: "https://docs.opsgenie.com/docs/alert-api#create-alert",
    },
];

/// The built-in format named `name`.
pub fn find(name: &str) -> Option<&'static Format> {
    FORMATS.iter().find(|f| f.name == name)
}

/// The names of the built-in formats.
pub fn names() -> impl Iterator<Item = &'static str> {
    FORMATS.iter().map(|f| f.name)
}

impl Format {
    /// The template `notifier formats show` prints: the format's own template, or for
    /// `chaostoolkit` a template giving the same JSON value as the envelope encoder.
    pub fn template_text(&self) -> &'static str {
        self.template.unwrap_or(ENVELOPE_TEMPLATE)
    }

    /// The option named `name`.
    pub fn option(&self, name: &str) -> Option<&'static OptionSpec> {
        self.options.iter().find(|o| o.name == name)
    }

    /// The options a channel gives, checked and merged over the defaults: every problem
    /// at once.
    pub fn resolve_options(&self, given: &Map<String, Value>) -> Result<Map<String, Value>, Vec<OptionProblem>> {
        let mut problems = Vec::new();
        let mut out = Map::new();
        for spec in self.options {
            if let Some(default) = spec.default {
                out.insert(spec.name.to_owned(), serde_json::from_str(default).unwrap_or(Value::Null));
            }
        }
        for (key, value) in given {
            let Some(spec) = self.option(key) else {
                let known: Vec<&str> = self.options.iter().map(|o| o.name).collect();
                problems.push(OptionProblem {
                    key: key.clone(),
                    message: format!("format `{}` has no option `{key}`", self.name),
                    help: Some(if known.is_empty() {
                        format!("format `{}` takes no options", self.name)
                    } else {
                        format!("format `{}` takes: {}", self.name, known.join(", "))
                    }),
                });
                continue;
            };
            match spec.check(key, value) {
                Ok(()) => match (&spec.kind, out.get_mut(key), value) {
                    (OptionKind::Choice { .. }, Some(Value::Object(defaults)), Value::Object(given)) => {
                        defaults.extend(given.clone());
                    }
                    _ => {
                        out.insert(key.clone(), value.clone());
                    }
                },
                Err(p) => problems.extend(p),
            }
        }
        for spec in self.options.iter().filter(|o| o.required && !given.contains_key(o.name)) {
            problems.push(OptionProblem {
                key: String::new(),
                message: format!("format `{}` needs the option `{}`", self.name, spec.name),
                help: Some(format!("add `options: {{{}: …}}`: {}", spec.name, spec.doc)),
            });
        }
        if problems.is_empty() { Ok(out) } else { Err(problems) }
    }
}

impl OptionSpec {
    fn check(&self, key: &str, value: &Value) -> Result<(), Vec<OptionProblem>> {
        let problem = |sub: Option<&str>, message: String, help: Option<String>| OptionProblem {
            key: sub.map_or_else(|| key.to_owned(), |s| format!("{key}/{s}")),
            message,
            help,
        };
        match &self.kind {
            OptionKind::Text(max) => match value {
                Value::String(s) if !s.is_empty() && s.chars().count() <= *max => Ok(()),
                Value::String(s) if s.is_empty() => {
                    Err(vec![problem(None, format!("option `{key}` is empty"), Some(self.doc.to_owned()))])
                }
                Value::String(_) => {
                    Err(vec![problem(None, format!("option `{key}` is longer than {max} characters"), None)])
                }
                _ => Err(vec![problem(None, format!("option `{key}` must be a string"), Some(self.doc.to_owned()))]),
            },
            OptionKind::Choice { keys, values } => {
                let Value::Object(map) = value else {
                    let example: Vec<String> = keys.iter().map(|k| format!("{k}: {}", values[0])).collect();
                    return Err(vec![problem(
                        None,
                        format!("option `{key}` must be a mapping"),
                        Some(format!("write `{key}: {{{}}}`", example.join(", "))),
                    )]);
                };
                let mut out = Vec::new();
                for (k, v) in map {
                    if !keys.contains(&k.as_str()) {
                        out.push(problem(
                            Some(k),
                            format!("option `{key}` has no entry `{k}`"),
                            Some(format!("its entries are: {}", keys.join(", "))),
                        ));
                    } else if !v.as_str().is_some_and(|s| values.contains(&s)) {
                        out.push(problem(Some(k), format!("`{key}.{k}` must be one of {}", values.join(", ")), None));
                    }
                }
                if out.is_empty() { Ok(()) } else { Err(out) }
            }
            OptionKind::List { items, length } => {
                let Value::Array(list) = value else {
                    return Err(vec![problem(None, format!("option `{key}` must be a list of strings"), None)]);
                };
                let mut out = Vec::new();
                if list.len() > *items {
                    out.push(problem(None, format!("option `{key}` has more than {items} items"), None));
                }
                for (i, item) in list.iter().enumerate() {
                    if !item.as_str().is_some_and(|s| !s.is_empty() && s.chars().count() <= *length) {
                        out.push(problem(
                            Some(&i.to_string()),
                            format!("each item of `{key}` must be a string of 1 to {length} characters"),
                            None,
                        ));
                    }
                }
                if out.is_empty() { Ok(()) } else { Err(out) }
            }
            OptionKind::Json => Ok(()),
        }
    }
}
