"""The chaostoolkit-lib side of bench/compare_ctk.sh: the same measurements as
notifier-core/benches/ctk_compare.rs, made with `chaoslib.notification.notify`.
Each mode prints one JSON object on stdout.

    python ctk_notify.py seq  URL N WARMUP PAYLOAD_FILE
    python ctk_notify.py hung URL EVENTS
"""

import json
import statistics
import sys
import time

from chaoslib.notification import RunFlowEvent, notify


def summary(samples):
    samples = sorted(samples)
    at = lambda q: samples[round((len(samples) - 1) * q)]  # noqa: E731
    return {
        "n": len(samples),
        "mean_us": statistics.fmean(samples) * 1e6,
        "median_us": at(0.5) * 1e6,
        "p99_us": at(0.99) * 1e6,
        "max_us": at(1.0) * 1e6,
    }


def sequential(url, n, warmup, payload_file):
    with open(payload_file) as f:
        payload = json.load(f)
    settings = {"notifications": [{"type": "http", "url": url}]}
    for _ in range(warmup):
        notify(settings, RunFlowEvent.RunCompleted, payload)
    samples = []
    started = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        notify(settings, RunFlowEvent.RunCompleted, payload)
        samples.append(time.perf_counter() - t)
    total = time.perf_counter() - started
    out = summary(samples)
    out["per_notification_us"] = total * 1e6 / n
    return out


def hung(url, events):
    settings = {"notifications": [{"type": "http", "url": url}]}
    started = time.perf_counter()
    for i in range(events):
        notify(settings, RunFlowEvent.RunStarted, {"i": i})
    return {"mode": "reference", "events": events, "flow_s": time.perf_counter() - started}


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "seq":
        result = sequential(args[0], int(args[1]), int(args[2]), args[3])
    elif mode == "hung":
        result = hung(args[0], int(args[1]))
    else:
        sys.exit(f"unknown mode {mode}")
    print(json.dumps(result))
