"""Reading a Rasa tracker the way the dialogue policies need it.

Everything here is read "as at the user's latest message" (events before it, and that
message's own NLU result), never from what the policies and actions of the current
turn have done since: a policy is asked again before each action of a turn, and must
compute the same plan every time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, Restarted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue.planner import SAFETY_CLARIFY, SAFETY_SLOTS, question_of
from bot.rasa_addons.nlu.crisis_detector import CLASSIFIER_ONLY

# Actions Rasa runs by itself around a user message: not part of the bot's answer.
BOOKKEEPING = {ACTION_LISTEN_NAME, "action_extract_slots", "action_session_start"}
# The gentle check-in after a phrase that may hide abuse asks the same as a safety question.
QUESTION_ALIASES = {"utter_ask_safe_at_home": "safe_at_home"}


def latest_user_index(tracker: DialogueStateTracker) -> Optional[int]:
    for index in range(len(tracker.events) - 1, -1, -1):
        if isinstance(tracker.events[index], UserUttered):
            return index
    return None


def _runs_this_turn(tracker: DialogueStateTracker) -> List[ActionExecuted]:
    """The actions run since the user's latest message (Rasa's own bookkeeping left out)."""
    index = latest_user_index(tracker)
    if index is None:
        return []
    return [
        e for e in list(tracker.events)[index + 1:]
        if isinstance(e, ActionExecuted) and e.action_name and e.action_name not in BOOKKEEPING
    ]


def actions_this_turn(tracker: DialogueStateTracker) -> List[str]:
    """The actions run since the user's latest message (Rasa's own bookkeeping left out)."""
    return [e.action_name for e in _runs_this_turn(tracker)]


def policies_this_turn(tracker: DialogueStateTracker) -> List[str]:
    """Which policy predicted each action run since the user's latest message."""
    return [e.policy or "" for e in _runs_this_turn(tracker)]


def slot_before_turn(tracker: DialogueStateTracker, name: str, default: Any = None) -> Any:
    """The slot's value just before the user's latest message."""
    index = latest_user_index(tracker)
    events = list(tracker.events)[:index] if index is not None else list(tracker.events)
    for event in reversed(events):
        if isinstance(event, SlotSet) and event.key == name:
            return event.value
        if isinstance(event, Restarted):
            return default
    return default


def question_asked_by(action: str) -> Optional[str]:
    return QUESTION_ALIASES.get(action) or question_of(action)


def pending_question(tracker: DialogueStateTracker) -> Optional[str]:
    """The question the bot ended its previous turn with (None if it ended otherwise)."""
    action = last_bot_action_before_turn(tracker)
    if not action:
        return None
    if action == SAFETY_CLARIFY:
        return _clarified_slot(list(tracker.events), latest_user_index(tracker) or 0)
    return question_asked_by(action)


def _clarified_slot(events: List[Any], before: int) -> Optional[str]:
    for event in reversed(events[:before]):
        if isinstance(event, ActionExecuted) and event.action_name != SAFETY_CLARIFY:
            slot = question_asked_by(event.action_name or "")
            if slot in SAFETY_SLOTS:
                return slot
    return "safe_now"


def last_bot_action_before_turn(tracker: DialogueStateTracker) -> Optional[str]:
    index = latest_user_index(tracker)
    if index is None:
        return None
    for event in reversed(list(tracker.events)[:index]):
        if isinstance(event, UserUttered):
            return None
        if isinstance(event, ActionExecuted) and event.action_name not in BOOKKEEPING:
            return event.action_name
    return None


@dataclass
class FlowHistory:
    """What happened in the current flow before the user's latest message."""

    asked: Dict[str, int] = field(default_factory=dict)
    steps_given: List[str] = field(default_factory=list)
    user_turns: int = 0  # before the latest message
    messages_in_session: int = 0


def flow_history(tracker: DialogueStateTracker, flow: Optional[str]) -> FlowHistory:
    history = FlowHistory()
    index = latest_user_index(tracker)
    events = list(tracker.events)[:index] if index is not None else list(tracker.events)
    in_flow = False
    for position, event in enumerate(events):
        if isinstance(event, (SessionStarted, Restarted)):
            history.messages_in_session = 0
        if isinstance(event, Restarted):
            in_flow, history = False, FlowHistory()
        if isinstance(event, SlotSet) and event.key == "flow":
            if event.value != flow or not in_flow:
                # The flow is set in the turn of the message that started it: that turn counts.
                history = FlowHistory(messages_in_session=history.messages_in_session, user_turns=1)
            in_flow = event.value == flow and flow is not None
        elif isinstance(event, BotUttered):
            history.messages_in_session += 1
            if in_flow:
                history.steps_given += list((event.metadata or {}).get("steps") or [])
        elif isinstance(event, ActionExecuted):
            slot = question_asked_by(event.action_name or "")
            if event.action_name == SAFETY_CLARIFY:
                slot = _clarified_slot(events, position)
            # The safety questions count with or without a flow (the check-in comes outside one).
            if slot and (in_flow or slot in SAFETY_SLOTS):
                history.asked[slot] = history.asked.get(slot, 0) + 1
        elif in_flow and isinstance(event, UserUttered):
            history.user_turns += 1
    return history


def intents_seen(tracker: DialogueStateTracker) -> List[str]:
    """The intents of the user's messages, for the risk rules. A crisis read by the classifier
    alone got a clarifying question, not the emergency answer: it is not a crisis until the
    person confirms it (the CrisisPolicy then records the reason itself)."""
    return [
        (e.intent or {}).get("name") for e in tracker.events
        if isinstance(e, UserUttered) and e.intent
        and not ((e.intent or {}).get("name") == "crisis" and read_by_classifier_alone(e))
    ]


def read_by_classifier_alone(message: Optional[UserUttered]) -> bool:
    """A crisis the trained classifier read with no lexicon cue (crisis_detector.CLASSIFIER_ONLY)."""
    kinds = [e.get("value") for e in (message.entities if message else None) or [] if e.get("entity") == "crisis_type"]
    return bool(kinds) and all(kind == CLASSIFIER_ONLY for kind in kinds)


def message_entities(tracker: DialogueStateTracker, names: Any) -> Dict[str, Any]:
    """Facts the latest message revealed by itself (entities), whatever the question."""
    found: Dict[str, Any] = {}
    for entity in (tracker.latest_message.entities if tracker.latest_message else []) or []:
        if entity.get("entity") in names and entity.get("value") is not None:
            found[entity["entity"]] = entity["value"]
    return found
