"""The crisis net on the BLIND crisis set (tests/data/blind/crisis_messages.yml).

That set was written by someone who saw only the brief committed beside it, never the
lexicon or the training data, and it was committed before the work it measures. It is
an evaluation set, not a regression set: nobody tunes on it, so this module reports
counts only and never prints a message of the set (`python -m tests.model.blind_crisis
MODEL` prints the figures). tests/data/crisis_cases.yml is the regression set: its
100 % is a fit, this set's figures are the honest measure.
"""
from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List

import yaml

from bot.rasa_addons.nlu.crisis_detector import CLASSIFIER_ONLY
from tests.model.nlu_eval import NUMBERS, crisis_type, parse_all

BLIND = Path(__file__).resolve().parents[2] / "tests" / "data" / "blind" / "crisis_messages.yml"
# The second blind set (other writers, same brief), committed 2026-11-29 before the work it measures.
BLIND_2 = BLIND.with_name("crisis_messages_2.yml")
# The third (new writers, same brief), committed 2026-11-29 (8473781) before the work it measures.
BLIND_3 = BLIND.with_name("crisis_messages_3.yml")


@dataclass
class CrisisFigures:
    """What the person gets on the turn of each message (the CrisisPolicy's decision):
    the emergency answer (a lexicon cue), the clarifying question (the classifier alone:
    "are you thinking of suicide, or in danger?", with 3114 and 17/112), the gentle
    check-in (119), or nothing."""

    crises: int = 0
    caught: int = 0  # emergency answer (intent crisis with a lexicon cue)
    clarified: int = 0  # the clarifying question with the numbers (intent crisis, classifier alone)
    checked_in: int = 0  # gentle check-in (crisis_check) instead: a question and 119
    right_number: int = 0  # emergency answer or clarifying question with the number that fits the type
    negatives: int = 0
    false_alarms: int = 0  # an emergency answer on a harmless message
    false_clarify: int = 0  # the clarifying question on a harmless message
    false_check_ins: int = 0
    missed_by_type: Counter = field(default_factory=Counter)

    @property
    def recall(self) -> float:
        """A number in the same turn: the emergency answer or the clarifying question."""
        return (self.caught + self.clarified) / self.crises if self.crises else 0.0

    @property
    def emergency_recall(self) -> float:
        return self.caught / self.crises if self.crises else 0.0

    @property
    def alarms(self) -> int:
        """Harmless messages that got a number: emergency answers and clarifying questions."""
        return self.false_alarms + self.false_clarify

    def lines(self) -> List[str]:
        return [
            f"crisis messages: {self.crises}; a number at once: {self.caught + self.clarified} (recall {self.recall:.3f}): "
            f"emergency answer {self.caught} ({self.emergency_recall:.3f}), clarifying question {self.clarified}; "
            f"with the number that fits: {self.right_number}; check-in only: {self.checked_in}; "
            f"missed by type: {dict(self.missed_by_type)}",
            f"harmless messages: {self.negatives}; emergency answers: {self.false_alarms}, clarifying questions: "
            f"{self.false_clarify} ({self.alarms / max(self.negatives, 1):.3f}); check-ins on harmless messages: {self.false_check_ins}",
        ]


def blind_cases(path: Path = BLIND) -> Dict[str, List[Dict[str, Any]]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def evaluate(agent: Any, path: Path = BLIND) -> CrisisFigures:
    cases = blind_cases(path)
    figures = CrisisFigures(crises=len(cases["crisis"]), negatives=len(cases["negatives"]))
    for case, parse in zip(cases["crisis"], parse_all(agent, [c["text"] for c in cases["crisis"]])):
        intent = parse["intent"]["name"]
        if intent == "crisis":
            if crisis_type(parse) == CLASSIFIER_ONLY:
                figures.clarified += 1
            else:
                figures.caught += 1
            figures.right_number += NUMBERS.get(crisis_type(parse), "") == NUMBERS[case["type"]]
        elif intent == "crisis_check":
            figures.checked_in += 1
            figures.missed_by_type[case["type"]] += 1
        else:
            figures.missed_by_type[case["type"]] += 1
    for parse in parse_all(agent, [c["text"] for c in cases["negatives"]]):
        if parse["intent"]["name"] == "crisis":
            if crisis_type(parse) == CLASSIFIER_ONLY:
                figures.false_clarify += 1
            else:
                figures.false_alarms += 1
        figures.false_check_ins += parse["intent"]["name"] == "crisis_check"
    return figures


if __name__ == "__main__":
    import logging

    import structlog
    from rasa.core.agent import Agent

    # Rasa's structlog debug lines carry each parsed text: a held-out set must print counts only.
    logging.disable(logging.INFO)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    # python -m tests.model.blind_crisis MODEL [SET]   (SET: the first blind set by default)
    for line in evaluate(Agent.load(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else BLIND).lines():
        print(line)
