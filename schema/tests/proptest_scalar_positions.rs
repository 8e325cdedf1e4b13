//! Template errors point at their character: for any text written as a YAML literal
//! block (`|`, `|-`, `|+`), a folded block without more-indented lines, a double-quoted
//! scalar (with escapes) or a single-quoted one, at any indentation,
//! `scalar::char_positions` recovers every character's position, and the source there
//! holds that character (or, in a double-quoted scalar, the escape that wrote it).
//! Whatever it cannot place it leaves to the caller (`None`), never a wrong position
//! silently; it never panics.
//!
//! 2,000 cases by default; `PROPTEST_CASES` for more.

use proptest::prelude::*;

use notifier_schema::SourceFile;
use notifier_schema::located::to_json;
use notifier_schema::scalar::char_positions;
use notifier_schema::yaml::parse;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000)
}

/// Lines of template-like text: no tabs, no trailing spaces (YAML would keep or strip
/// them depending on the style), no leading spaces on the first line.
fn text_lines() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[a-z{}\"',:%#|>\\[\\]é😀 -]{0,16}", 1..6).prop_map(|lines| {
        lines
            .into_iter()
            .enumerate()
            .map(|(i, l)| {
                let l = l.trim_end().to_owned();
                if i == 0 { l.trim_start().to_owned() } else { l }
            })
            .collect()
    })
}

#[derive(Debug, Clone, Copy)]
enum Style {
    Literal,
    LiteralStrip,
    LiteralKeep,
    Folded,
    Double,
    Single,
}

fn style() -> impl Strategy<Value = Style> {
    prop_oneof![
        Just(Style::Literal),
        Just(Style::LiteralStrip),
        Just(Style::LiteralKeep),
        Just(Style::Folded),
        Just(Style::Double),
        Just(Style::Single),
    ]
}

/// The settings text with `lines` as the value of `t`, nested `depth` levels.
fn document(lines: &[String], style: Style, depth: usize) -> String {
    let mut out = String::new();
    for d in 0..depth {
        out.push_str(&format!("{}k{d}:\n", "  ".repeat(d)));
    }
    let pad = "  ".repeat(depth);
    let inner = format!("{pad}  ");
    let value = match style {
        Style::Literal | Style::LiteralStrip | Style::LiteralKeep | Style::Folded => {
            let header = match style {
                Style::Literal => "|",
                Style::LiteralStrip => "|-",
                Style::LiteralKeep => "|+",
                _ => ">",
            };
            let body: Vec<String> = lines
                .iter()
                .map(|l| if l.is_empty() { String::new() } else { format!("{inner}{}", l.trim_start()) })
                .collect();
            format!("{header}\n{}\n", body.join("\n"))
        }
        Style::Double => {
            let escaped: Vec<String> = lines.iter().map(|l| l.replace('\\', "\\\\").replace('"', "\\\"")).collect();
            format!("\"{}\"\n", escaped.join("\\n"))
        }
        Style::Single => {
            let escaped: Vec<String> = lines.iter().map(|l| l.replace('\'', "''")).collect();
            format!("'{}'\n", escaped.join(" "))
        }
    };
    out.push_str(&format!("{pad}t: {value}"));
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn every_character_is_placed_where_it_is_written(lines in text_lines(), style in style(), depth in 0usize..3) {
        let yaml = document(&lines, style, depth);
        let Ok(Some(root)) = parse(&yaml) else { return Ok(()) };
        let doc = to_json(Some(&root));
        let pointer: String = (0..depth).map(|d| format!("/k{d}")).collect::<String>() + "/t";
        let Some(value) = doc.value.pointer(&pointer).and_then(|v| v.as_str()) else { return Ok(()) };
        if value.trim().is_empty() {
            return Ok(()); // nothing a template error could point at
        }
        let source = SourceFile::new("t.yaml", yaml.clone());
        let span = doc.index.get(&pointer).unwrap().value;
        let positions = char_positions(&source, span, value);
        // Literal blocks and quoted scalars are always placed (folded ones too, with no
        // more-indented lines, which the generator does not make).
        let positions = positions.unwrap_or_else(|| panic!("not placed: {style:?}\n{yaml}\nvalue {value:?}"));
        prop_assert_eq!(positions.len(), value.chars().count());
        let text_lines: Vec<Vec<char>> = yaml.split('\n').map(|l| l.chars().collect()).collect();
        for (c, p) in value.chars().zip(&positions) {
            if matches!(c, '\n' | ' ') {
                continue; // line breaks and folded spaces are placed at the break
            }
            let written = text_lines[p.line - 1].get(p.col).copied();
            let expected = match (style, c) {
                (Style::Double, '"' | '\\') => Some('\\'),
                _ => Some(c),
            };
            prop_assert_eq!(written, expected, "{:?} at {:?} in\n{}", c, p, yaml);
        }
    }
}
