"""The emergency answer comes first, in every state.

A crisis typed in the middle of a guided flow must never be read as an answer. This
policy outranks the flow policy, the rules and any form and, right after a crisis
message (or an unambiguous "not safe"), predicts the crisis answer, then opens a case,
then listens. It needs nothing outside Rasa: the answers are responses (content NLG,
falling back to the texts packaged in the model).

After the emergency answer, the case is opened for a counsellor (`action_request_human`).
While a person already has the conversation (human mode), the bot stays quiet: a crisis
message sets `risk_level` to critical, which alerts the counsellor at once, and the
emergency answer follows if no counsellor answers in time (handoff/watchdog.py).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_DEACTIVATE_LOOP_NAME, ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_addons.policies.code_policy import CodePolicy
from bot.rasa_addons.policies.conversation import (actions_this_turn, last_bot_action_before_turn, pending_question,
                                                   read_by_classifier_alone)
from bot.dialogue.planner import CRISIS_CLARIFY, SAFETY_SLOTS  # an unambiguous "no" to either: not safe right now
from bot.dialogue.reading import confirms_crisis, says_not_safe

CRISIS_ANSWER = "utter_crisis"
NOT_SAFE_ANSWER = "utter_not_safe"
CHECK_IN = "utter_ask_safe_at_home"  # the gentle check-in ("es-tu en sécurité là où tu es ?") and 119
REQUEST_HUMAN = "action_request_human"
HUMAN_STATUSES = ("queued", "active")
MOOD_QUESTION = "wellbeing"  # "comment tu tiens le coup ?"


def classifier_only(tracker: DialogueStateTracker) -> bool:
    """The crisis intent came from the classifier alone, with no lexicon cue."""
    return read_by_classifier_alone(tracker.latest_message)


def said_not_safe(tracker: DialogueStateTracker) -> Optional[str]:
    """The safety slot the latest message answered with an unambiguous "not safe"
    (a bare "non", "pas vraiment"), or None. "Non" followed by other content ("non j'ai
    rien payé") answers that content, not the safety question."""
    pending = pending_question(tracker)
    if pending not in SAFETY_SLOTS or tracker.latest_message is None:
        return None
    intent = (tracker.latest_message.intent or {}).get("name")
    return pending if says_not_safe(tracker.latest_message.text or "", intent) else None


HOUSEHOLD = "abuse_at_home"  # the risk reason, and the crisis_type its answer takes (119)


def household_abuse(tracker: DialogueStateTracker) -> bool:
    """An adult of the child's home is the one approaching them, said in a grooming
    conversation (this message names them: bot/safety/context.py HOUSEHOLD_ADULT_CUES).
    Abuse at home: the emergency answer with the 119, once."""
    message = tracker.latest_message
    answered = HOUSEHOLD in (tracker.get_slot("risk_reasons") or []) and CRISIS_ANSWER not in actions_this_turn(tracker)
    if message is None or answered:  # answered in an earlier turn (this turn's answer set the reason)
        return False
    named = any(e.get("entity") == "household_adult" and e.get("value") == "yes" for e in message.entities or [])
    grooming = (message.intent or {}).get("name") == "grooming" or tracker.get_slot("flow") == "grooming"
    return named and grooming


def crisis_reason(tracker: DialogueStateTracker) -> Optional[str]:
    """Why the latest user message is an emergency: "crisis", "not_safe", "check_in" or None."""
    if tracker.latest_message is None:
        return None
    intent = (tracker.latest_message.intent or {}).get("name")
    asked_clarify = last_bot_action_before_turn(tracker) == CRISIS_CLARIFY
    if intent == "crisis":
        # After an emergency answer in this conversation (risk critical), danger is established:
        # "je suis cachée dans les toilettes" then is the emergency, not a question.
        unsure = classifier_only(tracker) and not asked_clarify and tracker.get_slot("risk_level") != "critical"
        if unsure:
            if pending_question(tracker) == MOOD_QUESTION:
                # "mal, j'ai peur" answering "comment tu tiens le coup ?": fear and distress, no
                # danger cue. The flow answers a low mood with a direct question about suicide and
                # the 3114 (utter_wellbeing_support), not with 17/112.
                return None
            # The classifier alone, no danger cue from the lexicon: truly unsure. One short
            # question, carrying the numbers, instead of "call 112 now" to "she's scared of
            # retaliation". A lexicon cue, or a second alarming message, stays a crisis.
            return "clarify"
        return "crisis"
    if intent == "crisis_check":
        return "check_in"
    if asked_clarify and confirms_crisis(tracker.latest_message.text or "", intent):
        return "crisis"
    if household_abuse(tracker):
        return HOUSEHOLD
    if said_not_safe(tracker):
        return "not_safe"
    return None


def next_crisis_action(tracker: DialogueStateTracker, human_mode: bool = False) -> Optional[str]:
    """The action the safety net imposes now, or None to let the other policies decide.

    crisis            -> utter_crisis, end any form, open a case for a counsellor, listen
    said "not safe"   -> utter_not_safe, end any form, open a case, listen
    crisis_check      -> end any form, the check-in question (119), listen
    an adult of the child's home approaching them (grooming) -> utter_crisis (abuse: 119), as crisis
    classifier only   -> end any form, the clarifying question (3114, 17/112), listen;
                         "oui" / "jsp" to it -> the crisis answer, as above
    in human mode     -> listen (the counsellor is alerted through risk_level)
    """
    if tracker.latest_message is None:
        return None
    done = actions_this_turn(tracker)
    reason = crisis_reason(tracker)
    loop = tracker.active_loop_name
    if human_mode:
        return ACTION_LISTEN_NAME if reason and not done else None
    if reason is None:
        return None
    # The form that was running ends: after the emergency answer, or before the check-in.
    questions = {"check_in": CHECK_IN, "clarify": CRISIS_CLARIFY}
    if reason in questions:
        core = [questions[reason]]
    else:
        core = [NOT_SAFE_ANSWER if reason == "not_safe" else CRISIS_ANSWER, REQUEST_HUMAN]
    done_core = [a for a in done if a != ACTION_DEACTIVATE_LOOP_NAME]
    if done_core != core[: len(done_core)]:
        return None  # another policy took this turn (never after the net's own first action)
    if loop and (reason in questions or done_core):
        return ACTION_DEACTIVATE_LOOP_NAME
    return core[len(done_core)] if len(done_core) < len(core) else ACTION_LISTEN_NAME


def critical_events(tracker: DialogueStateTracker, action: str, human_mode: bool = False) -> List[SlotSet]:
    """With an emergency answer (or a crisis during a handoff), risk_level becomes
    critical, set here inside Rasa; a "not safe" answer is recorded in its slot."""
    if human_mode:
        reason = crisis_reason(tracker) if action == ACTION_LISTEN_NAME else None
    else:
        # the answer's own reason: "crisis", HOUSEHOLD or "not_safe" (next_crisis_action chose it from it)
        reason = crisis_reason(tracker) if action in (CRISIS_ANSWER, NOT_SAFE_ANSWER) else None
    if reason is None or (reason in ("check_in", "clarify") and not human_mode):
        return []  # the check-in and the clarifying question are questions; with a counsellor, they alert them
    reason = "crisis" if reason == "clarify" else reason  # with a counsellor: alert them, as for any crisis
    reasons = [r for r in (tracker.get_slot("risk_reasons") or []) if r != reason] + [reason]
    events = [SlotSet("risk_level", "critical"), SlotSet("risk_reasons", reasons)]
    if reason == HOUSEHOLD:
        events.append(SlotSet("crisis_type", "abuse"))  # the answer's 119 variant
    unsafe = said_not_safe(tracker)
    if unsafe:
        events.append(SlotSet(unsafe, "no"))
    return events


def handoff_state(tracker: DialogueStateTracker) -> Optional[str]:
    """queued/active/closed or None; the registry survives a new session or a restart."""
    from bot.rasa_addons.handoff.registry import human_status

    return human_status(tracker.sender_id, tracker.get_slot("handoff_status"))


def bot_is_quiet(status: Optional[str]) -> bool:
    """The bot keeps quiet only while a counsellor has the conversation (`active`).

    Never silent by mistake: while the case is `queued` (day or night) nobody is
    answering yet, so the bot goes on helping, each turn opening with a line saying a
    person is coming (the content NLG adds it), and answers a crisis itself, at once.
    """
    return status == "active"


def restore_handoff_slot(tracker: DialogueStateTracker, status: Optional[str]) -> List[SlotSet]:
    """Put back the slot a new session or a /restart cleared (these events apply even
    when the policy does not win, see rasa's PolicyPrediction.events)."""
    if status in HUMAN_STATUSES and tracker.get_slot("handoff_status") != status:
        return [SlotSet("handoff_status", status)]
    return []


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class CrisisPolicy(CodePolicy):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # Above every other policy (config.yml: human mode 8, flows 7, rules 6): on equal
        # confidence the higher priority wins.
        return {"priority": 9}

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        status = handoff_state(tracker)
        human_mode = bot_is_quiet(status)
        action = next_crisis_action(tracker, human_mode)
        if action is None or action not in domain.action_names_or_texts:
            return self._prediction(probabilities)
        probabilities[domain.index_for_action(action)] = 1.0
        events = restore_handoff_slot(tracker, status) + critical_events(tracker, action, human_mode)
        # "No user" predictions (like a form's happy path) overrule all others, so the
        # net must be one too to outrank an active form.
        return self._prediction(probabilities, events=events, is_no_user_prediction=True)

