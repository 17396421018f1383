"""Reading a short answer to the question the bot just asked (bot/safety/answers.py)."""
import dataclasses
import pathlib

import pytest
import yaml

from bot.safety.answers import Answer, read_answer
from bot.safety.lexicon import Lexicon

_LEXICON = pathlib.Path(__file__).resolve().parents[2] / "content" / "crisis" / "lexicon.yml"
SMS = Lexicon.from_dict(yaml.safe_load(_LEXICON.read_text(encoding="utf-8"))).sms
# Each case runs with the editors' SMS table (as in production) and without it.
TABLES = pytest.mark.parametrize("sms", [SMS, None], ids=["sms", "no-sms"])


YES_NO_CASES = [
    # (message, yes_no, bare)
    ("oui", "yes", True),
    ("OUIIII", "yes", True),
    ("ouais", "yes", True),
    ("ui", "yes", True),
    ("yes", "yes", True),
    ("Yep", "yes", True),
    ("yeah", "yes", True),
    ("grave", "yes", True),
    ("carrément", "yes", True),
    ("exact", "yes", True),
    ("ok", "yes", True),
    ("d'acc", "yes", True),
    ("dacc", "yes", True),
    ("bah ouais", "yes", True),
    ("oui oui merci", "yes", True),
    ("ouais grave 👍", "yes", True),
    ("ok :D", "yes", True),
    ("si", "yes", True),
    ("non", "no", True),
    ("NAN", "no", True),
    ("nn", "no", True),
    ("no", "no", True),
    ("nope", "no", True),
    ("pas du tout", "no", True),
    ("jamais", "no", True),
    ("pas vraiment", "no", True),
    ("euh non merci", "no", True),
    ("nan jamais", "no", True),
    ("non non non", "no", True),
    ("Non.", "no", True),
    ("hmm non :(", "no", True),
    ("not yet", "no", True),
    ("je pense pas", "no", True),
    ("jsp", "unknown", True),
    ("je sais pas", "unknown", True),
    ("j'sais pas", "unknown", True),
    ("chai pas", "unknown", True),
    ("sais pas", "unknown", True),
    ("aucune idée", "unknown", True),
    ("aucune idee mdr", "unknown", True),
    ("idk", "unknown", True),
    ("dunno", "unknown", True),
    ("no idea", "unknown", True),
    ("je préfère pas dire", "unknown", True),
    ("je prefere ne pas le dire", "unknown", True),
    ("passe", "unknown", True),
    ("skip", "unknown", True),
    ("I'd rather not say", "unknown", True),
    # an answer followed by content: not bare
    ("non j'ai rien payé", "no", False),
    ("nan il a rien posté", "no", False),
    ("oui il m'a menacé hier", "yes", False),
    ("ouais et il veut 200e", "yes", False),
    ("ok mais je fais quoi ???", "yes", False),
    ("jsp s'il l'a publiée", "unknown", False),
    ("non ça va", "no", False),
    ("oui non en fait", "yes", False),
]


@TABLES
@pytest.mark.parametrize("text, yes_no, bare", YES_NO_CASES)
def test_yes_no_and_bare(text: str, yes_no: str, bare: bool, sms) -> None:
    answer = read_answer(text, sms)
    assert (answer.yes_no, answer.bare) == (yes_no, bare)


NOT_AN_ANSWER = [
    "no one saw it",
    "si je paye pas il publie",
    "passe moi le numéro",
    "il m'a dit non",
    "un mec me menace sur snap",
    "",
    "🙂",
    "nobody knows",
    "no deadline",
]


@TABLES
@pytest.mark.parametrize("text", NOT_AN_ANSWER)
def test_no_yes_no_when_the_message_does_not_open_with_one(text: str, sms) -> None:
    answer = read_answer(text, sms)
    assert (answer.yes_no, answer.bare) == (None, False)


MOOD_CASES = [
    ("pas bien", "low"),
    ("mal", "low"),
    ("bof", "low"),
    ("pas trop", "low"),
    ("pas terrible", "low"),
    ("horrible", "low"),
    ("nul", "low"),
    ("jpp", "low"),
    ("j'en peux plus", "low"),
    ("je panique", "low"),
    ("j'ai peur", "low"),
    ("jai trop peur qu'il publie", "low"),
    ("je stresse grave", "low"),
    ("ça va pas", "low"),
    ("ca va pas du tout", "low"),
    ("ça va mais j'ai peur", "low"),
    ("jsp", "low"),  # unsure is answered gently
    ("not great", "low"),
    ("bad", "low"),
    ("scared", "low"),
    ("terrible", "low"),
    ("idk", "low"),
    ("I'm not ok", "low"),
    ("im freaking out", "low"),
    ("ça va", "ok"),
    ("ca va", "ok"),
    ("Ça va merci", "ok"),
    ("bien", "ok"),
    ("tranquille", "ok"),
    ("ouais ça va", "ok"),
    ("ok", "ok"),
    ("fine", "ok"),
    ("I'm ok", "ok"),
    ("im good", "ok"),
    ("good", "ok"),
    ("pas mal", "ok"),
    ("not bad", "ok"),
    ("ça va mieux", "ok"),
]


@TABLES
@pytest.mark.parametrize("text, mood", MOOD_CASES)
def test_mood(text: str, mood: str, sms) -> None:
    assert read_answer(text, sms).mood == mood


@TABLES
@pytest.mark.parametrize("text", ["oui bien sûr", "il m'a écrit hier", "non", "il est nulle part", "il m'a dit ok"])
def test_no_mood(text: str, sms) -> None:
    assert read_answer(text, sms).mood is None


WHAT_NOW_CASES = [
    ("je fais quoi", True),
    ("jfais quoi", True),
    ("j'fais koi", True),
    ("et du coup ?", True),
    ("et maintenant ?", True),
    ("ok et maintenant", True),
    ("que dois-je faire", True),
    ("qu'est-ce que je dois faire", True),
    ("je dois faire quoi ??", True),
    ("je sais pas quoi faire", True),
    ("la suite ?", True),
    ("aide moi stp", True),
    ("aidez-moi", True),
    ("what should i do", True),
    ("What do I do now??", True),
    ("what now", True),
    ("what next", True),
    ("now what", True),
    ("please help me", True),
    ("ok mais je fais quoi ???", True),
    ("il veut 200€, je fais quoi", True),
    ("et maintenant il me menace", False),
    ("il a tout publié du coup", False),
    ("il m'a envoyé la suite", False),
    ("il fait quoi sur mon compte", False),
    ("oui", False),
    ("comment signaler", False),
]


@TABLES
@pytest.mark.parametrize("text, expected", WHAT_NOW_CASES)
def test_what_now(text: str, expected: bool, sms) -> None:
    assert read_answer(text, sms).what_now is expected


SAFETY_CASES = [
    # (message, not_safe, unsure_safe)
    ("non", True, False),
    ("no", True, False),
    ("nope", True, False),
    ("nan :(", True, False),
    ("pas vraiment", True, False),
    ("pas du tout", True, False),
    ("not really", True, False),
    ("je suis pas en securite", True, False),
    ("je me sens pas en sécurité", True, False),
    ("non je suis pas en sécurité", True, False),
    ("I'm not safe", True, False),
    ("i dont feel safe", True, False),
    ("non j'ai rien payé", False, False),  # "non" followed by other content
    ("non ça va", False, False),
    ("oui", False, False),
    ("je suis pas en danger", False, False),
    ("bof", False, True),
    ("jsp", False, True),
    ("je sais pas trop", False, True),
    ("not sure", False, True),
    ("kinda", False, True),
    ("idk", False, True),
    ("plus ou moins", False, True),
    ("je sais pas si je suis en sécurité", False, True),
]


@TABLES
@pytest.mark.parametrize("text, not_safe, unsure", SAFETY_CASES)
def test_safety_answer(text: str, not_safe: bool, unsure: bool, sms) -> None:
    answer = read_answer(text, sms)
    assert (answer.not_safe, answer.unsure_safe) == (not_safe, unsure)


def test_answer_is_a_frozen_value() -> None:
    answer = read_answer("oui")
    assert answer == Answer(yes_no="yes", bare=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.yes_no = "no"  # type: ignore[misc]


def test_saying_one_is_not_in_danger_is_read() -> None:
    from bot.safety.answers import says_not_in_danger
    from bot.safety.normalize import normalize

    for text in ("je suis pas en danger hein, juste je veux signaler", "im not in danger or anything", "chui pas en danger"):
        assert says_not_in_danger(normalize(text)), text
    for text in ("je suis en danger", "i m in danger", "il est devant chez moi"):
        assert not says_not_in_danger(normalize(text)), text
