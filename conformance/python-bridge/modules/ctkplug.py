"""A notification plugin for the Python-bridge conformance cases: records what it gets."""
received = []


def describe(error):
    if isinstance(error, BaseException):
        return {
            "type": type(error).__name__,
            "repr": repr(error),
            "str": str(error),
            "is_exception": isinstance(error, Exception),
        }
    return {"raw": error}


def notify(channel, event):
    received.append(
        {
            "func": "notify",
            "channel": channel,
            "keys": list(event.keys()),
            "event": {k: v for k, v in event.items() if k != "error"},
            "error": describe(event["error"]) if "error" in event else "<absent>",
        }
    )


def custom(channel, event):
    received.append({"func": "custom", "name": event["name"]})


def boom(channel, event):
    raise ValueError("plugin failed")


class NotAFunction:
    pass


def take():
    out = list(received)
    received.clear()
    return out
