"""Record golden Slack messages from the reference, chaostoolkit-slack 0.10.0.

Run through record_slack.sh, which prepares a venv with chaostoolkit-slack 0.10.0 and
chaostoolkit-lib 1.45.1 under CPython 3.12.

For every case of slack_cases.json this calls chaosslack.notification.notify(channel_entry,
envelope) exactly as chaostoolkit-lib's plugin channel does: the whole channel entry and the
raw envelope dict {"name", "payload", "phase", "ts"[, "error"]}, where "error" is an
exception instance. The plugin builds slackclient's WebClient itself, without a base_url, so
this script swaps the module's WebClient name for a small wrapper that passes
base_url=http://127.0.0.1:<port>/slack/ and nothing else: the message, the headers and the
JSON encoding are slackclient's own.

One golden file per case goes to the output directory:

    {"id", "event",
     "request": {"method", "path", "headers": [[k, v], ...], "body": "<exact text>"} or null,
     "logs": ["<debug lines of the plugin's logger>", ...],
     "raised": "<ExceptionType: message>" or null}

"request" is null when the plugin sent nothing (missing token or channel, or it raised).
Two values are rewritten so that re-recording on another machine does not churn: the port
in the Host header (127.0.0.1:PORT) and the operating system part of the User-Agent.

Three more files describe Python itself, for the Rust side's Python-repr renderer:

* _repr.json: str() and repr() as CPython prints them, for each value of REPR_SAMPLES
  below;
* _python_text.json: the Unicode version, the code point ranges that str.isprintable()
  rejects, and the code points that str.isspace() accepts;
* _meta.json: the versions used.

With --rust-table FILE the script also writes the non-printable ranges as Rust source
(notifier-core/src/pyvalue/nonprintable.rs).
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
import unicodedata
import warnings

import chaosslack.notification as slack_notification
from slack import WebClient

from sink import Sink

PORT_PLACEHOLDER = "PORT"

# Values whose str() and repr() the Rust renderer must reproduce (JSON-compatible only).
REPR_SAMPLES = [
    None,
    True,
    False,
    0,
    -7,
    18446744073709551615,
    -9223372036854775808,
    0.0,
    -0.0,
    1.0,
    2.5,
    0.1,
    1e-05,
    0.0001,
    1e16,
    1e15,
    -3.25e-10,
    1795561658.327614,
    1.7976931348623157e308,
    5e-324,
    "",
    "plain",
    "it's",
    'say "hi"',
    "it's \"both\"",
    "back\\slash",
    "tab\tnl\ncr\r",
    "\x00\x01\x1b\x1f\x7f",
    "\x80\x85\x9f\xa0\xad\xff",
    "caf\u00e9 \u2615 \u00e0 \u0100",
    "\u200b\u200d\u2028\u2029\u202f\u3000\ufeff\ufffd\uffff",
    "\u0378\u0590\ue000\U000f0000",
    "\U0001F600\U0001F680\U000E0001\U000E007F\U0010FFFF",
    "\U0001FAE8",
    "mixed 'single' and \"double\" and \\ and \n",
    [],
    {},
    [1, "a", None, True, 2.5],
    {"status": 1, "stdout": "", "stderr": ""},
    {"nested": {"list": [{"k": "v"}, []], "empty": {}}, "q": "it's"},
    {"it's": "key with quote", "": "empty key"},
    [[], [[]], {"a": [{}]}],
]


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("slack", "urllib")):
            return
        self.lines.append(record.getMessage())

    def take(self) -> list[str]:
        taken, self.lines = self.lines, []
        return taken


def make_error(spec: object) -> object:
    if isinstance(spec, dict) and set(spec) == {"exception"}:
        exc_type = type(spec["exception"]["kind"], (Exception,), {})
        return exc_type(spec["exception"]["message"])
    return spec


def envelope(case: dict) -> dict:
    event = case["event"]
    env = {"name": event, "payload": case["payload"], "phase": event.split("-")[0], "ts": case["ts"]}
    error = make_error(case["error"]) if "error" in case else None
    if error:
        env["error"] = error
    return env


def normalise(request: dict, port: int) -> dict:
    system = f"{platform.system()}/{platform.release()}"
    for header in request["headers"]:
        if header[0].lower() == "host":
            header[1] = header[1].replace(f":{port}", f":{PORT_PLACEHOLDER}")
        if header[0].lower() == "user-agent":
            header[1] = header[1].replace(system, "<system>/<release>")
    return request


def render_golden(golden: dict) -> str:
    """JSON with one header pair per line and the body as one string, so diffs stay readable."""
    request = golden["request"]
    if request is None:
        req_text = "null"
    else:
        headers = ",\n".join(f"      {json.dumps(pair)}" for pair in request["headers"])
        req_text = (
            "{\n"
            f'    "method": {json.dumps(request["method"])},\n'
            f'    "path": {json.dumps(request["path"])},\n'
            f'    "headers": [\n{headers}\n    ],\n'
            f'    "body": {json.dumps(request["body"])}\n'
            "  }"
        )
    text = (
        "{\n"
        f'  "id": {json.dumps(golden["id"])},\n'
        f'  "event": {json.dumps(golden["event"])},\n'
        f'  "request": {req_text},\n'
        f'  "logs": {json.dumps(golden["logs"])},\n'
        f'  "raised": {json.dumps(golden["raised"])}\n'
        "}\n"
    )
    if json.loads(text) != golden:
        raise AssertionError("render_golden() lost information")
    return text


def non_printable_ranges() -> list[list[int]]:
    ranges: list[list[int]] = []
    start = None
    for cp in range(sys.maxunicode + 1):
        printable = chr(cp).isprintable()
        if not printable and start is None:
            start = cp
        elif printable and start is not None:
            ranges.append([start, cp - 1])
            start = None
    if start is not None:
        ranges.append([start, sys.maxunicode])
    return ranges


def rust_table(ranges: list[list[int]]) -> str:
    lines = [
        "//! Code points that CPython's `str.isprintable()` rejects, as inclusive ranges.",
        "//!",
        f"//! Generated by `conformance/record_slack.py --rust-table` from CPython {platform.python_version()}",
        f"//! (Unicode {unicodedata.unidata_version}). Do not edit by hand.",
        "",
        "/// Sorted, disjoint, inclusive `(first, last)` ranges of non-printable code points.",
        "pub(super) static NON_PRINTABLE: &[(u32, u32)] = &[",
    ]
    for first, last in ranges:
        lines.append(f"    (0x{first:04X}, 0x{last:04X}),")
    lines.append("];")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=pathlib.Path, required=True)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--rust-table", type=pathlib.Path)
    args = parser.parse_args()

    warnings.simplefilter("ignore", DeprecationWarning)
    captured = Captured()
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    root.addHandler(captured)
    # logzero's default logger does not propagate to the root logger; keep its lines off
    # the terminal and in the golden files instead.
    for name in ("logzero_default", "chaostoolkit"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.addHandler(captured)
        logger.setLevel(logging.DEBUG)

    sink = Sink(
        reply=b'{"ok": true, "channel": "C0000000000", "ts": "1795561658.000100"}',
        content_type="application/json; charset=utf-8",
    )
    port = sink.server_address[1]
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{port}/slack/"

    def client(token: str) -> WebClient:
        return WebClient(token=token, base_url=base_url)

    slack_notification.WebClient = client

    cases = json.loads(args.cases.read_text(encoding="utf-8"))
    args.out.mkdir(parents=True, exist_ok=True)
    written = set()
    problems = []
    for case in cases:
        raised = None
        try:
            slack_notification.notify(case["channel_entry"], envelope(case))
        except Exception as err:  # noqa: BLE001 - recorded, like notify_via_plugin logs it
            raised = f"{type(err).__name__}: {err}"
        got = sink.take()
        if len(got) > 1:
            problems.append(f"{case['id']}: {len(got)} requests")
            continue
        request = normalise(got[0], port) if got else None
        golden = {"id": case["id"], "event": case["event"], "request": request, "logs": captured.take(), "raised": raised}
        name = f"{case['id']}.json"
        (args.out / name).write_text(render_golden(golden), encoding="utf-8")
        written.add(name)

    sink.shutdown()
    sink.server_close()

    samples = [{"value": v, "str": str(v), "repr": repr(v)} for v in REPR_SAMPLES]
    (args.out / "_repr.json").write_text(json.dumps(samples, indent=1) + "\n", encoding="utf-8")
    ranges = non_printable_ranges()
    text = {
        "unicode": unicodedata.unidata_version,
        "non_printable": ranges,
        "whitespace": [cp for cp in range(sys.maxunicode + 1) if chr(cp).isspace()],
    }
    (args.out / "_python_text.json").write_text(json.dumps(text) + "\n", encoding="utf-8")
    meta = {
        "python": platform.python_version(),
        "chaostoolkit-slack": importlib.metadata.version("chaostoolkit-slack"),
        "chaostoolkit-lib": importlib.metadata.version("chaostoolkit-lib"),
        "slackclient": importlib.metadata.version("slackclient"),
        "cases": len(cases),
    }
    (args.out / "_meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    written |= {"_repr.json", "_python_text.json", "_meta.json"}
    if args.rust_table:
        args.rust_table.write_text(rust_table(ranges), encoding="utf-8")

    for stale in sorted(p for p in args.out.glob("*.json") if p.name not in written):
        if not problems:
            stale.unlink()
    for problem in problems:
        print(f"record_slack.py: {problem}", file=sys.stderr)
    print(f"recorded {len(written) - 3} cases into {args.out}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
