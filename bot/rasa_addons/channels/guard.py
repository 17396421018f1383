"""What every input channel does around the assistant, whatever the channel.

- Text starting with "/" is Rasa's intent syntax and skips NLU (and so the crisis
  net): it is accepted only if it is exactly a button payload the bot just offered;
  anything else is read as plain text.
- Only the channel that owns a conversation may write to it (`limits.may_write`).
- A turn always gets an answer: if the assistant failed (action server down or
  frozen, an exception) or said nothing, the safety message with the helpline and
  emergency numbers is added. The one exception is a conversation a counsellor has
  (`handoff_status` active), where the bot is meant to be quiet; a conversation whose
  case is only queued is answered by the bot, so silence there is a failure too.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import BotUttered

from bot.rasa_addons.channels.limits import (
    NEW_CASE_KEY, NEW_CASE_LIMITED, TURN_CLIENT, bounded_text, case_key, may_write, shared_limits,
)
from bot.rasa_addons.resilience import TURN_FAILURES, bound_action_endpoint

logger = logging.getLogger(__name__)

SAFETY_RESPONSE = "utter_technical_problem"
# The last resort, if even the content and the model's texts cannot be read.
LAST_RESORT = {
    "fr": "Désolé, j'ai un souci technique. Tu peux joindre le 3018 (gratuit, anonyme, 7j/7 de 9h à 23h, "
    "téléphone ou chat). En danger : 17 ou 112. Idées noires : 3114. Par SMS si tu ne peux pas parler : 114.",
    "en": "Sorry, I have a technical problem. You can reach 3018 (free, anonymous, 9am to 11pm every day, "
    "phone or chat). In danger: call 17 or 112. Dark thoughts: 3114. By text if you can't speak: 114.",
}


def offered_payloads(tracker: Any) -> List[str]:
    """Payloads of the buttons in the bot's latest message."""
    if tracker is None:
        return []
    for event in reversed(tracker.events):
        if isinstance(event, BotUttered):
            buttons = (event.data or {}).get("buttons") or []
            return [str(b.get("payload", "")) for b in buttons if isinstance(b, dict)]
    return []


async def neutralise_intent_syntax(text: Optional[str], sender_id: str, agent: Any) -> str:
    text = bounded_text(text)
    stripped = text.strip()
    if not stripped.startswith("/"):
        return text
    tracker = None
    try:
        tracker = await agent.tracker_store.retrieve(sender_id)
    except Exception:  # no tracker, no offered payload
        logger.exception("Could not read the tracker to check a '/' message")
    if stripped in offered_payloads(tracker):
        return stripped
    return stripped.lstrip("/").strip() or "?"


async def safety_message(agent: Any, sender_id: str, metadata: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    tracker = None
    try:
        tracker = await agent.tracker_store.retrieve(sender_id)
    except Exception:
        logger.exception("Could not read the tracker for the safety message")
    slots = tracker.current_slot_values() if tracker is not None else {}
    if isinstance(metadata, dict) and metadata.get("language") in LAST_RESORT:
        slots = dict(slots, language=metadata["language"])
    nlg = getattr(agent, "nlg", None)
    try:
        message = nlg.render(SAFETY_RESPONSE, slots) if hasattr(nlg, "render") else None
    except Exception:
        logger.exception("Could not render the safety message")
        message = None
    if not message or not message.get("text"):
        language = slots.get("language") if slots.get("language") in LAST_RESORT else "fr"
        message = {"text": LAST_RESORT[language]}
    return message


async def _with_a_person(agent: Any, sender_id: str) -> bool:
    """A counsellor has the conversation (`active`), so the bot's silence is on purpose."""
    from bot.rasa_addons.handoff.registry import HUMAN_MODE, shared_registry

    try:
        status = shared_registry().status(sender_id)
        if status is not None:
            return status == HUMAN_MODE
    except Exception:
        logger.exception("Could not read the handoff registry")
    try:
        tracker = await agent.tracker_store.retrieve(sender_id)
        return tracker is not None and tracker.get_slot("handoff_status") == HUMAN_MODE
    except Exception:
        return False


def messages_sent(output: Any) -> int:
    """How many messages an output channel has sent: the project's channels count them
    (`sent`); Rasa's collecting channel keeps them."""
    if isinstance(output, CollectingOutputChannel):
        return len(output.messages)
    return int(getattr(output, "sent", 0))


def _case_open(sender_id: str) -> bool:
    from bot.rasa_addons.handoff.registry import shared_registry

    try:
        return shared_registry().case_open(sender_id)
    except Exception:
        return False


async def handle_safely(agent: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage,
                        address: Optional[str] = None) -> None:
    """Run one user turn; add the safety message, through the turn's own output
    channel, if the turn failed or produced nothing. A channel that does not own the
    conversation is refused here, whatever the channel checked before."""
    channel = str(message.input_channel or "")
    if not await may_write(agent, message.sender_id, channel):
        return
    if address is not None and not _case_open(message.sender_id) and shared_limits().cases.full(case_key(address, channel)):
        # The client's new-case cap is reached: the assistant answers (a crisis gets its number)
        # but opens no case; the broker alerts the supervisors if the turn tries to.
        message.metadata = dict(message.metadata or {}, **{NEW_CASE_KEY: NEW_CASE_LIMITED})
    if agent is not None:
        bound_action_endpoint(agent)
    output = message.output_channel
    failures: List[str] = []
    token = TURN_FAILURES.set(failures)
    client_token = TURN_CLIENT.set({"address": address, "channel": channel, "case_allowed": None})
    before = messages_sent(output)
    try:
        await on_new_message(message)
    except Exception:
        logger.exception("The assistant failed on a message")
        failures.append("exception")
    finally:
        TURN_FAILURES.reset(token)
        TURN_CLIENT.reset(client_token)
    silent = messages_sent(output) == before
    quiet_on_purpose = not failures and silent and await _with_a_person(agent, message.sender_id)
    if (failures or silent) and not quiet_on_purpose:
        logger.warning("Turn answered with the safety message (failures: %s)", ", ".join(failures) or "no reply")
        await output.send_response(message.sender_id, await safety_message(agent, message.sender_id, message.metadata))
