#!/usr/bin/env bash
# What a program that embeds notifications pays for them (issue #17, docs/EMBEDDING.md):
# a fresh binary crate with one `settings!` block (an http channel and a Rust plugin) and a
# `main` that sends two events, built against this repository with the default features
# and with `default-features = false, features = ["macros"]`, side by side in one run.
# For each: unique crates in `cargo tree -e normal`, cold debug build time (empty target
# directory, nothing but the registry cache shared) and the release binary's size.
#
# Usage: bench/embed_cost.sh            (about 10 minutes on 2 cores; crates.io cache used)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

make_crate() { # DIR DEPENDENCY-LINE
    local dir="$1" dep="$2"
    mkdir -p "$dir/src" "$dir/chaostoolkit"
    cat > "$dir/Cargo.toml" <<TOML
[package]
name = "embedder"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
$dep
serde_json = "1"

[profile.release]
strip = true
TOML
    cat > "$dir/chaostoolkit/settings.yaml" <<'YAML'
notifications:
  - type: http
    url: http://127.0.0.1:9/hook
    events: [run-failed]
  - type: plugin
    module: acme.hooks
    team: chaos
YAML
    cat > "$dir/src/main.rs" <<'RS'
mod hooks {
    use notifier::{Envelope, PluginConfig, PluginError};

    pub fn notify(config: &PluginConfig, envelope: &Envelope) -> Result<(), PluginError> {
        println!("{} for {:?}", envelope.name(), config.get_str("team"));
        Ok(())
    }
}

notifier::settings! {
    mod chaos {
        path: "chaostoolkit/settings.yaml",
        plugins: { "acme.hooks" => crate::hooks },
    }
}

fn main() {
    for event in [notifier::Event::RunStarted, notifier::Event::RunFailed] {
        let report = chaos::notify(event, serde_json::json!({"title": "embedded"}), None);
        println!("{} channel(s), {} failed", report.channels.len(), report.failures().count());
    }
}
RS
    cp "$root/Cargo.lock" "$dir/Cargo.lock" 2>/dev/null || true
}

measure() { # NAME DEPENDENCY-LINE
    local name="$1" dir="$work/$1"
    make_crate "$dir" "$2"
    (cd "$dir" && cargo generate-lockfile --offline -q 2>/dev/null || cargo generate-lockfile -q)
    local crates
    crates="$(cd "$dir" && cargo tree -e normal --prefix none 2>/dev/null | sed 's/ (\*)//; s/ (proc-macro)//' | sort -u | wc -l)"
    local start end
    start="$(date +%s.%N)"
    (cd "$dir" && CARGO_TARGET_DIR="$dir/target-debug" cargo build -q)
    end="$(date +%s.%N)"
    local debug_s
    debug_s="$(echo "$end - $start" | bc)"
    (cd "$dir" && CARGO_TARGET_DIR="$dir/target-release" cargo build -q --release)
    local size
    size="$(stat -c %s "$dir/target-release/release/embedder")"
    (cd "$dir" && "$dir/target-debug/debug/embedder" >/dev/null)
    printf '%s\t%s\t%.1f\t%s\n' "$name" "$crates" "$debug_s" "$size"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
results="$work/results.tsv"
measure default "notifier = { path = \"$root\" }" >> "$results"
measure lean "notifier = { path = \"$root\", default-features = false, features = [\"macros\"] }" >> "$results"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

printf '| configuration | unique crates (`cargo tree -e normal`) | cold debug build | release binary |\n|---|---:|---:|---:|\n'
while IFS=$'\t' read -r name crates secs size; do
    printf '| %s | %s | %s s | %s KiB |\n' "$name" "$crates" "$secs" "$((size / 1024))"
done < "$results"
awk -F'\t' 'NR==1{c=$2; t=$3; s=$4} NR==2{printf "\nlean / default: %.2f× the crates, %.2f× the build time, %.2f× the binary\n", $2/c, $3/t, $4/s}' "$results"
