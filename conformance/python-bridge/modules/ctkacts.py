"""Activities for the Python-bridge conformance cases (conformance/python-bridge/cases.json)."""
import datetime
import decimal
import functools
import uuid
from os import getcwd  # noqa: F401 - a builtin imported into the module
from os import getenv  # noqa: F401 - a function imported into the module
from time import sleep  # noqa: F401 - a builtin without a signature


def f(a, b=1):
    return [a, b]


def two(a, b):
    return [a, b]


lam = lambda x: x  # noqa: E731


async def coro():
    return 1


class K:
    pass


class CallMe:
    def __call__(self):
        return 1


inst = CallMe()
part = functools.partial(f, 1)
number = 3


def posonly(a, /):
    return a


def varpos(*args):
    return args


def with_secrets(secrets):
    return secrets


def with_secrets_default(secrets=None):
    return secrets


def with_config(configuration, x=None):
    return {"configuration": configuration, "x": x}


def kw(**kwargs):
    return kwargs


def outputs(which):
    return {
        "none": None,
        "list": [1, "a", {"b": None}],
        "tuple": (1, "a", (2, 3)),
        "aware": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        "naive": datetime.datetime(2024, 1, 2, 3, 4, 5),
        "date": datetime.date(2024, 1, 2),
        "decimal": decimal.Decimal("1.10"),
        "uuid": uuid.UUID(int=1),
        "keys": {1: "int", None: "none", 2.5: "float", False: "false", "s": "str"},
        "unicode": "héllo ☕ \U0001F600",
        "set": {1, 2},
        "bytes": b"ab",
        "object": K(),
        "nan": [float("nan"), float("inf"), 1.5],
    }[which]


class Boom(Exception):
    pass


def boom(msg="boom"):
    raise ValueError(msg)


def boom_empty():
    raise ValueError()


def boom_custom():
    raise Boom("custom")


def boom_chained():
    try:
        {}["key"]
    except KeyError:
        raise RuntimeError("while handling")


def boom_nested():
    def inner():
        raise ValueError("deep")

    inner()


class InterruptExecution(Exception):
    pass


def local_interrupt():
    raise InterruptExecution("stop the run")
