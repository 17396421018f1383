"""Simulated conversations (tests/dialogue/generator.py) against the running assistant: one test
per invariant (tests/dialogue/invariants.py) over the whole batch, played once per module.

    .venv/bin/python -m pytest -q tests/dialogue/test_simulated_conversations.py
    DIALOGUE_SEED=7 .venv/bin/python -m pytest -q tests/dialogue/test_simulated_conversations.py   # another batch
    DIALOGUE_COUNT=60 ...                                                                     # a quicker, smaller batch
"""
from __future__ import annotations

import os
from typing import List

import pytest

from tests.dialogue.invariants import INVARIANTS, report
from tests.dialogue.simulate import DEFAULT_COUNT, DEFAULT_SEED, run_batch, seed_from_env

SEED = seed_from_env()
COUNT = int(os.environ.get("DIALOGUE_COUNT", DEFAULT_COUNT))
# Every invariant's target is zero violations. Three hold today and must keep holding: no
# question asked three times, no silent turn, no message rewound by Rasa's core fallback.
# The others are known gaps, measured on the default batch (seed 20261129, 300
# conversations) and held at that level (with a small margin for a retrained model) so that
# any regression fails: lower a number whenever a fix lands, never raise it. Counts on
# 2026-11-29, first session -> second session -> third session:
#   crisis_answered 5 -> 0 -> 0      crises the net misses (content/crisis/lexicon.yml, the classifier)
#   no_false_emergency 2 -> 1 -> 0   harmless messages that get the emergency answer (same)
#   advice_in_time 13 -> 12 -> 10    the flow never starts (message misclassified) or a branch step comes late
#   slots_match 55 -> 47 -> 38       facts said in words the context reader (bot/safety/context.py) misses
#   risk_level_right 19 -> 14 -> 11  mostly follows from the two above
TOLERATED = {
    "no_question_loop": 0, "no_silent_turn": 0, "no_rewind": 0,
    "crisis_answered": 1, "no_false_emergency": 1, "advice_in_time": 12, "slots_match": 44, "risk_level_right": 14,
}
SCALE = COUNT / DEFAULT_COUNT


@pytest.fixture(scope="module")
def batch(stack) -> List:
    return run_batch(stack.url, stack.token, SEED, COUNT, workers=8)


@pytest.mark.parametrize("invariant", list(INVARIANTS))
def test_invariant_holds_over_the_batch(batch, invariant: str) -> None:
    violations = INVARIANTS[invariant](batch)
    allowed = int(TOLERATED[invariant] * SCALE) if SEED == DEFAULT_SEED else TOLERATED[invariant]
    print(f"seed {SEED}, {len(batch)} conversations: {invariant}: {len(violations)} violations (at most {allowed})")
    assert len(violations) <= allowed, (
        f"seed {SEED} ({invariant}): {len(violations)} violations, at most {allowed} allowed: "
        + report(violations, batch, limit=8))
