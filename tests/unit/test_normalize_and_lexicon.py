"""The building blocks of the crisis net: normalisation and the pattern language."""
import pytest

from bot.safety.lexicon import Lexicon, PatternError, compile_pattern
from bot.safety.normalize import fold, normalize


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("JE VEUX MOURIIIIR!!!", "je veux mourir"),
        ("Ça m’a tué", "ca m a tue"),
        ("j'veux plus", "je veux plus"),
        ("jai\u200bpeur", "jai peur"),  # zero-width space
        ("e\u0301te\u0301", "ete"),  # combining accents
        ("", ""),
        ("🙂🙂", ""),
        ("jsui un gars de 14ans", "jsui un gars de 14 ans"),
    ],
)
def test_fold_and_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_sms_expansion() -> None:
    assert normalize("jveu mourir", {"jveu": "je veux"}) == "je veux mourir"
    assert normalize("2nite tkt", {"2nite": "tonight"}) == "tonight tkt"


def test_pattern_syntax() -> None:
    rx = compile_pattern("(veux|voudrais) ... mourir")
    assert rx.search("je veux vraiment trop mourir")
    assert not rx.search("je veux pas mourir")  # a gap never crosses a negation
    assert not rx.search("je veux a b c d mourir")  # at most three words
    assert compile_pattern("suicid*").search("je suis suicidaire")
    assert not compile_pattern("tuer").search("tuerie")
    assert compile_pattern("(chez moi|ma porte) now").search("devant ma porte now")


@pytest.mark.parametrize("bad", ["", "...", "veux ...", "(a|)", "(|b)", "a{1}", "(a|b"])
def test_bad_patterns_are_refused(bad: str) -> None:
    with pytest.raises(PatternError):
        compile_pattern(bad)


def test_scan_priority_idioms_and_check_in() -> None:
    lexicon = Lexicon.from_dict(
        {
            "sms": {"jveu": "je veux"},
            "idioms": ["mort de rire", "ce jeu me tue"],
            "check_in": ["(pere|mere) va me tuer"],
            "crisis": {
                "suicide": ["veux mourir", "me tuer"],
                "overdose": ["(pris|avale) ... cachets"],
                "silent": ["peux pas parler"],
                "danger": ["devant chez moi"],
                "abuse": ["me frappe"],
                "friend": ["(amie|ami) veut mourir"],
                "self_harm": ["me scarifie"],
            },
        }
    )
    assert lexicon.scan("jveu mourir")[0].kind == "suicide"
    # The most urgent number wins when several kinds match.
    assert lexicon.scan("je veux mourir, j'ai pris 20 cachets")[0].kind == "overdose"
    match, had_idiom = lexicon.scan("mdr ce jeu me tue")
    assert match is None and had_idiom
    assert lexicon.scan("ma mère va me tuer si elle voit ça")[0].kind == "check_in"
    # A check-in does not hide a real crisis in the same message.
    assert lexicon.scan("ma mère va me tuer, de toute façon je veux mourir")[0].kind == "suicide"
    assert lexicon.scan("il est mort de rire")[0] is None
    assert fold("MORT de RIRE") == "mort de rire"
