"""The Rasa side of the desk's commands and the stored crisis deadlines, without a server."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.rasa_addons.channels.desk_commands import checked_command
from bot.rasa_addons.handoff import registry as registry_module
from bot.rasa_addons.handoff.commands import BadCommand
from bot.rasa_addons.handoff.registry import Registry, human_status


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    monkeypatch.setenv("HANDOFF_DB", str(tmp_path / "handoff.db"))
    monkeypatch.setattr(registry_module, "_shared", None)
    return registry_module.shared_registry()


def test_a_command_is_applied_once_and_an_older_one_is_a_retry(registry: Registry) -> None:
    assert not registry.command_applied("c1", "a", 1)
    registry.record_command("c1", "a", 1, "claim")
    assert registry.command_applied("c1", "a", 1)  # the same id
    assert registry.command_applied("c1", "other-id", 1)  # the same place in the conversation's order
    assert not registry.command_applied("c1", "b", 2)
    assert not registry.command_applied("c2", "c", 1)  # per conversation
    assert registry.last_command_seq("c1") == 1 and registry.last_command_seq("c2") == 0


def test_human_mode_comes_from_the_desk_not_from_the_slot(registry: Registry) -> None:
    registry.set_status("c1", "closed")  # the desk's close, applied
    assert human_status("c1", "active") == "closed"  # a stale slot never silences the bot
    assert human_status("c1", "queued") == "queued"  # a new request after the close (the bot's own)
    registry.set_status("c1", "active")
    assert human_status("c1", None) == "active"  # a new session cleared the slot
    assert human_status("unknown", "queued") == "queued"


def test_a_crisis_deadline_fires_once(registry: Registry) -> None:
    assert registry.arm_deadline("c1", 100.0, 160.0)
    assert not registry.arm_deadline("c1", 120.0, 180.0)  # one pending answer: the first crisis counts
    assert registry.due_deadlines(159.0) == []
    assert registry.due_deadlines(160.0) == [("c1", 100.0)]
    assert registry.claim_deadline("c1", 160.0, 30)
    assert not registry.claim_deadline("c1", 160.5, 30)  # the other sweep loses
    assert registry.due_deadlines(170.0) == []  # claimed
    assert registry.due_deadlines(191.0) == [("c1", 100.0)]  # the claimer died: retried after the lease
    registry.deadline_done("c1", 192.0)
    assert registry.due_deadlines(1000.0) == []
    assert registry.arm_deadline("c1", 2000.0, 2060.0)  # a new crisis after the answer: a new deadline


def test_commands_are_checked() -> None:
    good = {"id": "a", "conversation_id": "c", "seq": 1, "type": "message",
            "payload": {"text": "t", "author": "Léa", "message_id": "m"}}
    assert checked_command(good)["payload"]["text"] == "t"
    for bad in ([], dict(good, id=""), dict(good, id="x" * 65), dict(good, seq=0), dict(good, seq=True),
                dict(good, seq="1"), dict(good, type="erase_everything"), dict(good, payload=[]),
                dict(good, conversation_id="c" * 256)):
        with pytest.raises(BadCommand):
            checked_command(bad)
