"""The content store: errors name file, line and field; a broken edit keeps the last good content."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from bot.content_store import ContentStore, render
from bot.content_store.store import ContentLoadFailed, load_snapshot

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def content(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(ROOT / "content", target)
    return target


def problems(content: Path) -> str:
    with pytest.raises(ContentLoadFailed) as failure:
        load_snapshot(content)
    return str(failure.value)


def test_the_shipped_content_is_valid() -> None:
    snapshot = load_snapshot(ROOT / "content")
    assert {"sextortion", "nonconsensual_sharing", "grooming", "report_account", "cyberbullying", "hacked_account"} <= set(snapshot.flows)
    assert len([p for p in snapshot.platforms if p != "_default"]) >= 16
    assert snapshot.helplines["e_enfance"]["number"] == "3018"


def test_broken_yaml_names_file_and_line(content: Path) -> None:
    path = content / "responses" / "service.yml"
    path.write_text(path.read_text(encoding="utf-8") + "\nutter_broken: [oops\n", encoding="utf-8")
    message = problems(content)
    assert "responses/service.yml, ligne" in message and "YAML" in message


def test_missing_english_is_refused(content: Path) -> None:
    (content / "responses" / "extra.yml").write_text("utter_extra:\n  - fr: \"Bonjour\"\n", encoding="utf-8")
    message = problems(content)
    assert "responses/extra.yml, ligne 2" in message and "anglais" in message


def test_unknown_placeholder_and_helpline_are_refused(content: Path) -> None:
    (content / "responses" / "extra.yml").write_text(
        'utter_extra:\n  - fr: "Appelle {helpline.nope.number}"\n    en: "Hi {prenom}"\n', encoding="utf-8")
    message = problems(content)
    assert "« nope » n'existe pas dans helplines.yml" in message and "{prenom}" in message


def test_invalid_phone_number_is_refused(content: Path) -> None:
    path = content / "helplines.yml"
    path.write_text(path.read_text(encoding="utf-8").replace('number: "3018"', 'number: "30 18 abc"', 1), encoding="utf-8")
    assert "n'est pas un numéro français valide" in problems(content)


def test_live_reload_and_last_good_content(content: Path) -> None:
    store = ContentStore(content, check_interval=0.0)
    before = render(store.snapshot(), "utter_hours", {})["text"]
    path = content / "responses" / "service.yml"
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace("utter_hours:", "utter_hours_old:", 1) + "\nutter_hours:\n  - fr: \"Nouveau\"\n    en: \"New\"\n",
                    encoding="utf-8")
    time.sleep(0.01)
    assert render(store.snapshot(), "utter_hours", {})["text"] == "Nouveau"
    path.write_text(original + "\nutter_hours: [cassé\n", encoding="utf-8")
    assert render(store.snapshot(), "utter_hours", {})["text"] == "Nouveau"  # the last good content
    assert store.errors and store.errors[0].file == "responses/service.yml" and store.errors[0].line
    assert before != "Nouveau"


def test_rendering_by_language_and_audience() -> None:
    snapshot = load_snapshot(ROOT / "content")
    teen = render(snapshot, "utter_ask_age", {})["text"]
    parent = render(snapshot, "utter_ask_age", {"user_role": "parent"})["text"]
    english = render(snapshot, "utter_ask_age", {"language": "en"})["text"]
    assert "as-tu" in teen and "votre enfant" in parent.lower() and "how old" in english.lower()
    crisis = render(snapshot, "utter_crisis", {"crisis_type": "overdose"})["text"]
    assert "15" in crisis and len(crisis.splitlines()) <= 3
