"""A broken edit never reaches users: the service keeps the last good content, logs file and line;
a good edit is live within 2 seconds without retraining (store level, then on the running stack)."""
from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import pytest

from bot.content_store import ContentStore, render
from tests.editors.conftest import ROOT

SLOTS = {"language": "fr", "user_role": "teen"}


@pytest.fixture
def store(tmp_path: Path) -> ContentStore:
    shutil.copytree(ROOT / "content", tmp_path / "content")
    return ContentStore(tmp_path / "content")


def text(store: ContentStore, name: str = "utter_thanks", lang: str = "fr") -> str:
    return render(store.snapshot(), name, {**SLOTS, "language": lang})["text"]


def wait_for(predicate, seconds: float = 2.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


def test_text_edit_is_served_within_two_seconds(store: ContentStore) -> None:
    before = text(store)
    path = store.root / "responses" / "common.yml"
    original = path.read_text(encoding="utf-8")
    first_fr = before.split("\n")[0]
    path.write_text(original.replace(first_fr, "MARQUEUR " + first_fr, 1), encoding="utf-8")
    assert wait_for(lambda: text(store).startswith("MARQUEUR")) < 2.0


@pytest.mark.parametrize("mistake", ["yaml", "english"])
def test_broken_edit_keeps_last_good_and_logs_file_and_line(store: ContentStore, caplog, mistake: str) -> None:
    good = text(store, lang="en")
    path = store.root / "responses" / "common.yml"
    original = path.read_text(encoding="utf-8")
    if mistake == "yaml":
        path.write_text(original + "\nutter_broken: [oops\n", encoding="utf-8")
        expected = "ligne"
    else:
        path.write_text(original + '\nutter_new:\n  - fr: "Nouveau texte"\n', encoding="utf-8")
        expected = "il manque le texte en anglais"
    with caplog.at_level(logging.ERROR, logger="bot.content_store.store"):
        wait_for(lambda: bool(store.snapshot() and store.errors))
    assert text(store, lang="en") == good  # the last good content is still served
    assert any(e.file == "responses/common.yml" and e.line for e in store.errors)
    logged = caplog.text
    assert "responses/common.yml, ligne" in logged and expected in logged and "still serving" in logged


def test_missing_english_on_the_running_stack(chat) -> None:
    """The running services: a missing English text is refused with file and line, the last good is served."""
    from tests.integration.helpers import says

    path = chat.stack.content_dir / "responses" / "service.yml"
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original + '\nutter_extra_editor:\n  - fr: "Texte sans traduction"\n', encoding="utf-8")
        time.sleep(2)
        says(chat.text(chat.say("vous êtes ouverts à quelle heure ?")), "3018")  # still answers, with the last good content
        log = chat.stack.log_file.read_text(encoding="utf-8")
        assert "responses/service.yml, ligne" in log and "il manque le texte en anglais" in log
    finally:
        path.write_text(original, encoding="utf-8")
        time.sleep(1.5)
