"""Rasa's NLG, served from `content/` live (configured in endpoints.yml).

In-process, so there is no network hop to wait for and nothing to freeze: a text
edit is live within a second (the store checks files every 0.5 s); a broken edit is
refused and the last good content is served; if the content never loaded, the texts
packaged in the model (domain responses, see importer.py) answer instead.

The disclosure (automated assistant, anonymous, limits of confidentiality) is put at
the top of the first message of every conversation session, on every channel. A
crisis answer is never delayed by it: the disclosure then goes with the next message.

While the person's case waits for a counsellor (`handoff_status` queued), the bot goes
on answering, and the first message of each turn opens with one short line saying a
person is coming, with the estimated wait when known (after the disclosure, when both
are due). Never on top of a crisis answer, nor of a message about the handoff itself.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any, Dict, Optional, Text, Tuple

from rasa.core.channels.channel import OutputChannel
from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.content_store import render, shared_store
from bot.content_store.render import RUNTIME_FIELDS
from bot.content_store.export import render_packaged
from bot.rasa_addons.flow_texts import flow_message

logger = logging.getLogger(__name__)

INTRO = "utter_intro"
# Answers that must come first and alone (at most three lines): no disclosure on top.
NO_INTRO = {
    "utter_crisis", "utter_not_safe", "utter_ask_safe_at_home", "utter_technical_problem", INTRO,
    # sent on a counsellor's action, inside a conversation that already started
    "utter_handoff_joined", "utter_handoff_closed",
}
QUEUE_REMINDER = "utter_queue_reminder"  # with the estimated wait ({wait_minutes})
QUEUE_REMINDER_NO_WAIT = "utter_queue_reminder_no_wait"
WAIT_SLOT = "handoff_wait_minutes"  # set by action_request_human when the desk gave an estimate
# Messages that already speak of the handoff: no reminder on top.
ABOUT_THE_HANDOFF = {
    "utter_handoff_queued", "utter_handoff_queued_nobody", "utter_handoff_closed_hours",
    "utter_handoff_desk_unreachable", "utter_handoff_queue_closing", QUEUE_REMINDER, QUEUE_REMINDER_NO_WAIT,
}
REMEMBERED_TURNS = 10000


class ContentNLG(NaturalLanguageGenerator):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None, **_: Any) -> None:
        self.store = shared_store()
        self.packaged = dict(domain.responses) if domain is not None else {}
        self.store.snapshot()  # load now, so the first user does not wait for it
        # The turns whose first message was already generated (an action may send several
        # messages before any of them is in the tracker): (conversation, user message time).
        self._turns_started: "OrderedDict[Tuple[str, float], None]" = OrderedDict()

    async def generate(
        self, utter_action: Text, tracker: DialogueStateTracker, output_channel: Text, **kwargs: Any
    ) -> Optional[Dict[Text, Any]]:
        slots = tracker.current_slot_values()
        # Values an action passes with the response (utter_message(response=..., wait_minutes=5)).
        slots.update({key: kwargs[key] for key in RUNTIME_FIELDS if key in kwargs})
        message = self.compose(utter_action, tracker, slots) or self.render(utter_action, slots)
        if message is None:
            logger.warning("No text for response %s", utter_action)
            return None
        first_of_turn = self._first_of_turn(tracker)
        if first_of_turn and utter_action not in NO_INTRO | ABOUT_THE_HANDOFF and _case_queued(tracker):
            reminder = self.queue_reminder(slots)
            if reminder:
                message = dict(message, text=f"{reminder}\n\n{message.get('text', '')}".strip())
        if utter_action not in NO_INTRO and not _said_anything_this_session(tracker):
            intro = self.render(INTRO, slots)
            if intro and intro.get("text"):
                message = dict(message, text=f"{intro['text']}\n\n{message.get('text', '')}".strip())
        return message

    def queue_reminder(self, slots: Dict[str, Any]) -> Optional[str]:
        """The line saying a person is coming, with the wait when the desk gave one."""
        wait = slots.get(WAIT_SLOT)
        if isinstance(wait, (int, float)) and not isinstance(wait, bool) and wait > 0:
            reminder = self.render(QUEUE_REMINDER, dict(slots, wait_minutes=max(1, round(wait))))
        else:
            reminder = self.render(QUEUE_REMINDER_NO_WAIT, slots)
        return (reminder or {}).get("text") or None

    def _first_of_turn(self, tracker: DialogueStateTracker) -> bool:
        """True for the first message generated since the user's latest message."""
        for event in reversed(tracker.events):
            if isinstance(event, BotUttered):
                return False
            if isinstance(event, UserUttered):
                turn = (tracker.sender_id, event.timestamp)
                if turn in self._turns_started:
                    return False
                self._turns_started[turn] = None
                while len(self._turns_started) > REMEMBERED_TURNS:
                    self._turns_started.popitem(last=False)
                return True
        return False  # no user message: sent on the desk's request (a claim, a close)

    def compose(self, name: str, tracker: DialogueStateTracker, slots: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """The flows' composed texts: the advice in parts, a question asked again."""
        try:
            return flow_message(name, tracker, slots, self.store.snapshot(), self.render)
        except Exception:  # a content bug must never silence the assistant
            logger.exception("Composing %s failed", name)
            return None

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


def _case_queued(tracker: DialogueStateTracker) -> bool:
    from bot.rasa_addons.policies.crisis_policy import handoff_state

    return handoff_state(tracker) == "queued"


def _said_anything_this_session(tracker: DialogueStateTracker) -> bool:
    for event in reversed(tracker.events):
        if isinstance(event, BotUttered) and (event.text or event.data):
            return True
        if isinstance(event, SessionStarted):
            return False
    return False
