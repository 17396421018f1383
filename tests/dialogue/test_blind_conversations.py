"""The blind conversation sets against the running assistant (tests/dialogue/blind_eval.py).

Targets: pass rate at least 0.90, no loop, no silent turn, no false emergency.

Three sets, written by different writers from the same committed brief:
- `conversations.yml` (49): blind when committed. Measured on 2026-11-29: 5/49 before the
  dialogue rewrite, 18/49 at first (untuned), 27-29/49 after changes informed by its
  aggregate results. Since the second set exists it is a DEVELOPMENT set: its failing
  conversations were read and the dialogue fixed from them, so its figure is a fit.
- `conversations_2.yml` (48): held out while it measured the second session's change (31/48
  before, 38/48 after, never read then). In the third session its failures were read and
  fixed from: it is a DEVELOPMENT set now (45/48, a fit).
- `conversations_3.yml` (48): HELD OUT. New writers, committed (8473781) before the change it
  measures and never read: this test prints its totals only. Measured on 2026-11-29: 44/48
  (0.917), 2 false emergencies before the third session's change; 46/48 (0.958), 1 false
  emergency, 0 missed after it.

The floors hold today's level so that a regression fails; raise them when the dialogue
improves, never lower them.

    .venv/bin/python -m pytest -q tests/dialogue/test_blind_conversations.py
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, NamedTuple

import pytest

from tests.dialogue.blind_eval import BLIND_SET, evaluate, load_set, summary, table

TARGET_PASS_RATE = 0.90  # not reached yet (see above)


class Bar(NamedTuple):
    path: Path
    held_out: bool  # print totals only
    pass_rate_floor: float
    false_emergencies_tolerated: int  # target 0


BARS: Dict[str, Bar] = {
    # measured 2026-11-29 (third session, final model): 42/49 (0.857), 1 false emergency (a fit)
    "development": Bar(BLIND_SET, False, 0.80, 1),
    # read in the third session: 38/48 before, 45/48 (0.938) after, 0 false emergencies (a fit)
    "development_2": Bar(BLIND_SET.with_name("conversations_2.yml"), False, 0.87, 1),
    # held out: 44/48 (0.917) before the third session's change, 46/48 (0.958) after; 2 then 1 false emergency
    "held_out": Bar(BLIND_SET.with_name("conversations_3.yml"), True, 0.91, 1),
}


@pytest.fixture(scope="module", params=list(BARS))
def measured(request, stack):
    bar = BARS[request.param]
    if not bar.path.exists():
        pytest.fail(f"{bar.path} is missing")
    verdicts = evaluate(stack.url, stack.token, cases=load_set(bar.path))
    report = table(verdicts)
    return bar, verdicts, report.splitlines()[-1] if bar.held_out else report


def test_blind_pass_rate(measured) -> None:
    bar, verdicts, report = measured
    s = summary(verdicts)
    print(f"{bar.path.name}: pass rate {s['pass_rate']:.3f} (target {TARGET_PASS_RATE})\n{report}")
    assert s["pass_rate"] >= bar.pass_rate_floor, f"pass rate {s['pass_rate']:.3f} < {bar.pass_rate_floor}\n{report}"


def test_blind_no_loop(measured) -> None:
    bar, verdicts, report = measured
    assert not any(v.loops for v in verdicts), report


def test_blind_no_silent_turn(measured) -> None:
    bar, verdicts, report = measured
    assert not any(v.silent_turns for v in verdicts), report


def test_blind_no_false_emergency(measured) -> None:
    bar, verdicts, report = measured
    false = sum(v.false_emergency for v in verdicts)
    assert false <= bar.false_emergencies_tolerated, f"{false} emergency answers where none was expected\n{report}"
