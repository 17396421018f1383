"""`make preview`: every flow, in French and English: the urgent answer, the questions in order (with\ntheir `when`), the advice by branch, then the offer of a person or "anything else?"."""
from __future__ import annotations

import subprocess

import pytest
from bot.content_store.render import render
from bot.content_store.store import load_snapshot
from tests.editors.conftest import ROOT

SNAPSHOT = load_snapshot(ROOT / "content")
RULES = ROOT / "bot" / "data" / "rules"


def first_line(name: str, language: str, role: str = "teen") -> str:
    return render(SNAPSHOT, name, {"language": language, "user_role": role})["text"].splitlines()[0]


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("flow", sorted(SNAPSHOT.flows))
def test_preview_of_every_flow(preview, flow: str, language: str) -> None:
    text = preview.preview(flow, language)
    assert f"=== Parcours {flow}" in text
    assert "--- Pour un·e ado (tutoiement) ---" in text and "--- Pour un parent (vouvoiement) ---" in text
    intent, urgent, questions = preview.flow_structure(flow, SNAPSHOT, RULES)
    definition = SNAPSHOT.flows[flow]
    assert intent and "Personne : « " in text  # a real first message, from the training data
    assert urgent == definition.urgent and questions == [(q.slot, dict(q.when)) for q in definition.questions]
    assert questions, "every flow asks something"
    assert first_line(urgent, language) in text
    for number, (slot, when) in enumerate(questions, 1):  # every question, in the flow's order, with its buttons
        assert f"(question {number}/{len(questions)}" in text and f"utter_ask_{slot}" in text
    teen = text.split("--- Pour un parent (vouvoiement) ---")[0]
    # The shape the assistant follows: urgent answer, the questions, the advice, then the offer or "anything else?".
    order = [urgent] + [f"utter_ask_{slot}" for slot, _ in questions] + [definition.steps[0].response,
                                                                          "utter_offer_human", "utter_anything_else"]
    positions = [teen.index(f"— {name}") for name in order]
    assert positions == sorted(positions), order
    for step in definition.steps:
        assert step.response in teen
    assert "_form" not in text and "requested_slot" not in text  # no Rasa forms any more
    assert "Boutons : [" in text
    assert "{" not in text.replace("{helpline", "")  # every placeholder filled
    if language == "en":
        assert first_line("utter_anything_else", "en") in text and first_line("utter_anything_else", "fr") not in text


def test_questions_with_a_condition_say_when_they_are_asked(preview) -> None:
    text = preview.preview("grooming", "fr")
    assert "(question 4/4, seulement si un rendez-vous a été proposé) — utter_ask_safe_now" in text
    teen = text.split("--- Pour un parent (vouvoiement) ---")[0]
    safety = teen[teen.index("— utter_ask_safe_now"):teen.index("Assistant — les conseils")]
    # "oui" is reassured; a bare "non" gets the emergency answer (17/112), then a counsellor.
    assert "Si la réponse est « oui » :" in safety and "utter_glad_safe" in safety
    assert "Si la réponse est un « non » tout court" in safety and "utter_not_safe" in safety and "17" in safety


def test_sextortion_asks_how_the_person_holds_up_first(preview) -> None:
    text = preview.preview("sextortion", "fr")
    assert "(question 1/6) — utter_ask_wellbeing" in text
    assert "comment tu tiens le coup" in text
    teen = text.split("--- Pour un parent (vouvoiement) ---")[0]
    support = teen[teen.index("— utter_ask_wellbeing"):teen.index("— utter_ask_age")]
    assert "utter_wellbeing_support" in support and "3114" in support  # a low answer: 3114, gently
    assert teen.index("utter_sextortion_urgent") < teen.index("utter_ask_wellbeing")


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
