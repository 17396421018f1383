"""The emergency answer comes first, in every state.

Rasa lets an active form run before any rule ("a loop has priority over any other
rule"), so a crisis typed inside a form could be eaten as an answer. This policy
outranks the rule policy and, right after a crisis message (or an answer saying the
person is not safe), predicts the crisis answer, then ends any active form, then
listens. It needs nothing outside Rasa: the answers are responses (content NLG,
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
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_addons.policies.code_policy import CodePolicy

CRISIS_ANSWER = "utter_crisis"
NOT_SAFE_ANSWER = "utter_not_safe"
SAFETY_SLOTS = ("safe_now", "safe_at_home")  # "no" to either means: not safe right now
CHECK_IN_FORM = "safety_form"  # its question is the gentle check-in ("es-tu en sécurité chez toi ?")
REQUEST_HUMAN = "action_request_human"
HUMAN_STATUSES = ("queued", "active")


def _events_since_user(tracker: DialogueStateTracker) -> List[Any]:
    events: List[Any] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return list(reversed(events))
        events.append(event)
    return []


def crisis_reason(tracker: DialogueStateTracker) -> Optional[str]:
    """Why the latest user message is an emergency: "crisis", "not_safe", "check_in" or None."""
    if tracker.latest_message is None:
        return None
    intent = (tracker.latest_message.intent or {}).get("name")
    if intent == "crisis":
        return "crisis"
    if intent == "crisis_check":
        return "check_in"
    if any(isinstance(e, SlotSet) and e.key in SAFETY_SLOTS and e.value == "no" for e in _events_since_user(tracker)):
        return "not_safe"
    return None


def next_crisis_action(tracker: DialogueStateTracker, human_mode: bool = False) -> Optional[str]:
    """The action the safety net imposes now, or None to let the other policies decide.

    crisis            -> utter_crisis, end any form, open a case for a counsellor, listen
    said "not safe"   -> utter_not_safe, end any form, open a case, listen
    crisis_check      -> end any other form, then the check-in question (safety_form)
    in human mode     -> listen (the counsellor is alerted through risk_level)
    """
    if tracker.latest_message is None:
        return None
    since_user = _events_since_user(tracker)
    done = [e.action_name for e in since_user if isinstance(e, ActionExecuted) and e.action_name != ACTION_LISTEN_NAME]
    intent = (tracker.latest_message.intent or {}).get("name")
    loop = tracker.active_loop_name
    if human_mode:
        return ACTION_LISTEN_NAME if crisis_reason(tracker) and not done else None

    if intent == "crisis_check":
        if not done:
            return ACTION_DEACTIVATE_LOOP_NAME if loop and loop != CHECK_IN_FORM else CHECK_IN_FORM
        if done == [ACTION_DEACTIVATE_LOOP_NAME]:
            return CHECK_IN_FORM
        return None  # the question was asked; the form and rules take it from here

    if intent == "crisis":
        answer = CRISIS_ANSWER
    elif any(isinstance(e, SlotSet) and e.key in SAFETY_SLOTS and e.value == "no" for e in since_user):
        answer = NOT_SAFE_ANSWER
    else:
        return None
    if not done:
        return answer
    if done == [answer]:
        return ACTION_DEACTIVATE_LOOP_NAME if loop else REQUEST_HUMAN
    if done == [answer, ACTION_DEACTIVATE_LOOP_NAME]:
        return REQUEST_HUMAN
    if done and done[0] == answer and done[-1] == REQUEST_HUMAN:
        return ACTION_LISTEN_NAME
    return None


def critical_events(tracker: DialogueStateTracker, action: str, human_mode: bool = False) -> List[SlotSet]:
    """With an emergency answer (or a crisis during a handoff), risk_level becomes
    critical, set here inside Rasa."""
    if human_mode:
        reason = crisis_reason(tracker) if action == ACTION_LISTEN_NAME else None
    else:
        reason = {CRISIS_ANSWER: "crisis", NOT_SAFE_ANSWER: "not_safe"}.get(action)
    if reason is None:
        return []
    reasons = [r for r in (tracker.get_slot("risk_reasons") or []) if r != reason] + [reason]
    return [SlotSet("risk_level", "critical"), SlotSet("risk_reasons", reasons)]


def handoff_state(tracker: DialogueStateTracker) -> Optional[str]:
    """queued/active/closed or None; the registry survives a new session or a restart."""
    from bot.rasa_addons.handoff.registry import human_status

    return human_status(tracker.sender_id, tracker.get_slot("handoff_status"))


def counsellors_on_duty() -> bool:
    """Within the counsellors' opening hours (content/settings.yml). False if unknown."""
    import datetime as dt

    from bot.content_store.hours import current_hours

    try:
        return current_hours().is_open(dt.datetime.now(dt.timezone.utc))
    except Exception:
        return False


def bot_is_quiet(status: Optional[str]) -> bool:
    """The bot keeps quiet while a counsellor has the conversation, or will have it soon.

    A case queued outside opening hours waits for the morning: meanwhile the bot goes
    on helping (never a dead end), and the desk still receives the messages.
    """
    return status == "active" or (status == "queued" and counsellors_on_duty())


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
        # Above the RulePolicy (6) and the HumanModePolicy (7): on equal confidence the
        # higher priority wins.
        return {"priority": 8}

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

