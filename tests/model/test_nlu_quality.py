"""The quality bars of the trained NLU on sets it never saw (tests/data/)."""
from __future__ import annotations

import difflib
from pathlib import Path

import pytest
import yaml

from bot.content_store.store import load_snapshot
from bot.safety.normalize import fold
from tests.model.nlu_eval import NUMBERS, crisis_cases, crisis_type, heldout, parse_all

ROOT = Path(__file__).resolve().parents[2]


def _training_examples() -> list:
    texts = []
    for path in (ROOT / "bot" / "data" / "nlu").glob("*.yml"):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            texts += [line.strip()[2:] for line in block.get("examples", "").splitlines() if line.strip().startswith("- ")]
    return texts


def test_test_sets_are_big_enough() -> None:
    cases = crisis_cases()
    assert len(cases["crisis"]) >= 80 and len(cases["negatives"]) >= 50
    assert {c["lang"] for c in cases["crisis"]} == {"fr", "en"}
    assert len(heldout()) >= 300


def test_no_test_message_is_in_the_training_data_or_the_lexicon() -> None:
    """Crisis set: not in the training data or the lexicon, nor a near-duplicate.
    Held-out set: not in the training data (short phrases like "merci" may look alike)."""
    cases = crisis_cases()
    crisis_texts = [c["text"] for section in cases.values() for c in section]
    training = {fold(t) for t in _training_examples()}
    lexicon = load_snapshot(ROOT / "content").lexicon_data
    patterns = {fold(p) for section in ("idioms", "check_in", "signals") for p in lexicon.get(section, [])}
    patterns |= {fold(p) for kind in lexicon["crisis"].values() for p in kind}
    ordered = sorted(training)
    for text in crisis_texts:
        folded = fold(text)
        assert folded not in training, f"crisis test message in training data: {text}"
        assert folded not in patterns, f"crisis test message in the lexicon: {text}"
        close = difflib.get_close_matches(folded, ordered, n=1, cutoff=0.9)
        assert not close, f"near-duplicate of a training example: {text!r} ~ {close[0]!r}"
        if len(folded.split()) >= 5:  # a 3-word canonical phrase ("want to die") is bound to resemble one
            close = difflib.get_close_matches(folded, sorted(patterns), n=1, cutoff=0.9)
            assert not close, f"near-duplicate of a lexicon pattern: {text!r} ~ {close[0]!r}"
    for text, _ in heldout():
        assert fold(text) not in training, f"held-out message in training data: {text}"


@pytest.fixture(scope="module")
def crisis_parses(agent):
    cases = crisis_cases()
    return {section: list(zip(items, parse_all(agent, [c["text"] for c in items]))) for section, items in cases.items()}


def test_crisis_recall_is_total_and_each_gets_its_number(crisis_parses) -> None:
    missed = [c["text"] for c, p in crisis_parses["crisis"] if p["intent"]["name"] != "crisis"]
    assert not missed, f"{len(missed)} crises missed: {missed}"
    wrong = [(c["type"], crisis_type(p), c["text"]) for c, p in crisis_parses["crisis"]
             if NUMBERS[crisis_type(p)] != NUMBERS[c["type"]]]
    assert not wrong, f"wrong number for: {wrong}"


def test_no_false_alarm(crisis_parses) -> None:
    alarms = [(p["intent"]["name"], c["text"]) for c, p in crisis_parses["negatives"]
              if p["intent"]["name"] in ("crisis", "crisis_check")]
    assert not alarms, f"false alarms: {alarms}"


def test_possible_abuse_gets_at_least_a_check_in(crisis_parses) -> None:
    missed = [c["text"] for c, p in crisis_parses["check_in"] if p["intent"]["name"] not in ("crisis_check", "crisis")]
    assert not missed, f"no check-in for: {missed}"


def test_heldout_intent_accuracy(agent) -> None:
    examples = heldout()
    parses = parse_all(agent, [t for t, _ in examples])
    good = sum(p["intent"]["name"] == intent for (_, intent), p in zip(examples, parses))
    accuracy = good / len(examples)
    print(f"held-out intent accuracy: {accuracy:.3f} ({good}/{len(examples)})")
    assert accuracy >= 0.92
