"""Logged exceptions keep their type, where they happened and the gist of their message, never
the values they carry.

An exception's message can hold what someone wrote: a KeyError on a text, a validation error
quoting its input, a database error with its statement's values (hide_parameters covers
SQLAlchemy's). `install()` makes every log formatter of the process print, for each exception
of a chain, its traceback (code lines only) and its message's first line with anything quoted
replaced by «…» and cut to 160 characters; uncaught exceptions (main thread, other threads) are
printed the same way. Each service calls it when it starts (scripts/rasa_serve.py,
scripts/actions_serve.py, desk/__main__.py, widget/server.py).
"""
from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from types import TracebackType
from typing import List, Optional, Type

# A quote opens after a non-letter and closes before one: "Couldn't" is not a quoted value.
QUOTED = re.compile(r"""(?<!\w)'(?:[^'\\]|\\.)*'(?!\w)|"(?:[^"\\]|\\.)*"|«[^»]*»|`[^`]*`""")
MAX_MESSAGE = 160


def gist(error: BaseException) -> str:
    """The message's first line, quoted values replaced, length capped."""
    try:
        text = str(error)
    except Exception:  # noqa: BLE001
        text = ""
    line = text.strip().splitlines()[0] if text.strip() else ""
    line = QUOTED.sub("«…»", line)
    if len(line) > MAX_MESSAGE:
        line = line[:MAX_MESSAGE] + "…"
    return line


def _one(error: BaseException, tb: Optional[TracebackType]) -> List[str]:
    lines = ["Traceback (most recent call last):\n", *traceback.format_tb(tb)] if tb else []
    name = type(error).__qualname__
    module = type(error).__module__
    if module not in ("builtins", "__main__"):
        name = f"{module}.{name}"
    message = gist(error)
    lines.append(f"{name}: {message}\n" if message else f"{name}\n")
    return lines


def format_exception(etype: Optional[Type[BaseException]], value: Optional[BaseException],
                     tb: Optional[TracebackType]) -> str:
    if value is None:
        return f"{getattr(etype, '__name__', etype)}\n"
    chain, seen, current = [], set(), value
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    parts: List[str] = []
    for index, error in enumerate(reversed(chain)):
        if index:
            parts.append("\nDuring handling of the above exception, another exception occurred:\n\n")
        parts += _one(error, error.__traceback__ if error is not value else tb)
    return "".join(parts)


def _format_for_logging(_formatter: logging.Formatter, ei) -> str:  # noqa: ANN001
    return format_exception(*ei).rstrip("\n")


def install() -> None:
    """For this process: every formatter, and uncaught exceptions."""
    logging.Formatter.formatException = _format_for_logging  # type: ignore[assignment]
    sys.excepthook = lambda etype, value, tb: sys.stderr.write(format_exception(etype, value, tb))
    threading.excepthook = lambda args: sys.stderr.write(
        f"Exception in thread {getattr(args.thread, 'name', '?')}:\n"
        + format_exception(args.exc_type, args.exc_value, args.exc_traceback))
