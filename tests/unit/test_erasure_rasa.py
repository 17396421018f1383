"""The Rasa side of erasure and retention (bot/rasa_addons/erasure.py), without a running Rasa:
the tracker store, the handoff registry and its outbox, the replay buffer; then the raw bytes
of every file in the work directory (WAL included) are searched for the erased text."""
from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from pathlib import Path

import pytest

from bot.rasa_addons import erasure
from bot.rasa_addons.channels.socketio import SessionOutbox
from bot.rasa_addons.handoff.registry import Registry


def files_containing(folder: Path, marker: str) -> list:
    needle = marker.encode()
    return [str(p) for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    monkeypatch.setenv("HANDOFF_DB", str(tmp_path / "handoff.db"))
    return Registry(tmp_path / "handoff.db")


def tracker_store(tmp_path: Path):
    from rasa.shared.core.domain import Domain

    from bot.rasa_addons.tracker_store import PrivateSQLTrackerStore

    return PrivateSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))


def save_conversation(store, conversation_id: str, text: str) -> None:
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker.from_events(conversation_id, [UserUttered(text), BotUttered("une réponse")])
    asyncio.run(store.save(tracker))


def test_erasure_leaves_no_byte_of_the_text_in_any_file(tmp_path: Path, registry: Registry) -> None:
    marker, other = f"MARQUEUR-{uuid.uuid4().hex}", f"AUTRE-{uuid.uuid4().hex}"
    store = tracker_store(tmp_path)
    save_conversation(store, "c1", f"{marker} il me menace")
    save_conversation(store, "c2", f"{other} rien à voir")
    registry.set_status("c1", "queued")
    registry.claim_owner("c1", "socketio")
    registry.enqueue(json.dumps({"id": "e1", "conversation_id": "c1", "type": "user", "text": marker}))
    registry.enqueue(json.dumps({"id": "e2", "conversation_id": "c2", "type": "user", "text": other}))
    buffer = SessionOutbox()
    buffer.add("c1", {"text": marker})
    from bot.rasa_addons.channels.messaging import RecipientBook

    book = RecipientBook()
    book.remember("c1", "whatsapp:+33600000000")
    assert files_containing(tmp_path, marker)

    counts = asyncio.run(erasure.erase_conversation("c1", tracker_store=store, registry=registry))

    assert counts["tracker_events"] >= 2 and counts["outbox_events"] == 1 and counts["replay_messages"] == 1
    assert files_containing(tmp_path, marker) == []
    assert buffer.after("c1", 0) == []
    assert buffer.add("c1", {"text": "suite"})["seq"] == 2  # numbering goes on: the widget skips seen numbers
    assert registry.status("c1") is None and registry.owner("c1") is None
    assert book.lookup("c1") is None  # the platform's id of the person goes too
    # The other conversation is untouched; the desk is told with the id only.
    assert files_containing(tmp_path, other)
    bodies = [json.loads(body) for _seq, body in registry.pending()]
    assert [b["conversation_id"] for b in bodies] == ["c2", "c1"]
    assert bodies[1]["type"] == "erase" and set(bodies[1]) == {"id", "conversation_id", "type", "timestamp", "channel"}


def test_every_connection_that_stores_text_overwrites_what_it_deletes(tmp_path: Path, registry: Registry) -> None:
    with registry._connect() as db:
        assert db.execute("PRAGMA secure_delete").fetchone()[0] == 1
    store = tracker_store(tmp_path)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_the_outbox_drops_events_past_their_age(tmp_path: Path, registry: Registry,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    marker = f"MARQUEUR-{uuid.uuid4().hex}"
    registry.enqueue(json.dumps({"id": "old", "conversation_id": "c", "type": "user", "text": marker}))
    registry.enqueue(json.dumps({"id": "old-erase", "conversation_id": "d", "type": "erase"}))
    registry.enqueue(json.dumps({"id": "new", "conversation_id": "c", "type": "user", "text": "récent"}))
    with sqlite3.connect(registry.path) as db:
        db.execute("UPDATE outbox SET created_at = ? WHERE body LIKE '%\"old%'", (time.time() - 8 * 86400,))
    monkeypatch.setenv("OUTBOX_MAX_AGE_HOURS", "168")
    counts = erasure.housekeeping(registry)
    assert counts["outbox_events"] == 1
    # An erasure still to reach the desk is never dropped: it holds no text, and the desk needs it.
    assert [json.loads(body)["id"] for _seq, body in registry.pending()] == ["old-erase", "new"]
    assert files_containing(tmp_path, marker) == []  # compacted: not left in free pages or the WAL


def test_the_replay_buffer_drops_messages_past_their_age(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLAY_MAX_AGE_HOURS", "2")
    buffer = SessionOutbox()
    assert buffer.seconds == 2 * 3600
    buffer.add("s", {"text": "ancien"})
    assert buffer.evict_old(now=time.time() + 3 * 3600) == 1
    assert buffer.after("s", 0) == []
    assert buffer.add("s", {"text": "nouveau"})["seq"] == 2  # numbering goes on
    # The hourly job reaches every buffer of the process: a message sent 3 hours ago goes.
    kept = buffer._data["s"][1]
    seq, _at, message = kept.popleft()
    kept.appendleft((seq, time.time() - 3 * 3600, message))
    assert erasure.evict_replay_buffers() >= 1
    assert buffer.after("s", 0) == []


def test_abandoned_open_handoffs_are_forgotten(registry: Registry) -> None:
    registry.set_status("stale", "active")
    registry.set_status("fresh", "queued")
    with sqlite3.connect(registry.path) as db:
        db.execute("UPDATE human_mode SET updated_at = ? WHERE conversation_id = 'stale'", (time.time() - 40 * 86400,))
    registry._cache.clear()
    assert registry.forget_abandoned(30 * 86400) == 1
    assert registry.status("stale") is None and registry.status("fresh") == "queued"
