//! Located tree → JSON value plus a JSON-pointer → position index.
//!
//! Validation works on plain `serde_json::Value`s (what the JSON Schema and serde see);
//! the index maps any instance path a validator reports back to the YAML line and column
//! of the key and of the value.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

use crate::yaml::{Node, NodeValue, Span};

/// Where a JSON value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodePos {
    /// The span of the mapping key this value is under, if any.
    pub key: Option<Span>,
    /// The span of the value itself.
    pub value: Span,
}

/// JSON pointer → position, for every value of a document.
#[derive(Debug, Clone, Default)]
pub struct PositionIndex {
    map: HashMap<String, NodePos>,
}

impl PositionIndex {
    /// The position recorded for exactly this pointer.
    pub fn get(&self, pointer: &str) -> Option<NodePos> {
        self.map.get(pointer).copied()
    }

    /// The position of this pointer or of its nearest ancestor that has one.
    pub fn nearest(&self, pointer: &str) -> Option<NodePos> {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.map.get(p) {
                return Some(*pos);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }
}

/// A key that appears twice in one mapping (PyYAML keeps the last one silently).
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateKey {
    /// Pointer of the mapping that holds it.
    pub parent: String,
    /// The key.
    pub key: String,
    /// Where the later (winning) occurrence is.
    pub span: Span,
    /// Where the first occurrence is.
    pub first: Span,
}

/// A YAML document as JSON, with positions.
#[derive(Debug, Clone)]
pub struct LocatedDocument {
    /// The document; `Value::Null` for an empty file.
    pub value: Value,
    /// Positions of every value.
    pub index: PositionIndex,
    /// Keys written twice in one mapping.
    pub duplicates: Vec<DuplicateKey>,
    /// Pointers of `.inf`, `-.inf` and `.nan` values, which JSON cannot hold (they are
    /// `null` in [`LocatedDocument::value`]), with the value.
    pub non_finite: Vec<(String, f64)>,
}

/// Escapes one JSON pointer segment (RFC 6901).
pub fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Converts a located tree (or an empty document) to JSON with positions.
pub fn to_json(root: Option<&Node>) -> LocatedDocument {
    let mut doc = LocatedDocument {
        value: Value::Null,
        index: PositionIndex::default(),
        duplicates: Vec::new(),
        non_finite: Vec::new(),
    };
    if let Some(root) = root {
        let mut pointer = String::new();
        doc.value = convert(root, &mut pointer, None, &mut doc);
    }
    doc
}

/// Appends `/segment` (escaped) to a pointer.
fn push_segment(pointer: &mut String, segment: &str) {
    pointer.push('/');
    if segment.contains(['~', '/']) {
        pointer.push_str(&escape_pointer(segment));
    } else {
        pointer.push_str(segment);
    }
}

/// Converts `node`, whose pointer is `pointer`. The pointer buffer is shared by the whole
/// walk (children append their segment and truncate it back), so the only allocation per
/// node is its key in the index.
fn convert(node: &Node, pointer: &mut String, key: Option<Span>, doc: &mut LocatedDocument) -> Value {
    let len = pointer.len();
    let value = match &node.value {
        NodeValue::Null => Value::Null,
        NodeValue::Bool(b) => Value::Bool(*b),
        NodeValue::Int(i) => Value::Number((*i).into()),
        // NaN and infinities have no JSON form: null, and remembered for a diagnostic.
        NodeValue::Float(f) => Number::from_f64(*f).map_or_else(
            || {
                doc.non_finite.push((pointer.clone(), *f));
                Value::Null
            },
            Value::Number,
        ),
        NodeValue::Str { text, .. } => Value::String(text.clone()),
        NodeValue::Seq(items) => {
            let mut array = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                use std::fmt::Write as _;
                let _ = write!(pointer, "/{i}");
                array.push(convert(item, pointer, None, doc));
                pointer.truncate(len);
            }
            Value::Array(array)
        }
        NodeValue::Map(entries) => {
            let mut map = Map::with_capacity(entries.len());
            for (k, v) in entries {
                let name = key_text(k);
                push_segment(pointer, &name);
                if map.contains_key(&name) {
                    // The index still holds the first occurrence: PyYAML keeps the last
                    // value, at the key's original place.
                    let first = doc.index.map.get(pointer.as_str()).and_then(|p| p.key).unwrap_or(k.span);
                    doc.duplicates.push(DuplicateKey {
                        parent: pointer[..len].to_owned(),
                        key: name.clone(),
                        span: k.span,
                        first,
                    });
                }
                let child = convert(v, pointer, Some(k.span), doc);
                pointer.truncate(len);
                map.insert(name, child);
            }
            Value::Object(map)
        }
    };
    doc.index.map.insert(pointer.clone(), NodePos { key, value: node.span });
    value
}

/// The JSON key for a YAML scalar key, as Python's `json.dumps` writes non-string keys.
fn key_text(key: &Node) -> String {
    match &key.value {
        NodeValue::Str { text, .. } => text.clone(),
        NodeValue::Null => "null".into(),
        NodeValue::Bool(b) => b.to_string(),
        NodeValue::Int(i) => i.to_string(),
        NodeValue::Float(f) => notifier_core::wire::python_float_repr(*f),
        // The YAML builder refuses collection keys.
        NodeValue::Seq(_) | NodeValue::Map(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Pos, parse};

    #[test]
    fn pointers_map_to_positions() {
        let root = parse("notifications:\n  - type: http\n    url: x\n  - {a/b: 1}\n").unwrap();
        let doc = to_json(root.as_ref());
        let url = doc.index.get("/notifications/0/url").unwrap();
        assert_eq!(url.key.unwrap().start, Pos { line: 3, col: 4 });
        assert_eq!(url.value.start, Pos { line: 3, col: 9 });
        assert!(doc.index.get("/notifications/1/a~1b").is_some());
        assert_eq!(doc.index.nearest("/notifications/0/headers/X").unwrap().value.start.line, 2);
    }

    #[test]
    fn non_finite_numbers_are_null_and_recorded() {
        let doc = to_json(parse("a: [1.5, .inf]\nb: .nan\n").unwrap().as_ref());
        assert_eq!(doc.value, serde_json::json!({"a": [1.5, null], "b": null}));
        let pointers: Vec<&str> = doc.non_finite.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(pointers, ["/a/1", "/b"]);
    }

    #[test]
    fn duplicate_keys_are_recorded_and_last_wins() {
        let doc = to_json(parse("a: 1\nb: 2\na: 3\n").unwrap().as_ref());
        assert_eq!(doc.value, serde_json::json!({"a": 3, "b": 2}));
        assert_eq!(doc.duplicates.len(), 1);
        assert_eq!(doc.duplicates[0].span.start.line, 3);
        assert_eq!(doc.duplicates[0].first.start.line, 1);
    }
}
