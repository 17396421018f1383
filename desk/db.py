"""Engine creation and running blocking database work off the event loop."""
from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
import os
from pathlib import Path
from typing import Any, Callable, TypeVar

from sqlalchemy import create_engine, event, inspect, text
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
            # Transcripts are deleted (retention, erasure): overwrite them, not just free their pages.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    return create_engine(url, future=True, pool_pre_ping=True, hide_parameters=True)


def make_tracker_engine(url: str) -> Engine:
    """The desk's engine on Rasa's tracker store (retention purge, `make erase`): parameters
    hidden, deleted rows overwritten; its journal mode is left as Rasa set it."""
    from bot.sqlite_hygiene import secure_delete_on_connect

    engine = create_engine(url, future=True, hide_parameters=True)
    secure_delete_on_connect(engine)
    return engine


# Columns added after a table first shipped: (table, column, SQL type and default). create_all
# makes new tables only, so an existing database gets these with ALTER TABLE ... ADD COLUMN.
ADDED_COLUMNS = (
    ("desk_users", "totp_failures", "INTEGER NOT NULL DEFAULT 0"),
)


def init_db(engine: Engine) -> None:
    metadata.create_all(engine)
    with engine.begin() as conn:
        inspector = inspect(conn)
        for table, column, ddl in ADDED_COLUMNS:
            if column not in {c["name"] for c in inspector.get_columns(table)}:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))


async def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Database calls are blocking: run them in the default thread pool."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args, **kwargs))


class Busy(Exception):
    """More password checks are waiting than the hashing pool accepts."""


class HashPool:
    """argon2 on its own small pool: a flood of logins queues here (and is refused past
    `max_waiting`), while the default pool keeps serving every database call."""

    def __init__(self, threads: int, max_waiting: int):
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="desk-argon2")
        self.max_waiting = max_waiting
        self.waiting = 0

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self.waiting >= self.max_waiting:
            raise Busy()
        self.waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, functools.partial(fn, *args))
        finally:
            self.waiting -= 1

    def close(self) -> None:
        self.executor.shutdown(wait=False)
