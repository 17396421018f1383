"""Rasa's NLG, served from `content/` live (configured in endpoints.yml).

In-process, so there is no network hop to wait for and nothing to freeze: a text
edit is live within a second (the store checks files every 0.5 s); a broken edit is
refused and the last good content is served; if the content never loaded, the texts
packaged in the model (domain responses, see importer.py) answer instead.

The disclosure (automated assistant, anonymous, limits of confidentiality) is put at
the top of the first message of every conversation session, on every channel. A
crisis answer is never delayed by it: the disclosure then goes with the next message.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel
from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.content_store import render, shared_store
from bot.content_store.render import RUNTIME_FIELDS
from bot.content_store.export import render_packaged

logger = logging.getLogger(__name__)

INTRO = "utter_intro"
# Answers that must come first and alone (at most three lines): no disclosure on top.
NO_INTRO = {
    "utter_crisis", "utter_not_safe", "utter_ask_safe_at_home", "utter_technical_problem", INTRO,
    # sent on a counsellor's action, inside a conversation that already started
    "utter_handoff_joined", "utter_handoff_closed",
}


class ContentNLG(NaturalLanguageGenerator):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None, **_: Any) -> None:
        self.store = shared_store()
        self.packaged = dict(domain.responses) if domain is not None else {}
        self.store.snapshot()  # load now, so the first user does not wait for it

    async def generate(
        self, utter_action: Text, tracker: DialogueStateTracker, output_channel: Text, **kwargs: Any
    ) -> Optional[Dict[Text, Any]]:
        slots = tracker.current_slot_values()
        # Values an action passes with the response (utter_message(response=..., wait_minutes=5)).
        slots.update({key: kwargs[key] for key in RUNTIME_FIELDS if key in kwargs})
        message = self.render(utter_action, slots)
        if message is None:
            logger.warning("No text for response %s", utter_action)
            return None
        if utter_action not in NO_INTRO and not _said_anything_this_session(tracker):
            intro = self.render(INTRO, slots)
            if intro and intro.get("text"):
                message = dict(message, text=f"{intro['text']}\n\n{message.get('text', '')}".strip())
        return message

    def render(self, name: str, slots: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        try:
            snapshot = self.store.snapshot()
            if snapshot is not None:
                message = render(snapshot, name, slots)
                if message is not None:
                    return message
        except Exception:  # a content bug must never silence the assistant
            logger.exception("Rendering %s from live content failed; using packaged texts", name)
        return render_packaged(self.packaged, name, slots)


def _said_anything_this_session(tracker: DialogueStateTracker) -> bool:
    for event in reversed(tracker.events):
        if isinstance(event, BotUttered) and (event.text or event.data):
            return True
        if isinstance(event, SessionStarted):
            return False
    return False
