"""The guided flows, walked by code from the editors' definitions (content/flows/).

Why a policy and not Rasa forms (docs/dialogue-design.md): a form asks its slots in a
fixed order, fills them only from the answer to its own question, re-asks forever and
cannot give the advice when the person asks for it. Here the person leads: any message
fills any fact, a question is asked at most twice, "je fais quoi ?" gets the advice at
once, and the risk level is assessed inside Rasa on every turn, so none of this needs
the action server.

Each user turn: read the message (facts, the answer to the pending question), decide
the flow, assess the risk (slot events, applied whichever policy wins), plan the turn
(bot/dialogue/planner.py) and predict its actions one by one. The crisis net
(CrisisPolicy) and human mode outrank this policy; the rules answer what is not about
the flow (opening hours, "merci"...), and this policy then goes on with its question.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.content_store import shared_store
from bot.content_store.render import matches
from bot.dialogue import advice, problem_cues
from bot.dialogue.planner import MAX_TURN_MESSAGES, SAFETY_SLOTS, WEB_TURN_MESSAGES, Plan, Turn, plan_turn
from bot.dialogue.reading import read_reply
from bot.rasa_addons.policies.code_policy import CodePolicy
from bot.rasa_addons.policies.conversation import (
    actions_this_turn,
    flow_history,
    intents_seen,
    last_bot_action_before_turn,
    message_entities,
    pending_question,
    policies_this_turn,
    slot_before_turn,
)
from bot.rasa_addons.policies.crisis_policy import bot_is_quiet, crisis_reason, handoff_state
from bot.safety.context import extract_age
from bot.safety.normalize import normalize
from bot.safety.risk import SERIOUS_FLOWS, assess

# Which flow each problem intent starts, and what it says about the problem.
FLOW_INTENTS: Dict[str, Tuple[str, Dict[str, str]]] = {
    "sextortion": ("sextortion", {}),
    "nonconsensual_sharing": ("nonconsensual_sharing", {}),
    "grooming": ("grooming", {}),
    "report_account": ("report_account", {}),
    "impersonation": ("report_account", {"impersonation": "yes"}),
    "cyberbullying": ("cyberbullying", {"hate_motivated": "no"}),
    "hate_speech": ("cyberbullying", {"hate_motivated": "yes"}),
    "hacked_account": ("hacked_account", {}),
}
# Channels with a limit of messages per turn (WhatsApp through Twilio, Messenger, Telegram).
MESSAGING_CHANNELS = ("twilio", "facebook", "telegram")
# Short answers and requests that belong to the flow in progress.
# The bot's "erase this conversation?" question: its yes/no belongs to the rules.
ERASE_CONFIRM = "utter_erase_confirm"
ERASE_ANSWERS = ("affirm", "deny", "erase_conversation")
ANSWER_INTENTS = {"affirm", "deny", "skip", "inform", "what_now", "nlu_fallback"}
# A rule answers these first; the flow then goes on with its question.
ASIDE_INTENTS = {
    "greet", "thanks", "bot_challenge", "out_of_scope", "offer_image", "ask_who_runs", "ask_free_anonymous",
    "ask_hours", "ask_victim_support", "ask_parental_controls", "ask_complaint",
}
# Facts a message reveals by itself (NLU entities of the same name, bot/safety/context.py).
FACT_SLOTS = (
    "age", "platform", "user_role", "paid", "posted", "deadline", "meeting_proposed", "can_login",
    "impersonation", "school_involved",
)
# Answers about one problem, forgotten when another problem starts (age, platform, role carry over).
PER_FLOW_ANSWERS = (
    "wellbeing", "safe_now", "paid", "posted", "deadline", "meeting_proposed", "school_involved", "can_login",
    "impersonation", "hate_motivated", "skipped_slots",
)
# A different problem named in the middle of a flow switches flows only when the
# classifier is sure and the message is more than a short answer.
SWITCH_CONFIDENCE = 0.8
SWITCH_MIN_WORDS = 5
# In a serious flow, "how do I report it?" asks for that flow's own reporting steps (part
# of its advice): the advice now, not a switch to the generic reporting flow.
ASKS_FOR_REPORTING = ("report_account",)


def text_of(tracker: DialogueStateTracker) -> str:
    return (tracker.latest_message.text or "") if tracker.latest_message else ""


def _intent(tracker: DialogueStateTracker) -> Tuple[Optional[str], float]:
    intent = (tracker.latest_message.intent or {}) if tracker.latest_message else {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def recent_user_text(tracker: DialogueStateTracker, limit: int = 4) -> str:
    """The person's last few messages of this session, oldest first (what they said before the problem was clear)."""
    texts: List[str] = []
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted) or len(texts) >= limit:
            break
        if isinstance(event, UserUttered) and event.text:
            texts.append(event.text)
    return " . ".join(reversed(texts))


def decide_flow(tracker: DialogueStateTracker, current: Optional[str], answered: bool,
                sms: Optional[Dict[str, str]] = None) -> Tuple[Optional[str], bool, Dict[str, str]]:
    """(flow, started this turn, facts the intent implies).

    The classifier names the problem; the words that define a problem (bot/dialogue/problem_cues.py)
    correct a first reading and gate a switch in the middle of a flow."""
    intent, confidence = _intent(tracker)
    if intent not in FLOW_INTENTS:
        if current is None and intent in ANSWER_INTENTS and len(text_of(tracker).split()) >= SWITCH_MIN_WORDS:
            # "une vidéo de lui a été partagée sans son accord" read as a mere statement: the words
            # that define one problem, and only one, start its flow.
            named = problem_cues.problems_named(normalize(text_of(tracker), sms))
            if len(named) == 1:
                return named[0], True, {}
        return current, False, {}
    flow, implied = FLOW_INTENTS[intent]
    if current is None:
        chosen = problem_cues.first_flow(flow, normalize(recent_user_text(tracker), sms))
        return (flow, True, implied) if chosen == flow else (chosen, True, {})
    if flow == current:
        return current, False, implied
    if current in SERIOUS_FLOWS and flow in ASKS_FOR_REPORTING:
        return current, False, {}
    words = len((tracker.latest_message.text or "").split())
    if answered or confidence < SWITCH_CONFIDENCE or words < SWITCH_MIN_WORDS:
        return current, False, {}  # most likely an answer the classifier read as a problem
    if not problem_cues.names(normalize(text_of(tracker), sms), flow):
        return current, False, {}  # a detail of the problem in hand, not another problem
    return flow, True, implied


def applicable_questions(flow_definition: Any, slots: Dict[str, Any]) -> List[str]:
    return [q.slot for q in getattr(flow_definition, "questions", []) if matches(q.when, slots)]


class TurnReading:
    """Everything the policy reads from the tracker for one turn, computed once per prediction."""

    def __init__(self, tracker: DialogueStateTracker) -> None:
        snapshot = shared_store().snapshot()
        self.snapshot = snapshot
        aliases = snapshot.platform_aliases if snapshot else {}
        sms = snapshot.lexicon.sms if snapshot else {}
        self.intent, _ = _intent(tracker)
        self.before_flow = slot_before_turn(tracker, "flow")
        self.pending = pending_question(tracker)
        facts = message_entities(tracker, FACT_SLOTS)
        role = facts.get("user_role") or tracker.get_slot("user_role")
        if "age" not in facts and role:
            # "she just turned 10" from a parent who said so two messages ago: the reader of
            # one message cannot know who writes; the conversation does.
            age = extract_age(normalize(text_of(tracker), sms), role)
            if age is not None:
                facts["age"] = age
        text = text_of(tracker)
        self.reply = read_reply(self.pending, text, self.intent, facts, aliases, sms)
        if self.before_flow in SERIOUS_FLOWS and FLOW_INTENTS.get(self.intent or "", ("",))[0] in ASKS_FOR_REPORTING:
            self.reply = replace(self.reply, what_now=True)  # "comment je le signale ?": the advice now
        answered = self.reply.value is not None or (self.pending in facts)
        self.flow, self.started, implied = decide_flow(tracker, self.before_flow, answered, sms)
        self.updates: Dict[str, Any] = {}
        if self.started:
            self.updates.update({name: None for name in PER_FLOW_ANSWERS if tracker.get_slot(name) is not None})
            self.updates["flow"] = self.flow
        self.updates.update(implied)
        self.updates.update(facts)
        if self.pending and not self.started and self.reply.value is not None:
            if self.reply.value == "skipped":
                skipped = list(tracker.get_slot("skipped_slots") or [])
                self.updates["skipped_slots"] = list(dict.fromkeys(skipped + [self.pending]))
            else:
                self.updates[self.pending] = self.reply.value
        self.answered = bool(self.pending) and not self.started and (
            self.reply.value is not None or self.pending in facts
        )
        self.slots = {**tracker.current_slot_values(), **self.updates}
        # What the actions of this turn may change is read as it was when the turn began.
        self.slots["human_offered"] = slot_before_turn(tracker, "human_offered", False)
        self.slots["handoff_status"] = slot_before_turn(tracker, "handoff_status")
        intents = intents_seen(tracker)
        self.risk_level, self.risk_reasons = assess(self.slots, intents)
        self.slots["risk_level"] = self.risk_level

    def turn(self, tracker: DialogueStateTracker) -> Turn:
        definition = self.snapshot.flows.get(self.flow) if self.snapshot and self.flow else None
        history = flow_history(tracker, self.before_flow if not self.started else None)
        given = [] if self.started else history.steps_given
        steps = advice.pending_steps(self.snapshot, self.flow, self.slots, given)
        return Turn(
            flow=self.flow,
            urgent=getattr(definition, "urgent", ""),
            flow_started=self.started,
            questions=applicable_questions(definition, self.slots),
            slots=self.slots,
            asked={} if self.started else history.asked,
            pending=None if self.started else self.pending,
            answered=self.answered,
            unsure_about_safety=self.reply.unsure_about_safety,
            what_now=self.reply.what_now,
            accepts=self.reply.accepts,
            pending_offer=last_bot_action_before_turn(tracker) == "utter_offer_human",
            advice_given=bool(given),
            advice_parts=len(advice.parts(self.snapshot, steps, self.slots)),
            messages_before=history.messages_in_session,
            user_turns_in_flow=1 if self.started else history.user_turns + 1,
            risk_level=self.risk_level,
            max_messages=WEB_TURN_MESSAGES if tracker.get_latest_input_channel() not in MESSAGING_CHANNELS else MAX_TURN_MESSAGES,
        )

    def slot_events(self, tracker: DialogueStateTracker, plan: Plan) -> List[SlotSet]:
        """Slot events for the turn: facts, flow, risk and the plan's own updates."""
        values = dict(self.updates, **plan.updates)
        if self.risk_level != tracker.get_slot("risk_level"):
            values["risk_level"] = self.risk_level
        if list(self.risk_reasons) != list(tracker.get_slot("risk_reasons") or []):
            values["risk_reasons"] = list(self.risk_reasons)
        return [SlotSet(name, value) for name, value in values.items() if tracker.get_slot(name) != value]


def spoke_last(tracker: DialogueStateTracker, policy_name: str) -> bool:
    """The turn's latest action was this policy's prediction."""
    policies = policies_this_turn(tracker)
    return bool(policies) and policies[-1] == policy_name


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class FlowPolicy(CodePolicy):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # Above the rules (6): on equal confidence the higher priority wins; below
        # human mode and the crisis net, whose predictions overrule it anyway.
        return {"priority": 7}

    def _abstain(self, tracker: DialogueStateTracker, probabilities: List[float], domain: Domain,
                 events: List[SlotSet]) -> PolicyPrediction:
        """Nothing to predict: leave the turn to the other policies, unless this policy said the
        turn's last words. Then its plan moved under what the turn changed, and the turn ends
        here: left to no policy, Rasa's core fallback would rewind the person's message."""
        if spoke_last(tracker, self.__class__.__name__):
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        return self._prediction(probabilities, events=events)

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        if tracker.latest_message is None or not (tracker.latest_message.intent or {}).get("name"):
            return self._prediction(probabilities)
        if crisis_reason(tracker) or bot_is_quiet(handoff_state(tracker)):
            return self._prediction(probabilities)  # the crisis net or the counsellor has this turn
        reading = TurnReading(tracker)
        done = actions_this_turn(tracker)
        first = not done
        turn = reading.turn(tracker)
        plan = plan_turn(turn)
        events = reading.slot_events(tracker, plan) if first else []
        if last_bot_action_before_turn(tracker) == ERASE_CONFIRM and reading.intent in ERASE_ANSWERS:
            # "oui"/"non" here answers the erasure question (bot/data/rules/privacy.yml), not the flow;
            # anything else is not a confirmation, and the flow goes on.
            return self._abstain(tracker, probabilities, domain, events)

        # The safety question may be pending outside a flow (the check-in): its answers are ours too,
        # but never a request for a person or a question about the service (the rules answer those).
        safety_answer = reading.pending in SAFETY_SLOTS and (
            reading.intent in ANSWER_INTENTS or reading.answered or turn.unsure_about_safety
        )
        owned = (reading.flow is not None and (
            reading.intent in FLOW_INTENTS or reading.intent in ANSWER_INTENTS or reading.answered or turn.what_now
        )) or (safety_answer and bool(plan.actions))
        aside = reading.flow is not None and reading.intent in ASIDE_INTENTS and not turn.advice_given
        if owned:
            expected = plan.actions
            mine = done
        elif aside and done:
            # A rule answered first ("c'est gratuit ?", "merci"); then the flow goes on (the
            # question again, or the advice that is due), within the turn's message budget.
            expected = plan.actions[: turn.max_messages - 1]
            mine = done[1:]
        else:
            return self._abstain(tracker, probabilities, domain, events)
        if mine != expected[: len(mine)] or not expected:
            return self._abstain(tracker, probabilities, domain, events)  # another policy took this turn
        action = expected[len(mine)] if len(mine) < len(expected) else ACTION_LISTEN_NAME
        if action not in domain.action_names_or_texts:
            return self._abstain(tracker, probabilities, domain, events)
        probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities, events=events)
