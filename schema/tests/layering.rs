//! The compiler's modules form a tree of layers: no import circle (a lower layer never
//! names a higher one).

use std::path::Path;

use notifier_test_support::layering::{assert_no_import_circle, module_graph};

#[test]
fn no_module_import_circle() {
    let graph = module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert_no_import_circle(&graph);
    // The layers the architecture names are there.
    assert!(graph["compile"].contains("checks") && graph["checks::document"].contains("report"), "{graph:#?}");
    assert!(!graph["report"].contains("compile"), "{graph:#?}");
}
