"""Fixtures for the counsellor desk's tests: fake Rasa, the real desk on a free port, PostgreSQL."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from tests.desk.fake_rasa import FakeRasa
from tests.desk.helpers import Desk, make_user, start_desk
from tests.support.postgres import TempPostgres, find_bin_dir


@pytest.fixture(scope="session")
def fake_rasa() -> Iterator[FakeRasa]:
    rasa = FakeRasa().start()
    yield rasa
    rasa.stop()


@pytest.fixture(scope="session")
def desk_work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("desk")


@pytest.fixture(scope="session")
def desk(desk_work: Path, fake_rasa: FakeRasa) -> Iterator[Desk]:
    """The desk on SQLite, with counsellors (lea, léo) and a supervisor (sam, with TOTP)."""
    url = f"sqlite:///{desk_work}/desk.db"
    make_user(url, "lea", "counsellor", "Léa")
    make_user(url, "leo", "counsellor", "Léo")
    make_user(url, "sam", "supervisor", "Sam")
    # One trusted proxy: each test Browser logs in from its own (forwarded) address.
    server = start_desk(desk_work, url, fake_rasa.url, fake_rasa.token, DESK_PROXIES_COUNT="1")
    yield server
    server.stop()

