//! YAML text → located tree.
//!
//! Built on `saphyr-parser`'s event stream so that every node keeps its position and so
//! that plain scalars are resolved the way Chaos Toolkit reads the same file: PyYAML's
//! `safe_load`, i.e. YAML 1.1 (`yes`/`no`/`on`/`off` are booleans, `0o17`-less octal
//! `017`, `1_000`, floats need a dot). Anchors, aliases and `<<` merge keys are supported,
//! with a budget on what aliases may expand to, so an alias bomb is a diagnostic and not
//! an out-of-memory kill.

use std::collections::HashMap;
use std::rc::Rc;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as YamlSpan, Tag};

/// Deepest nesting accepted; deeper input is refused with a diagnostic.
pub const MAX_DEPTH: usize = 128;
/// Most nodes that aliases may add by expansion (the "billion laughs" guard).
pub const MAX_ALIAS_EXPANSION: usize = 100_000;

const TOO_DEEP_HELP: &str = "settings files nest a few levels deep; this looks like generated or hostile input";

/// A position in the source: 1-based line, 0-based column in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 0-based column, in characters.
    pub col: usize,
}

impl Pos {
    fn of(span: &YamlSpan) -> Pos {
        Pos { line: span.start.line(), col: span.start.col() }
    }
}

/// The source range of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    /// Where the node starts.
    pub start: Pos,
    /// Where it ends (exclusive).
    pub end: Pos,
}

impl Span {
    fn of(span: &YamlSpan) -> Span {
        Span { start: Pos::of(span), end: Pos { line: span.end.line(), col: span.end.col() } }
    }
}

/// A YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where it is.
    pub span: Span,
    /// What it is.
    pub value: NodeValue,
    /// Nodes in this subtree (for the alias budget).
    size: usize,
}

/// The value of a [`Node`], after YAML 1.1 scalar resolution.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// `~`, `null`, or nothing.
    Null,
    /// `true`, `yes`, `on`, … and their negatives.
    Bool(bool),
    /// An integer that fits 64 bits.
    Int(i64),
    /// A float (including integers too large for 64 bits, as PyYAML's would not fit JSON).
    Float(f64),
    /// A string; `plain` is false when it was quoted or a block scalar.
    Str {
        /// The text.
        text: String,
        /// Whether it was written without quotes (a plain scalar).
        plain: bool,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order. Keys are nodes too, so diagnostics can point at them.
    Map(Vec<(Node, Node)>),
}

/// Why the text is not acceptable YAML.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    /// What went wrong.
    pub message: String,
    /// Where.
    pub pos: Pos,
    /// A hint, when there is one.
    pub help: Option<String>,
}

impl YamlError {
    fn new(pos: Pos, message: impl Into<String>) -> YamlError {
        YamlError { message: message.into(), pos, help: None }
    }

    fn help(mut self, help: impl Into<String>) -> YamlError {
        self.help = Some(help.into());
        self
    }
}

/// Parses a YAML document into a located tree. An empty stream (or one holding only
/// comments) gives `Ok(None)`, which Chaos Toolkit treats as "no settings".
pub fn parse(text: &str) -> Result<Option<Node>, YamlError> {
    // The parser is third-party code fed with arbitrary input: turn a bug in it into a
    // diagnostic rather than taking the caller (a proc-macro, a chaos run) down.
    match std::panic::catch_unwind(|| Builder::default().run(text)) {
        Ok(result) => result,
        Err(_) => Err(YamlError::new(Pos { line: 1, col: 0 }, "internal error in the YAML parser")),
    }
}

enum Frame {
    Seq { start: YamlSpan, anchor: usize, items: Vec<Node> },
    Map { start: YamlSpan, anchor: usize, entries: Vec<(Node, Node)>, key: Option<Node> },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Rc<Node>>,
    expanded: usize,
    docs: usize,
    root: Option<Node>,
}

/// The parser reports a forbidden tab one character after it; point at the tab itself.
fn tab_before(text: &str, pos: Pos) -> Pos {
    let Some(line) = text.split('\n').nth(pos.line.saturating_sub(1)) else { return pos };
    let tab = line.chars().take(pos.col + 1).enumerate().filter(|(_, c)| *c == '\t').last();
    match tab {
        Some((col, _)) => Pos { col, ..pos },
        None => pos,
    }
}

impl Builder {
    fn run(mut self, text: &str) -> Result<Option<Node>, YamlError> {
        for item in Parser::new_from_str(text) {
            let (event, span) = item.map_err(|e| {
                let mut pos = Pos { line: e.marker().line(), col: e.marker().col() };
                if e.info().contains("tab") {
                    pos = tab_before(text, pos);
                }
                let error = YamlError::new(pos, format!("invalid YAML: {}", e.info()));
                if e.info().contains("recursion limit") {
                    return error.help(TOO_DEEP_HELP);
                }
                // The parser notices an unclosed `[` or `{` only lines later; point back at it.
                match self.open_flow_collection(text) {
                    Some((open, pos)) => error.help(format!(
                        "check the `{open}` opened at line {}, column {}: is its `{}` missing?",
                        pos.line,
                        pos.col + 1,
                        if open == '[' { ']' } else { '}' }
                    )),
                    None => error,
                }
            })?;
            match event {
                Event::DocumentStart(_) => {
                    self.docs += 1;
                    if self.docs > 1 {
                        return Err(YamlError::new(
                            Pos::of(&span),
                            "a settings file holds one YAML document, found a second one",
                        )
                        .help("remove the `---` line or split the file"));
                    }
                }
                Event::Scalar(value, style, anchor, tag) => {
                    let node = scalar(&value, style, tag.as_deref(), &span)?;
                    self.push(node, anchor)?;
                }
                Event::SequenceStart(anchor, tag) => {
                    self.check_collection_tag(tag.as_deref(), "!!seq", &span)?;
                    self.open(Frame::Seq { start: span, anchor, items: Vec::new() })?;
                }
                Event::MappingStart(anchor, tag) => {
                    self.check_collection_tag(tag.as_deref(), "!!map", &span)?;
                    self.open(Frame::Map { start: span, anchor, entries: Vec::new(), key: None })?;
                }
                Event::SequenceEnd | Event::MappingEnd => self.close(&span)?,
                Event::Alias(id) => {
                    let Some(target) = self.anchors.get(&id).cloned() else {
                        return Err(YamlError::new(Pos::of(&span), "alias to an unknown anchor"));
                    };
                    self.expanded = self.expanded.saturating_add(target.size);
                    if self.expanded > MAX_ALIAS_EXPANSION {
                        return Err(YamlError::new(
                            Pos::of(&span),
                            format!("YAML aliases expand to more than {MAX_ALIAS_EXPANSION} nodes"),
                        )
                        .help("this looks like an alias bomb (\"billion laughs\"); settings files do not need this many aliases"));
                    }
                    let mut node = (*target).clone();
                    node.span = Span::of(&span);
                    self.push(node, 0)?;
                }
                Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
            }
        }
        Ok(self.root)
    }

    /// The innermost collection being built that was opened with `[` or `{`.
    fn open_flow_collection(&self, text: &str) -> Option<(char, Pos)> {
        self.stack.iter().rev().find_map(|frame| {
            let start = match frame {
                Frame::Seq { start, .. } | Frame::Map { start, .. } => Pos::of(start),
            };
            let open = text.split('\n').nth(start.line.checked_sub(1)?)?.chars().nth(start.col)?;
            matches!(open, '[' | '{').then_some((open, start))
        })
    }

    fn check_collection_tag(&self, tag: Option<&Tag>, expected: &str, span: &YamlSpan) -> Result<(), YamlError> {
        match tag {
            None => Ok(()),
            Some(t) if t.is_yaml_core_schema() && format!("!!{}", t.suffix) == expected => Ok(()),
            Some(t) => Err(unsupported_tag(t, span)),
        }
    }

    fn open(&mut self, frame: Frame) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            let span = match &frame {
                Frame::Seq { start, .. } | Frame::Map { start, .. } => *start,
            };
            return Err(YamlError::new(Pos::of(&span), format!("YAML nesting is deeper than {MAX_DEPTH} levels"))
                .help(TOO_DEEP_HELP));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, end: &YamlSpan) -> Result<(), YamlError> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let (node, anchor) = match frame {
            Frame::Seq { start, anchor, items } => {
                let size = 1 + items.iter().map(|n| n.size).sum::<usize>();
                (Node { span: join(&start, end), value: NodeValue::Seq(items), size }, anchor)
            }
            Frame::Map { start, anchor, entries, .. } => {
                let entries = merge_keys(entries)?;
                let size = 1 + entries.iter().map(|(k, v)| k.size + v.size).sum::<usize>();
                (Node { span: join(&start, end), value: NodeValue::Map(entries), size }, anchor)
            }
        };
        self.push(node, anchor)
    }

    fn push(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
        if anchor != 0 {
            self.anchors.insert(anchor, Rc::new(node.clone()));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => {
                    if matches!(node.value, NodeValue::Seq(_) | NodeValue::Map(_)) {
                        return Err(YamlError::new(node.span.start, "a mapping key must be a scalar")
                            .help("Chaos Toolkit (PyYAML) cannot load a list or mapping used as a key"));
                    }
                    *key = Some(node);
                }
                Some(k) => entries.push((k, node)),
            },
        }
        Ok(())
    }
}

fn join(start: &YamlSpan, end: &YamlSpan) -> Span {
    Span { start: Pos::of(start), end: Pos { line: end.end.line(), col: end.end.col() } }
}

/// Applies YAML `<<` merge keys (PyYAML supports them): keys of the merged mappings are
/// added unless the mapping already has them; explicit keys win.
fn merge_keys(entries: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, YamlError> {
    let is_merge = |k: &Node| matches!(&k.value, NodeValue::Str { text, plain: true } if text == "<<");
    if !entries.iter().any(|(k, _)| is_merge(k)) {
        return Ok(entries);
    }
    let mut own = Vec::new();
    let mut merged = Vec::new();
    for (k, v) in entries {
        if !is_merge(&k) {
            own.push((k, v));
            continue;
        }
        let sources = match v.value {
            NodeValue::Map(m) => vec![m],
            NodeValue::Seq(items) => items
                .into_iter()
                .map(|n| match n.value {
                    NodeValue::Map(m) => Ok(m),
                    _ => Err(YamlError::new(n.span.start, "`<<` merges mappings only")),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(YamlError::new(v.span.start, "`<<` merges mappings only")),
        };
        for source in sources {
            merged.extend(source);
        }
    }
    let key_text = |k: &Node| match &k.value {
        NodeValue::Str { text, .. } => Some(text.clone()),
        _ => None,
    };
    let mut seen: Vec<String> = own.iter().filter_map(|(k, _)| key_text(k)).collect();
    for (k, v) in merged {
        if let Some(t) = key_text(&k) {
            if seen.contains(&t) {
                continue;
            }
            seen.push(t);
        }
        own.push((k, v));
    }
    Ok(own)
}

fn unsupported_tag(tag: &Tag, span: &YamlSpan) -> YamlError {
    // Show the tag as written: the parser expands `!!` to the core schema's prefix.
    let handle = if tag.handle == "tag:yaml.org,2002:" { "!!" } else { tag.handle.as_str() };
    YamlError::new(Pos::of(span), format!("unsupported YAML tag `{handle}{}`", tag.suffix))
        .help("Chaos Toolkit loads settings with PyYAML's safe loader, which refuses application tags")
}

fn scalar(value: &str, style: ScalarStyle, tag: Option<&Tag>, span: &YamlSpan) -> Result<Node, YamlError> {
    let node = |v| Node { span: Span::of(span), value: v, size: 1 };
    if let Some(tag) = tag {
        if !tag.is_yaml_core_schema() {
            return Err(unsupported_tag(tag, span));
        }
        let bad = || YamlError::new(Pos::of(span), format!("`{value}` is not a valid `!!{}`", tag.suffix));
        return Ok(node(match tag.suffix.as_str() {
            "str" => NodeValue::Str { text: value.to_owned(), plain: false },
            "null" => NodeValue::Null,
            "bool" => resolve_bool(value).map(NodeValue::Bool).ok_or_else(bad)?,
            "int" => resolve_int(value).ok_or_else(bad)?,
            "float" => resolve_float(value).or_else(|| resolve_int(value).map(to_float)).ok_or_else(bad)?,
            _ => return Err(unsupported_tag(tag, span)),
        }));
    }
    if style != ScalarStyle::Plain {
        return Ok(node(NodeValue::Str { text: value.to_owned(), plain: false }));
    }
    let resolved = if matches!(value, "" | "~" | "null" | "Null" | "NULL") {
        NodeValue::Null
    } else if let Some(b) = resolve_bool(value) {
        NodeValue::Bool(b)
    } else if let Some(i) = resolve_int(value) {
        i
    } else if let Some(f) = resolve_float(value) {
        f
    } else {
        NodeValue::Str { text: value.to_owned(), plain: true }
    };
    Ok(node(resolved))
}

fn to_float(v: NodeValue) -> NodeValue {
    match v {
        NodeValue::Int(i) => NodeValue::Float(i as f64),
        other => other,
    }
}

/// PyYAML's bool resolver (YAML 1.1).
fn resolve_bool(s: &str) -> Option<bool> {
    match s {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// PyYAML's int resolver: `0b…`, `0x…`, `0…` (octal), decimal with `_`, and base 60.
fn resolve_int(s: &str) -> Option<NodeValue> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let digits = |b: &str, ok: fn(char) -> bool| !b.is_empty() && b.chars().all(|c| ok(c) || c == '_');
    let (radix, text) = if let Some(b) = body.strip_prefix("0b") {
        if !digits(b, |c| matches!(c, '0' | '1')) {
            return None;
        }
        (2, b)
    } else if let Some(h) = body.strip_prefix("0x") {
        if !digits(h, |c| c.is_ascii_hexdigit()) {
            return None;
        }
        (16, h)
    } else if body.len() > 1 && body.starts_with('0') {
        if !digits(&body[1..], |c| matches!(c, '0'..='7')) {
            return None;
        }
        (8, &body[1..])
    } else if body.contains(':') {
        return resolve_sexagesimal(body).map(|v| NodeValue::Int(if neg { -v } else { v }));
    } else {
        if !body.starts_with(|c: char| c.is_ascii_digit()) || !digits(body, |c| c.is_ascii_digit()) {
            return None;
        }
        (10, body)
    };
    let clean: String = text.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() {
        return None;
    }
    match i128::from_str_radix(&clean, radix) {
        Ok(v) => {
            let v = if neg { -v } else { v };
            Some(i64::try_from(v).map_or(NodeValue::Float(v as f64), NodeValue::Int))
        }
        // Longer than i128: PyYAML has big ints, JSON does not; keep the magnitude.
        Err(_) => clean.parse::<f64>().ok().filter(|_| radix == 10).map(|f| NodeValue::Float(if neg { -f } else { f })),
    }
}

fn resolve_sexagesimal(body: &str) -> Option<i64> {
    let mut parts = body.split(':');
    let first = parts.next()?;
    if !first.starts_with(|c: char| matches!(c, '1'..='9')) || !first.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return None;
    }
    let mut value: i64 = first.replace('_', "").parse().ok()?;
    for p in parts {
        if p.is_empty() || p.len() > 2 || !p.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let n: i64 = p.parse().ok()?;
        if n > 59 {
            return None;
        }
        value = value.checked_mul(60)?.checked_add(n)?;
    }
    Some(value)
}

/// PyYAML's float resolver: a dot is required, the exponent needs a sign.
fn resolve_float(s: &str) -> Option<NodeValue> {
    match s {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(NodeValue::Float(f64::INFINITY)),
        "-.inf" | "-.Inf" | "-.INF" => return Some(NodeValue::Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Some(NodeValue::Float(f64::NAN)),
        _ => {}
    }
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.')?;
    let is_digits = |t: &str| t.chars().all(|c| c.is_ascii_digit() || c == '_');
    let int_ok = if int.is_empty() {
        // `.5` is a float but `-.5` is not, in PyYAML's regex.
        body.len() == s.len() && !frac.is_empty() && frac.starts_with(|c: char| c.is_ascii_digit())
    } else {
        int.starts_with(|c: char| c.is_ascii_digit()) && is_digits(int)
    };
    if !int_ok || !is_digits(frac) {
        return None;
    }
    if let Some(e) = exponent {
        let digits = e.strip_prefix(['-', '+'])?;
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
    }
    let clean: String = s.chars().filter(|c| *c != '_').collect();
    let clean = if clean.ends_with('.') { format!("{clean}0") } else { clean };
    clean.parse::<f64>().ok().map(NodeValue::Float)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(yaml: &str) -> NodeValue {
        parse(yaml).unwrap().unwrap().value
    }

    fn s(t: &str) -> NodeValue {
        NodeValue::Str { text: t.into(), plain: true }
    }

    #[test]
    fn scalars_resolve_like_pyyaml() {
        let cases = [
            ("yes", NodeValue::Bool(true)),
            ("Off", NodeValue::Bool(false)),
            ("y", s("y")),
            ("~", NodeValue::Null),
            ("0x1F", NodeValue::Int(31)),
            ("017", NodeValue::Int(15)),
            ("1_000", NodeValue::Int(1000)),
            ("-12", NodeValue::Int(-12)),
            ("1:30", NodeValue::Int(90)),
            ("1.5", NodeValue::Float(1.5)),
            ("1.", NodeValue::Float(1.0)),
            ("1e5", s("1e5")),
            ("1.0e+5", NodeValue::Float(1e5)),
            (".5", NodeValue::Float(0.5)),
            ("99999999999999999999", NodeValue::Float(1e20)),
            ("run-failed", s("run-failed")),
            ("0b", s("0b")),
            ("-x", s("-x")),
        ];
        for (text, want) in cases {
            assert_eq!(value(text), want, "{text}");
        }
        assert_eq!(value("'yes'"), NodeValue::Str { text: "yes".into(), plain: false });
        assert_eq!(value("!!str 12"), NodeValue::Str { text: "12".into(), plain: false });
    }

    #[test]
    fn positions_are_kept() {
        let root = parse("a:\n  - b: 1\n").unwrap().unwrap();
        let NodeValue::Map(m) = root.value else { panic!() };
        let NodeValue::Seq(items) = &m[0].1.value else { panic!() };
        let NodeValue::Map(inner) = &items[0].value else { panic!() };
        assert_eq!(inner[0].0.span.start, Pos { line: 2, col: 4 });
        assert_eq!(inner[0].1.span.start, Pos { line: 2, col: 7 });
    }

    #[test]
    fn aliases_and_merge_keys() {
        let root = parse("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n").unwrap().unwrap();
        let NodeValue::Map(m) = root.value else { panic!() };
        let NodeValue::Map(c) = &m[1].1.value else { panic!() };
        let keys: Vec<_> = c.iter().map(|(k, v)| (k.value.clone(), v.value.clone())).collect();
        assert_eq!(keys, vec![(s("y"), NodeValue::Int(3)), (s("x"), NodeValue::Int(1))]);
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut yaml = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = format!("*a{}", i - 1);
            yaml.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
        }
        let err = parse(&yaml).unwrap_err();
        assert!(err.message.contains("aliases expand"), "{err:?}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        // The parser has its own recursion limit for flow collections; ours catches
        // block nesting, which the parser handles iteratively.
        let err = parse(&"[".repeat(10_000)).unwrap_err();
        assert!(err.message.contains("recursion limit"), "{err:?}");
        assert_eq!(err.help.as_deref(), Some(TOO_DEEP_HELP), "not the unclosed-bracket hint");
        let block: String = (0..200).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
        let err = parse(&block).unwrap_err();
        assert!(err.message.contains("deeper than 128"), "{err:?}");
        assert_eq!(err.help.as_deref(), Some(TOO_DEEP_HELP));
    }

    #[test]
    fn errors_and_edge_documents() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("# only a comment\n").unwrap(), None);
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.message.starts_with("invalid YAML"), "{err:?}");
        assert_eq!(err.help.as_deref(), Some("check the `[` opened at line 1, column 4: is its `]` missing?"));
        let err = parse("a:\n  b: {c: 1\nd: 2\n").unwrap_err();
        assert_eq!(err.help.as_deref(), Some("check the `{` opened at line 2, column 6: is its `}` missing?"));
        assert_eq!(parse("a:\n  - b\n c: 1\n").unwrap_err().help, None);
        assert!(parse("a: 1\n---\nb: 2\n").unwrap_err().message.contains("second"));
        let err = parse("a: !!python/object:os.system x\n").unwrap_err();
        assert_eq!(err.message, "unsupported YAML tag `!!python/object:os.system`");
        assert_eq!(parse("a: !custom x\n").unwrap_err().message, "unsupported YAML tag `!custom`");
        assert!(parse("? [a]\n: 1\n").unwrap_err().message.contains("key must be a scalar"));
    }
}
