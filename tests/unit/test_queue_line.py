"""While a case is queued the bot answers, each turn opening with the queue line; the
channel guard treats a silent turn of a queued conversation as a failure."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.slots import FloatSlot, TextSlot
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_addons.channels.guard import handle_safely
from bot.rasa_addons.handoff import registry as registry_module
from bot.rasa_addons.nlg import ContentNLG


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv("HANDOFF_DB", str(tmp_path / "handoff.db"))
    monkeypatch.setattr(registry_module, "_shared", None)
    return registry_module.shared_registry()


def tracker(slots: Dict[str, Any], said_before: bool = True, sender: str = "c1") -> DialogueStateTracker:
    events: List[Any] = [SlotSet(name, value) for name, value in slots.items()]
    if said_before:
        events.append(BotUttered("earlier"))  # the session already has its disclosure
    events.append(UserUttered("je fais quoi maintenant", {"name": "what_now", "confidence": 1.0}))
    # As in bot/domain.yml (handoff_wait_minutes: float, influence_conversation false, custom mapping).
    slots = [TextSlot(name, [], influence_conversation=False) for name in ("language", "user_role", "handoff_status")]
    slots.append(FloatSlot("handoff_wait_minutes", [], influence_conversation=False))
    return DialogueStateTracker.from_events(sender, events, slots=slots)


def generate(nlg: ContentNLG, name: str, t: DialogueStateTracker) -> str:
    return asyncio.run(nlg.generate(name, t, "socketio"))["text"]


def test_a_queued_conversation_gets_the_queue_line_once_per_turn(registry) -> None:  # noqa: ANN001
    nlg = ContentNLG()
    registry.set_status("c1", "queued")
    turn = tracker({"language": "fr", "handoff_wait_minutes": 7.0})
    first = generate(nlg, "utter_hours", turn)
    assert first.startswith("Une personne de l'équipe du 3018 va te répondre ici (attente estimée : environ 7 min).")
    # The second message of the same turn (an action may send several) has no line on top.
    again = generate(nlg, "utter_hours", turn)
    assert "attente estimée" not in again
    # Wait unknown (at night, say), parent, English: the line without the wait.
    registry.set_status("c2", "queued")
    parent = generate(nlg, "utter_hours", tracker({"language": "en", "user_role": "parent"}, sender="c2"))
    assert parent.startswith("Your request is kept: a 3018 counsellor will answer you here as soon as possible.")


@pytest.mark.parametrize("status,response", [("queued", "utter_crisis"), ("queued", "utter_handoff_queued"),
                                             ("active", "utter_hours"), ("closed", "utter_hours"), (None, "utter_hours")])
def test_no_queue_line_on_a_crisis_answer_nor_outside_the_queue(registry, status: Optional[str], response: str) -> None:  # noqa: ANN001
    registry.set_status("c1", status)
    text = generate(ContentNLG(), response, tracker({"language": "fr", "handoff_wait_minutes": 7.0}))
    assert "attente estimée" not in text and "va te répondre ici (" not in text


class FakeAgent:
    def __init__(self, slots: Dict[str, Any]) -> None:
        self.nlg = ContentNLG()
        self.slots = slots

        class Store:
            async def retrieve(store, sender_id: str) -> DialogueStateTracker:  # noqa: N805
                return tracker(self.slots)

        self.tracker_store = Store()
        self.action_endpoint = None


async def say_nothing(message: UserMessage) -> None:
    return None


@pytest.mark.parametrize("status,safety_message", [("queued", True), ("active", False), (None, True)])
def test_the_guard_answers_a_silent_turn_unless_a_counsellor_has_the_conversation(
        registry, status: Optional[str], safety_message: bool) -> None:  # noqa: ANN001
    registry.set_status("c1", status)
    output = CollectingOutputChannel()
    asyncio.run(handle_safely(FakeAgent({"language": "fr"}), say_nothing, UserMessage("allô ?", output, "c1")))
    assert bool(output.messages) is safety_message
    if safety_message:
        assert "3018" in output.messages[0]["text"]
