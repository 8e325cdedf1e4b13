//! One test per way a settings file can be wrong: every crash case of the reference
//! (chaostoolkit-lib 1.45.1), every reference weakness that concerns settings, and the
//! warnings. Each asserts the diagnostic's code, severity, line, column and help text.
//!
//! Positions are written as "line N, at the first occurrence of this text on it", so a
//! test states where the caret must be in terms a reader can check against the YAML.

use notifier_schema::ir::IrKind;
use notifier_schema::{Code, Compiled, Diagnostic, RunTime, Severity, SourceFile, compile};
use notifier_schema::{yaml::MAX_ALIAS_EXPANSION, yaml::MAX_DEPTH};

/// An environment variable no test machine sets.
const UNSET_VAR: &str = "NOTIFIER_TEST_VARIABLE_THAT_IS_NEVER_SET_7F3A";

fn run(text: &str) -> Compiled {
    compile(SourceFile::new("settings.yaml", text))
}

/// The 1-based column of the first `needle` on 1-based `line` of `text`, in characters.
#[track_caller]
fn column_of(text: &str, line: usize, needle: &str) -> usize {
    let line_text = text.split('\n').nth(line - 1).unwrap_or_else(|| panic!("no line {line} in:\n{text}"));
    let byte = line_text.find(needle).unwrap_or_else(|| panic!("`{needle}` is not on line {line}: {line_text:?}"));
    line_text[..byte].chars().count() + 1
}

/// The only diagnostic with `code`; fails (listing all of them) if there is not exactly one.
#[track_caller]
fn only(compiled: &Compiled, code: Code) -> &Diagnostic {
    let found: Vec<&Diagnostic> = compiled.diagnostics.iter().filter(|d| d.code == code).collect();
    assert_eq!(found.len(), 1, "expected one `{code}` diagnostic, got:\n{}", list(compiled));
    found[0]
}

fn list(compiled: &Compiled) -> String {
    compiled.diagnostics.iter().map(|d| format!("  {d}\n")).collect()
}

/// What a test expects of one diagnostic.
struct Expect<'a> {
    code: Code,
    severity: Severity,
    line: usize,
    /// The caret is at the first occurrence of this text on `line`.
    at: &'a str,
    /// The message contains this.
    message: &'a str,
    /// The help contains this (`None`: there is no help).
    help: Option<&'a str>,
}

/// Compiles `text` and checks that it has exactly one diagnostic with `e.code`, as described.
#[track_caller]
fn expect(text: &str, e: Expect<'_>) -> Compiled {
    let compiled = run(text);
    check(&compiled, text, &e);
    compiled
}

#[track_caller]
fn check(compiled: &Compiled, text: &str, e: &Expect<'_>) {
    let d = only(compiled, e.code);
    let column = column_of(text, e.line, e.at);
    assert_eq!(
        (d.severity, d.line, d.column),
        (e.severity, e.line, column),
        "wrong severity or position for `{}`:\n{}",
        e.code,
        list(compiled)
    );
    assert_eq!(d.file, "settings.yaml");
    assert!(
        d.message.contains(e.message),
        "message of `{}` is {:?}, expected it to contain {:?}",
        e.code,
        d.message,
        e.message
    );
    match (e.help, &d.help) {
        (None, None) => {}
        (Some(want), Some(help)) => {
            assert!(help.contains(want), "help of `{}` is {help:?}, expected it to contain {want:?}", e.code)
        }
        (want, got) => panic!("help of `{}`: expected {want:?}, got {got:?}", e.code),
    }
    // The span starts where line:column says, so renderers underline the right text.
    let offset: usize = text.split('\n').take(d.line - 1).map(|l| l.len() + 1).sum::<usize>()
        + text.split('\n').nth(d.line - 1).unwrap().chars().take(d.column - 1).map(char::len_utf8).sum::<usize>();
    assert_eq!(d.span.start, offset, "span of `{}` does not start at its line:column", e.code);
    if e.severity == Severity::Error {
        assert!(compiled.has_errors());
        assert_run_time_effect(compiled, d);
    }
}

/// An error inside channel N skips that channel alone at run time (it is in the table's
/// `skipped` list, not in its `channels`); any other error leaves no table at all.
#[track_caller]
fn assert_run_time_effect(compiled: &Compiled, d: &Diagnostic) {
    let channel = d.pointer.strip_prefix("/notifications/").and_then(|p| p.split('/').next()?.parse::<usize>().ok());
    match (channel, &compiled.table) {
        (Some(i), Some(table)) => {
            assert_eq!(d.run_time, RunTime::ChannelSkipped { channel: i + 1 }, "{d}");
            assert!(table.skipped.iter().any(|s| s.index == i), "channel {i} must be skipped: {table:?}");
            assert!(table.channels.iter().all(|c| c.index != i), "channel {i} must not be lowered: {table:?}");
        }
        (None, None) => assert_eq!(d.run_time, RunTime::NoNotifications, "{d}"),
        (channel, table) => panic!("error at {} (channel {channel:?}) with table {table:?}", d.pointer),
    }
}

/// Asserts the file compiles to a table, with no diagnostics other than `allowed` codes.
#[track_caller]
fn clean(text: &str, allowed: &[Code]) -> Compiled {
    let compiled = run(text);
    let unexpected: Vec<_> = compiled.diagnostics.iter().filter(|d| !allowed.contains(&d.code)).collect();
    assert!(unexpected.is_empty(), "unexpected diagnostics:\n{}", list(&compiled));
    assert!(compiled.table.is_some(), "a valid file must produce a channel table");
    compiled
}

fn error<'a>(code: Code, line: usize, at: &'a str, message: &'a str, help: Option<&'a str>) -> Expect<'a> {
    Expect { code, severity: Severity::Error, line, at, message, help }
}

fn warning<'a>(code: Code, line: usize, at: &'a str, message: &'a str, help: Option<&'a str>) -> Expect<'a> {
    Expect { code, severity: Severity::Warning, line, at, message, help }
}

// ---------------------------------------------------------------------------------------
// The documented example and what must stay valid.
// ---------------------------------------------------------------------------------------

#[test]
fn the_documented_example_is_valid_with_three_warnings() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/settings.yaml")).unwrap();
    let compiled = clean(&text, &[Code::TlsVerificationOff, Code::PlainTextSecret]);
    assert_eq!(compiled.counts(), (0, 3), "{}", list(&compiled));
    let table = compiled.table.unwrap();
    assert_eq!(table.channels.len(), 2);
    assert!(matches!(&table.channels[0].kind, IrKind::Http { verify_tls: false, forward_event_payload: true, .. }));
    assert!(matches!(&table.channels[1].kind, IrKind::Plugin { module, func, .. }
        if module == "chaosslack.notification" && func == "notify"));
    let filter: Vec<_> = table.channels[1].events.iter().map(|e| e.name()).collect();
    assert_eq!(filter, ["run-failed"]);
}

#[test]
fn other_top_level_keys_are_accepted_untouched() {
    let text = "\
controls:
  my-control:
    provider: {type: python, module: x.y}
auths:
  example.com: {type: bearer, value: whatever}
runtime:
  rollbacks: {strategy: always}
notifications:
  - type: http
    url: https://hooks.example.com/chaos
";
    let compiled = clean(text, &[]);
    assert_eq!(compiled.document["runtime"]["rollbacks"]["strategy"], "always");
    assert_eq!(compiled.table.unwrap().channels.len(), 1);
}

// ---------------------------------------------------------------------------------------
// Crash cases of the reference (a traceback out of `notify()` or the CLI).
// ---------------------------------------------------------------------------------------

#[test]
fn plugin_without_module() {
    let text = "notifications:\n  - type: plugin\n    token: abc\n    func: notify\n";
    let c = expect(
        text,
        error(
            Code::MissingModule,
            2,
            "type: plugin",
            "plugin channel has no `module`",
            Some("add `module: package.module`"),
        ),
    );
    assert_eq!(only(&c, Code::MissingModule).pointer, "/notifications/0");
}

#[test]
fn plugin_with_null_module() {
    let text = "notifications:\n  - type: plugin\n    module: ~\n";
    expect(text, error(Code::MissingModule, 2, "type", "no `module`", Some("crashes the whole command")));
}

#[test]
fn notifications_as_a_mapping() {
    let text = "notifications:\n  slack:\n    type: plugin\n    module: chaosslack.notification\n";
    expect(
        text,
        error(
            Code::NotificationsNotList,
            2,
            "slack",
            "`notifications` must be a list of channels, found a mapping",
            Some("start each channel with `- `"),
        ),
    );
}

#[test]
fn a_string_list_entry() {
    let text = "notifications:\n  - https://hooks.example.com/chaos\n";
    let c = expect(
        text,
        error(
            Code::ChannelNotMapping,
            2,
            "https",
            "channel #1 must be a mapping, found a string",
            Some("type: http\n    url: https://hooks.example.com/chaos"),
        ),
    );
    assert_eq!(c.counts(), (1, 0), "{}", list(&c));
}

#[test]
fn non_mapping_list_entries() {
    let text = "notifications:\n  - 42\n  - [type, http]\n  -\n";
    let c = run(text);
    let found: Vec<_> = c.diagnostics.iter().map(|d| (d.code, d.line, d.column, d.message.as_str())).collect();
    assert_eq!(
        found,
        [
            (Code::ChannelNotMapping, 2, 5, "channel #1 must be a mapping, found the number 42"),
            (Code::ChannelNotMapping, 3, 5, "channel #2 must be a mapping, found a list"),
            (Code::ChannelNotMapping, 4, 4, "channel #3 must be a mapping, found null"),
        ]
    );
    assert!(c.diagnostics.iter().all(|d| d.help.as_deref().is_some_and(|h| h.contains("`type`"))));
}

#[test]
fn events_as_a_mapping() {
    let text = "notifications:\n  - type: http\n    url: https://x.example.com\n    events:\n      run-failed: true\n";
    expect(
        text,
        error(
            Code::EventsNotList,
            5,
            "run-failed",
            "`events` must be a list of event names, found a mapping",
            Some("events: ["),
        ),
    );
}

#[test]
fn events_as_a_number() {
    let text = "notifications:\n  - type: http\n    url: https://x.example.com\n    events: 5\n";
    expect(
        text,
        error(
            Code::EventsNotList,
            4,
            "5",
            "`events` must be a list of event names, found the number 5",
            Some("write `events: [run-failed, run-deviated]`"),
        ),
    );
}

#[test]
fn module_that_is_not_a_string() {
    let text = "notifications:\n  - type: plugin\n    module: 5\n";
    expect(
        text,
        error(
            Code::InvalidModule,
            3,
            "5",
            "`module` must be a string, found the number 5",
            Some("dotted module path, e.g. `chaosslack.notification`; Chaos Toolkit crashes the whole command"),
        ),
    );
}

#[test]
fn empty_module() {
    let text = "notifications:\n  - type: plugin\n    module: \"\"\n";
    expect(text, error(Code::InvalidModule, 3, "\"\"", "`module` is empty", Some("identifiers separated by dots")));
}

#[test]
fn module_that_is_not_a_dotted_path() {
    let text = "notifications:\n  - type: plugin\n    module: chaosslack/notification.py\n";
    expect(
        text,
        error(
            Code::InvalidModule,
            3,
            "chaosslack",
            "`chaosslack/notification.py` is not a dotted module path",
            Some("e.g. `chaosslack.notification`"),
        ),
    );
}

#[test]
fn root_that_is_a_list() {
    let text = "- type: http\n  url: https://x.example.com\n";
    let c = expect(
        text,
        error(
            Code::SettingsNotMapping,
            1,
            "-",
            "the settings file must be a mapping of keys, found a list",
            Some("start with `notifications:`"),
        ),
    );
    assert_eq!(c.counts(), (1, 0), "the schema must not repeat the checks:\n{}", list(&c));
}

#[test]
fn root_that_is_a_scalar() {
    for (text, found) in [("just text\n", "a string"), ("42\n", "the number 42"), ("true\n", "`true`")] {
        let c = expect(
            text,
            error(Code::SettingsNotMapping, 1, text.trim(), &format!("found {found}"), Some("notifications:")),
        );
        assert_eq!(c.counts(), (1, 0), "{}", list(&c));
    }
}

// ---------------------------------------------------------------------------------------
// Reference weaknesses: silently ignored or misread settings.
// ---------------------------------------------------------------------------------------

#[test]
fn unknown_type_in_upper_case() {
    let text = "notifications:\n  - type: HTTP\n    url: https://x.example.com\n";
    expect(
        text,
        error(
            Code::UnknownType,
            2,
            "HTTP",
            "unknown channel type `HTTP`",
            Some("did you mean `http`? Chaos Toolkit matches the type exactly and silently ignores this channel"),
        ),
    );
}

#[test]
fn unknown_type_misspelled() {
    let text = "notifications:\n  - type: htttp\n    url: https://x.example.com\n";
    expect(text, error(Code::UnknownType, 2, "htttp", "unknown channel type `htttp`", Some("did you mean `http`?")));
    let text = "notifications:\n  - type: plugn\n    module: a.b\n";
    expect(text, error(Code::UnknownType, 2, "plugn", "`plugn`", Some("did you mean `plugin`?")));
}

#[test]
fn unknown_type_with_no_close_match() {
    let text = "notifications:\n  - type: webhook\n    url: https://x.example.com\n";
    expect(
        text,
        error(Code::UnknownType, 2, "webhook", "unknown channel type `webhook`", Some("expected `http` or `plugin`")),
    );
    let text = "notifications:\n  - type: 3\n";
    expect(
        text,
        error(
            Code::UnknownType,
            2,
            "3",
            "must be `http` or `plugin`, found the number 3",
            Some("write `type: http` or `type: plugin`"),
        ),
    );
}

#[test]
fn missing_type() {
    let text = "notifications:\n  - url: https://x.example.com\n";
    expect(text, error(Code::MissingType, 2, "url", "channel has no `type`", Some("add `type: http`")));
    let text = "notifications:\n  - module: a.b\n";
    expect(text, error(Code::MissingType, 2, "module", "channel has no `type`", Some("add `type: plugin`")));
}

#[test]
fn forward_event_payload_quoted_false() {
    let text = "notifications:\n  - type: http\n    url: https://x.example.com\n    forward_event_payload: \"false\"\n";
    expect(
        text,
        error(
            Code::NotABoolean,
            4,
            "\"false\"",
            "`forward_event_payload` must be a boolean, found the string \"false\"",
            Some(
                "write `forward_event_payload: false` without quotes; Chaos Toolkit treats any non-empty string as true",
            ),
        ),
    );
}

#[test]
fn verify_tls_quoted_false() {
    let text = "notifications:\n  - type: http\n    url: https://x.example.com\n    verify_tls: 'false'\n";
    let c = expect(
        text,
        error(
            Code::NotABoolean,
            4,
            "'false'",
            "`verify_tls` must be a boolean, found the string \"false\"",
            Some(
                "write `verify_tls: false` without quotes; Chaos Toolkit would take the string as the path of a CA bundle",
            ),
        ),
    );
    // Not also reported as "TLS verification is off": it is not a boolean at all.
    assert!(c.diagnostics.iter().all(|d| d.code != Code::TlsVerificationOff));
}

#[test]
fn booleans_of_other_types() {
    let text = "notifications:\n  - type: http\n    url: https://x.example.com\n    verify_tls: 0\n    forward_event_payload: null\n";
    let c = run(text);
    let found: Vec<_> = c.diagnostics.iter().map(|d| (d.code, d.line, d.column, d.help.clone().unwrap())).collect();
    assert_eq!(
        found,
        [
            (Code::NotABoolean, 4, 17, "write `verify_tls: true` or `verify_tls: false`".to_owned()),
            (
                Code::NotABoolean,
                5,
                28,
                "remove `forward_event_payload` to use the default, or write `true` or `false`".into()
            ),
        ]
    );
}

#[test]
fn yaml_1_1_booleans_are_booleans_as_in_pyyaml() {
    // PyYAML's safe_load reads `no`/`off`/`yes`/`on` as booleans; so do we.
    let text = "notifications:\n  - type: http\n    url: https://x.example.com\n    verify_tls: no\n    forward_event_payload: Off\n  - type: http\n    url: https://y.example.com\n    verify_tls: YES\n    forward_event_payload: on\n";
    let c = clean(text, &[Code::TlsVerificationOff]);
    check(&c, text, &warning(Code::TlsVerificationOff, 4, "no", "verification is disabled", Some("self-signed")));
    let table = c.table.unwrap();
    assert!(matches!(table.channels[0].kind, IrKind::Http { verify_tls: false, forward_event_payload: false, .. }));
    assert!(matches!(table.channels[1].kind, IrKind::Http { verify_tls: true, forward_event_payload: true, .. }));
}

#[test]
fn events_as_a_string_would_match_substrings() {
    let text = "notifications:\n  - type: http\n    url: https://x.example.com\n    events: run-failed\n";
    expect(
        text,
        error(
            Code::EventsNotList,
            4,
            "run-failed",
            "`events` must be a list of event names, found a string",
            Some(
                "write `events: [run-failed]`; with a string Chaos Toolkit matches any event whose name is a substring",
            ),
        ),
    );
}

#[test]
fn unknown_event_names_get_a_suggestion() {
    let text = "notifications:\n  - type: http\n    url: https://x.example.com\n    events: [run-fail, discover-started, nonsense, 7]\n";
    let c = run(text);
    let found: Vec<_> = c.diagnostics.iter().map(|d| (d.code, d.line, d.column, d.help.clone())).collect();
    let at = |s| column_of(text, 4, s);
    assert_eq!(
        found,
        [
            (Code::UnknownEvent, 4, at("run-fail"), Some("did you mean `run-failed`?".to_owned())),
            (Code::UnknownEvent, 4, at("discover-started"), Some("did you mean `discovery-started`?".into())),
            (
                Code::UnknownEvent,
                4,
                at("nonsense"),
                Some(format!("the events are: {}", notifier_core::Event::names().collect::<Vec<_>>().join(", ")))
            ),
            (
                Code::UnknownEvent,
                4,
                at("7"),
                Some(format!("the events are: {}", notifier_core::Event::names().collect::<Vec<_>>().join(", ")))
            ),
        ],
        "{}",
        list(&c)
    );
}

#[test]
fn header_value_that_is_a_number() {
    let text = "notifications:\n  - type: http\n    url: https://x.example.com\n    headers:\n      X-Int: 5\n";
    expect(
        text,
        error(
            Code::InvalidHeaderValue,
            5,
            "5",
            "the value of header `X-Int` must be a string, found the number 5",
            Some("quote it: `X-Int: \"5\"`"),
        ),
    );
}

#[test]
fn header_value_with_crlf_injection() {
    let text = "notifications:\n  - type: http\n    url: https://x.example.com\n    headers:\n      X-Tag: \"chaos\\r\\nX-Admin: yes\"\n";
    expect(
        text,
        error(
            Code::HeaderInjection,
            5,
            "\"chaos",
            "the value of header `X-Tag` contains a line break",
            Some("would inject extra headers"),
        ),
    );
    // A literal block scalar keeps its newline too.
    let text = "notifications:\n  - type: http\n    url: https://x.example.com\n    headers:\n      X-Tag: |\n        one\n        two\n";
    let c = run(text);
    let d = only(&c, Code::HeaderInjection);
    assert_eq!((d.line, d.pointer.as_str()), (6, "/notifications/0/headers/X-Tag"), "{}", list(&c));
}

#[test]
fn invalid_header_name() {
    let text =
        "notifications:\n  - type: http\n    url: https://x.example.com\n    headers:\n      \"X Bad: name\": v\n";
    expect(
        text,
        error(
            Code::InvalidHeaderName,
            5,
            "\"X Bad",
            "`X Bad: name` is not a valid HTTP header name",
            Some("no spaces or colons"),
        ),
    );
}

#[test]
fn headers_that_are_not_a_mapping() {
    let text = "notifications:\n  - type: http\n    url: https://x.example.com\n    headers: [X-A, b]\n";
    expect(
        text,
        error(
            Code::HeadersNotMapping,
            4,
            "[",
            "`headers` must be a mapping of header names to values, found a list",
            Some("headers: {X-Name: value}"),
        ),
    );
}

#[test]
fn func_null() {
    let text = "notifications:\n  - type: plugin\n    module: my.plugin\n    func: null\n";
    expect(
        text,
        error(
            Code::InvalidFunc,
            4,
            "null",
            "`func` is null; Chaos Toolkit would look for a function named `None`",
            Some("remove `func` to call `notify`"),
        ),
    );
}

#[test]
fn func_that_is_not_an_identifier() {
    let text = "notifications:\n  - type: plugin\n    module: my.plugin\n    func: my.func\n";
    expect(text, error(Code::InvalidFunc, 4, "my.func", "`my.func` is not a function name", Some("name a function")));
}

#[test]
fn non_http_urls() {
    for (url, message) in [
        ("ftp://files.example.com/x", "`ftp` URLs are not supported"),
        ("file:///etc/passwd", "`file` URLs are not supported"),
        ("mailto:ops@example.com", "`mailto` URLs are not supported"),
    ] {
        let text = format!("notifications:\n  - type: http\n    url: {url}\n");
        expect(
            &text,
            error(Code::InvalidUrl, 3, url, message, Some("Chaos Toolkit would only log the failure at debug level")),
        );
    }
}

#[test]
fn unparsable_urls() {
    let text = "notifications:\n  - type: http\n    url: not a url\n";
    expect(
        text,
        error(Code::InvalidUrl, 3, "not a url", "`not a url` is not a valid URL", Some("write an absolute URL")),
    );
    let text = "notifications:\n  - type: http\n    url: \"https://\"\n";
    expect(text, error(Code::InvalidUrl, 3, "\"https", "is not a valid URL: empty host", Some("absolute URL")));
    let text = "notifications:\n  - type: http\n    url: 12345\n";
    expect(
        text,
        error(
            Code::InvalidUrl,
            3,
            "12345",
            "`url` must be a string, found the number 12345",
            Some("write an absolute URL"),
        ),
    );
}

#[test]
fn missing_url() {
    let text = "notifications:\n  - type: http\n    verify_tls: true\n";
    expect(
        text,
        error(Code::MissingUrl, 2, "type", "http channel has no `url`", Some("missing url in notification channel")),
    );
}

#[test]
fn unknown_key_in_http_channel() {
    let text = "notifications:\n  - type: http\n    url: https://x.example.com\n    verify_ssl: false\n";
    let c = expect(
        text,
        error(
            Code::UnknownKey,
            4,
            "verify_ssl",
            "unknown key `verify_ssl` in http channel",
            Some("did you mean `verify_tls`?"),
        ),
    );
    assert_eq!(c.counts(), (1, 0), "the schema's additionalProperties must not repeat it:\n{}", list(&c));
}

#[test]
fn malformed_variable_reference() {
    let text = "notifications:\n  - type: http\n    url: \"https://x.example.com/${TOKEN\"\n";
    expect(
        text,
        error(Code::InvalidVariable, 3, "\"https", "malformed environment variable reference", Some("write `${NAME}`")),
    );
}

// ---------------------------------------------------------------------------------------
// Duplicates.
// ---------------------------------------------------------------------------------------

#[test]
fn duplicate_key_in_a_channel_is_an_error() {
    let text = "notifications:\n  - type: http\n    url: https://a.example.com\n    url: https://b.example.com\n";
    let c = expect(
        text,
        error(
            Code::DuplicateKey,
            4,
            "url",
            "key `url` appears twice in this mapping (first at line 3)",
            Some("Chaos Toolkit keeps the last value silently"),
        ),
    );
    assert_eq!(only(&c, Code::DuplicateKey).pointer, "/notifications/0/url");
}

#[test]
fn duplicate_key_elsewhere_is_a_warning() {
    let text = "runtime: {a: 1}\ncontrols: {}\nruntime: {b: 2}\n";
    let c = run(text);
    check(
        &c,
        text,
        &warning(
            Code::DuplicateKey,
            3,
            "runtime",
            "key `runtime` appears twice in this mapping (first at line 1)",
            Some("keeps the last value"),
        ),
    );
    assert!(c.table.is_some());
    // PyYAML keeps the last value.
    assert_eq!(c.document["runtime"], serde_json::json!({"b": 2}));
}

#[test]
fn duplicate_channels() {
    let text = "notifications:\n  - type: http\n    url: https://a.example.com\n    events: [run-failed, run-started]\n  - {type: http, url: \"https://a.example.com\", events: [run-started, run-failed]}\n";
    let c = clean(text, &[Code::DuplicateChannel]);
    check(
        &c,
        text,
        &warning(
            Code::DuplicateChannel,
            5,
            "{",
            "channel #2 is the same as channel #1 (line 2)",
            Some("every event would be delivered twice"),
        ),
    );
}

#[test]
fn duplicate_event_in_a_filter() {
    let text = "notifications:\n  - type: http\n    url: https://a.example.com\n    events: [run-failed, run-failed]\n";
    let c = clean(text, &[Code::DuplicateEvent]);
    let d = only(&c, Code::DuplicateEvent);
    assert_eq!((d.line, d.column), (4, column_of(text, 4, "run-failed, ") + "run-failed, ".len()));
}

// ---------------------------------------------------------------------------------------
// Warnings: valid, but probably not what was meant.
// ---------------------------------------------------------------------------------------

#[test]
fn empty_events_means_all_events() {
    let text = "notifications:\n  - type: http\n    url: https://a.example.com\n    events: []\n";
    let c = clean(text, &[Code::EmptyEvents]);
    check(
        &c,
        text,
        &warning(Code::EmptyEvents, 4, "[]", "`events: []` sends every event", Some("an empty filter means no filter")),
    );
    assert_eq!(c.table.unwrap().channels[0].events, notifier_core::EventSet::ALL);
}

#[test]
fn verify_tls_false_is_a_warning() {
    let text = "notifications:\n  - type: http\n    url: https://a.example.com\n    verify_tls: false\n";
    let c = clean(text, &[Code::TlsVerificationOff]);
    check(
        &c,
        text,
        &warning(Code::TlsVerificationOff, 4, "false", "TLS certificate verification is disabled", Some("self-signed")),
    );
}

#[test]
fn plain_text_authorization_header() {
    let text = "notifications:\n  - type: http\n    url: https://a.example.com\n    headers:\n      Authorization: Bearer abc123\n";
    let c = clean(text, &[Code::PlainTextSecret]);
    check(
        &c,
        text,
        &warning(
            Code::PlainTextSecret,
            5,
            "Bearer",
            "header `Authorization` holds a plain-text credential",
            Some("write `${VARIABLE}`"),
        ),
    );
}

#[test]
fn plain_text_plugin_secrets() {
    let text = "notifications:\n  - type: plugin\n    module: my.plugin\n    password: hunter2\n    api_key: 123456789\n    channel: general\n";
    let c = clean(text, &[Code::PlainTextSecret, Code::UnknownPlugin]);
    let found: Vec<_> = c
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::PlainTextSecret)
        .map(|d| (d.line, d.column, d.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (4, column_of(text, 4, "hunter2"), "`password` holds a plain-text credential"),
            (5, column_of(text, 5, "123456789"), "`api_key` holds a plain-text credential"),
        ]
    );
}

#[test]
fn plain_text_credentials_in_the_url() {
    let text = "notifications:\n  - type: http\n    url: https://bot:s3cret@a.example.com/hook?token=abc\n";
    let c = clean(text, &[Code::PlainTextSecret]);
    let messages: Vec<_> = c.diagnostics.iter().map(|d| (d.line, d.column, d.message.as_str())).collect();
    assert_eq!(
        messages,
        [
            (3, 10, "URL query holds a plain-text credential"),
            (3, 10, "URL user information holds a plain-text credential")
        ]
    );
    // Messages never echo the secret itself.
    assert!(c.diagnostics.iter().all(|d| !d.message.contains("s3cret") && !d.message.contains("abc")));
}

#[test]
fn credentials_over_plain_http() {
    let text = "notifications:\n  - type: http\n    url: http://a.example.com/hook\n    headers: {Authorization: \"${HOME}\"}\n";
    let c = clean(text, &[Code::CredentialsOverHttp]);
    check(
        &c,
        text,
        &warning(
            Code::CredentialsOverHttp,
            3,
            "http://",
            "credentials are sent over plain `http://`",
            Some("use an `https://` endpoint"),
        ),
    );
}

#[test]
fn variables_are_not_plain_text_secrets() {
    // HOME is set wherever tests run; a variable reference is the recommended form.
    let text = "notifications:\n  - type: plugin\n    module: chaosslack.notification\n    token: ${HOME}\n    channel: general\n";
    clean(text, &[]);
}

#[test]
fn unset_variable() {
    let text = format!(
        "notifications:\n  - type: http\n    url: https://a.example.com\n    headers:\n      Authorization: \"Bearer ${{{UNSET_VAR}}}\"\n"
    );
    let c = clean(&text, &[Code::UnsetVariable]);
    check(
        &c,
        &text,
        &warning(
            Code::UnsetVariable,
            5,
            "\"Bearer",
            &format!("environment variable `{UNSET_VAR}` is not set here"),
            Some(&format!("the channel fails at run time unless `{UNSET_VAR}` is set")),
        ),
    );
    // With a default, nothing is missing.
    clean(&format!("notifications:\n  - type: http\n    url: https://a.example.com/${{{UNSET_VAR}:-x}}\n"), &[]);
}

// ---------------------------------------------------------------------------------------
// Several mistakes at once.
// ---------------------------------------------------------------------------------------

#[test]
fn every_mistake_of_a_file_is_reported_in_one_run() {
    let text = "\
notifications:
  - type: HTTP
    url: https://a.example.com
  - type: http
    url: ftp://b.example.com
    verify_tls: \"false\"
    events: [run-fail]
  - type: plugin
    func: null
  - type: plugin
    module: chaosslack.notification
    token: xop-1235
";
    let c = run(text);
    let found: Vec<_> = c.diagnostics.iter().map(|d| (d.code, d.line, d.column)).collect();
    assert_eq!(
        found,
        [
            (Code::UnknownType, 2, column_of(text, 2, "HTTP")),
            (Code::InvalidUrl, 5, column_of(text, 5, "ftp")),
            (Code::NotABoolean, 6, column_of(text, 6, "\"false\"")),
            (Code::UnknownEvent, 7, column_of(text, 7, "run-fail")),
            (Code::MissingModule, 8, column_of(text, 8, "type")),
            (Code::InvalidFunc, 9, column_of(text, 9, "null")),
            (Code::MissingPluginKey, 10, column_of(text, 10, "type")),
            (Code::PlainTextSecret, 12, column_of(text, 12, "xop")),
        ],
        "{}",
        list(&c)
    );
}

// ---------------------------------------------------------------------------------------
// Robustness: hostile or odd files give one clear diagnostic or a clean result.
// ---------------------------------------------------------------------------------------

#[test]
fn empty_and_comment_only_files_are_valid_with_no_channels() {
    for text in ["", "\n\n", "# settings\n# nothing yet\n", "---\n", "---\n...\n"] {
        let c = run(text);
        assert!(c.diagnostics.is_empty(), "{text:?}:\n{}", list(&c));
        assert_eq!(c.table.map(|t| t.channels.len()), Some(0), "{text:?}");
    }
}

#[test]
fn null_or_empty_notifications_are_valid() {
    for text in
        ["notifications:\n", "notifications: null\n", "notifications: ~\n", "notifications: []\n", "runtime: {}\n"]
    {
        let c = run(text);
        assert!(c.diagnostics.is_empty(), "{text:?}:\n{}", list(&c));
        assert_eq!(c.table.map(|t| t.channels.len()), Some(0), "{text:?}");
    }
}

#[test]
fn notifications_of_a_scalar_type() {
    let text = "notifications: https://x.example.com\n";
    expect(
        text,
        error(
            Code::NotificationsNotList,
            1,
            "https",
            "`notifications` must be a list of channels, found a string",
            Some("write one `- ` item per channel"),
        ),
    );
}

#[test]
fn malformed_yaml() {
    let text = "notifications:\n  - type: http\n    url: [https://x.example.com\n  - type: plugin\n";
    let c = run(text);
    assert_eq!(c.diagnostics.len(), 1, "{}", list(&c));
    let d = &c.diagnostics[0];
    assert_eq!((d.code, d.severity), (Code::Yaml, Severity::Error));
    assert!(d.message.starts_with("invalid YAML: "), "{d}");
    assert!((3..=4).contains(&d.line), "{d}");
    assert_eq!(d.help.as_deref(), Some("check the `[` opened at line 3, column 10: is its `]` missing?"));
    assert!(c.is_unparsable() && c.table.is_none());
}

#[test]
fn tabs_for_indentation() {
    let text = "notifications:\n\t- type: http\n";
    let c = run(text);
    let d = only(&c, Code::Yaml);
    assert_eq!((d.line, d.column), (2, 1), "the caret is on the tab: {d}");
    assert!(d.message.contains("tabs"), "{d}");
    // After spaces, and on a deeper line.
    let c = run("notifications:\n  - type: http\n    headers:\n  \t  a: b\n");
    let d = only(&c, Code::Yaml);
    assert_eq!((d.line, d.column), (4, 3), "the caret is on the tab: {d}");
}

#[test]
fn two_documents() {
    let text = "notifications: []\n---\nnotifications: []\n";
    let c = run(text);
    let d = only(&c, Code::Yaml);
    assert_eq!((d.line, d.column), (2, 1), "{d}");
    assert!(d.message.contains("one YAML document"), "{d}");
    assert_eq!(d.help.as_deref(), Some("remove the `---` line or split the file"));
}

#[test]
fn python_tags_are_refused() {
    let text = "notifications:\n  - !!python/object/apply:os.system [\"rm -rf /\"]\n";
    let c = run(text);
    let d = only(&c, Code::Yaml);
    assert_eq!((d.line, d.column), (2, 5), "{d}");
    assert!(d.message.contains("unsupported YAML tag `!!python/object/apply:os.system`"), "{d}");
    assert!(d.help.as_deref().is_some_and(|h| h.contains("safe loader")));
}

#[test]
fn billion_laughs_is_refused() {
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    text.push_str("notifications: *a9\n");
    let c = run(&text);
    let d = only(&c, Code::Yaml);
    assert!(d.message.contains(&format!("aliases expand to more than {MAX_ALIAS_EXPANSION} nodes")), "{d}");
    assert!(d.help.as_deref().is_some_and(|h| h.contains("billion laughs")));
    // It stops at the alias that crosses the budget, not at the end of the file.
    assert!(d.line < 10, "{d}");
}

#[test]
fn aliases_within_budget_are_fine() {
    let text = "\
base: &base
  type: http
  url: https://a.example.com
notifications:
  - *base
  - <<: *base
    url: https://b.example.com
    events: [run-failed]
";
    let c = clean(text, &[]);
    assert_eq!(c.table.unwrap().channels.len(), 2);
}

#[test]
fn deep_block_nesting_is_refused() {
    let text: String = (0..MAX_DEPTH + 10).map(|i| format!("{}k{i}:\n", "  ".repeat(i))).collect();
    let c = run(&text);
    let d = only(&c, Code::Yaml);
    assert!(d.message.contains(&format!("deeper than {MAX_DEPTH} levels")), "{d}");
    assert_eq!(d.line, MAX_DEPTH + 1, "{d}");
    assert!(d.help.as_deref().is_some_and(|h| h.contains("generated or hostile input")), "{d:?}");
}

#[test]
fn deep_flow_nesting_is_refused() {
    for depth in [MAX_DEPTH + 1, 5_000, 200_000] {
        let text = format!("notifications: {}{}\n", "[".repeat(depth), "]".repeat(depth));
        let c = run(&text);
        let d = only(&c, Code::Yaml);
        assert_eq!(d.line, 1, "{d}");
        assert!(d.message.contains("deeper than") || d.message.contains("recursion limit"), "{d}");
        assert!(d.help.as_deref().is_some_and(|h| h.contains("generated or hostile input")), "{d:?}");
    }
    let text = format!("notifications: {}1{}\n", "{a: ".repeat(1_000), "}".repeat(1_000));
    assert!(run(&text).is_unparsable());
}

#[test]
fn nesting_up_to_the_limit_is_accepted() {
    let depth = MAX_DEPTH - 2;
    let text = format!("runtime: {}{}\n", "[".repeat(depth), "]".repeat(depth));
    clean(&text, &[]);
}

#[test]
fn byte_order_mark_and_crlf_keep_positions() {
    let text = "\u{feff}notifications:\r\n  - type: htp\r\n    url: https://x.example.com\r\n";
    let c = run(text);
    let d = only(&c, Code::UnknownType);
    assert_eq!((d.line, d.column), (2, 11), "{d}");
}

#[test]
fn columns_count_characters_not_bytes() {
    let text = "notifications:\n  - {url: \"https://x.example.com/é日本\", type: htp}\n";
    expect(text, error(Code::UnknownType, 2, "htp", "`htp`", Some("did you mean `http`?")));
}

#[test]
fn a_lone_carriage_return_is_a_line_break() {
    // YAML (and the parser) break lines at `\r` too; positions must agree with the text.
    let text = "x: 1\rnotifications:\r  - type: htp\r    url: https://x.example.com\r";
    let c = run(text);
    let d = only(&c, Code::UnknownType);
    assert_eq!((d.line, d.column), (3, 11), "{d}");
    assert_eq!(&text[d.span.clone()], "htp");
    assert_eq!(c.source.line_text(3), "  - type: htp");
}

#[test]
fn an_error_at_the_end_of_the_input_is_inside_the_text() {
    // Without a final line break the parser reports the end one line past the last.
    for text in ["notifications: [", "[? ", "a: {b: 1"] {
        let c = run(text);
        let d = only(&c, Code::Yaml);
        assert_eq!(d.line, 1, "{text:?}: {d}");
        assert_eq!(d.column, text.chars().count() + 1, "{text:?}: {d}");
        assert_eq!(d.span, text.len()..text.len(), "{text:?}: {d}");
    }
}

#[test]
fn infinity_and_nan_inside_notifications() {
    let text = "notifications:\n  - type: http\n    url: https://x.example.com\n    timeout: .inf\n";
    expect(
        text,
        error(
            Code::NotFinite,
            4,
            ".inf",
            "`.inf` is not a usable number here: JSON has no infinity or NaN",
            Some("write a number of seconds, at most 300"),
        ),
    );
    let text = "notifications:\n  - type: plugin\n    module: a.b\n    threshold: .NaN\n";
    expect(text, error(Code::NotFinite, 4, ".NaN", "`.nan` is not a usable number", Some("write a finite number")));
    // Elsewhere in the file it is none of our business.
    clean("runtime:\n  limit: -.inf\n", &[]);
}

#[test]
fn url_templates_must_start_with_the_scheme_or_a_variable() {
    let text = "notifications:\n  - type: http\n    url: \"hooks.example.com/${PATH_PART}\"\n";
    expect(
        text,
        error(
            Code::InvalidUrl,
            3,
            "\"hooks",
            "the URL must start with `http://` or `https://`, or be one `${VARIABLE}` holding the whole URL",
            Some("write an absolute URL"),
        ),
    );
    let text = "notifications:\n  - type: http\n    url: \"ws://${HOST}/events\"\n";
    expect(text, error(Code::InvalidUrl, 3, "\"ws", "`ws` URLs are not supported", Some("use a plugin channel")));
    clean("notifications:\n  - type: http\n    url: \"HTTPS://${HOME}/x\"\n", &[]);
    clean("notifications:\n  - type: http\n    url: \"${HOME}\"\n", &[]);
}

#[test]
fn urls_that_only_a_lenient_parser_accepts() {
    let text = "notifications:\n  - type: http\n    url: \" https://x.example.com\"\n";
    expect(
        text,
        error(Code::InvalidUrl, 3, "\" https", "the URL has spaces or line breaks around it", Some("remove them")),
    );
    let text = "notifications:\n  - type: http\n    url: \"http:/x.example.com\"\n";
    let c = expect(
        text,
        error(
            Code::InvalidUrl,
            3,
            "\"http",
            "`http:/x.example.com` is not written as `http://host/…`",
            Some("absolute URL"),
        ),
    );
    assert_eq!(c.counts(), (1, 0), "the schema's pattern must not repeat it:\n{}", list(&c));
}

#[test]
fn empty_and_blank_required_plugin_keys() {
    let text =
        "notifications:\n  - type: plugin\n    module: chaosslack.notification\n    token: \"\"\n    channel: \"  \"\n";
    let c = run(text);
    let found: Vec<_> = c.diagnostics.iter().map(|d| (d.code, d.line, d.message.as_str())).collect();
    assert_eq!(
        found,
        [
            (
                Code::InvalidPluginKey,
                4,
                "`token` of `chaosslack.notification` must be a non-empty string, found an empty string"
            ),
            (
                Code::InvalidPluginKey,
                5,
                "`channel` of `chaosslack.notification` must be a non-empty string, found a blank string"
            ),
        ]
    );
}

#[test]
fn plugins_the_runtime_cannot_load() {
    let text = "notifications:\n  - type: plugin\n    module: acme.hooks\n  - type: plugin\n    module: notifier.jsonl\n    func: notfy\n    path: out.jsonl\n";
    let c = run(text);
    let found: Vec<_> = c.diagnostics.iter().map(|d| (d.code, d.severity, d.line, d.column)).collect();
    assert_eq!(
        found,
        [
            (Code::UnknownPlugin, Severity::Warning, 3, column_of(text, 3, "acme.hooks")),
            (Code::UnknownFunc, Severity::Error, 6, column_of(text, 6, "notfy")),
        ]
    );
    assert_eq!(c.diagnostics[1].help.as_deref(), Some("its function is `notify`; remove `func` to use it"));
}

#[test]
fn signing_secrets_must_be_standard_webhooks_secrets() {
    let good = "notifications:\n  - type: http\n    url: https://x.example/h\n    signing_secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n";
    let c = run(good);
    assert!(c.diagnostics.iter().all(|d| d.code == Code::PlainTextSecret), "{:?}", c.diagnostics);
    let bad = "notifications:\n  - type: http\n    url: https://x.example/h\n    signing_secret: not!!base64\n";
    let c = run(bad);
    assert!(c.diagnostics.iter().any(|d| d.code == Code::InvalidSigningSecret && d.line == 4), "{:?}", c.diagnostics);
}

#[test]
fn a_second_notifications_key_is_an_error() {
    let text = "notifications:\n  - type: http\n    url: https://a.example\nnotifications: []\n";
    let c = run(text);
    let d = c.diagnostics.iter().find(|d| d.code == Code::DuplicateKey).expect("duplicate reported");
    assert_eq!((d.severity, d.line), (Severity::Error, 4));
}

#[test]
fn unpadded_signing_secrets_are_accepted_as_the_signer_accepts_them() {
    // Base64 without its `=` padding, with and without `whsec_`: the Standard Webhooks
    // reference libraries and `notifier_core::signing` accept these.
    for secret in ["whsec_c2VjcmV0cw", "c2VjcmV0cw", "whsec_dW5wYWRkZWQgc2VjcmV0IGtleSE"] {
        let text =
            format!("notifications:\n  - type: http\n    url: https://x.example/h\n    signing_secret: {secret}\n");
        let c = run(&text);
        assert!(c.diagnostics.iter().all(|d| d.code == Code::PlainTextSecret), "{secret}: {:?}", c.diagnostics);
    }
}

#[test]
fn check_refuses_exactly_the_signing_secrets_the_signer_cannot_decode() {
    // Both go through `notifier_core::signing::decode_secret`; this keeps it so.
    let secrets = [
        "whsec_c2VjcmV0",
        "c2VjcmV0cw==",
        "c2VjcmV0cw=",
        "c2VjcmV0cw",
        "c2VjcmV0cw===",
        " whsec_c2VjcmV0 ",
        "whsec_c2Vj cmV0",
        "AB==",
        "QQ",
        "Q",
        "whsec_",
        "whsec_!!!",
        "whsec_whsec_c2VjcmV0",
    ];
    for secret in secrets {
        let text =
            format!("notifications:\n  - type: http\n    url: https://x.example/h\n    signing_secret: '{secret}'\n");
        let refused = run(&text).diagnostics.iter().any(|d| d.code == Code::InvalidSigningSecret);
        assert_eq!(refused, notifier_core::signing::decode_secret(secret).is_err(), "{secret:?}");
    }
}

#[test]
fn a_func_rust_cannot_name_is_an_error_at_its_position() {
    for func in ["_", "self", "Self", "super", "crate"] {
        let text = format!("notifications:\n  - type: plugin\n    module: acme.hooks\n    func: {func}\n");
        let c = expect(
            &text,
            error(
                Code::ReservedFunc,
                4,
                func,
                &format!("`{func}` cannot name a Rust function"),
                Some("rename the function"),
            ),
        );
        assert_eq!(only(&c, Code::ReservedFunc).pointer, "/notifications/0/func");
    }
}

#[test]
fn a_func_that_is_a_rust_keyword_is_fine() {
    // Generated code names these as raw identifiers (`r#type`).
    for func in ["type", "fn", "match", "async", "dyn", "try", "gen", "yield", "macro_rules", "union"] {
        let text = format!("notifications:\n  - type: plugin\n    module: acme.hooks\n    func: {func}\n");
        clean(&text, &[Code::UnknownPlugin]);
    }
}

/// The fixes `check` is sure of replace exactly the node they are about: applying every
/// one of them gives a file where those problems are gone and nothing new appears.
#[test]
fn fixes_replace_the_whole_node_and_remove_the_problem() {
    let text = "\
notifications:
  - type: HTTP
    url: https://hooks.example.com/chaos
  - type: http
    url: https://hooks.example.com/other
    verify_tls: \"False\"
    forward_event_payload: 'no'
    events: [run-fail, \"validate-faild\"]
    verify_ssl: true
";
    let compiled = run(text);
    let mut fixes: Vec<(std::ops::Range<usize>, &str, Code)> =
        compiled.diagnostics.iter().filter_map(|d| Some((d.span.clone(), d.fix.as_deref()?, d.code))).collect();
    let replaced: Vec<(&str, &str)> = fixes.iter().map(|(span, fix, _)| (&text[span.clone()], *fix)).collect();
    assert_eq!(
        replaced,
        [
            ("HTTP", "http"),
            ("\"False\"", "false"),
            ("'no'", "false"),
            ("run-fail", "run-failed"),
            ("\"validate-faild\"", "validate-failed"),
            ("verify_ssl", "verify_tls"),
        ],
        "{}",
        list(&compiled)
    );
    // Applied from the end, so earlier spans stay right.
    fixes.sort_by_key(|(span, _, _)| std::cmp::Reverse(span.start));
    let mut fixed = text.to_owned();
    for (span, fix, _) in &fixes {
        fixed.replace_range(span.clone(), fix);
    }
    let after = run(&fixed);
    let fixed_codes: Vec<Code> = fixes.iter().map(|(_, _, code)| *code).collect();
    assert!(
        after.diagnostics.iter().all(|d| !fixed_codes.contains(&d.code)),
        "still there after the fixes:\n{fixed}\n{}",
        list(&after)
    );
    // verify_ssl became a second verify_tls key: that duplicate is all that is left.
    let left: Vec<Code> = after.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(left, [Code::DuplicateKey], "{}", list(&after));
}

/// No fix where the check is not sure, nor for a value spanning several lines.
#[test]
fn no_fix_without_a_sure_replacement() {
    let text = "\
notifications:
  - type: carrier-pigeon
    url: https://hooks.example.com/chaos
  - type: http
    url: https://hooks.example.com/chaos
    verify_tls: \"maybe\"
    events: [everything]
    colour: blue
  - type: http
    url: https://hooks.example.com/other
    verify_tls: \"false
      \"
";
    let compiled = run(text);
    let codes: Vec<Code> = compiled.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        [Code::UnknownType, Code::NotABoolean, Code::UnknownEvent, Code::UnknownKey, Code::NotABoolean],
        "{}",
        list(&compiled)
    );
    assert!(compiled.diagnostics[4].help.as_deref().unwrap_or_default().contains("`verify_tls: false`"));
    for d in &compiled.diagnostics {
        assert_eq!(d.fix, None, "{d}");
    }
}

// ---------------------------------------------------------------------------------------
// The `notifier.nats` built-in plugin.
// ---------------------------------------------------------------------------------------

fn nats(keys: &str) -> String {
    format!("notifications:\n  - type: plugin\n    module: notifier.nats\n{keys}")
}

#[test]
fn a_valid_nats_channel_keeps_its_retries() {
    let text = nats(
        "    url: nats://a:4222, tls://b:4222\n    subject: chaos.{phase}.{event}\n    stream: CHAOS\n    \
         format: cloudevents\n    timeout: 2\n    retries: 3\n",
    );
    let c = clean(&text, &[]);
    let table = c.table.unwrap();
    assert_eq!(table.channels[0].retries, 3, "the plugin retries by itself: its budget counts them");
}

#[test]
fn nats_file_keys_are_paths_not_plain_text_credentials() {
    // `tls_key` names a PEM file: no `plain-text credential` warning (a `token` still gets one).
    let text = nats(
        "    url: tls://a:4222\n    subject: chaos.{event}\n    tls_ca: /etc/nats/ca.pem\n    \
         tls_cert: /etc/nats/cert.pem\n    tls_key: /etc/nats/key.pem\n    creds: /etc/nats/user.creds\n",
    );
    clean(&text, &[]);
    let c = clean(&nats("    url: nats://a\n    subject: s\n    token: abc\n"), &[Code::PlainTextSecret]);
    assert_eq!(c.diagnostics.len(), 1, "{}", list(&c));
}

#[test]
fn nats_required_keys() {
    let c = run(&nats("    subject: chaos.{event}\n"));
    let d = only(&c, Code::MissingPluginKey);
    assert_eq!((d.line, d.message.as_str()), (2, "`notifier.nats` needs `url`"));
}

#[test]
fn nats_url_schemes_are_reported_at_the_scheme() {
    let text = nats("    url: nats://a:4222,http://b:4222\n    subject: chaos\n");
    expect(&text, error(Code::InvalidNatsUrl, 4, "http", "`http://` is not a NATS server URL", Some("nats://host")));
    let text = nats("    url: nats://a:99999\n    subject: chaos\n");
    expect(&text, error(Code::InvalidNatsUrl, 4, "99999", "`99999` is not a port number", Some("nats://host")));
}

#[test]
fn nats_subjects_are_reported_at_the_character() {
    let text = nats("    url: nats://a\n    subject: chaos.>\n");
    expect(&text, error(Code::InvalidSubject, 5, ">", "`>` is a wildcard", Some("chaos.{event}")));
    let text = nats("    url: nats://a\n    subject: \"chaos..{event}\"\n");
    expect(&text, error(Code::InvalidSubject, 5, ".{event}", "an empty token", Some("tokens separated by dots")));
    let text = nats("    url: nats://a\n    subject: chaos.{evnt}\n");
    expect(&text, error(Code::InvalidSubject, 5, "{evnt}", "`{evnt}` is not a subject placeholder", Some("`{event}`")));
}

#[test]
fn nats_other_settings() {
    let text = nats("    url: nats://a\n    subject: chaos\n    format: teams\n");
    expect(
        &text,
        error(Code::InvalidNatsSetting, 6, "teams", "must be chaostoolkit or cloudevents", Some("CloudEvents")),
    );
    let text = nats("    url: nats://a\n    subject: chaos\n    stream: chaos.events\n");
    expect(&text, error(Code::InvalidNatsSetting, 6, "chaos.events", "is not a stream name", Some("no `.`")));
    let text = nats("    url: nats://a\n    subject: chaos\n    user: ${U}\n");
    let c = run(&text);
    assert!(only(&c, Code::InvalidNatsSetting).message.contains("`password` is missing"), "{}", list(&c));
    let text = nats("    url: nats://a\n    subject: chaos\n    token: ${T}\n    creds: /x.creds\n");
    let c = run(&text);
    assert!(only(&c, Code::InvalidNatsSetting).message.contains("one kind of credential"), "{}", list(&c));
    let text = nats("    url: nats://a\n    subject: chaos\n    retries: 11\n");
    let c = run(&text);
    only(&c, Code::InvalidRetries);
}
