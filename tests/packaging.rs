//! Every crate of the workspace can be published: the metadata crates.io shows, versions
//! on every internal dependency that ships, and the test-support crates kept private.
//! (`.ci/run` also runs `cargo package --workspace`, which builds each crate from its
//! packaged sources.)

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

fn publishable(package: &Value) -> bool {
    package["publish"] != serde_json::json!([])
}

/// crates.io's rules for a keyword.
fn valid_keyword(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 20
        && k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && k.chars().all(|c| c.is_ascii_alphanumeric() || "-_+".contains(c))
}

#[test]
fn every_published_crate_has_its_metadata_and_versioned_internal_dependencies() {
    let metadata = metadata();
    let packages = metadata["packages"].as_array().expect("packages");
    let by_name: BTreeMap<&str, &Value> = packages.iter().map(|p| (p["name"].as_str().expect("name"), p)).collect();
    assert!(by_name.len() >= 7, "{:?}", by_name.keys());
    let mut problems = Vec::new();

    for (name, package) in &by_name {
        if name.contains("test-support") && publishable(package) {
            problems.push(format!("{name}: a test-support crate must have `publish = false`"));
        }
        if !publishable(package) {
            continue;
        }
        for field in ["description", "license", "repository", "readme"] {
            if package[field].as_str().is_none_or(|s| s.trim().is_empty()) {
                problems.push(format!("{name}: no `{field}`"));
            }
        }
        if let Some(readme) = package["readme"].as_str() {
            let dir = Path::new(package["manifest_path"].as_str().expect("manifest_path")).parent().expect("dir");
            if !dir.join(readme).is_file() {
                problems.push(format!("{name}: readme `{readme}` does not exist"));
            }
        }
        let keywords: Vec<&str> =
            package["keywords"].as_array().map(|k| k.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        if keywords.is_empty() || keywords.len() > 5 || !keywords.iter().all(|k| valid_keyword(k)) {
            problems.push(format!("{name}: keywords must be 1 to 5 crates.io keywords: {keywords:?}"));
        }
        if package["categories"].as_array().is_none_or(Vec::is_empty) {
            problems.push(format!("{name}: no `categories`"));
        }
        for dep in package["dependencies"].as_array().expect("dependencies") {
            let dep_name = dep["name"].as_str().unwrap_or_default();
            let kind = dep["kind"].as_str().unwrap_or("normal");
            if dep.get("path").is_none() {
                continue;
            }
            // A dev-dependency with only a path is dropped from the published manifest.
            if kind != "dev" && dep["req"] == "*" {
                problems.push(format!("{name}: {kind} dependency `{dep_name}` has a path but no version"));
            }
            if kind != "dev" && by_name.get(dep_name).is_some_and(|d| !publishable(d)) {
                problems.push(format!("{name}: {kind} dependency on the unpublished `{dep_name}`"));
            }
        }
    }
    assert!(problems.is_empty(), "not publishable as is:\n  {}", problems.join("\n  "));
}
