#!/usr/bin/env bash
# Delivery, side by side with the reference (issue 6): notifier vs chaostoolkit-lib 1.45.1,
# in one run, against ONE loopback sink in a separate process (a minimal keep-alive
# HTTP/1.1 server, notifier-core/benches/support/loopback.rs).
#
#   (a) per-notification cost, sequential mode: ours vs `chaoslib.notification.notify` in a
#       Python loop (N after WARMUP, ROUNDS interleaved rounds, median of the rounds);
#   (b) time the flow is blocked per event in background mode (ours);
#   (c) flow time with one hung endpoint over HUNG_EVENTS events: ours sequential with the
#       default 5 s timeout, sequential with `timeout: 1`, background; reference. The four
#       runs wait on the sink concurrently (they only wait, so they do not slow each other).
#
# Usage: bench/compare_ctk.sh
# Environment: N=1000 WARMUP=20 ROUNDS=3 HUNG_EVENTS=10 REF_HUNG_EVENTS=10 (fewer to
# extrapolate the reference; said so in the output), PYTHON (3.12; chaostoolkit needs it).
# Results: printed, and written to $CARGO_TARGET_DIR/bench-ctk/results.md.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
N=${N:-1000}
WARMUP=${WARMUP:-20}
ROUNDS=${ROUNDS:-3}
HUNG_EVENTS=${HUNG_EVENTS:-10}
REF_HUNG_EVENTS=${REF_HUNG_EVENTS:-$HUNG_EVENTS}
PYTHON=${PYTHON:-/root/.pyenv/versions/3.12.1/bin/python3}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
VENV=$ROOT/target/bench-ctk-venv
WORK=$TARGET/bench-ctk
mkdir -p "$WORK"

# --- the reference, in a venv ------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("chaostoolkit-lib") != "1.45.1")' 2>/dev/null; then
    "$VENV/bin/pip" install --quiet --disable-pip-version-check 'chaostoolkit-lib==1.45.1'
fi
REF_VERSIONS=$("$VENV/bin/python" - <<'PY'
import importlib.metadata as m, platform
v = m.version
print(f"chaostoolkit-lib {v('chaostoolkit-lib')}, requests {v('requests')}, urllib3 {v('urllib3')}, Python {platform.python_version()}")
PY
)

# --- ours, in release ---------------------------------------------------------------------
EXE=$(cargo bench -p notifier-core --bench ctk_compare --no-run --message-format=json 2>/dev/null |
    "$PYTHON" -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "ctk_compare" and m.get("executable"):
        print(m["executable"])')
[ -x "$EXE" ] || { echo "could not build the ctk_compare bench" >&2; exit 1; }

# --- one sink, in its own process ---------------------------------------------------------
"$EXE" sink --max-seconds 1800 >"$WORK/sink.out" &
SINK_PID=$!
trap 'kill $SINK_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    [ -s "$WORK/sink.out" ] && break
    sleep 0.05
done
PORT=$(head -n1 "$WORK/sink.out")
BASE=http://127.0.0.1:$PORT
stats() { "$PYTHON" -c "import urllib.request; print(urllib.request.urlopen('$BASE/stats').read().decode())"; }

# A journal-like payload of about 2.4 KB, as in the reference measurements.
"$PYTHON" - "$WORK/payload.json" <<'PY'
import json, sys
activity = lambda i: {"activity": {"type": "probe", "name": f"probe-{i}", "provider": {"type": "process", "path": "true", "arguments": ["-c", "exit 0"]}}, "output": {"status": 0, "stdout": "ok\n", "stderr": ""}, "start": "2024-01-02T03:04:05.000001", "end": "2024-01-02T03:04:05.010001", "duration": 0.01, "status": "succeeded"}
journal = {"chaoslib-version": "1.45.1", "platform": "Linux-6.1-x86_64", "node": "bench", "experiment": {"title": "bench", "description": "a journal-sized payload", "tags": ["bench"]}, "start": "2024-01-02T03:04:05", "end": "2024-01-02T03:04:06", "duration": 1.0, "status": "completed", "deviated": False, "steady_states": {"before": {"steady_state_met": True, "probes": []}, "after": None}, "run": [activity(i) for i in range(7)], "rollbacks": []}
with open(sys.argv[1], "w") as f:
    json.dump(journal, f)
PY
PAYLOAD_BYTES=$(wc -c <"$WORK/payload.json")

echo "sink on $BASE; payload $PAYLOAD_BYTES bytes; N=$N after $WARMUP warm-up, $ROUNDS rounds" >&2

# --- (a) sequential per-notification cost, interleaved rounds -----------------------------
for r in $(seq "$ROUNDS"); do
    echo "(a) round $r/$ROUNDS" >&2
    before=$(stats)
    "$EXE" seq "$BASE/ours" "$N" "$WARMUP" "$WORK/payload.json" >"$WORK/seq-ours-$r.json"
    echo "{\"before\": $before, \"after\": $(stats)}" >"$WORK/seq-ours-$r.stats.json"
    before=$(stats)
    "$VENV/bin/python" bench/ctk_notify.py seq "$BASE/ref" "$N" "$WARMUP" "$WORK/payload.json" >"$WORK/seq-ref-$r.json"
    echo "{\"before\": $before, \"after\": $(stats)}" >"$WORK/seq-ref-$r.stats.json"
done

# --- (b) background: time notify blocks the flow ------------------------------------------
echo "(b) background enqueue" >&2
"$EXE" bg "$BASE/ours-bg" "$N" "$WARMUP" "$WORK/payload.json" >"$WORK/bg.json"

# --- (c) one hung endpoint ----------------------------------------------------------------
echo "(c) hung endpoint, $HUNG_EVENTS events (about $((REF_HUNG_EVENTS * 5)) s)" >&2
"$EXE" hung "$BASE/hang-seq5" "$HUNG_EVENTS" seq >"$WORK/hung-seq5.json" &
P1=$!
"$EXE" hung "$BASE/hang-seq1" "$HUNG_EVENTS" seq 1 >"$WORK/hung-seq1.json" &
P2=$!
"$EXE" hung "$BASE/hang-bg" "$HUNG_EVENTS" bg >"$WORK/hung-bg.json" &
P3=$!
"$VENV/bin/python" bench/ctk_notify.py hung "$BASE/hang-ref" "$REF_HUNG_EVENTS" >"$WORK/hung-ref.json" &
P4=$!
wait $P1 $P2 $P3 $P4

# --- report -------------------------------------------------------------------------------
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
"$PYTHON" - "$WORK" "$N" "$WARMUP" "$ROUNDS" "$HUNG_EVENTS" "$REF_HUNG_EVENTS" "$PAYLOAD_BYTES" "$(nproc)" "$CPU" "$REF_VERSIONS" <<'PY' | tee "$WORK/results.md"
import json, statistics, sys, datetime
work, n, warmup, rounds, hung_events, ref_hung_events, payload_bytes, nproc, cpu, ref_versions = sys.argv[1:]
n, warmup, rounds, hung_events, ref_hung_events = int(n), int(warmup), int(rounds), int(hung_events), int(ref_hung_events)
load = lambda name: json.load(open(f"{work}/{name}.json"))

def conns(side, r):
    s = load(f"seq-{side}-{r}.stats")
    return s["after"]["requests"] - s["before"]["requests"], s["after"]["connections"] - s["before"]["connections"]

ours = [load(f"seq-ours-{r}")["per_notification_us"] for r in range(1, rounds + 1)]
ref = [load(f"seq-ref-{r}")["per_notification_us"] for r in range(1, rounds + 1)]
ours_med, ref_med = statistics.median(ours), statistics.median(ref)
req_o, con_o = conns("ours", 1)
req_r, con_r = conns("ref", 1)
bg = load("bg")
h5, h1, hbg, href = load("hung-seq5"), load("hung-seq1"), load("hung-bg"), load("hung-ref")
ref_flow = href["flow_s"] * hung_events / href["events"]
extrapolated = " (extrapolated from %d events)" % href["events"] if href["events"] != hung_events else ""

print(f"Date: {datetime.date.today().isoformat()}. Machine: {nproc} CPUs, {cpu}. Reference: {ref_versions}.")
print(f"Sink: one loopback keep-alive HTTP/1.1 server in its own process. Payload: a {payload_bytes}-byte journal-like JSON object.")
print()
print("| measurement | notifier | chaostoolkit-lib | ratio |")
print("|---|---|---|---|")
print(f"| (a) per notification, sequential, N={n} after {warmup} warm-up (median of {rounds} rounds) | {ours_med:.1f} µs | {ref_med:.1f} µs | **{ref_med / ours_med:.1f}× faster** |")
print(f"| (a) connections opened for the first round's {n + warmup} requests | {con_o} | {con_r} | |")
print(f"| (b) time `notify` blocks the flow, background mode (median / p99 / max of {bg['n']}) | {bg['median_us']:.2f} / {bg['p99_us']:.1f} / {bg['max_us']:.0f} µs | {ref_med:.1f} µs (sequential only) | **{ref_med / bg['median_us']:.0f}× less** (median) |")
print(f"| (c) flow time, 1 hung endpoint, {hung_events} events, sequential, default 5 s timeout | {h5['flow_s']:.2f} s | {ref_flow:.2f} s{extrapolated} | {ref_flow / h5['flow_s']:.2f}× |")
print(f"| (c) same, sequential, `timeout: 1` | {h1['flow_s']:.2f} s | | {ref_flow / h1['flow_s']:.1f}× less |")
print(f"| (c) same, background: time the flow was blocked | {hbg['flow_s'] * 1e6:.0f} µs for {hbg['events']} events | | not blocked |")
print(f"| (c) background: the exit flush, capped at 5 s | {hbg['exit_wait_s']:.2f} s ({hbg['failed_at_exit']} reported undelivered) | | |")
print()
print(f"Rounds (a), µs per notification: ours {', '.join(f'{x:.1f}' for x in ours)}; reference {', '.join(f'{x:.1f}' for x in ref)}.")
print(f"(b) all {bg['delivered']} background notifications delivered {bg['all_delivered_after_ms']:.0f} ms after the first was queued.")
PY
