"""Keep risk_level and its reasons; offer a person when it is high."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.slots import HUMAN_OFFERED, RISK_LEVEL, RISK_REASONS
from bot.safety.risk import LEVELS, assess


def intents_seen(tracker: Tracker) -> List[str]:
    return [
        (e.get("parse_data") or {}).get("intent", {}).get("name")
        for e in tracker.events
        if e.get("event") == "user"
    ]


class ActionAssessRisk(Action):
    def name(self) -> Text:
        return "action_assess_risk"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        level, reasons = assess(dict(tracker.slots), intents_seen(tracker))
        events = [SlotSet(RISK_LEVEL, level), SlotSet(RISK_REASONS, reasons)]
        if LEVELS.index(level) >= LEVELS.index("high") and not tracker.get_slot(HUMAN_OFFERED):
            dispatcher.utter_message(response="utter_offer_human")
            events.append(SlotSet(HUMAN_OFFERED, True))
        return events
