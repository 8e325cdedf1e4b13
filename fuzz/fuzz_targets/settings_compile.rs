//! The settings compiler (`notifier check`, the `settings!` macro and the run-time
//! loader share it) on arbitrary bytes: the UTF-8 gate, YAML parsing with its alias and
//! depth limits, the semantic checks, the JSON Schema, lowering to the channel table.
//! Never panics; every diagnostic and every secret span lies inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use notifier_schema::{Code, SourceFile, compile};

fuzz_target!(|data: &[u8]| {
    let Ok(source) = SourceFile::from_bytes(std::path::Path::new("fuzz.yaml"), data.to_vec()) else {
        return;
    };
    let compiled = compile(source);
    let text = &compiled.source.text;
    for d in &compiled.diagnostics {
        assert!(d.line >= 1 && d.line <= compiled.source.line_count().max(1), "{d}");
        assert!(d.span.start <= d.span.end && d.span.end <= text.len(), "{d}");
        assert!(text.is_char_boundary(d.span.start) && text.is_char_boundary(d.span.end), "{d}");
        assert_ne!(d.code, Code::Internal, "{d}");
    }
    for span in &compiled.secret_spans {
        assert!(span.start <= span.end && span.end <= text.len());
        assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
    }
    // A file with errors may still give the lenient loader a table (broken channels skipped).
    if !compiled.has_errors() {
        assert!(compiled.table.as_ref().is_some_and(|t| t.skipped.is_empty()));
    }
});
