#!/usr/bin/env bash
# Runs every fuzz target for RUNS inputs each (default 1,000,000), with libFuzzer and
# AddressSanitizer, without needing cargo-fuzz: the same flags `cargo fuzz build` uses,
# on a nightly toolchain. Corpora start from the repository's own settings files and
# JSON recordings and grow in fuzz/corpus/<target>/ (not committed); crashes go to
# fuzz/artifacts/<target>/. Prints one summary line per target.
#
# Usage: fuzz/run_all.sh [RUNS] [TARGET…]
# Env:   TOOLCHAIN (default nightly), CARGO_TARGET_DIR (default fuzz/target),
#        JOBS_NICE (default 15; the runs are long, be kind to other work).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
runs="${1:-1000000}"
shift || true
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    targets=(settings_compile template_parse envelope_encode redact)
fi
toolchain="${TOOLCHAIN:-nightly}"
triple="$(rustc +"$toolchain" -vV | sed -n 's/^host: //p')"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks \
-Zsanitizer=address"

cd "$here"
nice -n "${JOBS_NICE:-15}" cargo +"$toolchain" build --release --target "$triple" --bins
bin="$CARGO_TARGET_DIR/$triple/release"

seed() {
    local target="$1" dir="$here/corpus/$1"
    mkdir -p "$dir" "$here/artifacts/$target"
    [[ -n "$(ls -A "$dir")" ]] && return
    case "$target" in
        settings_compile)
            cp "$root"/examples/*.yaml "$root"/tests/settings/*.yaml "$root"/tests/fixtures/check/*.yaml \
                "$root"/src/default_settings.yaml "$dir"/ ;;
        envelope_encode)
            cp "$root"/conformance/golden/*.json "$dir"/ ;;
        template_parse)
            printf '%s' 'Bearer ${TOKEN}' > "$dir/1"; printf '%s' '${A:-d}$$x${B}' > "$dir/2" ;;
        redact)
            printf '%s' 'p@ss w/rd https://u:pw@h/p?token=x&a=1#f' > "$dir/1" ;;
    esac
}

for target in "${targets[@]}"; do
    seed "$target"
    start=$(date +%s)
    log="$here/artifacts/$target/last-run.log"
    set +e
    nice -n "${JOBS_NICE:-15}" "$bin/$target" -runs="$runs" -rss_limit_mb=2048 -max_len=16384 \
        -artifact_prefix="$here/artifacts/$target/" "$here/corpus/$target" >"$log" 2>&1
    status=$?
    set -e
    done_line="$(grep -E '^Done [0-9]+ runs' "$log" | tail -1 || true)"
    echo "$target: exit $status, ${done_line:-no summary (see $log)}, $(( $(date +%s) - start )) s"
done
