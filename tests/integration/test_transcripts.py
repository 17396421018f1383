"""Full conversations through the running server, for every flow, main branches, both
languages and both roles. Replies must hold the key advice and never ask for an image."""
from __future__ import annotations

from typing import Dict, List, Optional

import pytest

from bot.safety.normalize import fold
from tests.integration.helpers import never_asks_for_images, says
from tests.support.chat import Chat

SKIP = {"fr": "je préfère ne pas dire", "en": "I'd rather not say"}


def converse(chat: Chat, first: str, answers: Dict[str, str], language: str = "fr") -> str:
    """Say `first`, then answer each question the flow asks (skipping unknown ones)."""
    chat.say(first)
    for _ in range(10):
        tracker = chat.tracker()
        if not tracker["active_loop"].get("name"):
            break
        requested = tracker["slots"].get("requested_slot")
        chat.say(answers.get(requested, SKIP[language]))
    else:
        pytest.fail("the questions never ended")
    text = chat.all_bot_text()
    never_asks_for_images(text)
    return text


SCENARIOS: List[Dict] = [
    dict(
        id="sextortion-teen-fr-typos",
        first="une meuf sur insta ma demander de me montré en cam et mtn elle veut 200e sinon elle envoi tout a mes potes",
        answers={"safe_now": "oui", "age": "14", "paid": "non", "posted": "non", "deadline": "ce soir minuit"},
        says=["ne paie pas", "arrete de repondre", "preuves", "jamais les images", "ne supprime", "porter plainte",
              "15-3", "3018", "take it down", "pas de ta faute"],
        never=["stopncii", "apres tes 18 ans"],  # nothing about adults' tools for a 14-year-old
        slots={"flow": "sextortion", "platform": "instagram", "age": 14.0, "risk_level": "high", "language": "fr"},
        offers_person=True,
    ),
    dict(
        id="sextortion-parent-fr-already-paid",
        first="Bonjour, mon fils de 15 ans est victime de chantage à la webcam sur Snapchat, on lui réclame 300 euros",
        answers={"safe_now": "oui", "paid": "oui, il a déjà payé 100 euros", "posted": "je ne sais pas", "deadline": "non"},
        says=["ne payez pas", "porter plainte", "3018", "captures d"],
        slots={"flow": "sextortion", "user_role": "parent", "age": 15.0, "platform": "snapchat", "paid": "yes",
               "risk_level": "high"},
    ),
    dict(
        id="sextortion-adult-en-posted",
        first="someone recorded me on webcam and wants $500 or he sends it to my family, I'm 19",
        answers={"safe_now": "yes", "platform": "google chat", "paid": "no", "posted": "yes he already posted it",
                 "deadline": "no"},
        language="en",
        says=["don't pay", "evidence", "don't delete", "police", "after you turned 18", "stopncii", "3018"],
        never=["if you were under 18 in the images"],  # the dedicated Take It Down step (minors)
        slots={"flow": "sextortion", "language": "en", "age": 19.0, "platform": "hangouts", "posted": "yes",
               "risk_level": "high"},
    ),
    dict(
        id="sharing-teen-fr",
        first="un compte fisha a posté mes nudes et ça tourne dans tout le lycée",
        answers={"age": "16", "platform": "snap", "school_involved": "oui"},
        says=["pas de ta faute", "3018", "plainte", "take it down"],
        slots={"flow": "nonconsensual_sharing", "age": 16.0, "platform": "snapchat", "school_involved": "yes"},
    ),
    dict(
        id="grooming-parent-fr-hangouts",
        first="Bonjour, mon fils de 12 ans parle à des inconnus sur Hangouts, un adulte lui offre des cadeaux et lui demande de garder le secret",
        answers={"meeting_proposed": "oui"},
        says=["ne confrontez pas", "227-23", "plainte", "pharos"],
        slots={"flow": "grooming", "user_role": "parent", "age": 12.0, "platform": "hangouts", "risk_level": "high"},
    ),
    dict(
        id="grooming-parent-en",
        first="my 11 year old daughter is chatting with an adult man on roblox who sends her robux and asks her to keep it secret",
        answers={"meeting_proposed": "no"},
        language="en",
        says=["227-22-1", "complaint", "3018"],
        slots={"flow": "grooming", "user_role": "parent", "language": "en", "platform": "roblox"},
    ),
    dict(
        id="grooming-teen-fr",
        first="un mec de 25 ans sur discord veut qu'on se voie et me dit de rien dire a mes parents",
        answers={"age": "13", "meeting_proposed": "oui"},
        says=["rien fait de mal", "adulte de confiance", "ne va pas a ce rendez-vous", "3018"],
        slots={"flow": "grooming", "platform": "discord", "age": 13.0, "risk_level": "high"},
    ),
    dict(
        id="report-fr-tiktok",
        first="comment signaler un compte sur tiktok ?",
        answers={},
        says=["signaler", "captures", "tiktok", "bloquer"],
        slots={"flow": "report_account", "platform": "tiktok"},
    ),
    dict(
        id="report-fr-unknown-platform",
        first="je veux signaler un compte qui m'embête",
        answers={"platform": "autre"},
        says=["signal"],
        slots={"flow": "report_account", "platform": "other"},
    ),
    dict(
        id="hate-fr",
        first="sur tiktok on m'insulte parce que je suis noir, c'est tous les jours",
        answers={"age": "15", "school_involved": "non"},
        says=["pharos", "plainte", "3018"],
        slots={"flow": "cyberbullying", "hate_motivated": "yes", "platform": "tiktok"},
    ),
    dict(
        id="cyberbullying-en",
        first="kids from my class keep making fun of me in a group chat on whatsapp",
        answers={"age": "14", "school_involved": "yes"},
        language="en",
        says=["evidence", "3018"],
        slots={"flow": "cyberbullying", "platform": "whatsapp", "language": "en"},
    ),
    dict(
        id="hacked-en",
        first="my instagram got hacked and they changed my password",
        answers={"can_login": "no"},
        language="en",
        says=["two-factor", "cybermalveillance"],
        slots={"flow": "hacked_account", "platform": "instagram", "can_login": "no"},
    ),
    dict(
        id="impersonation-fr",
        first="quelqu'un a créé un faux compte avec mes photos sur insta",
        answers={"can_login": "oui"},
        says=["usurpation", "signal"],
        slots={"flow": "hacked_account", "impersonation": "yes", "platform": "instagram"},
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_flow_transcript(chat: Chat, scenario: Dict) -> None:
    language = scenario.get("language", "fr")
    text = converse(chat, scenario["first"], scenario["answers"], language)
    says(text, *scenario["says"])
    for phrase in scenario.get("never", []):
        assert fold(phrase) not in fold(text), f"«{phrase}» should not be said here"
    slots = chat.slots()
    for name, value in scenario["slots"].items():
        assert slots[name] == value, f"{name}={slots[name]!r}, expected {value!r}\n{text}"
    # The first reply gives the urgent steps before any question, after the disclosure.
    first = Chat.text(chat.transcript[0]["bot"])
    assert "robot" in first.lower() or "automat" in first.lower()
    # Never a dead end: the flow ends with choices.
    assert Chat.payloads(chat.transcript[-1]["bot"]), "the last reply offers no choice"
    if scenario.get("offers_person"):
        assert "/talk_to_human" in [p for turn in chat.transcript for p in Chat.payloads(turn["bot"])]


@pytest.mark.parametrize(
    "question, expected, language",
    [
        ("c'est gratuit et anonyme ?", ["gratuit", "anonyme"], "fr"),
        ("vous êtes ouverts jusqu'à quelle heure", ["23h"], "fr"),
        ("who runs this service?", ["e-enfance"], "en"),
        ("je veux parler à une vraie personne", ["Net Ecoute", "ici"], "fr"),  # a case is opened (see test_handoff.py)
        ("c'est quoi le 116 006", ["116 006"], "fr"),
        ("how do I set up parental controls on my son's phone", ["family link"], "en"),
        ("comment on porte plainte ?", ["15-3"], "fr"),
        ("t'es un robot ?", ["3018"], "fr"),
    ],
)
def test_service_questions(chat: Chat, question: str, expected: List[str], language: str) -> None:
    text = Chat.text(chat.say(question))
    says(text, *expected)
    assert chat.slots()["language"] == language
    never_asks_for_images(text)


def test_out_of_scope_is_kind_and_offers_the_menu(chat: Chat) -> None:
    replies = chat.say("tu connais une bonne recette de crêpes ?")
    says(Chat.text(replies), "chantage")
    assert {"/sextortion", "/talk_to_human"} <= set(Chat.payloads(replies))


def test_one_word_does_not_switch_language(chat: Chat) -> None:
    chat.say("someone is threatening to share my pictures")
    chat.say("ok")
    assert chat.slots()["language"] == "en"


def test_channel_metadata_sets_the_language(chat: Chat) -> None:
    text = Chat.text(chat.say("bonjour", metadata={"language": "en"}))
    assert chat.slots()["language"] == "en"
    assert "hello" in text.lower() or "hi" in text.lower()
