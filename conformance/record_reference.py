"""Record golden notification requests from the reference, chaostoolkit-lib.

Run through record_reference.sh, which prepares a venv with chaostoolkit-lib 1.45.1.

For every case of cases.json this calls chaoslib.notification.notify() with a settings
mapping holding two http channels that point at a loopback sink started here:

* /post: the default channel, which POSTs the envelope as JSON;
* /get:  forward_event_payload false, which sends a GET without a body.

The sink keeps every request as it arrived: method, path, headers in arrival order and
the raw body bytes. One golden file per case is written to the output directory:

    {"event": ..., "post": {"method", "path", "headers": [[k, v], ...], "body": ...},
     "get": {...}}

"body" is the exact body text (the reference escapes non-ASCII, so it is ASCII), or null
when the request had no body at all. The only value rewritten is the port in the Host
header, stored as 127.0.0.1:PORT so that re-recording does not churn every file.

Case errors: absent means notify() gets no error; {"exception": {"kind", "message"}}
becomes an instance of an Exception subclass created on the fly with that class name;
anything else is passed to notify() as the decoded JSON value.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import logging
import pathlib
import platform
import sys
import threading

from chaoslib.notification import (
    DiscoverFlowEvent,
    InitFlowEvent,
    RunFlowEvent,
    ValidateFlowEvent,
    notify,
)

from sink import Sink

PORT_PLACEHOLDER = "PORT"


def flow_events() -> dict[str, object]:
    members = {}
    for cls in (DiscoverFlowEvent, InitFlowEvent, RunFlowEvent, ValidateFlowEvent):
        for member in cls:
            members[member.value] = member
    return members


def make_error(spec: object) -> object:
    if isinstance(spec, dict) and set(spec) == {"exception"}:
        kind = spec["exception"]["kind"]
        message = spec["exception"]["message"]
        exc_type = type(kind, (Exception,), {})
        return exc_type(message)
    return spec


def normalise_host(request: dict, port: int) -> dict:
    for header in request["headers"]:
        if header[0].lower() == "host":
            header[1] = header[1].replace(f":{port}", f":{PORT_PLACEHOLDER}")
    return request


def render_golden(golden: dict) -> str:
    """JSON with one header pair per line, so diffs between recordings stay readable."""

    def request(r: dict) -> str:
        headers = ",\n".join(f"      {json.dumps(pair)}" for pair in r["headers"])
        return (
            "{\n"
            f'    "method": {json.dumps(r["method"])},\n'
            f'    "path": {json.dumps(r["path"])},\n'
            f'    "headers": [\n{headers}\n    ],\n'
            f'    "body": {json.dumps(r["body"])}\n'
            "  }"
        )

    text = (
        "{\n"
        f'  "event": {json.dumps(golden["event"])},\n'
        f'  "post": {request(golden["post"])},\n'
        f'  "get": {request(golden["get"])}\n'
        "}\n"
    )
    if json.loads(text) != golden:
        raise AssertionError("render_golden() lost information")
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=pathlib.Path, required=True)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args()

    # Failures inside notify() are only logged at DEBUG; surface them.
    logging.basicConfig(level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
    logging.getLogger("chaostoolkit").setLevel(logging.DEBUG)

    cases = json.loads(args.cases.read_text(encoding="utf-8"))
    events = flow_events()

    sink = Sink()
    port = sink.server_address[1]
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    settings = {
        "notifications": [
            {"type": "http", "url": f"{base}/post"},
            {"type": "http", "url": f"{base}/get", "forward_event_payload": False},
        ]
    }

    args.out.mkdir(parents=True, exist_ok=True)
    written = set()
    failures = []
    for case in cases:
        case_id = case["id"]
        error = make_error(case["error"]) if "error" in case else None
        notify(settings, events[case["event"]], case.get("payload"), error)
        got = sink.take()
        methods = [r["method"] for r in got]
        if methods != ["POST", "GET"]:
            failures.append(f"{case_id}: expected POST then GET, the sink got {methods}")
            continue
        post, get = (normalise_host(r, port) for r in got)
        golden = {"event": case["event"], "post": post, "get": get}
        name = f"{case_id}.json"
        (args.out / name).write_text(render_golden(golden), encoding="utf-8")
        written.add(name)

    sink.shutdown()
    sink.server_close()

    meta = {
        "python": platform.python_version(),
        "chaostoolkit-lib": importlib.metadata.version("chaostoolkit-lib"),
        "requests": importlib.metadata.version("requests"),
        "urllib3": importlib.metadata.version("urllib3"),
        "cases": len(cases),
    }
    (args.out / "_meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    written.add("_meta.json")

    for stale in sorted(p for p in args.out.glob("*.json") if p.name not in written):
        if not failures:
            stale.unlink()
            print(f"removed stale {stale}", file=sys.stderr)

    if failures:
        print("\n".join(failures), file=sys.stderr)
        return 1
    print(f"recorded {len(written) - 1} cases into {args.out} ({meta})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
