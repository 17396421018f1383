"""Hand the conversation to a counsellor (docs/handoff.md).

`action_request_human` opens the case by setting `handoff_status` to "queued" (the
event broker carries it to the desk, through a durable outbox, so a case opened while
the desk is down is not lost) and tells the person honestly what happens next:
- counsellors on duty and online: someone will answer here, with a rough wait;
- on duty but nobody online yet: someone will answer as soon as possible;
- outside opening hours: when counsellors are back, and the 24/7 numbers for now;
- desk unreachable: the helpline's phone and chat and the emergency numbers at once.
When the client's new-case cap is reached (a flood from one address; the channel guard marks
the message `metadata.new_case = "limited"`), no case is opened: the person gets the safety
message (the helpline and the emergency numbers); a crisis has had its own answer already.
The estimated wait, when the desk gave one, is kept in `handoff_wait_minutes`: while the
case is queued the bot goes on answering, each turn opening with a line saying a person
is coming, with that wait (content NLG).
"""
from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any, Dict, List, Optional, Text

import aiohttp
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.slots import HANDOFF_STATUS, HANDOFF_WAIT, HUMAN_OFFERED, LANGUAGE
from bot.content_store.hours import Hours, describe_opening
from bot.content_store.hours import current_hours as counsellor_hours

logger = logging.getLogger(__name__)

FEEDBACK = "feedback"
FEEDBACK_VALUES = {"affirm": "helpful", "deny": "not_helpful", "skip": "skipped"}
# Well under the action-server timeout (ACTION_SERVER_TIMEOUT, 3 s), so a frozen desk
# still leaves time to answer with the numbers.
STATUS_TIMEOUT_SECONDS = 1.0
# Set by the Rasa channels' guard (bot/rasa_addons/channels/limits.py) when no case may be opened.
NEW_CASE_KEY, NEW_CASE_LIMITED = "new_case", "limited"
NO_CASE_RESPONSE = "utter_technical_problem"


async def desk_status() -> Optional[Dict[str, Any]]:
    """The desk's live status, or None if it does not answer in time."""
    url = os.environ.get("DESK_URL", "http://127.0.0.1:8081").rstrip("/") + "/api/status"
    # The status-only token: the action server never holds the desk's API token.
    headers = {"Authorization": f"Bearer {os.environ.get('DESK_STATUS_TOKEN', '')}"}
    try:
        timeout = aiohttp.ClientTimeout(total=STATUS_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(url, headers=headers) as response:
                if response.status != 200:
                    logger.warning("Desk status: HTTP %d", response.status)
                    return None
                data = await response.json()
                return data if isinstance(data, dict) else None
    except Exception as error:
        logger.warning("Desk status unavailable: %s", type(error).__name__)
        return None


def choose_answer(status: Optional[Dict[str, Any]], hours: Hours, now: dt.datetime, language: str) -> Dict[str, Any]:
    """Which response tells the person what happens next, with its values."""
    if not hours.is_open(now):
        return {"response": "utter_handoff_closed_hours",
                "next_opening": describe_opening(hours.next_opening(now), now, language)}
    if status is None:
        return {"response": "utter_handoff_desk_unreachable"}
    if int(status.get("counsellors_online") or 0) <= 0:
        return {"response": "utter_handoff_queued_nobody"}
    wait = max(1, int(status.get("estimated_wait_minutes") or 5))
    return {"response": "utter_handoff_queued", "wait_minutes": wait}


class ActionRequestHuman(Action):
    def name(self) -> Text:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        metadata = (tracker.latest_message or {}).get("metadata") or {}
        if isinstance(metadata, dict) and metadata.get(NEW_CASE_KEY) == NEW_CASE_LIMITED:
            dispatcher.utter_message(response=NO_CASE_RESPONSE)
            return [SlotSet(HUMAN_OFFERED, True)]
        language = tracker.get_slot(LANGUAGE) or "fr"
        now = dt.datetime.now(dt.timezone.utc)
        hours = counsellor_hours()
        status = await desk_status() if hours.is_open(now) else None
        answer = choose_answer(status, hours, now, language)
        dispatcher.utter_message(**answer)
        events: List[Dict[str, Any]] = [
            SlotSet(HANDOFF_STATUS, "queued"), SlotSet(HANDOFF_WAIT, answer.get("wait_minutes")),
            SlotSet(HUMAN_OFFERED, True), SlotSet(FEEDBACK, None),
        ]
        if tracker.active_loop.get("name"):
            events.insert(0, ActiveLoop(None))  # the questions stop: a person takes over
        return events


class ActionRecordFeedback(Action):
    """The one optional question after a closed case: was it helpful?"""

    def name(self) -> Text:
        return "action_record_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        value = FEEDBACK_VALUES.get(intent, "skipped")
        dispatcher.utter_message(response="utter_feedback_thanks")
        # The next time risk is high, a person is offered again.
        return [SlotSet(FEEDBACK, value), SlotSet(HUMAN_OFFERED, False)]
