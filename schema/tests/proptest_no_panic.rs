//! The settings compiler never panics, whatever it is fed, and every diagnostic points
//! inside the text.
//!
//! Three generators: YAML-shaped token soup (structure, the real vocabulary, odd scalars,
//! unicode, anchors, tags, indentation); JSON-like trees rendered as YAML in random
//! block/flow styles and quoting; raw bytes through the UTF-8 gate. A fourth property
//! renders *valid* settings and checks they compile to the same channels.
//!
//! 2,000 cases per property by default; set `PROPTEST_CASES` for more (or fewer).

use proptest::prelude::*;
use proptest::strategy::Union;

use notifier_core::Event;
use notifier_schema::ir::IrKind;
use notifier_schema::{Code, Compiled, RunTime, SourceFile, compile};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000)
}

/// Every diagnostic is located inside the text, and the pipeline never disagrees with
/// itself (an `internal` diagnostic means the checks accepted what serde rejected; a
/// `schema` one, that the schema rejected what no check explains).
fn assert_well_located(compiled: &Compiled) -> Result<(), TestCaseError> {
    let text = &compiled.source.text;
    let lines = compiled.source.line_count();
    for d in &compiled.diagnostics {
        prop_assert!(d.line >= 1 && d.line <= lines, "line {} outside 1..={lines}: {d}", d.line);
        prop_assert!(d.column >= 1, "column {} < 1: {d}", d.column);
        let line_len = compiled.source.line_text(d.line).chars().count();
        // One past the end is where an error "at end of line" is reported.
        prop_assert!(d.column <= line_len + 1, "column {} beyond line of {line_len} characters: {d}", d.column);
        prop_assert!(d.span.start <= d.span.end && d.span.end <= text.len(), "span {:?} outside text: {d}", d.span);
        prop_assert!(
            text.is_char_boundary(d.span.start) && text.is_char_boundary(d.span.end),
            "span {:?} splits a character: {d}",
            d.span
        );
        prop_assert!(!d.message.is_empty());
        prop_assert_ne!(d.code, Code::Internal, "the checks and serde disagree: {}", d);
        // The JSON Schema is a safety net: every violation should be explained by a
        // semantic check with a message written for people.
        prop_assert_ne!(d.code, Code::Schema, "the schema rejected what no check explains: {}", d);
    }
    // What each error does at run time agrees with the table the lenient loader uses.
    let fatal = compiled.diagnostics.iter().any(|d| d.run_time == RunTime::NoNotifications);
    match &compiled.table {
        None => prop_assert!(fatal, "no table but no error that disables the file"),
        Some(table) => {
            prop_assert!(!fatal, "a table despite an error that disables the file");
            let mut skipped: Vec<usize> = compiled
                .diagnostics
                .iter()
                .filter_map(|d| match d.run_time {
                    RunTime::ChannelSkipped { channel } => Some(channel - 1),
                    _ => None,
                })
                .collect();
            skipped.sort_unstable();
            skipped.dedup();
            let in_table: Vec<usize> = table.skipped.iter().map(|s| s.index).collect();
            prop_assert_eq!(&skipped, &in_table);
            prop_assert!(table.channels.iter().all(|c| !skipped.contains(&c.index)));
            let entries = compiled.document.get("notifications").and_then(|n| n.as_array()).map_or(0, Vec::len);
            prop_assert_eq!(table.channels.len() + table.skipped.len(), entries, "every entry is used or skipped");
        }
    }
    if !compiled.has_errors() {
        prop_assert!(compiled.table.as_ref().is_some_and(|t| t.skipped.is_empty()), "no error but no full table");
    }
    Ok(())
}

fn compile_text(text: &str) -> Compiled {
    compile(SourceFile::new("prop.yaml", text))
}

// ---------------------------------------------------------------------------------------
// Vocabulary.
// ---------------------------------------------------------------------------------------

const KEYS: &[&str] = &[
    "notifications",
    "type",
    "url",
    "verify_tls",
    "headers",
    "forward_event_payload",
    "events",
    "module",
    "func",
    "token",
    "channel",
    "timeout",
    "retries",
    "signing_secret",
    "password",
    "Authorization",
    "X-Api-Key",
    "Content-Type",
    "controls",
    "runtime",
    "<<",
    "",
];

const SCALARS: &[&str] = &[
    "http",
    "plugin",
    "HTTP",
    "htttp",
    "chaosslack.notification",
    "notifier.jsonl",
    "a..b",
    "notify",
    "None",
    "https://hooks.example.com/chaos",
    "http://user:pw@h.example.com/?token=x",
    "ftp://x",
    "https://",
    "not a url",
    "${HOME}",
    "${NOTIFIER_PROP_UNSET}",
    "${",
    "$${X}",
    "${X:-d}",
    "run-failed",
    "run-fail",
    "discover-started",
    "yes",
    "no",
    "off",
    "On",
    "true",
    "False",
    "~",
    "null",
    "0",
    "-1",
    "017",
    "0x1F",
    "0b101",
    "1_000",
    "1:30",
    "1.5",
    ".inf",
    "-.inf",
    ".nan",
    "1e5",
    "1.0e+5",
    "99999999999999999999999999999999999999999",
    "300.0001",
    "0.0001",
    "Bearer abc",
    "a\\r\\nb",
];

const STRUCTURE: &[&str] = &[
    "\n",
    "\n",
    "\n",
    "  ",
    "  ",
    "    ",
    " ",
    "- ",
    "- ",
    ": ",
    ": ",
    ":",
    "[",
    "]",
    "{",
    "}",
    ", ",
    ",",
    "&a ",
    "&b ",
    "*a",
    "*b",
    "<<: *a",
    "!!str ",
    "!!int ",
    "!!bool ",
    "!!float ",
    "!!null ",
    "!!map ",
    "!!seq ",
    "!!binary ",
    "!!python/object:os.system ",
    "!local ",
    "!<tag:yaml.org,2002:str> ",
    "? ",
    "|",
    "|-",
    ">",
    ">+",
    "|2",
    "---\n",
    "...\n",
    "# comment",
    "'",
    "\"",
    "''",
    "\"\"",
    "\t",
    "\r\n",
    "\r",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2000:\n",
    "@",
    "`",
    "\\",
    "%",
    "\u{feff}",
    "\u{0}",
    "\u{85}",
    "\u{2028}",
    "é",
    "日本",
    "🦀",
    "\u{7f}",
    "\u{fffd}",
];

fn token() -> impl Strategy<Value = String> {
    Union::new_weighted(vec![
        (6, proptest::sample::select(STRUCTURE).prop_map(str::to_owned).boxed()),
        (3, proptest::sample::select(KEYS).prop_map(str::to_owned).boxed()),
        (3, proptest::sample::select(SCALARS).prop_map(str::to_owned).boxed()),
        (1, proptest::sample::select(Event::names().collect::<Vec<_>>()).prop_map(str::to_owned).boxed()),
        (1, "\\PC{0,6}".boxed()),
        (1, "[ -~]{0,6}".boxed()),
    ])
}

/// A line-oriented soup: most lines look like `<indent><dash?><key>: <value>`, others are
/// arbitrary token runs.
fn yaml_soup() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        3 => (0usize..12, any::<bool>(), proptest::sample::select(KEYS), prop::collection::vec(token(), 0..4))
            .prop_map(|(indent, dash, key, rest)| {
                format!("{}{}{key}: {}\n", " ".repeat(indent), if dash { "- " } else { "" }, rest.concat())
            }),
        2 => prop::collection::vec(token(), 0..10).prop_map(|t| t.concat()),
    ];
    prop::collection::vec(line, 0..30).prop_map(|lines| lines.concat())
}

// ---------------------------------------------------------------------------------------
// JSON-like trees rendered as YAML.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Tree {
    /// A scalar written as is (plain), so YAML 1.1 resolution applies.
    Plain(String),
    /// A string written single- or double-quoted.
    Quoted(String, bool),
    Seq(Vec<Tree>, bool),
    Map(Vec<(String, Tree)>, bool),
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        4 => proptest::sample::select(SCALARS).prop_map(|s| Tree::Plain(s.to_owned())),
        2 => proptest::sample::select(Event::names().collect::<Vec<_>>()).prop_map(|s| Tree::Plain(s.to_owned())),
        2 => ("\\PC{0,12}", any::<bool>()).prop_map(|(s, double)| Tree::Quoted(s, double)),
        1 => "[a-zA-Z0-9_./:-]{0,12}".prop_map(Tree::Plain),
        1 => any::<i64>().prop_map(|i| Tree::Plain(i.to_string())),
        1 => any::<f64>().prop_map(|f| Tree::Plain(format!("{f:?}"))),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        let key = prop_oneof![
            4 => proptest::sample::select(KEYS).prop_map(str::to_owned),
            1 => "[a-zA-Z_-]{1,10}",
        ];
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..6), any::<bool>()).prop_map(|(v, flow)| Tree::Seq(v, flow)),
            (prop::collection::vec((key, inner), 0..6), any::<bool>()).prop_map(|(v, flow)| Tree::Map(v, flow)),
        ]
    })
}

fn quote(s: &str, double: bool) -> String {
    if double { serde_json::to_string(s).unwrap() } else { format!("'{}'", s.replace('\'', "''")) }
}

fn scalar_text(t: &Tree) -> Option<String> {
    match t {
        Tree::Plain(s) => Some(s.clone()),
        Tree::Quoted(s, double) => Some(quote(s, *double)),
        Tree::Seq(items, _) if items.is_empty() => Some("[]".into()),
        Tree::Map(entries, _) if entries.is_empty() => Some("{}".into()),
        _ => None,
    }
}

fn flow(t: &Tree) -> String {
    match t {
        Tree::Seq(items, _) => format!("[{}]", items.iter().map(flow).collect::<Vec<_>>().join(", ")),
        Tree::Map(entries, _) => {
            format!(
                "{{{}}}",
                entries.iter().map(|(k, v)| format!("{}: {}", quote(k, true), flow(v))).collect::<Vec<_>>().join(", ")
            )
        }
        scalar => scalar_text(scalar).unwrap_or_default(),
    }
}

/// Block style where the tree asks for it, flow style inside flow collections.
fn render(t: &Tree, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match t {
        Tree::Seq(items, false) if !items.is_empty() => {
            for item in items {
                if is_block(item) && !inner_is_empty(item) {
                    out.push_str(&format!("{pad}-\n"));
                    render(item, indent + 2, out);
                } else {
                    out.push_str(&format!("{pad}- {}\n", inline(item)));
                }
            }
        }
        Tree::Map(entries, false) if !entries.is_empty() => {
            for (k, v) in entries {
                let key = if k.is_empty() || k.contains([':', '#', '-']) { quote(k, true) } else { k.clone() };
                if is_block(v) && !inner_is_empty(v) {
                    out.push_str(&format!("{pad}{key}:\n"));
                    render(v, indent + 2, out);
                } else {
                    out.push_str(&format!("{pad}{key}: {}\n", inline(v)));
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", inline(other))),
    }
}

fn is_block(t: &Tree) -> bool {
    matches!(t, Tree::Seq(_, false) | Tree::Map(_, false))
}

fn inner_is_empty(t: &Tree) -> bool {
    match t {
        Tree::Seq(v, _) => v.is_empty(),
        Tree::Map(v, _) => v.is_empty(),
        _ => true,
    }
}

fn inline(t: &Tree) -> String {
    scalar_text(t).unwrap_or_else(|| flow(t))
}

/// A settings-shaped document: `notifications:` holding generated channel-like mappings.
fn settings_tree() -> impl Strategy<Value = Tree> {
    (prop::collection::vec(tree(), 0..5), any::<bool>(), proptest::option::of(tree())).prop_map(
        |(channels, flow_list, other)| {
            let mut root = vec![("notifications".to_owned(), Tree::Seq(channels, flow_list))];
            if let Some(other) = other {
                root.push(("runtime".to_owned(), other));
            }
            Tree::Map(root, false)
        },
    )
}

// ---------------------------------------------------------------------------------------
// Valid settings, rendered, must compile to the same channels.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum ValidChannel {
    Http { url: String, verify_tls: bool, forward: bool, headers: Vec<(String, String)>, events: Vec<Event> },
    Plugin { module: String, func: Option<String>, extra: Vec<(String, String)>, events: Vec<Event> },
}

fn valid_channel() -> impl Strategy<Value = ValidChannel> {
    let events = prop::collection::vec(proptest::sample::select(Event::ALL.to_vec()), 0..4).prop_map(|mut v| {
        v.sort_by_key(|e| e.name());
        v.dedup();
        v
    });
    let http = (
        "https?://[a-z]{1,8}(\\.[a-z]{2,5}){1,2}(/[a-z0-9_-]{0,6}){0,3}",
        any::<bool>(),
        any::<bool>(),
        prop::collection::btree_map("X-[A-Z][a-z]{0,6}", "[ -~&&[^\\\\\"$]]{0,12}", 0..3),
        events.clone(),
    )
        .prop_map(|(url, verify_tls, forward, headers, events)| ValidChannel::Http {
            url,
            verify_tls,
            forward,
            headers: headers.into_iter().collect(),
            events,
        });
    let ident = "[a-z_][a-z0-9_]{0,7}";
    let plugin = (
        prop::collection::vec(ident, 1..4).prop_map(|parts| format!("acme_{}", parts.join("."))),
        // A function Rust can name (`_`, `self`, `super`, `crate` are errors; keywords are fine).
        proptest::option::of(ident.prop_filter("Rust can name it", |f| {
            notifier_schema::rust_name::rust_name(f) != notifier_schema::rust_name::RustName::Impossible
        })),
        prop::collection::btree_map("(x|y|z)_[a-z]{1,6}", "[a-zA-Z0-9 ]{0,12}", 0..3),
        events,
    )
        .prop_map(|(module, func, extra, events)| ValidChannel::Plugin {
            module,
            func,
            extra: extra.into_iter().collect(),
            events,
        });
    prop_oneof![http, plugin]
}

fn render_valid(channels: &[ValidChannel]) -> String {
    let mut out = String::from("notifications:\n");
    let q = |s: &str| serde_json::to_string(s).unwrap();
    let events = |out: &mut String, events: &[Event]| {
        if !events.is_empty() {
            out.push_str("    events:\n");
            for e in events {
                out.push_str(&format!("      - {}\n", e.name()));
            }
        }
    };
    for c in channels {
        match c {
            ValidChannel::Http { url, verify_tls, forward, headers, events: ev } => {
                out.push_str(&format!("  - type: http\n    url: {}\n", q(url)));
                out.push_str(&format!("    verify_tls: {verify_tls}\n    forward_event_payload: {forward}\n"));
                if !headers.is_empty() {
                    out.push_str("    headers:\n");
                    for (k, v) in headers {
                        out.push_str(&format!("      {k}: {}\n", q(v)));
                    }
                }
                events(&mut out, ev);
            }
            ValidChannel::Plugin { module, func, extra, events: ev } => {
                out.push_str(&format!("  - type: plugin\n    module: {module}\n"));
                if let Some(f) = func {
                    // Quoted: `on`, `no`, `null`… are not strings in YAML 1.1.
                    out.push_str(&format!("    func: {}\n", q(f)));
                }
                for (k, v) in extra {
                    out.push_str(&format!("    {k}: {}\n", q(v)));
                }
                events(&mut out, ev);
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn yaml_shaped_soup_never_panics(text in yaml_soup()) {
        assert_well_located(&compile_text(&text))?;
    }

    #[test]
    fn rendered_trees_never_panic(t in tree(), top in settings_tree()) {
        let mut text = String::new();
        render(&t, 0, &mut text);
        assert_well_located(&compile_text(&text))?;
        let mut text = String::new();
        render(&top, 0, &mut text);
        assert_well_located(&compile_text(&text))?;
        // The same document in flow style only.
        assert_well_located(&compile_text(&flow(&top)))?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        match SourceFile::from_bytes(std::path::Path::new("bytes.yaml"), bytes) {
            Ok(source) => assert_well_located(&compile(source))?,
            Err(notifier_schema::ReadError::NotUtf8 { line, column, .. }) => prop_assert!(line >= 1 && column >= 1),
            Err(other) => prop_assert!(false, "unexpected read error {other}"),
        }
    }

    #[test]
    fn valid_settings_compile_to_the_same_channels(channels in prop::collection::vec(valid_channel(), 0..6)) {
        let text = render_valid(&channels);
        let compiled = compile_text(&text);
        assert_well_located(&compiled)?;
        prop_assert!(!compiled.has_errors(), "{text}\n{:#?}", compiled.diagnostics);
        let table = compiled.table.unwrap();
        prop_assert_eq!(table.channels.len(), channels.len());
        for (ir, want) in table.channels.iter().zip(&channels) {
            let (events, kind_ok) = match (want, &ir.kind) {
                (ValidChannel::Http { url, verify_tls, forward, headers, events }, IrKind::Http { url: u, verify_tls: v, forward_event_payload: f, headers: h, .. }) => {
                    let same_headers = h.len() == headers.len()
                        && h.iter().zip(headers).all(|((k1, v1), (k2, v2))| k1 == k2 && v1.resolve_with(&|_| None).ok().as_ref() == Some(v2));
                    (events, u.resolve_with(&|_| None).ok().as_ref() == Some(url) && v == verify_tls && f == forward && same_headers)
                }
                (ValidChannel::Plugin { module, func, extra, events }, IrKind::Plugin { module: m, func: f, config, .. }) => {
                    let same_extra = extra.iter().all(|(k, v)| config.get(k).and_then(|c| c.as_str()) == Some(v.as_str()));
                    (events, m == module && *f == func.clone().unwrap_or_else(|| "notify".into()) && same_extra)
                }
                _ => (&Vec::new(), false),
            };
            prop_assert!(kind_ok, "channel {} differs:\n{text}\n{ir:#?}", ir.index);
            let got: Vec<Event> = ir.events.iter().collect();
            let mut want_events = events.clone();
            if want_events.is_empty() {
                want_events = Event::ALL.to_vec();
            }
            want_events.sort();
            let mut got_sorted = got.clone();
            got_sorted.sort();
            prop_assert_eq!(got_sorted, want_events);
        }
    }
}
