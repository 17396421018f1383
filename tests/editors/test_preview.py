"""`make preview`: every flow, in French and English, with its questions, branches and steps."""
from __future__ import annotations

import subprocess

import pytest
import yaml

from bot.content_store.render import render
from bot.content_store.store import load_snapshot
from tests.editors.conftest import ROOT

SNAPSHOT = load_snapshot(ROOT / "content")
DOMAIN = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))


def first_line(name: str, language: str, role: str = "teen") -> str:
    return render(SNAPSHOT, name, {"language": language, "user_role": role})["text"].splitlines()[0]


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("flow", sorted(SNAPSHOT.flows))
def test_preview_of_every_flow(preview, flow: str, language: str) -> None:
    text = preview.preview(flow, language)
    assert f"=== Parcours {flow}" in text
    assert "--- Pour un·e ado (tutoiement) ---" in text and "--- Pour un parent (vouvoiement) ---" in text
    _, urgent, questions, form = preview.flow_structure(flow, DOMAIN, ROOT / "bot" / "data" / "rules")
    assert urgent and questions and form in DOMAIN["forms"]
    assert first_line(urgent, language) in text
    for slot in questions:  # every question, in the form's order, with its buttons
        assert f"utter_ask_{slot}" in text
        assert first_line(f"utter_ask_{slot}", language) in text
    positions = [text.index(f"utter_ask_{slot}") for slot in questions]
    assert positions == sorted(positions)
    for step in SNAPSHOT.flows[flow].steps:
        assert step.response in text
    assert "Boutons : [" in text
    assert "{" not in text.replace("{helpline", "")  # every placeholder filled
    if language == "en":
        assert first_line("utter_anything_else", "en") in text and first_line("utter_anything_else", "fr") not in text


def test_sextortion_branches_are_labelled_in_french(preview) -> None:
    text = preview.preview("sextortion", "fr")
    for label in ("Si la personne a déjà payé :", "Si les images ont déjà été publiées :", "Si le maître-chanteur a donné un délai :",
                  "Si la personne a moins de 18 ans", "Si la personne a 18 ans ou plus", "Si la plateforme est Snapchat :", "Sinon :"):
        assert label in text, label
    teen, parent = text.split("--- Pour un parent (vouvoiement) ---")
    assert "Ne paie pas" in teen and "Ne payez pas" in parent  # tutoiement / vouvoiement


def test_hacked_account_branches(preview) -> None:
    text = preview.preview("hacked_account", "en")
    assert "Si la personne ne peut plus se connecter :" in text
    assert "Si la personne peut encore se connecter ou on ne sait pas si la personne peut se connecter :" in text


def test_make_preview_lists_flows_when_missing_or_unknown() -> None:
    result = subprocess.run(["make", "--no-print-directory", "preview", "FLOW=sextorsion"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode != 0
    assert "Parcours inconnu : « sextorsion »" in result.stdout and "sextortion" in result.stdout
    result = subprocess.run(["make", "--no-print-directory", "preview", "FLOW=grooming", "LANGUE=en"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and "aperçu en anglais" in result.stdout and first_line("utter_ask_age", "en") in result.stdout
