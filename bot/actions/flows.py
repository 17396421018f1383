"""Start a flow, and give its steps in the order the editors wrote (content/flows/)."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.slots import PER_FLOW_ANSWERS
from bot.content_store import shared_store
from bot.content_store.render import matches


def _set_this_turn(tracker: Tracker) -> set:
    """Slots set since the user's latest message (e.g. "j'ai déjà payé" in the first message)."""
    names = set()
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "slot":
            names.add(event.get("name"))
    return names


class ActionStartFlow(Action):
    def name(self) -> Text:
        return "action_start_flow"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        # Age, platform, role and language carry over; answers about the previous
        # problem do not, unless the user just gave them in this message.
        fresh = _set_this_turn(tracker)
        return [SlotSet(slot, None) for slot in PER_FLOW_ANSWERS if slot not in fresh and tracker.get_slot(slot) is not None]


def steps_for(flow: str, slots: Dict[str, Any]) -> List[str]:
    snapshot = shared_store().snapshot()
    if snapshot is None or flow not in snapshot.flows:
        return []
    return [step.response for step in snapshot.flows[flow].steps if matches(step.when, slots)]


class ActionGiveSteps(Action):
    def name(self) -> Text:
        return "action_give_steps"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        flow = tracker.get_slot("flow")
        for response in steps_for(flow, dict(tracker.slots)) if flow else []:
            dispatcher.utter_message(response=response)
        return []
