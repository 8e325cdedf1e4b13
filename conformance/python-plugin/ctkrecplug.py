"""A notification plugin that records what it is called with, for the conformance test
of notifier's Python plugin channels (conformance/record_python_plugin.sh records it
under chaostoolkit; tests/python_plugins.rs under notifier).

Each call appends one JSON line to the file named by the channel's `record_to` key:
the channel dict exactly as received, and a summary of the event dict that keeps what a
plugin can see (keys in order, types, the error object's class, repr and str) and drops
what differs from run to run (timestamps, durations, host names).
"""

import json


def _shape(value):
    if isinstance(value, dict):
        return {"dict": list(value.keys())}
    if isinstance(value, list):
        return {"list": len(value)}
    return {type(value).__name__: value if isinstance(value, (str, int, bool)) or value is None else None}


def _summary(event):
    out = {"keys": list(event.keys())}
    for key, value in event.items():
        if key == "ts":
            out["ts"] = type(value).__name__
        elif key == "payload":
            out["payload"] = _shape(value)
            if isinstance(value, dict):
                title = value.get("title") or (value.get("experiment") or {}).get("title")
                out["payload_title"] = title
                out["payload_status"] = value.get("status")
        elif key == "error":
            out["error"] = {
                "class": type(value).__name__,
                "is_exception": isinstance(value, BaseException),
                "repr": repr(value),
                "str": str(value),
            }
        else:
            out[key] = value
    return out


def notify(channel, event):
    with open(channel["record_to"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"channel": channel, "event": _summary(event)}) + "\n")


def other(channel, event):
    notify(channel, event)


class NotAFunction:
    pass
