"""Engine creation and running blocking database work off the event loop."""
from __future__ import annotations

import asyncio
import functools
import os
from pathlib import Path
from typing import Any, Callable, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

from desk.models import metadata

T = TypeVar("T")


def private_file(path: str) -> None:
    """Create the SQLite file readable by its owner only (its journal and WAL get the same
    mode from SQLite), and tighten an existing one."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def make_engine(url: str) -> Engine:
    """Every engine hides bound parameters (the conversations' text) from errors and logs."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            private_file(path)
        engine = create_engine(url, future=True, hide_parameters=True,
                               connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets the queue pages read while ingest writes; foreign keys cascade deletes.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, future=True, pool_pre_ping=True, hide_parameters=True)


def init_db(engine: Engine) -> None:
    metadata.create_all(engine)


async def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Database calls are blocking: run them in the default thread pool."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args, **kwargs))
