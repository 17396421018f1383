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


# --- The editors' lexicon itself (content/crisis/lexicon.yml), on sentences written for these
# tests (not taken from tests/data/): indirect wording, and harmless look-alikes. -------------

def _content_lexicon() -> Lexicon:
    from pathlib import Path

    import yaml

    path = Path(__file__).resolve().parents[2] / "content" / "crisis" / "lexicon.yml"
    return Lexicon.from_dict(yaml.safe_load(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    "text, kind",
    [
        ("j'ai plus aucun intérêt à continuer à vivre", "suicide"),
        ("jsuis lasse de la vie", "suicide"),
        ("j'ai trouvé une corde dans le garage pour ce soir", "suicide"),
        ("she's going to end her life, she told me", "friend"),
        ("je me suis tailladé le bras avec du verre", "self_harm"),
        ("i hurt myself every night to cope", "self_harm"),
        ("j'ai avalé deux plaquettes de doliprane", "overdose"),
        ("i popped loads of my dad's painkillers", "overdose"),
        ("un inconnu traîne devant mon collège depuis midi", "danger"),
        ("des types rôdent autour de mon immeuble", "danger"),
        ("mon père nous frappe quand il a bu", "abuse"),
        ("my stepmum keeps slapping me", "abuse"),
        ("mon pote s'est tranché les poignets", "friend"),
        ("il est devant, je peux pas appeler", "silent"),
        # a parent or a professional telling it (found by the simulated conversations)
        ("un type est devant notre maison depuis une heure", "danger"),
        ("a stranger is outside our house and won't leave", "danger"),
        ("une eleve m'a confie que son beaupere la tape", "abuse"),
        ("one of my pupils says her stepdad hurts her", "abuse"),
        # a parent reporting the child's words (found using the product, third session)
        ("she's really scared, she says she doesn't want to live anymore", "friend"),
        ("ma fille me dit qu'elle veut plus vivre", "friend"),
    ],
)
def test_content_lexicon_finds_indirect_crises(text: str, kind: str) -> None:
    match, _ = _content_lexicon().scan(text)
    assert match is not None and match.kind == kind, (text, match)


@pytest.mark.parametrize(
    "text",
    [
        "le reportage sur le suicide des ados était dur à regarder",
        "dans l'anime elle se tue à la fin, j'ai pleuré",
        "je meurs de honte il a vu mon message",
        "je vais tuer ma soeur elle a pris mon chargeur",
        "je me suis coupée en épluchant des carottes",
        "je me suis brûlée avec la poêle",
        "j'ai pris un doliprane contre la fièvre",
        "ma copine m'attend en bas de chez moi pour aller en ville",
        "je peux pas appeler j'ai plus de batterie",
        "un mec me suit sur tiktok depuis hier",
        "I'm writing an essay about self harm awareness",
        "i burned myself on the oven making pizza",
        "i can't talk rn i'm in class",
        "he doesn't want to live with his dad anymore",
        "il ne veut pas vivre chez son pere",
    ],
)
def test_content_lexicon_ignores_look_alikes(text: str) -> None:
    match, _ = _content_lexicon().scan(text)
    assert match is None or match.kind == "check_in", (text, match)


@pytest.mark.parametrize(
    "text",
    [
        "je me sens en sécurité maintenant",
        "i feel safe now, thanks",
        "le prof crie tout le temps en cours",
        "il m'a écrit tu vas voir ce que tu vas voir si tu paies pas",
        "il est énervé et j'ai peur qu'il publie la vidéo",
        "ils vont péter un câble au collège",
    ],
)
def test_check_in_not_on_blackmailers_bullies_or_feeling_safe(text: str) -> None:
    """Issue 11: the home-safety check-in is not for a blackmailer's or bullies' threats, nor for "I feel safe"."""
    match, _ = _content_lexicon().scan(text)
    assert match is None, (text, match)


@pytest.mark.parametrize(
    "text",
    [
        "je me sens pas en sécurité chez moi",
        "i don't feel safe at home",
        "mon beau-père crie tout le temps",
        "mon père va péter un câble s'il voit ça",
    ],
)
def test_check_in_still_on_home_cues(text: str) -> None:
    match, _ = _content_lexicon().scan(text)
    assert match is not None, (text, match)
