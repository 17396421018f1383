"""Full conversations through the running server, for every flow, main branches, both
languages and both roles. Replies must hold the key advice and never ask for an image.

The guided flows are walked by the FlowPolicy (bot/dialogue/planner.py): the urgent
steps at once, then one question per turn (only those the person has not answered yet,
in any order), the advice as soon as the questions are done or the person asks for it,
then the offer of a person when the risk is high."""
from __future__ import annotations

from typing import Dict, List, Optional

import pytest

from bot.safety.normalize import fold
from tests.integration.helpers import bot_actions, never_asks_for_images, pending_question, says
from tests.support.chat import Chat

SKIP = {"fr": "je préfère ne pas dire", "en": "I'd rather not say"}
URGENT = {
    "sextortion": "utter_sextortion_urgent", "nonconsensual_sharing": "utter_sharing_urgent",
    "grooming": "utter_grooming_urgent", "cyberbullying": "utter_cyberbullying_urgent",
    "hacked_account": "utter_hacked_urgent", "report_account": "utter_report_intro",
}
ADVICE = "utter_advice_1"
NOT_NOW = {"fr": "non merci pas maintenant", "en": "no thanks, not now"}


def converse(chat: Chat, first: str, answers: Dict[str, str], language: str = "fr") -> str:
    """Say `first`, then answer each question the flow asks (skipping unknown ones), until
    the bot's turn ends with something other than a question (the offer of a person is
    declined once, so that the questions still open after the advice come)."""
    chat.say(first)
    declined = False
    for _ in range(10):
        tracker = chat.tracker()
        asked = pending_question(tracker)
        if asked is None and not declined and bot_actions(tracker)[-1:] == ["utter_offer_human"]:
            # The offer of a person came with the advice: "not now", then the questions still open.
            declined = True
            chat.say(NOT_NOW[language])
            continue
        if asked is None:
            break
        chat.say(answers.get(asked, SKIP[language]))
    else:
        pytest.fail("the questions never ended")
    assert ADVICE in bot_actions(chat.tracker()), "the advice never came:\n" + chat.all_bot_text()
    text = chat.all_bot_text()
    never_asks_for_images(text)
    return text


SCENARIOS: List[Dict] = [
    dict(
        id="sextortion-teen-fr-typos",
        first="une meuf sur insta ma demander de me montré en cam et mtn elle veut 200e sinon elle envoi tout a mes potes",
        answers={"wellbeing": "ça va a peu pres", "age": "14", "paid": "non", "posted": "non", "deadline": "ce soir minuit"},
        says=["ne paie pas", "arrete de repondre", "preuves", "jamais les images", "ne supprime", "porter plainte",
              "commissariat", "3018", "take it down", "pas de ta faute"],
        never=["stopncii", "apres tes 18 ans"],  # nothing about adults' tools for a 14-year-old
        slots={"flow": "sextortion", "platform": "instagram", "age": 14.0, "risk_level": "high", "language": "fr"},
        offers_person=True,
    ),
    dict(
        id="sextortion-parent-fr-already-paid",
        first="Bonjour, mon fils de 15 ans est victime de chantage à la webcam sur Snapchat, on lui réclame 300 euros",
        answers={"wellbeing": "il est très angoissé", "paid": "oui, il a déjà payé 100 euros", "posted": "je ne sais pas", "deadline": "non"},
        says=["ne payez pas", "porter plainte", "3018", "captures d"],
        slots={"flow": "sextortion", "user_role": "parent", "age": 15.0, "platform": "snapchat", "paid": "yes",
               "risk_level": "high"},
    ),
    dict(
        id="sextortion-adult-en-posted",
        first="someone recorded me on webcam and wants $500 or he sends it to my family, I'm 19",
        answers={"wellbeing": "not great tbh", "platform": "google chat", "paid": "no", "posted": "yes he already posted it",
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
        answers={"age": "13", "safe_now": "oui"},  # the meeting was in the first message: the safety question follows
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
        says=["two-factor", "17cyber"],
        slots={"flow": "hacked_account", "platform": "instagram", "can_login": "no"},
    ),
    dict(
        id="impersonation-fr",
        first="quelqu'un a créé un faux compte avec mes photos sur insta",
        answers={},  # a fake account is reported (report flow); the platform is known: the advice at once
        says=["se fait passer pour moi", "interdit par la loi", "signal"],
        slots={"flow": "report_account", "impersonation": "yes", "platform": "instagram"},
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
    assert bot_actions(chat.tracker())[0] == URGENT[scenario["slots"]["flow"]]
    # Never a dead end: the flow ends with choices.
    assert Chat.payloads(chat.transcript[-1]["bot"]), "the last reply offers no choice"
    if scenario.get("offers_person"):
        assert "/talk_to_human" in [p for turn in chat.transcript for p in Chat.payloads(turn["bot"])]


def test_a_14_year_old_answering_out_of_order_gets_the_whole_advice_within_six_turns(chat: Chat) -> None:
    turns = [
        "slt un mec sur insta a mes nudes il veut 150e sinon il les envoie a toute ma classe",
        "jsuis pas bien du tout... g 14 ans et il a dit avant ce soir",  # mood, age and deadline at once
        "nan jai rien envoyé",
        "jcrois pas mais jsp",
        "et du coup je fais quoi",
        "ok",
    ]
    for number, text in enumerate(turns, start=1):
        chat.say(text)
        if pending_question(chat.tracker()) is None and ADVICE in bot_actions(chat.tracker()):
            break
    assert number <= 6
    text = chat.all_bot_text()
    says(text, "ne paie pas", "take it down", "porter plainte", "ne supprime", "3018")
    says(text, "« Signaler »", "menace de partager des images privées")  # Instagram's own report steps
    assert "stopncii" not in fold(text)
    asked = [a for a in bot_actions(chat.tracker()) if a.startswith(("utter_ask_", "utter_reask_"))]
    assert "utter_ask_age" not in asked and "utter_ask_deadline" not in asked and "utter_ask_platform" not in asked
    assert "utter_wellbeing_support" in bot_actions(chat.tracker())  # "pas bien": 3114, gently
    slots = chat.slots()
    assert slots["age"] == 14.0 and slots["deadline"] == "yes" and slots["platform"] == "instagram"
    assert slots["risk_level"] == "high" and "deadline" in slots["risk_reasons"]
    assert "/talk_to_human" in [p for turn in chat.transcript for p in Chat.payloads(turn["bot"])]
    never_asks_for_images(text)


def test_parent_asking_what_to_do_in_the_first_message_gets_the_advice_at_once(chat: Chat) -> None:
    replies = chat.say("Bonjour, mon fils de 14 ans est victime de chantage sexuel sur Instagram, que dois-je faire ?")
    text = Chat.text(replies)
    says(text, "ne payez pas", "porter plainte", "take it down", "3018")
    tracker = chat.tracker()
    assert ADVICE in bot_actions(tracker)
    # The whole advice in this one turn, within the web chat's 6 messages (WhatsApp, Messenger,
    # Telegram: 4, then "la suite ?", see tests/unit/test_flow_policy.py). Counted in the
    # tracker: Rasa's REST channel (development only) splits each message at its blank lines.
    assert len([e for e in tracker["events"] if e["event"] == "bot"]) <= 6
    slots = chat.slots()
    assert slots["user_role"] == "parent" and slots["age"] == 14.0 and slots["flow"] == "sextortion"
    never_asks_for_images(text)


def test_ok_after_the_offer_of_a_person_opens_a_case(chat: Chat) -> None:
    chat.say("un mec sur snap menace d'envoyer ma video a mes potes, g 13 ans, je fais quoi ?")
    for _ in range(3):
        if bot_actions(chat.tracker())[-1:] == ["utter_offer_human"]:
            break
        chat.say("ok")
    assert bot_actions(chat.tracker())[-1] == "utter_offer_human", chat.all_bot_text()
    assert "/talk_to_human" in Chat.payloads(chat.transcript[-1]["bot"])
    text = Chat.text(chat.say("ok"))
    assert chat.slots()["handoff_status"] == "queued"
    assert "action_request_human" in bot_actions(chat.tracker())
    says(text, "3018")


@pytest.mark.parametrize(
    "question, expected, language",
    [
        ("c'est gratuit et anonyme ?", ["gratuit", "anonyme"], "fr"),
        ("vous êtes ouverts jusqu'à quelle heure", ["23h"], "fr"),
        ("who runs this service?", ["e-enfance"], "en"),
        ("je veux parler à une vraie personne", ["3018", "ici"], "fr"),  # a case is opened (see test_handoff.py)
        ("c'est quoi le 116 006", ["116 006"], "fr"),
        ("how do I set up parental controls on my son's phone", ["family link"], "en"),
        ("comment on porte plainte ?", ["commissariat", "doivent prendre ta plainte"], "fr"),
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
