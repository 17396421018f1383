"""SQLite keeps deleted rows: a DELETE only marks the pages free, and the text stays in the
file (and in the WAL) until the page is reused. Every SQLite database that holds what someone
wrote (the desk's, Rasa's tracker store, the handoff registry and its outbox) therefore:

- turns on `secure_delete` on every connection, so a deleted row is overwritten with zeros;
- is compacted now and then (`compact`): the WAL is checkpointed and truncated, then VACUUM
  rewrites the file without its free pages, then the WAL VACUUM wrote through is truncated too.

Shared by the Rasa process and the desk (both import `bot`). PostgreSQL needs none of this
(its VACUUM is autovacuum's job); the functions do nothing there.
"""
from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any, Union

logger = logging.getLogger(__name__)


def secure_delete_on_connect(engine: Any) -> None:
    """Every new connection of this SQLAlchemy engine overwrites what it deletes (SQLite only)."""
    from sqlalchemy import event

    if engine.url.get_backend_name() != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _secure_delete(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()


def compact_engine(engine: Any) -> bool:
    """Checkpoint, VACUUM and truncate the WAL of a SQLAlchemy engine's SQLite file; False
    when it is not SQLite or the file is busy (the next run tries again)."""
    if engine.url.get_backend_name() != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return False
    return compact_file(engine.url.database)


def compact_file(path: Union[str, Path]) -> bool:
    if not Path(path).exists():
        return False
    try:
        db = sqlite3.connect(str(path), timeout=10, isolation_level=None)
    except sqlite3.Error:
        logger.warning("Could not open a database to compact it")
        return False
    try:
        db.execute("PRAGMA secure_delete=ON")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return True
    except sqlite3.Error as error:  # busy: another connection is writing; the next run compacts
        logger.warning("Could not compact a database (%s)", type(error).__name__)
        return False
    finally:
        db.close()
