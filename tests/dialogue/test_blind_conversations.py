"""The blind conversation set against the running assistant (tests/dialogue/blind_eval.py):
pass rate at least 0.90, no loop, no silent turn, no false emergency.

    .venv/bin/python -m pytest -q tests/dialogue/test_blind_conversations.py
"""
from __future__ import annotations

import pytest

from tests.dialogue.blind_eval import BLIND_SET, evaluate, summary, table

PASS_RATE = 0.90


@pytest.fixture(scope="module")
def verdicts(stack):
    if not BLIND_SET.exists():
        pytest.fail(f"{BLIND_SET} is missing")
    return evaluate(stack.url, stack.token)


def test_blind_pass_rate(verdicts) -> None:
    s = summary(verdicts)
    assert s["pass_rate"] >= PASS_RATE, f"pass rate {s['pass_rate']:.3f} < {PASS_RATE}\n" + table(verdicts)


def test_blind_no_loop(verdicts) -> None:
    looping = [v for v in verdicts if v.loops]
    assert not looping, "questions asked more than twice: " + "; ".join(f"{v.id} {v.loops}" for v in looping)


def test_blind_no_silent_turn(verdicts) -> None:
    silent = [v for v in verdicts if v.silent_turns]
    assert not silent, "turns without a reply: " + "; ".join(f"{v.id} turns {v.silent_turns}" for v in silent)


def test_blind_no_false_emergency(verdicts) -> None:
    false = [v for v in verdicts if v.false_emergency]
    assert not false, "emergency answers where none was expected: " + ", ".join(v.id for v in false)
