#!/usr/bin/env bash
# The Python bridge side by side with chaostoolkit-lib, in one run (docs/PERFORMANCE.md):
#
#   (a) per call: chaostoolkit-lib 1.45.1's `run_python_activity` calling
#       `def trivial(x): return x` in-process (timeit, in the venv) against notifier-python's
#       `Bridge::run_provider` of the same function on a warm helper (divan,
#       python/benches/bridge.rs), foreground and background;
#   (b) helper start: the first call on a fresh `Bridge` (spawn, interpreter start-up, the
#       helper, one ping), against starting the same interpreter with `-c pass`.
#
# Both sides use the same interpreter: the venv's python (CPython 3.12 from pyenv, a real
# binary, not the pyenv shim, whose bash wrapper alone costs ~0.4 s).
#
# Usage: bench/python_bridge.sh
# Environment: ROUNDS=3 (in-process timings before, between and after the bridge's),
#              PYTHON (a 3.12+ to create the venv with; see conformance/venv.sh).
# Results: printed, and written to $CARGO_TARGET_DIR/bench-python-bridge/results.md.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
ROUNDS=${ROUNDS:-3}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=$TARGET/bench-python-bridge
mkdir -p "$WORK/modules"
source conformance/venv.sh
VENV=$ROOT/target/bridge-venv
ensure_venv "$VENV" chaostoolkit==1.21.4 chaostoolkit-lib==1.45.1
VPY=$VENV/bin/python
printf 'def trivial(x):\n    return x\n' >"$WORK/modules/benchmod.py"

in_process() {
    PYTHONPATH="$WORK/modules" "$VPY" - <<'PY'
import statistics, timeit
from chaoslib.provider.python import run_python_activity
import benchmod

activity = {"name": "trivial", "type": "probe",
            "provider": {"type": "python", "module": "benchmod", "func": "trivial", "arguments": {"x": 1}}}
assert run_python_activity(activity, {}, {}) == 1

def per_call(stmt, number):
    runs = timeit.repeat(stmt, number=number, repeat=200)
    return statistics.median(runs) / number * 1e6, min(runs) / number * 1e6

lib_median, lib_min = per_call(lambda: run_python_activity(activity, {}, {}), 50)
bare_median, bare_min = per_call(lambda: benchmod.trivial(x=1), 2000)
print(f"{lib_median:.2f} {lib_min:.2f} {bare_median:.3f} {bare_min:.3f}")
PY
}

interpreter_start() {
    "$VPY" - "$VPY" <<'PY'
import statistics, subprocess, sys, time
times = []
for _ in range(20):
    t = time.perf_counter()
    subprocess.run([sys.argv[1], "-c", "pass"], check=True)
    times.append((time.perf_counter() - t) * 1e3)
print(f"{statistics.median(times):.1f} {min(times):.1f}")
PY
}

echo "building the bridge benchmark (release)…" >&2
cargo bench -p notifier-python --bench bridge --no-run --quiet 2>/dev/null || cargo bench -p notifier-python --bench bridge --no-run

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$WORK/in_process.txt"
: >"$WORK/divan.txt"
for round in $(seq "$ROUNDS"); do
    in_process >>"$WORK/in_process.txt"
    if [ "$round" -lt "$ROUNDS" ] || [ "$ROUNDS" -eq 1 ]; then
        NOTIFIER_BENCH_PYTHON=$VPY cargo bench -p notifier-python --bench bridge --quiet 2>/dev/null |
            tee -a "$WORK/divan.txt" >&2
    fi
done
START=$(interpreter_start)
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

"$VPY" - "$WORK" "$LOAD_BEFORE" "$LOAD_AFTER" "$START" <<'PY'
import platform, re, statistics, subprocess, sys, os
work, load_before, load_after, start = sys.argv[1:5]
unit = {"ns": 1e-3, "µs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6}

def micros(text):
    number, u = text.split()
    return float(number) * unit[u]

bench = {}
for line in open(os.path.join(work, "divan.txt"), encoding="utf-8"):
    m = re.match(r"^\W*(\w+)\s+([\d.]+ \S+)\s+│\s+([\d.]+ \S+)\s+│\s+([\d.]+ \S+)\s+│", line)
    if m:
        name, fastest, _slowest, median = m.groups()
        bench.setdefault(name, []).append((micros(fastest), micros(median)))
rows = [list(map(float, l.split())) for l in open(os.path.join(work, "in_process.txt"))]
lib = statistics.median(r[0] for r in rows)
lib_min = min(r[1] for r in rows)
bare = statistics.median(r[2] for r in rows)
start_median, start_min = map(float, start.split())

def med(name, i=1):
    return statistics.median(v[i] for v in bench[name])

call = med("call_trivial")
call_bg = med("call_trivial_background")
ping = med("ping")
startup = med("start") / 1e3
out = []
out.append(f"Python {platform.python_version()} ({sys.executable}); load average {load_before} before, {load_after} after")
out.append(f"{len(rows)} in-process rounds, {len(bench['call_trivial'])} bridge rounds; medians (fastest)")
out.append("")
out.append("| per call | time | over in-process chaoslib | ratio |")
out.append("|---|---:|---:|---:|")
out.append(f"| the function itself, `trivial(x=1)` | {bare:.2f} µs | | |")
out.append(f"| chaostoolkit-lib `run_python_activity`, in-process | {lib:.1f} µs ({lib_min:.1f}) | | 1.0× |")
out.append(f"| bridge `run_provider`, foreground | {call:.1f} µs ({med('call_trivial', 0):.1f}) | +{call - lib:.1f} µs | {call / lib:.1f}× |")
out.append(f"| bridge `run_provider`, background | {call_bg:.1f} µs ({med('call_trivial_background', 0):.1f}) | +{call_bg - lib:.1f} µs | {call_bg / lib:.1f}× |")
out.append(f"| bridge `ping` (no user code) | {ping:.1f} µs ({med('ping', 0):.1f}) | | |")
out.append("")
out.append("| start | time |")
out.append("|---|---:|")
out.append(f"| `python -c pass` (same interpreter) | {start_median:.1f} ms ({start_min:.1f}) |")
out.append(f"| first call on a fresh `Bridge` (spawn + helper + ping) | {startup:.1f} ms ({med('start', 0) / 1e3:.1f}) |")
out.append("")
out.append(f"goals: start <= 150 ms: {'met' if startup <= 150 else 'MISSED'}; "
           f"per call <= 100 µs over in-process: {'met' if call - lib <= 100 else 'MISSED'} (+{call - lib:.1f} µs)")
text = "\n".join(out)
print(text)
open(os.path.join(work, "results.md"), "w", encoding="utf-8").write(text + "\n")
PY
