"""The crisis policy's decisions on real Rasa trackers."""
from __future__ import annotations

from typing import List, Optional

from rasa.shared.core.constants import ACTION_DEACTIVATE_LOOP_NAME, ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_addons.policies.crisis_policy import critical_events, next_crisis_action


def tracker(intent: str, after_user: Optional[List] = None, loop: Optional[str] = None) -> DialogueStateTracker:
    events = [ActionExecuted(ACTION_LISTEN_NAME)]
    if loop:
        events = [ActiveLoop(loop)] + events
    events.append(UserUttered("…", {"name": intent, "confidence": 1.0}))
    return DialogueStateTracker.from_events("t", events + (after_user or []))


def test_crisis_first_then_end_the_form_then_a_counsellor_then_listen() -> None:
    assert next_crisis_action(tracker("crisis", loop="sextortion_form")) == "utter_crisis"
    t = tracker("crisis", [ActionExecuted("utter_crisis")], loop="sextortion_form")
    assert next_crisis_action(t) == ACTION_DEACTIVATE_LOOP_NAME
    done = [ActionExecuted("utter_crisis"), ActionExecuted(ACTION_DEACTIVATE_LOOP_NAME), ActiveLoop(None)]
    t = tracker("crisis", done, loop="sextortion_form")
    assert next_crisis_action(t) == "action_request_human"
    t = tracker("crisis", done + [ActionExecuted("action_request_human")], loop="sextortion_form")
    assert next_crisis_action(t) == ACTION_LISTEN_NAME


def test_crisis_without_form_answers_then_asks_a_counsellor_then_listens() -> None:
    assert next_crisis_action(tracker("crisis", [ActionExecuted("utter_crisis")])) == "action_request_human"
    t = tracker("crisis", [ActionExecuted("utter_crisis"), ActionExecuted("action_request_human")])
    assert next_crisis_action(t) == ACTION_LISTEN_NAME


def test_not_safe_answer_is_an_emergency() -> None:
    t = tracker("deny", [SlotSet("safe_now", "no")], loop="sextortion_form")
    assert next_crisis_action(t) == "utter_not_safe"
    assert next_crisis_action(tracker("deny", [SlotSet("safe_now", "yes")], loop="sextortion_form")) is None


def test_check_in_ends_other_forms_then_asks() -> None:
    assert next_crisis_action(tracker("crisis_check")) == "safety_form"
    assert next_crisis_action(tracker("crisis_check", loop="grooming_form")) == ACTION_DEACTIVATE_LOOP_NAME
    t = tracker("crisis_check", [ActionExecuted(ACTION_DEACTIVATE_LOOP_NAME)], loop="grooming_form")
    assert next_crisis_action(t) == "safety_form"
    assert next_crisis_action(tracker("crisis_check", [ActionExecuted("safety_form")])) is None


def test_ordinary_messages_are_left_to_the_other_policies() -> None:
    assert next_crisis_action(tracker("greet")) is None
    assert next_crisis_action(tracker("sextortion", loop="sextortion_form")) is None


def test_emergency_answers_set_risk_critical_with_the_reason() -> None:
    events = critical_events(tracker("crisis"), "utter_crisis")
    assert {(e.key, str(e.value)) for e in events} == {("risk_level", "critical"), ("risk_reasons", "['crisis']")}
    assert critical_events(tracker("crisis_check"), "safety_form") == []
