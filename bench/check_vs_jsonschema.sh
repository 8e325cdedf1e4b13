#!/usr/bin/env bash
# `notifier check` against `check-jsonschema` (PyPI) on the same settings files, in one run.
#
# Generates N varied, valid Chaos Toolkit settings files (default 1,000) in a temporary
# directory, builds `notifier` in release mode, installs check-jsonschema into a venv,
# checks that both tools accept every file, then times:
#
#   all files, one process:  notifier check f1 … fN
#                            check-jsonschema --schemafile schema/settings.schema.json f1 … fN
#   one process per file:    the same, over the first PER_FILE files (default 50)
#
# and prints the times and the ratios as a Markdown table (docs/PERFORMANCE.md quotes it).
# Uses hyperfine when it is installed; otherwise plain timing loops (`date +%s%N`).
#
# Environment:
#   N=1000 PER_FILE=50 RUNS=5     files, files timed one process each, timed runs per command
#   CHECK_JSONSCHEMA_VERSION=0.39.0
#   BENCH_VENV=…                  venv to (re)use (default: target/bench-venv)
#   CARGO_TARGET_DIR              honoured when locating the release binary
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${N:-1000}"
PER_FILE="${PER_FILE:-50}"
RUNS="${RUNS:-5}"
CHECK_JSONSCHEMA_VERSION="${CHECK_JSONSCHEMA_VERSION:-0.39.0}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BENCH_VENV="${BENCH_VENV:-$TARGET_DIR/bench-venv}"
SCHEMA="$ROOT/schema/settings.schema.json"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/notifier-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

say() { printf '%s\n' "$*" >&2; }

# --- 1. The files ---------------------------------------------------------------------
say "generating $N settings files in $WORK/files"
python3 - "$WORK/files" "$N" <<'PY'
import os, random, sys

out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out)
rng = random.Random(20261125)
events = ["discovery-started", "discovery-completed", "discovery-failed", "init-started",
          "init-completed", "init-failed", "run-started", "run-completed", "run-failed",
          "run-deviated", "validate-started", "validate-completed", "validate-failed"]

def event_list(indent):
    chosen = rng.sample(events, rng.randint(1, 5))
    if rng.random() < 0.5:
        return " [" + ", ".join(chosen) + "]\n"
    return "\n" + "".join(f"{indent}- {e}\n" for e in chosen)

def http(i):
    host = f"hooks{i}.team{rng.randint(1, 99)}.example.com"
    s = f"  - type: http\n    url: https://{host}/chaos/{rng.choice(['events', 'hook', 'v1/notify'])}\n"
    if rng.random() < 0.3:
        s += f"    verify_tls: {rng.choice(['true', 'false'])}\n"
    if rng.random() < 0.3:
        s += f"    forward_event_payload: {rng.choice(['true', 'false'])}\n"
    if rng.random() < 0.6:
        s += "    headers:\n"
        if rng.random() < 0.5:
            s += '      Authorization: "Bearer ${HOOK_TOKEN:-none}"\n'
        s += f"      X-Team: team-{rng.randint(1, 50)}\n"
        if rng.random() < 0.3:
            s += '      Content-Type: "application/json"\n'
    if rng.random() < 0.6:
        s += "    events:" + event_list("      ")
    if rng.random() < 0.2:
        s += f"    timeout: {rng.choice(['1', '2.5', '10'])}\n"
    return s

def plugin(i):
    if rng.random() < 0.6:
        s = "  - type: plugin\n    module: chaosslack.notification\n"
        s += "    token: ${SLACK_TOKEN:-none}\n" if rng.random() < 0.7 else f"    token: xoxb-{rng.randint(10**8, 10**9)}\n"
        s += f"    channel: chaos-{rng.choice(['eng', 'ops', 'sre', 'alerts'])}\n"
    else:
        s = f"  - type: plugin\n    module: acme.hooks.team{i}\n"
        if rng.random() < 0.5:
            s += f"    func: {rng.choice(['notify', 'on_event', 'send'])}\n"
        s += f"    severity: {rng.choice(['low', 'high'])}\n"
    if rng.random() < 0.5:
        s += "    events:" + event_list("      ")
    return s

for f in range(n):
    text = "# generated settings file\n"
    if rng.random() < 0.5:
        text += "controls:\n  tracing:\n    provider:\n      type: python\n      module: chaostracing.control\n"
    if rng.random() < 0.3:
        text += "runtime:\n  rollbacks:\n    strategy: always\n"
    text += "notifications:\n"
    for i in range(rng.randint(1, 6)):
        text += http(i) if rng.random() < 0.55 else plugin(i)
    with open(os.path.join(out, f"settings-{f:04d}.yaml"), "w") as fh:
        fh.write(text)
PY
mapfile -t FILES < <(find "$WORK/files" -name '*.yaml' | sort)
SAMPLE=("${FILES[@]:0:$PER_FILE}")
say "  $(du -sh "$WORK/files" | cut -f1) in ${#FILES[@]} files"

# --- 2. The tools ---------------------------------------------------------------------
say "building notifier (release)"
(cd "$ROOT" && cargo build --release --quiet -p notifier)
NOTIFIER="$TARGET_DIR/release/notifier"

if [[ ! -x "$BENCH_VENV/bin/check-jsonschema" ]] \
    || [[ "$("$BENCH_VENV/bin/pip" show check-jsonschema 2>/dev/null | sed -n 's/^Version: //p')" != "$CHECK_JSONSCHEMA_VERSION" ]]; then
    say "installing check-jsonschema $CHECK_JSONSCHEMA_VERSION into $BENCH_VENV"
    python3 -m venv "$BENCH_VENV"
    "$BENCH_VENV/bin/pip" install --quiet --disable-pip-version-check "check-jsonschema==$CHECK_JSONSCHEMA_VERSION"
fi
CJS="$BENCH_VENV/bin/check-jsonschema"

# --- 3. Both must accept every file, or the comparison means nothing -------------------
say "checking that both tools accept all files"
"$NOTIFIER" check --quiet --format json "${FILES[@]}" >"$WORK/notifier.json" \
    || { say "notifier check rejected a generated file:"; head -c 2000 "$WORK/notifier.json" >&2; exit 1; }
"$CJS" --schemafile "$SCHEMA" "${FILES[@]}" >"$WORK/cjs.txt" 2>&1 \
    || { say "check-jsonschema rejected a generated file:"; head -c 2000 "$WORK/cjs.txt" >&2; exit 1; }

# --- 4. Timing ------------------------------------------------------------------------
# seconds (float) of the fastest of RUNS runs of "$@" (after one warm-up run); the
# fastest run is the least disturbed by the other jobs of a shared machine.
time_cmd() {
    "$@" >/dev/null 2>&1 || true
    local best="" start end ns
    for _ in $(seq "$RUNS"); do
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1 || true
        end=$(date +%s%N)
        ns=$((end - start))
        if [[ -z "$best" || "$ns" -lt "$best" ]]; then best=$ns; fi
    done
    python3 -c "print($best / 1e9)"
}

# The same with hyperfine, when it is installed (its minimum, for the same reason).
time_hyperfine() {
    local json="$WORK/hf.json"
    hyperfine --style none --warmup 1 --runs "$RUNS" --export-json "$json" --ignore-failure -N "$(printf '%q ' "$@")" >/dev/null 2>&1
    python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][0]['min'])" "$json"
}

per_file() {
    local tool="$1"; shift
    for f in "${SAMPLE[@]}"; do
        if [[ "$tool" == notifier ]]; then "$NOTIFIER" check --quiet "$f"; else "$CJS" --schemafile "$SCHEMA" "$f"; fi
    done
}

TIMER=time_cmd
if command -v hyperfine >/dev/null 2>&1; then TIMER=time_hyperfine; fi

say "timing: $N files in one process ($RUNS runs each, $TIMER)"
T_NOTIFIER_ALL=$($TIMER "$NOTIFIER" check --quiet "${FILES[@]}")
T_CJS_ALL=$($TIMER "$CJS" --schemafile "$SCHEMA" "${FILES[@]}")
# notifier check uses every CPU; check-jsonschema uses one. The same run pinned to one
# CPU gives the like-for-like figure.
T_NOTIFIER_1CPU=0
if command -v taskset >/dev/null 2>&1; then
    T_NOTIFIER_1CPU=$($TIMER taskset -c 0 "$NOTIFIER" check --quiet "${FILES[@]}")
fi

say "timing: one process per file over $PER_FILE files"
RUNS_SAVED=$RUNS
RUNS=$(( RUNS < 3 ? RUNS : 3 ))
T_NOTIFIER_EACH=$(time_cmd per_file notifier)
T_CJS_EACH=$(time_cmd per_file cjs)
RUNS=$RUNS_SAVED

# --- 5. Report ------------------------------------------------------------------------
python3 - "$N" "$PER_FILE" "$T_NOTIFIER_ALL" "$T_CJS_ALL" "$T_NOTIFIER_EACH" "$T_CJS_EACH" "$T_NOTIFIER_1CPU" "$(nproc)" <<'PY'
import sys
n, per = int(sys.argv[1]), int(sys.argv[2])
na, ca, ne, ce, n1 = map(float, sys.argv[3:8])
cpus = sys.argv[8]
print(f"| run | notifier check | check-jsonschema | ratio |")
print(f"|---|---:|---:|---:|")
print(f"| {n} files, one process ({cpus} CPUs) | {na*1000:.1f} ms ({na/n*1e6:.0f} µs/file) | {ca*1000:.0f} ms ({ca/n*1e3:.2f} ms/file) | **{ca/na:.0f}×** |")
if n1 > 0:
    print(f"| {n} files, one process, pinned to 1 CPU | {n1*1000:.1f} ms ({n1/n*1e6:.0f} µs/file) | {ca*1000:.0f} ms | **{ca/n1:.0f}×** |")
print(f"| one process per file ({per} files) | {ne/per*1000:.2f} ms/file | {ce/per*1000:.0f} ms/file | **{ce/ne:.0f}×** |")
PY
say ""
say "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(uname -sr)"
say "tools:   $("$NOTIFIER" --version), check-jsonschema $CHECK_JSONSCHEMA_VERSION on $("$BENCH_VENV/bin/python" --version), timer: $TIMER"
