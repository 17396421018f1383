"""The harness itself, without a running stack: the generator is seeded and carries its ground
truth; the invariants read a tracker shaped like the guided-flow contract (utter_ask/utter_reask,
utter_advice_N with metadata `steps`, utter_crisis) and find what they should."""
from __future__ import annotations

from typing import Any, Dict, List

from tests.dialogue.blind_eval import concept_found
from tests.dialogue.generator import Conversation, Turn, generate
from tests.dialogue.invariants import INVARIANTS, required_steps
from tests.dialogue.runner import PlayResult, TurnResult, split_turns


def test_generator_is_seeded_and_varied() -> None:
    a, b = generate(5, 300), generate(5, 300)
    assert [c.texts for c in a] == [c.texts for c in b]
    assert [c.texts for c in a] != [c.texts for c in generate(6, 300)]
    assert {c.flow for c in a} == {"sextortion", "nonconsensual_sharing", "grooming", "cyberbullying",
                                   "hacked_account", "report_account"}
    assert {c.language for c in a} == {"fr", "en"} and {c.role for c in a} == {"teen", "parent", "professional"}
    kinds = {t.kind for c in a for t in c.turns}
    assert {"first", "fact", "skip", "what_now", "smalltalk", "crisis"} <= kinds
    assert 15 <= sum(1 for c in a if c.crisis_turns) <= 60
    for c in a:
        assert len(c.turns) >= 6
        for name, value in c.facts.items():
            if name not in ("flow", "user_role"):
                assert c.fact_turn(name) is not None, (c.id, name)
                assert c.turns[c.fact_turn(name)].facts[name] == value


def _events(turns: List[List[Dict[str, Any]]]) -> List[Dict[str, Any]]:
    events: List[Dict[str, Any]] = [{"event": "action", "name": "action_session_start"}]
    for i, turn in enumerate(turns):
        events.append({"event": "user", "text": f"u{i}", "parse_data": {"intent": {"name": "x"}}})
        events += turn
    return events


def _say(name: str, text: str = "...", **metadata: Any) -> List[Dict[str, Any]]:
    return [{"event": "action", "name": name},
            {"event": "bot", "text": text, "metadata": dict(metadata, utter_action=name)}]


def _slot(name: str, value: Any) -> Dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def _play(conv: Conversation, turns: List[List[Dict[str, Any]]], replies: bool = True) -> PlayResult:
    results = [TurnResult(i, t.text, [{"text": "x"}] if replies else []) for i, t in enumerate(conv.turns)]
    final = split_turns(_events(turns), results)
    return PlayResult("s", results, final, [])


def _conv(n: int, crisis_at: int = -1) -> Conversation:
    facts = {"flow": "sextortion", "user_role": "teen", "age": 14, "platform": "snapchat", "paid": "yes"}
    turns = [Turn("first", "first", {"platform": "snapchat"}), Turn("14 ans paye", "fact", {"age": 14, "paid": "yes"})]
    turns += [Turn("ok", "smalltalk") for _ in range(n - 2)]
    if crisis_at >= 0:
        turns[crisis_at] = Turn("crisis", "crisis", crisis_type="suicide")
    return Conversation("c1", "fr", "teen", "sextortion", facts, turns)


def test_a_good_conversation_has_no_violation() -> None:
    conv = _conv(6)
    steps = required_steps(conv.facts)
    assert set(steps) == {"step_sextortion_report", "step_sextortion_takeitdown", "step_sextortion_paid"}
    turns = [
        [_slot("flow", "sextortion"), _slot("platform", "snapchat"), *_say("utter_sextortion_urgent"), *_say("utter_ask_age")],
        [_slot("age", 14.0), _slot("paid", "yes"), _slot("user_role", "teen"), _slot("risk_level", "high"),
         *_say("utter_advice_1", steps=steps[:2])],
        [*_say("utter_advice_2", steps=steps[2:])],
        [*_say("utter_recap")], [*_say("utter_recap")], [*_say("utter_recap")],
    ]
    result = _play(conv, turns)
    found = {name: check([(conv, result)]) for name, check in INVARIANTS.items()}
    assert not any(found.values()), found


def test_each_broken_promise_is_found() -> None:
    conv = _conv(6, crisis_at=3)
    turns = [
        [_slot("flow", "sextortion"), *_say("utter_sextortion_urgent"), *_say("utter_ask_age")],
        [*_say("utter_reask_age")],
        [*_say("utter_ask_age")],  # a third time
        [*_say("utter_crisis", "Appelle le 15")],  # wrong number for suicide
        [{"event": "action", "name": "action_default_fallback"}, {"event": "rewind"}],  # rewound, and silent
        [_slot("risk_level", "low"), _slot("age", 15.0)],
    ]
    result = _play(conv, turns)
    result.turns[4].replies = []
    found = {name: check([(conv, result)]) for name, check in INVARIANTS.items()}
    assert [v.turn for v in found["no_question_loop"]] == [2]
    assert [v.turn for v in found["crisis_answered"]] == [3]
    assert [v.turn for v in found["no_silent_turn"]] == [4]
    assert [v.turn for v in found["no_rewind"]] == [4]
    assert found["slots_match"] and found["risk_level_right"]
    assert not found["no_false_emergency"]  # there was a crisis turn

    calm = _conv(6)
    result = _play(calm, [[_slot("flow", "sextortion"), *_say("utter_not_safe", "17")], [], [], [], [], []])
    assert INVARIANTS["no_false_emergency"]([(calm, result)])
    assert INVARIANTS["advice_in_time"]([(calm, result)])


def test_concepts_read_meaning_in_both_languages() -> None:
    assert concept_found("dont_pay", "Surtout, **ne paie pas** : ça ne s’arrête jamais.")
    assert concept_found("dont_pay", "Do not pay them.")
    assert concept_found("take_it_down", "Take It Down (takeitdown.ncmec.org)")
    assert concept_found("helpline_3018", "Appelle le 3018")
    assert not concept_found("helpline_3018", "Appelle le 30180")
    assert concept_found("not_your_fault", "Ce n'est pas de ta faute.")
    assert not concept_found("block", "Voici ce que je peux faire pour toi.")
