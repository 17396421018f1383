"""Invariants over played conversations. Each takes (conversation, result) pairs and returns
a list of Violations naming the conversation and the turn. They read names and events from
the tracker (actions, response names, slots, metadata `steps`), never wording, except the
emergency number, which must be in the emergency answer's text.

Contract asserted (the guided-flow dialogue):
- a question (utter_ask_<slot> / utter_reask_<slot>) at most twice within one flow;
- a crisis turn gets utter_crisis or utter_not_safe in that very turn, with the number that fits;
- no emergency answer in a conversation without a crisis turn;
- no turn without a bot reply, unless handoff_status is "active";
- the whole advice (utter_advice_1, ...; metadata `steps`) within ADVICE_WINDOW user turns of the
  flow start, with the steps the facts call for;
- the slots equal the injected facts (whichever turn gave them);
- risk_level equals what bot/safety/risk.py gives for the injected facts.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from bot.safety import risk
from tests.dialogue.generator import CRISIS_NUMBERS, Conversation
from tests.dialogue.runner import EMERGENCY_ACTIONS, PlayResult, TurnResult

# The advice must be complete within the first ADVICE_WINDOW user turns of the flow, counting the
# turn that started it: flow started at user turn s -> advice due by turn s + ADVICE_WINDOW - 1.
ADVICE_WINDOW = 6
ADVICE = re.compile(r"^utter_advice_\d+$")
QUESTION = re.compile(r"^utter_(?:re)?ask_(.+)$")
# The step that carries the platform's reporting guide, per flow.
PLATFORM_STEP = {
    "sextortion": "step_sextortion_report",
    "nonconsensual_sharing": "step_sharing_report",
    "grooming": "step_grooming_report",
    "cyberbullying": "step_cyberbullying_report",
    "hacked_account": "step_hacked_report",
    "report_account": "step_report_platform",
}
# Flows with the Take It Down (under 18) / StopNCII (18 and over) branch, and their step prefix.
AGE_BRANCH = {"sextortion": "sextortion", "nonconsensual_sharing": "sharing"}
YES_NO_FACTS = ("paid", "posted", "deadline", "meeting_proposed")

Pair = Tuple[Conversation, PlayResult]


@dataclass
class Violation:
    invariant: str
    conversation: str
    turn: Optional[int]
    user: str
    bot: List[str]
    detail: str

    def __str__(self) -> str:
        where = f"turn {self.turn}" if self.turn is not None else "end"
        return f"[{self.conversation} {where}] {self.detail}\n    user: {self.user!r}\n    bot:  {', '.join(self.bot) or '(nothing)'}"


def _v(name: str, conv: Conversation, result: PlayResult, turn: Optional[int], detail: str) -> Violation:
    if turn is not None and turn < len(result.turns):
        t = result.turns[turn]
        return Violation(name, conv.id, turn, t.user, t.names(), detail)
    return Violation(name, conv.id, turn, "", [], detail)


def has_number(text: str, number: str) -> bool:
    return re.search(rf"(?<!\d){re.escape(number)}(?!\d)", text.replace("\u00a0", " ")) is not None


# --------------------------------------------------------------------------- helpers

def flow_segments(result: PlayResult) -> List[Tuple[Optional[str], List[TurnResult]]]:
    """Turns grouped by the flow in force (a new segment when the `flow` slot changes value)."""
    segments: List[Tuple[Optional[str], List[TurnResult]]] = []
    flow: Optional[str] = None
    for turn in result.turns:
        # a flow set in this turn owns this turn's questions
        for name, value in turn.slot_events:
            if name == "flow" and value and value != flow:
                flow = value
                segments.append((flow, []))
        if not segments:
            segments.append((flow, []))
        segments[-1][1].append(turn)
    return segments


def flow_start(result: PlayResult, flow: Optional[str] = None) -> Optional[int]:
    for turn in result.turns:
        for name, value in turn.slot_events:
            if name == "flow" and value and (flow is None or value == flow):
                return turn.index
    return None


def required_steps(facts: Dict[str, Any]) -> List[str]:
    """The steps the injected facts call for (see the module doc)."""
    flow = facts["flow"]
    steps = [PLATFORM_STEP[flow]]
    prefix = AGE_BRANCH.get(flow)
    age = facts.get("age")
    if prefix and age is not None:
        steps.append(f"step_{prefix}_takeitdown" if age < 18 else f"step_{prefix}_stopncii")
    if flow == "sextortion":
        if facts.get("paid") == "yes":
            steps.append("step_sextortion_paid")
        if facts.get("posted") == "yes":
            steps.append("step_sextortion_posted")
    return steps


def expected_risk(conv: Conversation) -> str:
    slots = {k: conv.facts.get(k) for k in ("flow", "age", *YES_NO_FACTS)}
    intents: List[str] = []
    if conv.crisis_turns:
        slots["crisis_type"] = conv.crisis_turns[0][1]
        intents.append("crisis")
    return risk.assess(slots, intents)[0]


# --------------------------------------------------------------------------- invariants

def no_question_loop(pairs: Iterable[Pair]) -> List[Violation]:
    """No question (utter_ask_X or utter_reask_X, the same slot X) more than twice within one flow."""
    out = []
    for conv, result in pairs:
        for flow, turns in flow_segments(result):
            count: Counter = Counter()
            for turn in turns:
                for slot_name, in_turn in _questions(turn).items():
                    count[slot_name] += in_turn
                    if count[slot_name] > 2 and count[slot_name] - in_turn <= 2:
                        out.append(_v("no_question_loop", conv, result, turn.index,
                                      f"question for '{slot_name}' asked {count[slot_name]} times in flow {flow}"))
    return out


def _questions(turn: TurnResult) -> Counter:
    runs = set()
    count: Counter = Counter()
    for m in turn.messages:
        match = QUESTION.match(m.name)
        if match and (m.run, m.name) not in runs:
            runs.add((m.run, m.name))
            count[match.group(1)] += 1
    for action in turn.actions:  # a question run as an action that sent nothing still counts once
        match = QUESTION.match(action)
        if match and not any(QUESTION.match(m.name) and m.name == action for m in turn.messages):
            count[match.group(1)] += 1
    return count


def crisis_answered(pairs: Iterable[Pair]) -> List[Violation]:
    """Each crisis turn gets utter_crisis or utter_not_safe in that turn, with the number that fits."""
    out = []
    for conv, result in pairs:
        for index, kind in conv.crisis_turns:
            if index >= len(result.turns):
                continue
            turn = result.turns[index]
            emergency = turn.emergency_messages()
            numbers = CRISIS_NUMBERS[kind]
            if not emergency:
                out.append(_v("crisis_answered", conv, result, index, f"crisis ({kind}) without an emergency answer"))
            elif not any(has_number(m.text, n) for m in emergency for n in numbers):
                out.append(_v("crisis_answered", conv, result, index,
                              f"crisis ({kind}): emergency answer without {' or '.join(numbers)}"))
    return out


def no_false_emergency(pairs: Iterable[Pair]) -> List[Violation]:
    """No emergency answer in a conversation without any crisis turn."""
    out = []
    for conv, result in pairs:
        if conv.crisis_turns:
            continue
        for turn in result.turns:
            if turn.emergency_messages():
                out.append(_v("no_false_emergency", conv, result, turn.index,
                              f"emergency answer ({turn.emergency_messages()[0].name}) without a crisis cue"))
                break
    return out


def no_silent_turn(pairs: Iterable[Pair]) -> List[Violation]:
    """Every turn gets a bot reply, unless handoff_status is active (a counsellor has the conversation)."""
    out = []
    for conv, result in pairs:
        for turn in result.turns:
            if turn.error:
                out.append(_v("no_silent_turn", conv, result, turn.index, f"request failed: {turn.error}"))
            elif not turn.replies and turn.slots.get("handoff_status") != "active":
                out.append(_v("no_silent_turn", conv, result, turn.index, "no reply"))
    return out


def no_rewind(pairs: Iterable[Pair]) -> List[Violation]:
    """No turn ends in Rasa's core fallback (action_default_fallback): it rewinds the person's
    message, so what they said is lost, and repeated it undoes the conversation's facts."""
    return [_v("no_rewind", conv, result, turn.index, "action_default_fallback (message rewound)")
            for conv, result in pairs for turn in result.turns if "action_default_fallback" in turn.actions]


def advice_in_time(pairs: Iterable[Pair]) -> List[Violation]:
    """utter_advice_1 (and its continuation) within ADVICE_WINDOW user turns of the flow start, with the
    steps the facts call for. Conversations with a crisis turn are left out (the emergency comes first)."""
    out = []
    for conv, result in pairs:
        if conv.crisis_turns:
            continue
        start = flow_start(result, conv.flow)
        if start is None:
            out.append(_v("advice_in_time", conv, result, None, f"flow {conv.flow} never started"))
            continue
        last = start + ADVICE_WINDOW - 1
        given: List[str] = []
        steps: List[str] = []
        for turn in result.turns[start:last + 1]:
            for m in turn.messages:
                if ADVICE.match(m.name):
                    given.append(m.name)
                    steps += [s for s in (m.metadata.get("steps") or []) if isinstance(s, str)]
        if len(result.turns) <= last and not given:
            continue  # too short to judge
        shown = min(last, len(result.turns) - 1)
        if "utter_advice_1" not in given:
            out.append(_v("advice_in_time", conv, result, shown,
                          f"no utter_advice_1 within {ADVICE_WINDOW} turns of the flow start (turn {start})"))
            continue
        missing = [s for s in required_steps(conv.facts) if s not in steps]
        if missing:
            out.append(_v("advice_in_time", conv, result, shown,
                          f"advice given ({', '.join(dict.fromkeys(given))}) without {missing}; steps given: {steps}"))
    return out


def slots_match(pairs: Iterable[Pair]) -> List[Violation]:
    """The final slots equal the injected facts: flow, age, platform, paid/posted/deadline/
    meeting_proposed, user_role (a teen may also leave user_role empty: unknown is treated as teen)."""
    out = []
    for conv, result in pairs:
        if result.error:
            out.append(_v("slots_match", conv, result, None, result.error))
            continue
        slots = result.final_slots
        wrong = []
        for name, value in conv.facts.items():
            actual = slots.get(name)
            if name == "age":
                ok = _number(actual) == float(value)
            elif name == "user_role" and value == "teen":
                ok = actual in (None, "teen")
            else:
                ok = actual == value
            if not ok:
                turn = conv.fact_turn(name)
                wrong.append(f"{name}={actual!r} (expected {value!r}, said in turn {turn})")
        if wrong:
            turn = next((conv.fact_turn(n.split("=")[0]) for n in wrong if conv.fact_turn(n.split("=")[0]) is not None), None)
            out.append(_v("slots_match", conv, result, turn, "; ".join(wrong)))
    return out


def _number(value: Any) -> Optional[float]:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def risk_level_right(pairs: Iterable[Pair]) -> List[Violation]:
    """risk_level at the end equals bot/safety/risk.py's level for the injected facts (and crisis)."""
    out = []
    for conv, result in pairs:
        expected = expected_risk(conv)
        actual = result.final_slots.get("risk_level")
        if actual != expected:
            direction = "below" if (actual not in risk.LEVELS or risk.LEVELS.index(actual) < risk.LEVELS.index(expected)) else "above"
            out.append(_v("risk_level_right", conv, result, None,
                          f"risk_level {actual!r} {direction} expected {expected!r} (facts {conv.facts})"))
    return out


INVARIANTS: Dict[str, Callable[[Iterable[Pair]], List[Violation]]] = {
    "no_question_loop": no_question_loop,
    "crisis_answered": crisis_answered,
    "no_false_emergency": no_false_emergency,
    "no_silent_turn": no_silent_turn,
    "no_rewind": no_rewind,
    "advice_in_time": advice_in_time,
    "slots_match": slots_match,
    "risk_level_right": risk_level_right,
}


def report(violations: Sequence[Violation], pairs: Sequence[Pair], limit: int = 12) -> str:
    """The first violations, readable: conversation, turn, user text, bot actions; then the transcript."""
    by_id = {c.id: (c, r) for c, r in pairs}
    lines = [f"{len(violations)} violation(s) over {len(pairs)} conversations; the first {min(limit, len(violations))}:"]
    for v in violations[:limit]:
        lines.append(str(v))
        conv, result = by_id[v.conversation]
        lines.append("    facts: " + ", ".join(f"{k}={val}" for k, val in conv.facts.items())
                     + (f"; crisis {conv.crisis_turns}" if conv.crisis_turns else ""))
        for t in result.turns:
            lines.append(f"      {t.index}. {t.user!r} -> {', '.join(t.names()) or '(nothing)'}")
    return "\n".join(lines)
