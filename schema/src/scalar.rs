//! Where each character of a YAML string's value is in the file.
//!
//! A template in a settings file is a YAML scalar: plain, quoted (with escapes and line
//! folding) or a block (`|`, `>`), indented. To report a template error at the
//! offending character's own `line:col`, the value is decoded again from the source
//! text while recording the position each character came from; the result is used only
//! if it reproduces the parser's value exactly (otherwise the caller falls back to the
//! scalar's start), so a case this module gets wrong can cost precision, never
//! correctness.

use crate::source::SourceFile;
use crate::yaml::{Pos, Span};

/// The position of every character of `value` (the scalar at `span` in `source`), or
/// `None` when they cannot be recovered.
pub fn char_positions(source: &SourceFile, span: Span, value: &str) -> Option<Vec<Pos>> {
    if span.start.line == 0 {
        return None;
    }
    // A block scalar's span starts at its first content line, after the header and any
    // empty lines, which belong to the value: start reading that far up.
    let mut first = span.start.line;
    while first > 1 && source.line_text(first - 1).trim().is_empty() {
        first -= 1;
    }
    let text = source.text.get(source.byte_offset(first, 0)..)?;
    // Every source character from there, with its position.
    let mut chars = Vec::new();
    let mut line_starts = Vec::new();
    let mut line = first;
    let mut col = 0;
    for c in text.chars() {
        if col == 0 {
            line_starts.push(chars.len());
        }
        chars.push((c, Pos { line, col }));
        if c == '\n' {
            line += 1;
            col = 0;
        } else {
            col += 1;
        }
    }
    let own_line = *line_starts.get(span.start.line - first)?;
    let at = (own_line + span.start.col).min(chars.len());
    let want = value.chars().count();
    let matches = |(decoded, positions): (String, Vec<Pos>)| -> Option<Vec<Pos>> {
        let decoded: String = decoded.chars().take(want).collect();
        (decoded == value && positions.len() >= want).then(|| positions.into_iter().take(want).collect())
    };
    // The first character of a block scalar's content may be anything, a quote
    // included: every reading that can apply is tried, and only one that gives the
    // value back is used.
    let quoted = match chars.get(at)?.0 {
        q @ ('"' | '\'') => matches(flow(&chars[at + 1..], Some(q), want)),
        _ => None,
    };
    quoted.or_else(|| matches(flow(&chars[at..], None, want))).or_else(|| {
        line_starts[..=span.start.line - first].iter().rev().find_map(|&from| {
            matches(block(&chars[from..], false, want)).or_else(|| matches(block(&chars[from..], true, want)))
        })
    })
}

/// A quoted or plain scalar: escapes (double quotes), `''` (single quotes), and line
/// folding (a line break between text is a space, each empty line a line break).
fn flow(chars: &[(char, Pos)], quote: Option<char>, want: usize) -> (String, Vec<Pos>) {
    let mut out = String::new();
    let mut pos = Vec::new();
    // Whether each output character came literally from the source (trailing spaces
    // before a line break are dropped only then).
    let mut literal = Vec::new();
    let mut i = 0;
    while i < chars.len() && pos.len() < want {
        let (c, p) = chars[i];
        match (quote, c) {
            (Some('\''), '\'') if chars.get(i + 1).is_some_and(|n| n.0 == '\'') => {
                push(&mut out, &mut pos, &mut literal, '\'', p, false);
                i += 2;
            }
            (Some(q), c) if c == q => break,
            (Some('"'), '\\') => {
                let Some(&(e, _)) = chars.get(i + 1) else { break };
                if e == '\n' {
                    i = skip_blanks(chars, i + 2);
                    continue;
                }
                let hex = |n: usize| -> Option<char> {
                    let digits: String = chars.get(i + 2..i + 2 + n)?.iter().map(|x| x.0).collect();
                    char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
                };
                let (decoded, len) = match e {
                    'x' => (hex(2), 4),
                    'u' => (hex(4), 6),
                    'U' => (hex(8), 10),
                    _ => (simple_escape(e), 2),
                };
                let Some(d) = decoded else { break };
                push(&mut out, &mut pos, &mut literal, d, p, false);
                i += len;
            }
            (_, '\n') | (_, '\r') => {
                while literal.last() == Some(&true) && matches!(out.chars().last(), Some(' ' | '\t')) {
                    out.pop();
                    pos.pop();
                    literal.pop();
                }
                let mut j = skip_blanks(chars, i + 1);
                let mut empties = 0;
                while j < chars.len() && matches!(chars[j].0, '\n' | '\r') {
                    empties += 1;
                    j = skip_blanks(chars, j + 1);
                }
                if empties == 0 {
                    push(&mut out, &mut pos, &mut literal, ' ', p, false);
                } else {
                    for _ in 0..empties {
                        push(&mut out, &mut pos, &mut literal, '\n', p, false);
                    }
                }
                i = j;
            }
            (_, c) => {
                push(&mut out, &mut pos, &mut literal, c, p, true);
                i += 1;
            }
        }
    }
    (out, pos)
}

fn push(out: &mut String, pos: &mut Vec<Pos>, literal: &mut Vec<bool>, c: char, p: Pos, lit: bool) {
    out.push(c);
    pos.push(p);
    literal.push(lit);
}

fn skip_blanks(chars: &[(char, Pos)], mut i: usize) -> usize {
    while i < chars.len() && matches!(chars[i].0, ' ' | '\t') {
        i += 1;
    }
    i
}

fn simple_escape(e: char) -> Option<char> {
    Some(match e {
        '0' => '\0',
        'a' => '\u{7}',
        'b' => '\u{8}',
        't' | '\t' => '\t',
        'n' => '\n',
        'v' => '\u{b}',
        'f' => '\u{c}',
        'r' => '\r',
        'e' => '\u{1b}',
        ' ' => ' ',
        '"' => '"',
        '/' => '/',
        '\\' => '\\',
        'N' => '\u{85}',
        '_' => '\u{a0}',
        'L' => '\u{2028}',
        'P' => '\u{2029}',
        _ => return None,
    })
}

/// A block scalar (`|` literal, `>` folded): lines indented by the first non-empty
/// line's indentation (with an explicit indentation indicator that differs, the
/// caller's comparison with the parsed value fails and it falls back).
fn block(chars: &[(char, Pos)], folded: bool, want: usize) -> (String, Vec<Pos>) {
    // The lines of the block, from its first content line on.
    let mut lines: Vec<&[(char, Pos)]> = Vec::new();
    let mut start = 0;
    for j in 0..=chars.len() {
        if j == chars.len() || chars[j].0 == '\n' {
            if start <= j {
                lines.push(&chars[start..j]);
            }
            start = j + 1;
        }
    }
    let leading = |l: &[(char, Pos)]| l.iter().take_while(|c| c.0 == ' ').count();
    let blank = |l: &[(char, Pos)]| l.iter().all(|c| matches!(c.0, ' ' | '\t' | '\r'));
    let indent = lines.iter().find(|l| !blank(l)).map_or(0, |l| leading(l));
    let mut out = String::new();
    let mut pos = Vec::new();
    let mut pending_empty: Vec<Pos> = Vec::new();
    let mut prev: Option<bool> = None; // Some(more_indented) of the previous text line
    for l in lines {
        if pos.len() >= want {
            break;
        }
        let end_pos = l.last().map_or_else(|| Pos { line: 0, col: 0 }, |c| Pos { line: c.1.line, col: c.1.col + 1 });
        if blank(l) && l.len() <= indent {
            pending_empty.push(end_pos);
            continue;
        }
        if leading(l) < indent {
            break;
        }
        let content = &l[indent..];
        let more = content.first().is_some_and(|c| matches!(c.0, ' ' | '\t'));
        if folded {
            match prev {
                None => {
                    for p in pending_empty.drain(..) {
                        out.push('\n');
                        pos.push(p);
                    }
                }
                Some(prev_more) => {
                    let line_break = *pos.last().unwrap_or(&content[0].1);
                    if !prev_more && !more && pending_empty.is_empty() {
                        out.push(' ');
                        pos.push(line_break);
                    } else {
                        if prev_more || more {
                            out.push('\n');
                            pos.push(line_break);
                        }
                        for p in pending_empty.drain(..) {
                            out.push('\n');
                            pos.push(p);
                        }
                    }
                }
            }
        } else {
            if prev.is_some() {
                out.push('\n');
                pos.push(*pos.last().unwrap_or(&content[0].1));
            }
            for p in pending_empty.drain(..) {
                out.push('\n');
                pos.push(p);
            }
        }
        pending_empty.clear();
        for &(c, p) in content {
            out.push(c);
            pos.push(p);
        }
        prev = Some(more);
    }
    // The final line break and trailing empty lines (chomping keeps some or none of
    // them; the caller compares only as many characters as the value has).
    if let Some(&last) = pos.last() {
        out.push('\n');
        pos.push(last);
        for p in pending_empty {
            out.push('\n');
            pos.push(p);
        }
    }
    (out, pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::located::to_json;
    use crate::yaml::parse;

    /// The position of character `needle` in the value of `key`.
    fn locate(yaml: &str, needle: char) -> Pos {
        let source = SourceFile::new("t.yaml", yaml);
        let doc = to_json(parse(yaml).unwrap().as_ref());
        let value = doc.value["t"].as_str().unwrap().to_owned();
        let span = doc.index.get("/t").unwrap().value;
        let positions = char_positions(&source, span, &value).unwrap_or_else(|| panic!("no positions for {value:?}"));
        let at = value.chars().position(|c| c == needle).unwrap();
        positions[at]
    }

    #[test]
    fn literal_and_folded_blocks() {
        assert_eq!(locate("t: |\n  {\"a\":\n    X}\n", 'X'), Pos { line: 3, col: 4 });
        assert_eq!(locate("a: 1\nt: |-\n    one\n\n    two X\n", 'X'), Pos { line: 5, col: 8 });
        assert_eq!(locate("t: >\n  one\n  two X\n", 'X'), Pos { line: 3, col: 6 });
        assert_eq!(locate("t: >\n  one\n\n    more\n  X\n", 'X'), Pos { line: 5, col: 2 });
    }

    #[test]
    fn quoted_and_plain() {
        assert_eq!(locate("t: \"a\\n\\\"b X\"\n", 'X'), Pos { line: 1, col: 11 });
        assert_eq!(locate("t: 'it''s X'\n", 'X'), Pos { line: 1, col: 10 });
        assert_eq!(locate("t: \"one\n  two X\"\n", 'X'), Pos { line: 2, col: 6 });
        assert_eq!(locate("t: one two X\n", 'X'), Pos { line: 1, col: 11 });
        assert_eq!(locate("t: \"\\u00e9 X\"\n", 'X'), Pos { line: 1, col: 11 });
    }
}
