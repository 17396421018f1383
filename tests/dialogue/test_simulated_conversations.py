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
from tests.dialogue.simulate import DEFAULT_COUNT, run_batch, seed_from_env

SEED = seed_from_env()
COUNT = int(os.environ.get("DIALOGUE_COUNT", DEFAULT_COUNT))


@pytest.fixture(scope="module")
def batch(stack) -> List:
    return run_batch(stack.url, stack.token, SEED, COUNT, workers=8)


@pytest.mark.parametrize("invariant", list(INVARIANTS))
def test_invariant_holds_over_the_batch(batch, invariant: str) -> None:
    violations = INVARIANTS[invariant](batch)
    assert not violations, f"seed {SEED} ({invariant}): " + report(violations, batch, limit=8)
