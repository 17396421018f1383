"""What the bot does in one turn of a guided flow. Plain Python, no Rasa: the flow
policy (bot/rasa_addons/policies/flow_policy.py) reads the conversation into a `Turn`
and runs the actions of the `Plan`.

The person leads; the bot never gets stuck:
- a new problem gets its urgent steps at once (the flow's `urgent` response);
- then the flow's questions, one per turn, in the editors' order, only those whose
  answer is not known yet (any message may have given it, in any order);
- a question is asked at most twice: the second time rephrased, with buttons; not
  understood again, the bot moves on and the answer stays unknown;
- the advice comes as soon as the person asks for it ("je fais quoi ?"), when the
  questions are done, or when another question would delay it too much (MESSAGE_BUDGET
  bot messages, ADVICE_BY_TURN user turns); the questions still open come after it;
- after the advice: the offer of a person when the risk is high ("ok" accepts it),
  else what the person can do next;
- never more than MAX_TURN_MESSAGES messages in one turn on WhatsApp, Messenger and
  Telegram (a longer advice ends with "la suite ?"); on the web chat the whole advice
  comes at once (WEB_TURN_MESSAGES).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from bot.dialogue.advice import MAX_PARTS, advice_action

MAX_ASKS = 2
MESSAGE_BUDGET = 8  # bot messages in the session before the advice is complete
# The advice comes at the latest in the flow's third user turn: people often leave after
# three or four messages, and the advice is what helps; questions still open come after it.
ADVICE_BY_TURN = 3
MAX_TURN_MESSAGES = 4  # WhatsApp, Messenger, Telegram
WEB_TURN_MESSAGES = 6  # the web chat: the longest advice (4 parts) and what follows it, in one turn

SAFETY_SLOTS = ("safe_now", "safe_at_home")
FREE_ANSWER_SLOTS = ("age", "platform")  # no "unknown" value: a question given up goes to skipped_slots
SKIPPED = "skipped_slots"

WELLBEING_SUPPORT = "utter_wellbeing_support"
GLAD_SAFE = "utter_glad_safe"
SAFETY_CLARIFY = "utter_safety_clarify"
CRISIS_CLARIFY = "utter_crisis_clarify"  # a crisis read by the classifier alone: ask, with the numbers
RECAP = "utter_recap"
OFFER_HUMAN = "utter_offer_human"
ANYTHING_ELSE = "utter_anything_else"
ADVICE_MORE = "utter_advice_more"  # "la suite ?": more advice comes with the next message
REQUEST_HUMAN = "action_request_human"
HIGH_LEVELS = ("high", "critical")


def ask_action(slot: str, times_asked: int) -> str:
    return f"utter_ask_{slot}" if times_asked == 0 else f"utter_reask_{slot}"


def question_of(action: str) -> Optional[str]:
    """The slot a question action asks about (utter_ask_age, utter_reask_age -> age)."""
    for prefix in ("utter_ask_", "utter_reask_"):
        if action.startswith(prefix):
            return action[len(prefix):]
    return None


@dataclass
class Turn:
    """The conversation as the planner needs it, read at the user's latest message."""

    flow: Optional[str]
    urgent: str = ""
    flow_started: bool = False  # this message starts (or switches to) the flow
    questions: List[str] = field(default_factory=list)  # the flow's questions that apply, in order
    slots: Dict[str, Any] = field(default_factory=dict)  # with what this message revealed
    asked: Dict[str, int] = field(default_factory=dict)  # times each question was asked in this flow
    pending: Optional[str] = None  # the question the bot asked last turn
    answered: bool = False  # this message answered it
    unsure_about_safety: bool = False  # "bof", "jsp" to "are you safe?"
    what_now: bool = False  # "je fais quoi ?", "passe", "what should I do?"
    accepts: bool = False  # "oui", "ok", "d'accord"
    pending_offer: bool = False  # the bot's last turn offered a person
    advice_given: bool = False  # some steps were given in this flow
    advice_parts: int = 0  # messages the steps not given yet make now
    messages_before: int = 0  # bot messages in this session before this turn
    user_turns_in_flow: int = 1  # including this one
    risk_level: str = "low"
    max_messages: int = MAX_TURN_MESSAGES  # in this turn, on this channel


@dataclass
class Plan:
    actions: List[str] = field(default_factory=list)
    updates: Dict[str, Any] = field(default_factory=dict)  # slots to set with the first action


def known(slot: str, slots: Dict[str, Any]) -> bool:
    return slots.get(slot) is not None or slot in (slots.get(SKIPPED) or [])


def give_up(slot: str, slots: Dict[str, Any]) -> Dict[str, Any]:
    """The answer stays unknown: never asked again in this flow."""
    if slot in FREE_ANSWER_SLOTS:
        return {SKIPPED: list(dict.fromkeys(list(slots.get(SKIPPED) or []) + [slot]))}
    return {slot: "unknown"}


def safety_reaction(turn: Turn) -> List[str]:
    """After the safety question or the check-in, with or without a flow (an unambiguous
    "not safe" is the crisis net's: it never reaches the planner)."""
    if turn.pending not in SAFETY_SLOTS or turn.flow_started:
        return []
    if turn.answered and turn.pending == "safe_at_home" and turn.slots.get(turn.pending) in ("yes", "unknown"):
        return [GLAD_SAFE]  # the check-in's answer: reassured, with the 119 for later (a flow's "oui" just goes on)
    if not turn.answered and turn.unsure_about_safety and turn.asked.get(turn.pending, 0) < MAX_ASKS:
        return [SAFETY_CLARIFY]  # truly unsure: one short question that carries the number that fits
    return []


def plan_turn(turn: Turn) -> Plan:
    if not turn.flow:
        return Plan(safety_reaction(turn))
    actions: List[str] = [turn.urgent] if turn.flow_started and turn.urgent else []
    updates: Dict[str, Any] = {}

    if turn.pending_offer and turn.accepts:
        return Plan(actions + [REQUEST_HUMAN])

    pending = turn.pending if not turn.flow_started else None
    reaction = safety_reaction(turn)
    if SAFETY_CLARIFY in reaction:
        return Plan(actions + reaction)
    actions += reaction
    if pending and turn.answered:
        if pending == "wellbeing" and turn.slots.get("wellbeing") == "low":
            actions.append(WELLBEING_SUPPORT)
    elif pending and (turn.asked.get(pending, 0) >= MAX_ASKS or turn.advice_given):
        # Not understood twice, or not answered after the advice (never insist then): move on.
        updates.update(give_up(pending, turn.slots))

    slots = {**turn.slots, **updates}
    remaining = [q for q in turn.questions if not known(q, slots) and turn.asked.get(q, 0) < MAX_ASKS]
    # Messages the advice will take: its parts, and "la suite ?" when they need two turns.
    advice_cost = max(turn.advice_parts, 1) + (1 if turn.advice_parts > MAX_PARTS else 0)
    advice_due = (
        turn.what_now
        or not remaining
        or turn.advice_given
        or turn.user_turns_in_flow >= ADVICE_BY_TURN
        or turn.messages_before + len(actions) + 1 + advice_cost > MESSAGE_BUDGET
    )
    if not advice_due:
        actions.append(ask_action(remaining[0], turn.asked.get(remaining[0], 0)))
        return Plan(actions, updates)

    giving = turn.advice_parts > 0
    room = turn.max_messages - len(actions)
    parts_per_turn = MAX_PARTS if turn.max_messages <= MAX_TURN_MESSAGES else room
    if turn.advice_parts > min(room, parts_per_turn):
        # Too long for one turn: what fits, then "la suite ?" (the rest comes next turn).
        sent = min(room, parts_per_turn + 1) - 1
        return Plan(actions + [advice_action(part) for part in range(1, sent + 1)] + [ADVICE_MORE], updates)
    actions += [advice_action(part) for part in range(1, turn.advice_parts + 1)]
    if not giving and turn.what_now:
        actions.append(RECAP)
    if not giving and not turn.what_now and not actions and not remaining:
        return Plan([], updates)  # nothing new for the flow: the rules answer (thanks, ok...)

    room = turn.max_messages - len(actions)
    if room > 0:
        if turn.risk_level in HIGH_LEVELS and not slots.get("human_offered") and not slots.get("handoff_status"):
            actions.append(OFFER_HUMAN)
            updates["human_offered"] = True
        elif remaining:
            actions.append(ask_action(remaining[0], turn.asked.get(remaining[0], 0)))
        elif giving:
            actions.append(ANYTHING_ELSE)
    return Plan(actions, updates)
