"""Validation of the guided questions (one FormValidationAction per form).

Every question can be skipped ("je sais pas", "je préfère ne pas dire"): the slot
goes to `skipped_slots` and is not asked again in this flow.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from bot.actions.slots import AGE, PLATFORM, REQUESTED, SKIPPED
from bot.content_store import shared_store
from bot.safety.context import AGE_RANGE, _NUMBER_WORDS, detect_platform
from bot.safety.normalize import fold, normalize

OTHER_PLATFORM = "other"
FREE_ANSWER_SLOTS = (AGE, PLATFORM)


def parse_age(text: str) -> Optional[int]:
    """An age in an answer: "14", "14 ans", "quatorze", "il a 13 ans", "she's 12"."""
    folded = fold(text)
    numbers = [int(n) for n in re.findall(r"\b(\d{1,2})\b", folded)]
    for phrase, value in sorted(_NUMBER_WORDS.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"\b{phrase}\b", folded):
            numbers.append(value)
            break
    plausible = [n for n in numbers if AGE_RANGE[0] <= n <= AGE_RANGE[1]]
    return plausible[0] if plausible else None


def resolve_platform(value: Any) -> Optional[str]:
    if not value:
        return None
    snapshot = shared_store().snapshot()
    aliases = snapshot.platform_aliases if snapshot else {}
    if str(value) in (snapshot.platforms if snapshot else {}):
        return str(value)
    found = detect_platform(normalize(str(value)), aliases)
    return found or OTHER_PLATFORM


class FlowFormValidation(FormValidationAction):
    """Shared behaviour; subclasses only name their form (`form`).

    (Not `form_name`: that is rasa-sdk's method, which reads the form from `name()`.)
    """

    form = ""

    def name(self) -> Text:
        return f"validate_{self.form}"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        skipped = set(tracker.get_slot(SKIPPED) or [])
        return [slot for slot in domain_slots if slot not in skipped]

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        events: List[Dict[Text, Any]] = []
        requested = tracker.get_slot(REQUESTED)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        # "non" to "how old are you?" or "which app?" means "I won't say": a skip. (For
        # yes/no questions "non" is an answer, mapped in the domain.)
        skipping = intent == "skip" or (intent == "deny" and requested in FREE_ANSWER_SLOTS)
        if requested and skipping and tracker.get_slot(requested) in (None, "unknown"):
            skipped = list(dict.fromkeys(list(tracker.get_slot(SKIPPED) or []) + [requested]))
            events.append(SlotSet(SKIPPED, skipped))
            tracker.slots[SKIPPED] = skipped  # so that required_slots sees it in this same run
        return events + await super().run(dispatcher, tracker, domain)

    async def extract_age(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if tracker.get_slot(REQUESTED) != AGE or tracker.get_slot(AGE) is not None:
            return {}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent in ("skip", "crisis", "crisis_check"):
            return {}
        age = parse_age(tracker.latest_message.get("text") or "")
        return {AGE: age} if age is not None else {}

    def validate_age(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        try:
            age = float(value)
        except (TypeError, ValueError):
            age = parse_age(str(value))
        if age is None or not (AGE_RANGE[0] <= age <= 99):
            return {AGE: None}
        return {AGE: float(int(age))}

    def validate_platform(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return {PLATFORM: resolve_platform(value)}


class ValidateSextortionForm(FlowFormValidation):
    form = "sextortion_form"


class ValidateSharingForm(FlowFormValidation):
    form = "sharing_form"


class ValidateGroomingForm(FlowFormValidation):
    form = "grooming_form"


class ValidateReportForm(FlowFormValidation):
    form = "report_form"


class ValidateCyberbullyingForm(FlowFormValidation):
    form = "cyberbullying_form"


class ValidateHackedForm(FlowFormValidation):
    form = "hacked_form"
