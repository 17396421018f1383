"""The crisis policy's decisions on real Rasa trackers."""
from __future__ import annotations

from typing import List, Optional

from rasa.shared.core.constants import ACTION_DEACTIVATE_LOOP_NAME, ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_addons.policies.crisis_policy import critical_events, next_crisis_action


def tracker(
    intent: str, after_user: Optional[List] = None, loop: Optional[str] = None, text: str = "…", asked: Optional[str] = None
) -> DialogueStateTracker:
    """A conversation whose latest message is `text` (`intent`), after the bot's question `asked`."""
    events = [ActionExecuted(asked)] if asked else []
    events.append(ActionExecuted(ACTION_LISTEN_NAME))
    if loop:
        events = [ActiveLoop(loop)] + events
    events.append(UserUttered(text, {"name": intent, "confidence": 1.0}))
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


def test_an_unambiguous_not_safe_to_the_safety_question_is_an_emergency() -> None:
    for text in ("non", "Non.", "pas vraiment", "nope", "not really"):
        t = tracker("deny", text=text, asked="utter_ask_safe_now")
        assert next_crisis_action(t) == "utter_not_safe", text
        events = critical_events(t, "utter_not_safe")
        assert ("safe_now", "no") in [(e.key, e.value) for e in events]
    assert next_crisis_action(tracker("deny", text="/deny", asked="utter_reask_safe_now")) == "utter_not_safe"
    assert next_crisis_action(tracker("deny", text="non", asked="utter_ask_safe_at_home")) == "utter_not_safe"


def test_non_followed_by_other_content_is_not_a_danger_cue() -> None:
    for text in ("non j'ai rien payé", "nan c'etait sur insta", "no he hasn't posted anything"):
        assert next_crisis_action(tracker("deny", text=text, asked="utter_ask_safe_now")) is None, text
    # A bare "non" to any other question is an answer, not an emergency.
    assert next_crisis_action(tracker("deny", text="non", asked="utter_ask_paid")) is None
    assert next_crisis_action(tracker("deny", text="non", asked="utter_ask_wellbeing")) is None
    assert next_crisis_action(tracker("affirm", text="oui", asked="utter_ask_safe_now")) is None


def test_check_in_ends_any_form_then_asks_then_listens() -> None:
    assert next_crisis_action(tracker("crisis_check")) == "utter_ask_safe_at_home"
    assert next_crisis_action(tracker("crisis_check", loop="grooming_form")) == ACTION_DEACTIVATE_LOOP_NAME
    t = tracker("crisis_check", [ActionExecuted(ACTION_DEACTIVATE_LOOP_NAME), ActiveLoop(None)], loop="grooming_form")
    assert next_crisis_action(t) == "utter_ask_safe_at_home"
    assert next_crisis_action(tracker("crisis_check", [ActionExecuted("utter_ask_safe_at_home")])) == ACTION_LISTEN_NAME


def test_ordinary_messages_are_left_to_the_other_policies() -> None:
    assert next_crisis_action(tracker("greet")) is None
    assert next_crisis_action(tracker("sextortion", loop="sextortion_form")) is None


def test_emergency_answers_set_risk_critical_with_the_reason() -> None:
    events = critical_events(tracker("crisis"), "utter_crisis")
    assert {(e.key, str(e.value)) for e in events} == {("risk_level", "critical"), ("risk_reasons", "['crisis']")}
    assert critical_events(tracker("crisis_check"), "utter_ask_safe_at_home") == []


def classifier_only(asked: Optional[str] = None, text: str = "she's scared of retaliation", after_user=None) -> DialogueStateTracker:
    """A crisis read by the classifier alone: intent crisis, crisis_type "unknown", no lexicon cue."""
    events = [ActionExecuted(asked)] if asked else []
    events += [ActionExecuted(ACTION_LISTEN_NAME),
               UserUttered(text, {"name": "crisis", "confidence": 1.0},
                           [{"entity": "crisis_type", "value": "unknown", "start": 0, "end": len(text)}])]
    return DialogueStateTracker.from_events("t", events + (after_user or []))


def test_the_classifier_alone_gets_one_clarifying_question_with_the_numbers_not_the_emergency_answer() -> None:
    t = classifier_only(asked="utter_ask_age")
    assert next_crisis_action(t) == "utter_crisis_clarify"
    assert critical_events(t, "utter_crisis_clarify") == []  # a question: risk is not raised by it
    assert next_crisis_action(classifier_only(after_user=[ActionExecuted("utter_crisis_clarify")])) == ACTION_LISTEN_NAME
    # a form that was running ends before the question, as before the check-in
    events = [ActiveLoop("sextortion_form"), ActionExecuted(ACTION_LISTEN_NAME),
              UserUttered("…", {"name": "crisis", "confidence": 1.0}, [{"entity": "crisis_type", "value": "unknown"}])]
    assert next_crisis_action(DialogueStateTracker.from_events("t", events)) == ACTION_DEACTIVATE_LOOP_NAME
    # a lexicon cue stays the emergency answer at once
    cue = DialogueStateTracker.from_events("t", [ActionExecuted(ACTION_LISTEN_NAME), UserUttered(
        "je veux mourir", {"name": "crisis", "confidence": 1.0}, [{"entity": "crisis_type", "value": "suicide"}])])
    assert next_crisis_action(cue) == "utter_crisis"


def test_yes_or_unsure_to_the_clarifying_question_is_the_emergency_answer_and_no_goes_back() -> None:
    for text, intent in (("oui", "affirm"), ("ouais un peu", "affirm"), ("yes", "affirm"), ("jsp", "nlu_fallback"),
                         ("/affirm", "affirm"), ("bof", "nlu_fallback")):
        t = tracker(intent, text=text, asked="utter_crisis_clarify")
        assert next_crisis_action(t) == "utter_crisis", text
        assert ("risk_level", "critical") in [(e.key, e.value) for e in critical_events(t, "utter_crisis")]
    for text, intent in (("non", "deny"), ("non c'est pas ça, je veux juste signaler", "deny"), ("/deny", "deny"),
                         ("ok", "affirm"), ("ok merci", "thanks"), ("passe", "skip")):
        assert next_crisis_action(tracker(intent, text=text, asked="utter_crisis_clarify")) is None, text
    # a second alarming message right after the question: the emergency answer, even from the classifier alone
    assert next_crisis_action(classifier_only(asked="utter_crisis_clarify")) == "utter_crisis"


def test_with_a_counsellor_the_classifier_alone_alerts_them_as_a_crisis() -> None:
    t = classifier_only()
    assert next_crisis_action(t, human_mode=True) == ACTION_LISTEN_NAME
    events = critical_events(t, ACTION_LISTEN_NAME, human_mode=True)
    assert ("risk_level", "critical") in [(e.key, e.value) for e in events]
    assert ("risk_reasons", ["crisis"]) in [(e.key, e.value) for e in events]


def grooming_message(text: str, household: bool, flow: Optional[str] = "grooming", intent: str = "grooming",
                     reasons: Optional[List[str]] = None) -> DialogueStateTracker:
    entities = [{"entity": "household_adult", "value": "yes"}] if household else []
    events = [SlotSet("flow", flow)] if flow else []
    if reasons:
        events.append(SlotSet("risk_reasons", reasons))
    events += [ActionExecuted(ACTION_LISTEN_NAME), UserUttered(text, {"name": intent, "confidence": 1.0}, entities)]
    return DialogueStateTracker.from_events("t", events)


def test_an_adult_of_the_childs_home_approaching_them_is_abuse_at_home_with_the_119_once() -> None:
    t = grooming_message("le copain de ma mere m'envoie des messages bizarres", household=True, flow=None)
    assert next_crisis_action(t) == "utter_crisis"
    events = {(e.key, str(e.value)) for e in critical_events(t, "utter_crisis")}
    assert ("crisis_type", "abuse") in events and ("risk_level", "critical") in events
    # the answer's own reason does not cut the sequence short: then a counsellor, then listen
    t.update(ActionExecuted("utter_crisis"))
    t.update(SlotSet("risk_reasons", ["abuse_at_home"]))
    assert next_crisis_action(t) == "action_request_human"
    assert next_crisis_action(grooming_message("il vit avec nous", household=True, intent="inform")) == "utter_crisis"
    # once: the answer is not repeated when the person says it again
    assert next_crisis_action(grooming_message("il vit avec nous", household=True, intent="inform",
                                               reasons=["abuse_at_home"])) is None
    # the same words outside a grooming conversation, or a grooming message without them: no alarm here
    assert next_crisis_action(grooming_message("il vit avec nous", household=True, flow="cyberbullying", intent="inform")) is None
    assert next_crisis_action(grooming_message("un adulte sur discord me demande des photos", household=False)) is None


def test_after_an_emergency_answer_the_classifier_alone_is_enough() -> None:
    t = classifier_only(text="je suis cachée dans les toilettes")
    t.update(SlotSet("risk_level", "critical"))
    assert next_crisis_action(t) == "utter_crisis"
