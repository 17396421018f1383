"""Actions with real rasa-sdk Trackers and CollectingDispatchers (no servers)."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.flows import ActionGiveSteps, ActionStartFlow, steps_for
from bot.actions.forms import ValidateSextortionForm, parse_age, resolve_platform
from bot.actions.risk import ActionAssessRisk
from tests.conftest import ROOT

DOMAIN = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))


def tracker(slots: Dict[str, Any], text: str = "", intent: str = "inform", events: Optional[List[Dict]] = None,
            active_loop: Optional[str] = None) -> Tracker:
    all_slots = {name: None for name in DOMAIN["slots"]}
    all_slots.update({"risk_level": "low", "language": "fr", "human_offered": False})
    all_slots.update(slots)
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []}
    return Tracker("t", all_slots, latest, events or [{"event": "user", "text": text, "parse_data": latest}],
                   False, None, {"name": active_loop} if active_loop else {}, "action_listen")


def run(action, t: Tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, DOMAIN))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_form_validation_action_names_its_form() -> None:
    action = ValidateSextortionForm()
    assert action.name() == "validate_sextortion_form" and action.form_name() == "sextortion_form"


def test_skipped_question_is_not_asked_again() -> None:
    t = tracker({"requested_slot": "age", "safe_now": "yes"}, "je préfère ne pas dire", "skip", active_loop="sextortion_form")
    _, slots = run(ValidateSextortionForm(), t)
    assert slots["skipped_slots"] == ["age"]
    assert slots["requested_slot"] == "platform"  # the next unanswered question
    assert "age" not in asyncio.run(
        ValidateSextortionForm().required_slots(DOMAIN["forms"]["sextortion_form"]["required_slots"], CollectingDispatcher(),
                                               tracker({"skipped_slots": ["age"]}), DOMAIN))


def test_no_to_the_age_question_is_a_skip_not_an_answer() -> None:
    t = tracker({"requested_slot": "age", "safe_now": "yes"}, "non", "deny", active_loop="sextortion_form")
    _, slots = run(ValidateSextortionForm(), t)
    assert slots["skipped_slots"] == ["age"] and "safe_now" not in slots


def test_age_is_read_from_a_free_text_answer() -> None:
    t = tracker({"requested_slot": "age", "safe_now": "yes"}, "jai quatorze ans", active_loop="sextortion_form")
    _, slots = run(ValidateSextortionForm(), t)
    assert slots["age"] == 14.0
    assert parse_age("il a 13 ans") == 13 and parse_age("300 euros") is None


@pytest.mark.parametrize("text, platform", [("sur insta", "instagram"), ("Hangouts", "hangouts"), ("autre", "other"),
                                            ("google chat", "hangouts")])
def test_platform_answers_become_ids(text: str, platform: str) -> None:
    assert resolve_platform(text) == platform


def test_start_flow_keeps_what_the_first_message_said() -> None:
    events = [{"event": "user", "text": "j'ai déjà payé"}, {"event": "slot", "name": "paid", "value": "yes"}]
    t = tracker({"paid": "yes", "deadline": "yes", "age": 14}, events=events)
    _, slots = run(ActionStartFlow(), t)
    assert slots == {"deadline": None}


def test_steps_follow_the_branches() -> None:
    minor = steps_for("sextortion", {"paid": "yes", "posted": "no", "age": 14})
    assert minor[0] == "step_sextortion_paid" and "step_sextortion_posted" not in minor
    assert "step_sextortion_takeitdown" in minor and "step_sextortion_stopncii" not in minor
    assert minor.index("step_sextortion_evidence") < minor.index("step_sextortion_report") < minor.index("step_sextortion_block")
    adult = steps_for("sextortion", {"age": 19})
    assert "step_sextortion_stopncii" in adult and "step_sextortion_takeitdown" not in adult
    messages, _ = run(ActionGiveSteps(), tracker({"flow": "sextortion", "age": 19}))
    assert [m["response"] for m in messages] == adult


def test_risk_offers_a_person_once_when_high() -> None:
    messages, slots = run(ActionAssessRisk(), tracker({"flow": "sextortion", "age": 14}))
    assert slots["risk_level"] == "high" and "under_15" in slots["risk_reasons"]
    assert [m["response"] for m in messages] == ["utter_offer_human"] and slots["human_offered"] is True
    messages, slots = run(ActionAssessRisk(), tracker({"flow": "sextortion", "age": 14, "human_offered": True}))
    assert messages == []
    _, slots = run(ActionAssessRisk(), tracker({"risk_level": "critical", "flow": "cyberbullying"}))
    assert slots["risk_level"] == "critical"
