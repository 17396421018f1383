"""Every SQLAlchemy engine hides bound parameters (the child's text) from errors and logs, and
SQLite files are readable by their owner only, whoever starts the service."""
from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def failing_statement_text(engine: sa.engine.Engine, marker: str) -> str:
    with pytest.raises(sa.exc.DBAPIError) as error:
        with engine.connect() as connection:
            connection.execute(sa.text("INSERT INTO no_such_table VALUES (:text)"), {"text": marker})
    return str(error.value)


def test_rasa_tracker_store_hides_parameters_and_keeps_its_file_private(tmp_path: Path, open_umask: None) -> None:
    from bot.rasa_addons.tracker_store import PrivateSQLTrackerStore

    db = tmp_path / "tracker.db"
    store = PrivateSQLTrackerStore(dialect="sqlite", db=str(db))
    marker = f"je veux mourir {uuid.uuid4().hex}"
    text = failing_statement_text(store.engine, marker)
    assert marker not in text and "hidden" in text
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert "events" in sa.inspect(store.engine).get_table_names()


def test_desk_engines_hide_parameters_and_keep_their_file_private(tmp_path: Path, open_umask: None) -> None:
    from desk.db import make_engine

    db = tmp_path / "desk.db"
    engine = make_engine(f"sqlite:///{db}")
    marker = f"il a mon adresse {uuid.uuid4().hex}"
    text = failing_statement_text(engine, marker)
    assert marker not in text and "hidden" in text
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert make_engine("postgresql://u@127.0.0.1:1/x").hide_parameters
    db.chmod(0o644)
    make_engine(f"sqlite:///{db}")
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_no_engine_without_hide_parameters() -> None:
    """Every create_engine(...) call of the project says hide_parameters=True."""
    root = Path(__file__).resolve().parents[2]
    calls = 0
    for folder in ("bot", "desk", "scripts"):
        for path in (root / folder).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            start = source.find("create_engine(")
            while start >= 0:
                depth, end = 0, start + len("create_engine")
                for end in range(end, len(source)):
                    depth += {"(": 1, ")": -1}.get(source[end], 0)
                    if depth == 0:
                        break
                call = source[start:end + 1]
                calls += 1
                assert "hide_parameters=True" in call, f"{path.relative_to(root)}: {call}"
                start = source.find("create_engine(", end)
    assert calls >= 5


def test_handoff_registry_file_is_private(tmp_path: Path, open_umask: None) -> None:
    from bot.rasa_addons.handoff.registry import Registry

    Registry(tmp_path / "handoff.db")
    assert stat.S_IMODE((tmp_path / "handoff.db").stat().st_mode) == 0o600
