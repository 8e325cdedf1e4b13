//! The runtime's modules form layers: plugin API → HTTP client → built-in plugins →
//! registry → dispatch, with no import circle (a lower layer never names a higher one).

use std::path::Path;

use notifier_test_support::layering::{assert_no_import_circle, module_graph};

#[test]
fn no_module_import_circle_and_the_layers_hold() {
    let graph = module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert_no_import_circle(&graph);
    let names = |m: &str, other: &str| {
        graph.get(m).is_some_and(|e| e.iter().any(|n| n == other || n.starts_with(&format!("{other}::"))))
    };
    for lower in ["plugin", "channel", "envelope", "event", "report", "template", "redact", "wire", "pyvalue"] {
        for higher in ["dispatch", "registry", "plugins", "transport"] {
            assert!(!names(lower, higher), "`{lower}` names `{higher}`: {graph:#?}");
        }
    }
    let plugins: Vec<&String> = graph.keys().filter(|m| m.starts_with("plugins")).collect();
    for m in &plugins {
        assert!(!names(m, "dispatch") && !names(m, "registry"), "`{m}` names a higher layer: {graph:#?}");
    }
    assert!(names("registry", "plugins") && names("registry", "plugin"), "{graph:#?}");
    for m in graph.keys().filter(|m| m.starts_with("transport")) {
        assert!(!names(m, "dispatch") && !names(m, "plugins"), "`{m}` names a higher layer: {graph:#?}");
    }
}
