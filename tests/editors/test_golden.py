"""Golden `make preview` files: every flow, in French and in English, as committed under tests/editors/golden/.

A change to what the assistant says shows here as a diff to read (as a teen and as a parent would read
it) and to commit with the content change. To write the new files after reading the diff:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/editors/test_golden.py

The person's first message comes from the training data (bot/data/nlu), which changes on its own
schedule: that one line is compared as « … », so an NLU edit does not turn this test red.
"""
from __future__ import annotations

import difflib
import os
import re

import pytest
from bot.content_store.store import load_snapshot
from tests.editors.conftest import ROOT

GOLDEN = ROOT / "tests" / "editors" / "golden"
FLOWS = sorted(load_snapshot(ROOT / "content").flows)
FIRST_MESSAGE = re.compile(r"^Personne : « .* »$", re.M)


def golden_text(preview, flow: str, language: str) -> str:
    text = preview.preview(flow, language, content=ROOT / "content")
    return FIRST_MESSAGE.sub("Personne : « … »", text).rstrip("\n") + "\n"


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("flow", FLOWS)
def test_preview_matches_the_golden_file(preview, flow: str, language: str) -> None:
    path = GOLDEN / f"{flow}.{language}.txt"
    text = golden_text(preview, flow, language)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path.name} manque : UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/editors/test_golden.py"
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), f"golden/{path.name}", "make preview", n=1))
        pytest.fail(f"make preview FLOW={flow} LANGUE={language} a changé ; relisez puis UPDATE_GOLDEN=1 :\n{diff[:6000]}")


def test_one_golden_file_per_flow_and_language() -> None:
    expected = {f"{flow}.{language}.txt" for flow in FLOWS for language in ("fr", "en")}
    assert {p.name for p in GOLDEN.glob("*.txt")} == expected
