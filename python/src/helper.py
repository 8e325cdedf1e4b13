# The Python side of notifier-python. The Rust crate embeds this file (include_str!) and runs it
# with `python -u -c <this text>` in the user's own interpreter: nothing is installed.
#
# Protocol: frames of a 4-byte big-endian length followed by that many bytes of UTF-8 JSON.
# Requests arrive on the helper's private copy of fd 0; responses leave on the fd named by
# $NOTIFIER_BRIDGE_FD (3), never on stdout, so whatever user code prints reaches the real
# stdout/stderr exactly as under `chaos`. Every request is {"id", "op", "bg", ...}; every
# response is {"id", "status", ...}. The first frame (id 0) is a hello.
#
# Semantics are chaostoolkit-lib 1.45.1's (chaoslib/provider/python.py, chaoslib/notification.py,
# chaoslib/control/python.py); see /work/shared/reference/chaoslib-python-runtime.md.
#
# Must run on Python 3.8+ and must *parse* on 3.6/3.7 (no walrus, no positional-only
# parameters), so that the version check below can say what is wrong.
import sys

if sys.version_info < (3, 8):
    sys.stderr.write(
        "notifier: the Python bridge needs Python 3.8 or newer; %s is %s\n"
        % (sys.executable, sys.version.split()[0])
    )
    sys.stderr.flush()
    sys.exit(71)

import importlib
import inspect
import json
import math
import os
import queue
import re
import signal
import struct
import threading
import traceback

_G = globals()
_MAX_DEPTH = 126
_TOO_DEEP = "[omitted: nested deeper than 126 levels]"
_EXC_TEXT = re.compile(r"An exception was raised: ([A-Za-z_][A-Za-z0-9_]*)\('(.*)'\)\Z", re.S)

_proto_in = -1
_proto_out = -1
_max_frame = 64 << 20
_send_lock = threading.Lock()
_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
# Background calls: each runs on its own thread; finished threads wait for the next one.
_bg_jobs = queue.SimpleQueue()
_bg_lock = threading.Lock()
_bg_idle = 0
# True while the main thread runs a foreground call: only then does SIGINT raise.
_in_call = False
_exc_classes = {}


# --- frames ---------------------------------------------------------------------------------


def _read_exact(fd, n):
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _dumps(obj):
    text = _encoder.encode(obj)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (from surrogateescape, say) cannot be UTF-8: U+FFFD instead.
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace").encode("utf-8")


def _send(obj):
    try:
        body = _dumps(obj)
    except Exception as e:  # a helper bug: report it rather than die
        body = _dumps({"id": obj.get("id", 0), "status": "internal", "message": _describe(e)})
    if len(body) > _max_frame:
        body = _dumps({"id": obj.get("id", 0), "status": "too_large", "size": len(body), "limit": _max_frame})
    data = memoryview(struct.pack(">I", len(body)) + body)
    with _send_lock:
        try:
            while data:
                data = data[os.write(_proto_out, data):]
        except OSError:
            # The notifier is gone: nobody will read another answer.
            os._exit(0)


def _reader(requests):
    try:
        while True:
            head = _read_exact(_proto_in, 4)
            if head is None:
                break
            (size,) = struct.unpack(">I", head)
            if size > _max_frame:
                sys.stderr.write("notifier: Python bridge: request frame of %d bytes refused\n" % size)
                os._exit(72)
            body = _read_exact(_proto_in, size)
            if body is None:
                break
            req = json.loads(body.decode("utf-8"))
            # Background calls go straight to a thread of their own; foreground ones to the
            # main thread.
            if req.get("bg"):
                _start_background(req)
            else:
                requests.put(req)
    except OSError:
        pass
    finally:
        requests.put(None)
    # The notifier closed our stdin (shutdown, or it died). If a call keeps the main thread
    # busy, do not outlive it for long.
    watchdog = threading.Timer(10.0, os._exit, (0,))
    watchdog.daemon = True
    watchdog.start()


def _flush_std():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


# --- exceptions -----------------------------------------------------------------------------


def _describe(e):
    try:
        return "".join(traceback.format_exception_only(type(e), e)).strip()
    except Exception:
        return type(e).__name__


def _safe_str(e):
    try:
        return str(e)
    except Exception:
        return "<unprintable %s>" % type(e).__name__


def _qualified(cls):
    name = getattr(cls, "__qualname__", cls.__name__)
    module = getattr(cls, "__module__", None)
    if module not in (None, "__main__", "builtins"):
        name = "%s.%s" % (module, name)
    return name


def _user_tb(tb):
    # Our own frames come first in every traceback: leave them out.
    while tb is not None and tb.tb_frame.f_globals is _G:
        tb = tb.tb_next
    return tb


def _tb_lines(e):
    try:
        tb = _user_tb(e.__traceback__)
        lines = traceback.format_exception(type(e), e, tb)
        if tb is None and e.__traceback__ is not None:
            # Raised by the call itself (a TypeError from the arguments, say): only our frames
            # were left out, so the header stays, as in chaostoolkit's traceback without its
            # own `return func(**arguments)` frame.
            at = len(lines) - len(traceback.format_exception_only(type(e), e))
            lines.insert(at, "Traceback (most recent call last):\n")
        return lines
    except Exception:
        return [_describe(e) + "\n"]


def _pyexc(e):
    try:
        summary = traceback.format_exception_only(type(e), e)[0].strip()
    except Exception:
        summary = type(e).__name__
    return {"kind": _qualified(type(e)), "summary": summary, "text": _safe_str(e), "traceback": _tb_lines(e)}


def _is_interrupt_execution(e):
    return any(getattr(c, "__name__", "") == "InterruptExecution" for c in type(e).__mro__)


def _interrupted(kind, message):
    return {"status": "interrupted", "kind": kind, "message": message}


def _escape(e, status, interrupt_execution=True):
    """What user code raised, when it is not the op's ordinary failure."""
    if interrupt_execution and _is_interrupt_execution(e):
        return _interrupted("InterruptExecution", _safe_str(e))
    if isinstance(e, KeyboardInterrupt):
        return _interrupted("KeyboardInterrupt", _safe_str(e))
    if isinstance(e, SystemExit):
        return {"status": "exited", "code": _encode(e.code, 1, set())}
    return {"status": status, "error": _pyexc(e)}


def _import(module):
    """(module, None) or (None, response): ImportError → module_not_found, else escaped."""
    try:
        return importlib.import_module(module), None
    except ImportError as e:
        return None, {"status": "module_not_found", "detail": _describe(e), "error": _pyexc(e)}
    except BaseException as e:
        return None, _escape(e, "import_raised", interrupt_execution=False)


# --- output encoding (chaostoolkit/__init__.py:encoder, plus repr where it would crash) ------


def _key(k):
    # json.dumps's rules for keys; repr() where json would raise.
    if isinstance(k, str):
        return str.__str__(k)
    if isinstance(k, float):
        if k != k:
            return "NaN"
        if k in (float("inf"), float("-inf")):
            return "Infinity" if k > 0 else "-Infinity"
        return float.__repr__(k)
    if k is True:
        return "true"
    if k is False:
        return "false"
    if k is None:
        return "null"
    if isinstance(k, int):
        return int.__repr__(k)
    return _repr(k)


def _repr(v):
    try:
        return repr(v)
    except Exception:
        return "<unrepresentable %s object>" % type(v).__name__


def _encode(v, depth, active):
    if v is None or v is True or v is False:
        return v
    t = type(v)
    if t is str or t is int:
        return v
    if isinstance(v, str):
        return str.__str__(v)
    if isinstance(v, int):
        return int.__int__(v)
    if isinstance(v, float):
        f = float.__float__(v)
        return f if math.isfinite(f) else None
    if isinstance(v, (list, tuple, dict)):
        if depth > _MAX_DEPTH:
            return _TOO_DEEP
        if id(v) in active:
            return "{...}" if isinstance(v, dict) else "[...]"
        active.add(id(v))
        try:
            if isinstance(v, dict):
                return {_key(k): _encode(x, depth + 1, active) for k, x in v.items()}
            return [_encode(x, depth + 1, active) for x in v]
        finally:
            active.discard(id(v))
    import datetime
    import decimal
    import uuid

    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    if isinstance(v, (decimal.Decimal, uuid.UUID)):
        return str(v)
    return _repr(v)


# --- exceptions handed to plugins -----------------------------------------------------------


def _exception_class(kind):
    cls = _exc_classes.get(kind)
    if cls is None:
        try:
            import chaoslib.exceptions as ce

            found = getattr(ce, kind, None)
            if isinstance(found, type) and issubclass(found, BaseException):
                cls = found
        except Exception:
            pass
        if cls is None:
            cls = type(kind, (Exception,), {"__module__": "notifier.exceptions"})
        _exc_classes[kind] = cls
    return cls


def _error_object(error):
    """`An exception was raised: Kind('message')` (our rendering of an exception) becomes an
    exception object again, as chaostoolkit-lib hands plugins the exception itself."""
    if isinstance(error, str):
        m = _EXC_TEXT.match(error)
        if m:
            kind, message = m.group(1), m.group(2)
            try:
                return _exception_class(kind)(message)
            except Exception:
                fallback = type(kind, (Exception,), {"__module__": "notifier.exceptions"})
                _exc_classes[kind] = fallback
                return fallback(message)
    return error


# --- operations -----------------------------------------------------------------------------


def _op_ping(req):
    import platform

    return {
        "status": "ok",
        "version": platform.python_version(),
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "pid": os.getpid(),
    }


def _op_import(req):
    mod, failed = _import(req["module"])
    if failed is not None:
        return failed
    return {"status": "ok", "file": getattr(mod, "__file__", None)}


def _op_validate_provider(req):
    # chaoslib/provider/python.py:validate_python_activity, steps 3-5.
    mod_name = req["module"]
    func = req["func"]
    mod, failed = _import(mod_name)
    if failed is not None:
        return failed
    try:
        candidates = set(inspect.getmembers(mod, inspect.isfunction)).union(
            inspect.getmembers(mod, inspect.isbuiltin)
        )
        for name, cb in candidates:
            if name != func:
                continue
            sig = inspect.signature(cb)
            try:
                args = dict(req.get("arguments") or {})
                if "secrets" in sig.parameters:
                    args["secrets"] = None
                if "configuration" in sig.parameters:
                    args["configuration"] = None
                sig.bind(**args)
            except TypeError as x:
                msg = str(x)
                if "missing" in msg:
                    return {"status": "missing_argument", "argument": msg.rsplit(":", 1)[1].strip(), "func": name}
                if "unexpected" in msg:
                    return {"status": "unexpected_argument", "argument": msg.rsplit(" ", 1)[1].strip(), "func": name}
                raise
            return {"status": "ok"}
    except BaseException as e:
        return _escape(e, "raised", interrupt_execution=False)
    return {"status": "function_not_found"}


def _op_run_provider(req):
    # chaoslib/provider/python.py:run_python_activity, without the ${...} substitution (the
    # caller substitutes) and with the secrets already flattened by the caller.
    try:
        mod = importlib.import_module(req["module"])
        func = getattr(mod, req["func"])
        sig = inspect.signature(func)
    except BaseException as e:
        return _escape(e, "escaped", interrupt_execution=False)
    arguments = dict(req.get("arguments") or {})
    secrets = req.get("secrets")
    if secrets is not None and "secrets" in sig.parameters:
        arguments["secrets"] = secrets
    if "configuration" in sig.parameters:
        arguments["configuration"] = dict(req.get("configuration") or {})
    try:
        value = func(**arguments)
    except BaseException as x:
        if _is_interrupt_execution(x) or not isinstance(x, Exception):
            return _escape(x, "escaped")
        message = traceback.format_exception_only(type(x), x)[0].strip()
        lines = _tb_lines(x)
        lines.append("\nDuring handling of the above exception, another exception occurred:\n\n")
        lines.append("chaoslib.exceptions.ActivityFailed: %s\n" % message)
        return {"status": "failed", "message": message, "exception": lines}
    return {"status": "ok", "output": _encode(value, 1, set())}


def _op_notify(req):
    # chaoslib/notification.py:notify_via_plugin
    channel = req["channel"]
    mod_name = channel.get("module")
    func_name = channel.get("func", "notify")
    try:
        mod = importlib.import_module(mod_name)
    except ImportError:
        return {"status": "module_not_found", "message": "could not find Python plugin '%s' for notification" % (mod_name,)}
    except BaseException as e:
        return _escape(e, "import_raised", interrupt_execution=False)
    event = req["event"]
    payload = {"name": event["name"], "payload": event.get("payload"), "phase": event["phase"], "ts": event["ts"]}
    error = event.get("error")
    if error:
        payload["error"] = _error_object(error)
    try:
        for name, f in inspect.getmembers(mod, inspect.isfunction):
            if name == func_name:
                f(channel, payload)
                return {"status": "ok"}
    except BaseException as e:
        return _escape(e, "raised", interrupt_execution=False)
    return {
        "status": "function_not_found",
        "message": "could not find function '%s' in plugin '%s' for notification" % (func_name, mod_name),
    }


def _op_control(req):
    # chaoslib/control/python.py: load_func, then initialize_control / apply_python_control /
    # cleanup_control / validate_python_control.
    mod, failed = _import(req["module"])
    if failed is not None:
        return failed
    hook = req["hook"]
    func = getattr(mod, hook, None)
    if not func:
        return {"status": "not_declared", "file": getattr(mod, "__file__", None)}
    mode = req.get("mode")
    try:
        if mode == "cleanup":
            func()
        elif mode == "validate":
            func(req["control"])
        else:
            arguments = dict(req.get("arguments") or {})
            offered = req.get("offered") or {}
            if offered:
                parameters = inspect.signature(func).parameters
                for name, value in offered.items():
                    if name in parameters:
                        arguments[name] = value
            if "context" in req:
                func(context=req["context"], **arguments)
            else:
                func(**arguments)
    except BaseException as e:
        return _escape(e, "raised")
    return {"status": "ok"}


_OPS = {
    "ping": _op_ping,
    "import": _op_import,
    "validate_provider": _op_validate_provider,
    "run_provider": _op_run_provider,
    "notify": _op_notify,
    "control": _op_control,
}


# --- serving --------------------------------------------------------------------------------


def _serve(req, foreground):
    global _in_call
    rid = req.get("id", 0)
    response = None
    try:
        try:
            if foreground:
                _in_call = True
            op = _OPS.get(req.get("op"))
            if op is None:
                response = {"status": "internal", "message": "unknown op %r" % (req.get("op"),)}
            else:
                response = op(req)
        finally:
            if foreground:
                _in_call = False
    except KeyboardInterrupt:
        # SIGINT landed in our own code around the user call: still an interruption.
        if response is None:
            response = _interrupted("KeyboardInterrupt", "")
    except BaseException as e:
        if response is None:
            response = {"status": "internal", "message": "".join(_tb_lines(e))}
    _flush_std()
    response["id"] = rid
    _send(response)


def _bg_worker(req):
    global _bg_idle
    while True:
        _serve(req, False)
        with _bg_lock:
            _bg_idle += 1
        req = _bg_jobs.get()


def _start_background(req):
    global _bg_idle
    with _bg_lock:
        if _bg_idle:
            _bg_idle -= 1
            _bg_jobs.put(req)
            return
    threading.Thread(target=_bg_worker, args=(req,), name="notifier-bridge-bg", daemon=True).start()


def _on_sigint(signum, frame):
    # Like Ctrl-C under chaos while user code runs on the main thread; ignored while idle.
    if _in_call:
        raise KeyboardInterrupt


def _main():
    global _proto_in, _proto_out, _max_frame
    out_fd = int(os.environ.pop("NOTIFIER_BRIDGE_FD"))
    _max_frame = int(os.environ.pop("NOTIFIER_BRIDGE_MAX_FRAME", str(_max_frame)))
    # Private, non-inheritable copies of the protocol pipes; fd 0 (and so sys.stdin) becomes
    # /dev/null so that user code cannot read, or eat, the requests.
    _proto_in = os.dup(0)
    _proto_out = os.dup(out_fd)
    os.close(out_fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    # `-c` puts '' (the current directory) first on sys.path; `chaos` does not.
    if sys.path and sys.path[0] == "":
        del sys.path[0]
    signal.signal(signal.SIGINT, _on_sigint)

    requests = queue.SimpleQueue()
    threading.Thread(target=_reader, args=(requests,), name="notifier-bridge-reader", daemon=True).start()
    _send({"id": 0, "status": "hello", "version": "%d.%d.%d" % sys.version_info[:3], "pid": os.getpid()})
    while True:
        try:
            req = requests.get()
        except KeyboardInterrupt:
            continue
        if req is None:
            break
        _serve(req, True)
    _flush_std()


if __name__ == "__main__":
    _main()
