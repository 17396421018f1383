"""The counsellors' day ends with a case still queued: the person is told once, through
their channel; the case stays queued. The clock is chosen by the test (no waiting)."""
from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, List, Tuple

import pytest

from bot.content_store.hours import check_hours
from bot.content_store.store import default_content_dir, load_snapshot
from desk import cases as case_ops, closing, ingest
from desk.db import init_db, make_engine
from desk.rasa_client import RasaUnavailable

PARIS = dt.timezone(dt.timedelta(hours=1))  # November: Paris is UTC+1
DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class RecordingRasa:
    def __init__(self) -> None:
        self.told: List[Tuple[str, str]] = []
        self.down = False

    async def tell_queue_closing(self, conversation_id: str, text: str) -> None:
        if self.down:
            raise RasaUnavailable("HTTP 503")
        self.told.append((conversation_id, text))


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def engine(tmp_path):  # noqa: ANN001, ANN201
    engine = make_engine(f"sqlite:///{tmp_path}/desk.db")
    init_db(engine)
    return engine


@pytest.fixture(scope="module")
def snapshot() -> Any:
    return load_snapshot(default_content_dir())


def open_case(engine: Any, conversation: str, when: dt.datetime) -> int:
    event = {"id": f"{conversation}-q", "conversation_id": conversation, "type": "handoff", "status": "queued",
             "timestamp": when.timestamp(), "channel": "socketio"}
    return ingest.apply_events(engine, [event], now=when.timestamp()).opened[0]


def tell(engine: Any, rasa: RecordingRasa, snapshot: Any, now: dt.datetime) -> int:
    return asyncio.run(closing.tell_queued_cases_at_closing(engine, rasa, snapshot, "fr", now=now))


def test_the_last_closing_is_the_end_of_the_latest_opening_range() -> None:
    hours = check_hours({"timezone": "Europe/Paris", "hours": {d: "09:00-12:00, 14:00-23:00" for d in DAYS}},
                        lambda path, message: None)
    assert closing.last_closing(hours, at(28, 22, 59)) is None  # on duty: nothing to tell
    assert closing.last_closing(hours, at(28, 23, 0)) == at(28, 23, 0)
    assert closing.last_closing(hours, at(29, 8, 30)) == at(28, 23, 0)
    assert closing.last_closing(hours, at(29, 13, 0)) == at(29, 12, 0)


def test_a_case_still_queued_at_closing_time_is_told_once(engine: Any, snapshot: Any) -> None:
    rasa = RecordingRasa()
    waiting = open_case(engine, "waiting", at(28, 22, 40))
    claimed = open_case(engine, "claimed", at(28, 22, 45))
    case_ops.claim_by_message(engine, claimed, None, "Léa")

    assert tell(engine, rasa, snapshot, at(28, 22, 59)) == 0  # counsellors still on duty
    assert tell(engine, rasa, snapshot, at(28, 23, 1)) == 1
    [(conversation, text)] = rasa.told
    assert conversation == "waiting"
    assert "demain à 9h" in text and "119" in text and "3114" in text and "gardée" in text
    # Told once: the next runs of the night say nothing more; the case still waits for the morning.
    assert tell(engine, rasa, snapshot, at(28, 23, 30)) == 0
    assert tell(engine, rasa, snapshot, at(29, 3, 0)) == 0
    assert case_ops.get_case(engine, waiting)["status"] == "queued"
    assert [e["action"] for e in case_ops.audit_log(engine)].count("queue_closing_told") == 1


def test_a_case_opened_after_closing_was_already_told_by_the_bot(engine: Any, snapshot: Any) -> None:
    rasa = RecordingRasa()
    open_case(engine, "night", at(28, 23, 20))  # got utter_handoff_closed_hours when it was opened
    assert tell(engine, rasa, snapshot, at(28, 23, 30)) == 0 and rasa.told == []


def test_rasa_unreachable_the_person_is_told_at_the_next_run(engine: Any, snapshot: Any) -> None:
    rasa = RecordingRasa()
    open_case(engine, "retry", at(28, 22, 0))
    rasa.down = True
    assert tell(engine, rasa, snapshot, at(28, 23, 1)) == 0
    rasa.down = False
    assert tell(engine, rasa, snapshot, at(28, 23, 2)) == 1 and rasa.told[0][0] == "retry"


def test_the_message_speaks_the_persons_language_and_register(engine: Any, snapshot: Any) -> None:
    rasa = RecordingRasa()
    case_id = open_case(engine, "parent-en", at(28, 20, 0))
    ingest.apply_context(engine, case_id, {"language": "en", "user_role": "parent", "risk_level": "low"})
    tell(engine, rasa, snapshot, at(28, 23, 5))
    assert "tomorrow at 9am" in rasa.told[0][1] and "Your request is kept" in rasa.told[0][1]
