"""Records what chaostoolkit-lib 1.45.1 does with the Python-bridge cases.

    python record_python_bridge.py conformance/python-bridge

Reads `cases.json` and the modules under `modules/`, runs every case through the reference
(`chaoslib.provider.python.validate_python_activity` / `run_python_activity`,
`chaoslib.notification.notify_via_plugin`) and writes `recorded.json`. The shapes are
described in conformance/python-bridge/README.md; python/tests/conformance.rs compares the
bridge's results with them.
"""
import importlib
import importlib.metadata
import json
import logging
import os
import platform
import re
import sys
import traceback

import chaostoolkit
from chaoslib.exceptions import ActivityFailed, InterruptExecution, InvalidActivity
from chaoslib.notification import notify_via_plugin
from chaoslib.provider.python import run_python_activity, validate_python_activity

HERE = os.path.abspath(sys.argv[1])
MODULES = os.path.join(HERE, "modules")
sys.path.insert(0, MODULES)
ADDRESS = re.compile(r"0x[0-9a-f]+")


def normalise(lines):
    """Traceback lines without chaoslib's own frames, with the modules directory as <MODULES>."""
    out = []
    for line in lines:
        if line.startswith("  File ") and "/chaoslib/" in line:
            continue
        out.append(line.replace(MODULES, "<MODULES>"))
    return out


def summary(e):
    return traceback.format_exception_only(type(e), e)[0].strip()


def qualified(cls):
    name = cls.__qualname__
    if cls.__module__ not in ("builtins", "__main__"):
        name = cls.__module__ + "." + name
    return name


def record_validate(case):
    try:
        validate_python_activity(case["activity"])
    except InvalidActivity as e:
        return {"invalid": str(e)}
    except Exception as e:
        return {"crash": {"type": qualified(type(e)), "summary": summary(e)}}
    return {"valid": True}


def record_run(case):
    try:
        value = run_python_activity(case["activity"], case["configuration"], case["secrets"])
    except ActivityFailed as x:
        # What chaoslib/activity.py:execute_activity stores in the journal.
        return {"failed": {"message": str(x), "exception": normalise(traceback.format_exception(type(x), x, None))}}
    except InterruptExecution as e:
        return {"interrupted": str(e)}
    except Exception as e:
        return {"escaped": {"type": qualified(type(e)), "summary": summary(e)}}
    # How chaostoolkit writes the journal (chaostoolkit/commands/run.py:_execute_run).
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, default=chaostoolkit.encoder)
    except Exception as e:
        return {"journal_crash": summary(e), "repr": ADDRESS.sub("0x…", repr(value))}
    return {"output_json": text}


class Messages(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def error_value(error):
    if isinstance(error, dict) and "exception" in error:
        kind, message = error["exception"]["kind"], error["exception"]["message"]
        import chaoslib.exceptions

        cls = getattr(chaoslib.exceptions, kind, None) or type(kind, (Exception,), {})
        return cls(message)
    return error


def record_notify(case):
    logger = logging.getLogger("chaostoolkit")
    handler = Messages()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        # Built as chaoslib/notification.py:notify builds it, in its key order.
        given = case["event"]
        event = {"name": given["name"], "payload": given["payload"], "phase": given["phase"], "ts": given["ts"]}
        error = error_value(case.get("error"))
        if error:
            event["error"] = error
        notify_via_plugin(case["channel"], event)
    finally:
        logger.removeHandler(handler)
    plug = importlib.import_module("ctkplug")
    return {"logs": handler.messages, "received": plug.take()}


RECORDERS = {"validate": record_validate, "run": record_run, "notify": record_notify}


def main():
    with open(os.path.join(HERE, "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)
    results = {}
    for case in cases:
        results[case["id"]] = RECORDERS[case["kind"]](case)
    meta = {
        "python": platform.python_version(),
        "chaostoolkit-lib": importlib.metadata.version("chaostoolkit-lib"),
        "chaostoolkit": importlib.metadata.version("chaostoolkit"),
    }
    out = os.path.join(HERE, "recorded.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"_meta": meta, "cases": results}, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print("recorded %d cases into %s (%s)" % (len(results), out, meta))


if __name__ == "__main__":
    main()
