"""Erasure on the desk's side (desk/erasure.py) and the retention of abandoned cases: what the
person wrote leaves every file (the database, its WAL); the audit keeps who and when, no text;
a child-protection case keeps its record. With the real desk and a fake Rasa for the button,
and `python -m desk.manage erase` (make erase) against stores on disk for the command."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import select

from desk import cases as case_ops, erasure, ingest, purge
from desk.content import load
from desk.db import init_db, make_engine
from desk.models import audit, cases
from tests.desk.helpers import ROOT, Browser, handoff_events, wait_until
from tests.desk.test_purge_webhook import DAY, NOW, open_case

HOLD = load(ROOT / "content").legal_hold_codes


def files_containing(folder: Path, marker: str) -> list:
    needle = marker.encode()
    return [str(p) for p in Path(folder).rglob("*") if p.is_file() and needle in p.read_bytes()]


def case_with_text(engine, conversation: str, text: str, at: float = None) -> int:
    at = at or time.time()
    opening = dict(handoff_events(conversation, at)[0], id=uuid.uuid4().hex)
    batch = ingest.validate_batch({"events": [opening,
        {"id": uuid.uuid4().hex, "conversation_id": conversation, "type": "user", "text": text,
         "timestamp": at + 1, "channel": "rest"}]})
    return ingest.apply_events(engine, batch, now=at + 2).opened[0]


def audit_rows(engine) -> list:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(audit)).mappings()]


def test_the_erase_event_removes_the_conversation_from_every_desk_file(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/desk.db")
    init_db(engine)
    marker, other = f"MARQUEUR-{uuid.uuid4().hex}", f"AUTRE-{uuid.uuid4().hex}"
    erased = case_with_text(engine, "c-erase", f"{marker} il me menace")
    from desk import auth

    lea = {"id": auth.create_user(engine, "lea", "Léa", "counsellor", "a long enough pass"), "username": "lea"}
    case_ops.add_note(engine, erased, lea, f"note {marker}")
    kept = case_with_text(engine, "c-other", other)
    assert files_containing(tmp_path, marker)
    batch = ingest.validate_batch({"events": [{"id": "e1", "conversation_id": "c-erase", "type": "erase",
                                               "timestamp": time.time(), "channel": None}]})
    result = ingest.apply_events(engine, batch, legal_hold_codes=HOLD)
    assert result.erased and erased in result.changed
    erasure.compact(engine)
    assert files_containing(tmp_path, marker) == []
    assert case_ops.get_case(engine, erased) is None and case_ops.get_case(engine, kept) is not None
    rows = [r for r in audit_rows(engine) if r["case_id"] == erased]
    assert [(r["action"], r["detail"]) for r in rows] == [("note_added", None), ("erased", "by person")]
    assert all(r["conversation_id"] is None for r in rows)


def test_a_child_protection_case_keeps_its_record(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/desk.db")
    init_db(engine)
    assert {"information_preoccupante", "signalement", "emergency_services"} <= HOLD
    held = case_with_text(engine, "c-held", "ce qui a été signalé")
    case_ops.close(engine, held, "information_preoccupante", None, {"information_preoccupante"}, via="api")
    later = case_with_text(engine, "c-held", "un second cas, plus tard")
    result = erasure.erase(engine, "c-held", "person", HOLD)
    assert result.kept == [held] and result.erased == [later] and result.legal_hold
    kept = case_ops.get_case(engine, held)
    assert kept is not None and [m["text"] for m in case_ops.transcript(engine, held)] == ["ce qui a été signalé"]
    assert case_ops.get_case(engine, later) is None
    actions = [(r["action"], r["case_id"]) for r in audit_rows(engine) if r["action"].startswith("eras")]
    assert ("erasure_kept", held) in actions and ("erased", later) in actions
    # Rasa's own `erase` event after this one adds nothing new to the audit.
    erasure.erase(engine, "c-held", "person", HOLD)
    assert [r["action"] for r in audit_rows(engine)].count("erasure_kept") == 1


def test_abandoned_cases_are_closed_then_purged_after_the_retention_period(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/desk.db")
    init_db(engine)
    abandoned = open_case(engine, "abandoned", NOW - 40 * DAY)
    active_long = open_case(engine, "long-but-alive", NOW - 40 * DAY)
    ingest.apply_events(engine, ingest.validate_batch({"events": [
        {"id": "alive", "conversation_id": "long-but-alive", "type": "user", "text": "toujours là",
         "timestamp": NOW - 2 * DAY, "channel": "rest"}]}), now=NOW - 2 * DAY)
    purge.purge(engine, None, 30, now=NOW)
    closed = case_ops.get_case(engine, abandoned)
    assert closed["status"] == "closed" and closed["outcome"] == "user_left" and closed["closed_at"] == NOW
    assert case_ops.get_case(engine, active_long)["status"] == "queued"
    assert ("closed_abandoned", abandoned) in [(r["action"], r["case_id"]) for r in audit_rows(engine)]
    # A retention period later it goes, like every closed case.
    assert purge.purge(engine, None, 30, now=NOW + 31 * DAY)["cases"] == 1
    assert case_ops.get_case(engine, abandoned) is None


def test_every_desk_connection_overwrites_what_it_deletes(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/desk.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_the_counsellor_button_erases_here_and_asks_rasa(desk, fake_rasa, desk_work: Path) -> None:
    conversation, marker = f"btn-{uuid.uuid4().hex[:8]}", f"MARQUEUR-{uuid.uuid4().hex}"
    desk.ingest(handoff_events(conversation) + [{"id": uuid.uuid4().hex, "conversation_id": conversation,
                                                  "type": "user", "text": marker, "timestamp": time.time(),
                                                  "channel": "rest"}])
    engine = desk.engine()
    case_id = wait_until(lambda: engine.connect().execute(
        select(cases.c.id).where(cases.c.conversation_id == conversation)).scalar(), message="case")
    lea, leo = Browser(desk), Browser(desk)
    lea.login("lea")
    leo.login("leo")
    assert lea.post(f"/cases/{case_id}/claim").status_code in (200, 302, 303)
    headers = {"X-Requested-With": "fetch"}
    assert leo.post(f"/cases/{case_id}/erase", {"confirm": "yes"}, headers=headers).status_code == 403
    assert lea.post(f"/cases/{case_id}/erase", {}, headers=headers).status_code == 400  # not confirmed
    done = lea.post(f"/cases/{case_id}/erase", {"confirm": "yes"}, headers=headers)
    assert done.status_code == 200 and done.json()["notice"] == "erased"
    assert case_ops.get_case(engine, case_id) is None
    # Rasa's side goes as an `erase` command through the outbox (Rasa tells the person through
    # the conversation's own channel, which it knows), after the commands of the case.
    erase = [c for c in fake_rasa.commands(conversation) if c["type"] == "erase"]
    assert len(erase) == 1 and erase[0]["payload"] == {"legal_hold": False}
    assert fake_rasa.commands(conversation)[-1]["type"] == "erase"
    row = [r for r in audit_rows(engine) if r["action"] == "erased" and r["case_id"] == case_id][0]
    assert row["username"] == "lea" and row["detail"] == "by counsellor" and row["conversation_id"] is None
    wait_until(lambda: not files_containing(desk_work, marker), message="marker gone from every file")


def test_make_erase_with_rasa_stopped_erases_both_sides(tmp_path: Path) -> None:
    """`make erase ID=...` runs `python -m desk.manage erase --id ...`; Rasa does not answer, so
    its side is erased in its stores directly (tracker store, handoff registry and outbox)."""
    import asyncio

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.rasa_addons.handoff.registry import Registry
    from bot.rasa_addons.tracker_store import PrivateSQLTrackerStore
    from tests.support.chat import free_port

    marker = f"MARQUEUR-{uuid.uuid4().hex}"
    engine = make_engine(f"sqlite:///{tmp_path}/desk.db")
    init_db(engine)
    case_with_text(engine, "cmd-1", marker)
    store = PrivateSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    asyncio.run(store.save(DialogueStateTracker.from_events("cmd-1", [UserUttered(marker)])))
    registry = Registry(tmp_path / "handoff.db")
    registry.set_status("cmd-1", "queued")
    registry.enqueue(json.dumps({"id": "x", "conversation_id": "cmd-1", "type": "user", "text": marker}))
    engine.dispose()
    store.engine.dispose()
    assert len(files_containing(tmp_path, marker)) >= 3
    env = dict(os.environ, PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{tmp_path}/desk.db",
               TRACKER_DB_URL=f"sqlite:///{tmp_path}/tracker.db", HANDOFF_DB=str(tmp_path / "handoff.db"),
               RASA_URL=f"http://127.0.0.1:{free_port()}", RASA_API_TOKEN="unused")
    out = subprocess.run([sys.executable, "-m", "desk.manage", "erase", "--id", "cmd-1"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert marker not in out.stdout + out.stderr
    assert files_containing(tmp_path, marker) == []
    assert Registry(tmp_path / "handoff.db").pending() == []  # nothing sent to the desk: it did its side
