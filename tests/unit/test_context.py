from bot.safety.context import detect_language, detect_platform, detect_role, extract_age, read_context
from bot.safety.normalize import normalize

ALIASES = {"instagram": "instagram", "insta": "instagram", "snap": "snapchat", "hangouts": "hangouts",
           "google chat": "hangouts", "x": "x", "twitter": "x"}


def test_roles() -> None:
    assert detect_role(normalize("Bonjour, ma fille de 13 ans reçoit des messages")) == "parent"
    assert detect_role(normalize("my son is talking to strangers")) == "parent"
    assert detect_role(normalize("je suis CPE dans un collège")) == "professional"
    assert detect_role(normalize("j'ai 14 ans et on me menace")) == "teen"
    assert detect_role(normalize("mon père va me tuer")) is None


def test_age_is_the_young_persons() -> None:
    assert extract_age(normalize("j'ai 14 ans"), None) == 14
    assert extract_age(normalize("ma fille de 12 ans"), "parent") == 12
    assert extract_age(normalize("14"), None) == 14
    assert extract_age(normalize("je suis un gars de 14ans"), None) == 14
    assert extract_age(normalize("un mec de 25 ans m'écrit"), None) is None
    # A teen writing about the adult: that is not the teen's age.
    assert extract_age(normalize("il a 25 ans et veut me voir"), None) is None
    assert extract_age(normalize("il veut 300 euros"), None) is None


def test_platform_last_named_and_short_names_need_context() -> None:
    assert detect_platform(normalize("sur insta puis sur google chat"), ALIASES) == "hangouts"
    assert detect_platform(normalize("on x someone insults me"), ALIASES) == "x"
    assert detect_platform(normalize("x fois par jour"), ALIASES) is None


def test_language_never_switches_on_one_word() -> None:
    assert detect_language("ok") is None
    assert detect_language("merci") is None
    assert detect_language("someone is threatening to send my video to my friends") == "en"
    assert detect_language("il me menace d'envoyer ma vidéo à mes potes") == "fr"


def test_paid_and_posted_cues() -> None:
    found = read_context("j'ai déjà payé 200€ et il l'a publiée", ALIASES)
    assert found["paid"] == "yes" and found["posted"] == "yes"
    assert "paid" not in read_context("il veut que je paie", ALIASES)
    assert read_context("yes he already posted it", ALIASES)["posted"] == "yes"
    assert read_context("he hasn't posted it yet", ALIASES)["posted"] == "no"
    assert read_context("non j'ai pas payé", ALIASES)["paid"] == "no"


# --- Extended reading (parametrised tables) ---------------------------------------------
# Each case runs twice: with the editors' SMS table (as in production) and without it.
import pathlib

import pytest
import yaml

from bot.safety.lexicon import Lexicon

_LEXICON = pathlib.Path(__file__).resolve().parents[2] / "content" / "crisis" / "lexicon.yml"
SMS = Lexicon.from_dict(yaml.safe_load(_LEXICON.read_text(encoding="utf-8"))).sms
TABLES = pytest.mark.parametrize("sms", [SMS, None], ids=["sms", "no-sms"])


def _read(text: str, sms) -> dict:
    return read_context(text, ALIASES, sms)


AGE_CASES = [
    ("rien n'est en ligne pour l'instant 15 yo btw", 15),
    ("nothing is online yet, 17 yo btw", 17),
    ("j'ai que 13 ans", 13),
    ("jai seulement 12 ans et il me menace", 12),
    ("il publie ce soir, 14 ans au fait", 14),
    # the teen's own age, however it is typed
    ("14an", 14),
    ("15ans et g peur", 15),
    ("j'ai 14 piges et un type me fait chanter", 14),
    ("jai 13", 13),
    ("jai 14 et il me menace de tout balancer", 14),
    ("J'AI 16 ANS", 16),
    ("14yo, a guy has my pics", 14),
    ("13 y/o here and scared", 13),
    ("im 15 and someone is blackmailing me", 15),
    ("I am thirteen years old", 13),
    ("chui une fille de 14 ans", 14),
    ("je suis un gars de 16ans", 16),
    # a parent or professional: the child's age
    ("my son, he's 11, got a weird message on roblox", 11),
    ("my daughter is 12 and someone is asking her for photos", 12),
    ("my 12 year old is being threatened online", 12),
    ("my 13-year-old son got sextorted", 13),
    ("ma fille de 13 ans reçoit des messages bizarres", 13),
    ("mon fils, 14 ans, se fait harceler", 14),
    ("Mon fils (15 ans) a envoyé une photo", 15),
    ("mon fils est sur fortnite, il a 12 ans", 12),
    ("ma fille est harcelée, elle a 14ans", 14),
    ("j'ai 42 ans et mon fils en a 14", 14),
    ("j'ai 24 ans et ma fille a 11 ans", 11),
    ("je suis prof et une élève de 13 ans m'a parlé", 13),
    ("bonjour, mon ado de quinze ans est menacé", 15),
    ("one of my students is 14, I'm a teacher", 14),
    # a bare answer to "how old?"
    ("14", 14),
    ("quatorze", 14),
    ("il a 14 ans", 14),
    ("she's 13", 13),
    ("he is 12", 12),
]


@TABLES
@pytest.mark.parametrize("text, age", AGE_CASES)
def test_age_of_the_young_person(text: str, age: int, sms) -> None:
    assert _read(text, sms).get("age") == age


NO_AGE_CASES = [
    "c'est un mec de 19 yo",
    "elle a 25 yo btw",
    "il a 25 ans et veut me voir",  # a teen writing about the adult
    "un mec de 19 ans me harcèle",
    "he's 24 and keeps messaging me",
    "il a 25 ans",  # alone: an adult's age is not the young person's
    "j'ai 14 messages de lui",
    "il veut 300 euros",
    "j'ai 42 ans et je suis inquiète",
    "il se fait passer pour une fille de 15 ans",  # the fake profile, not the child
    "dans 2 ans",
    "I'm 40 and my account got hacked",
]


@TABLES
@pytest.mark.parametrize("text", NO_AGE_CASES)
def test_no_age_from_someone_else(text: str, sms) -> None:
    assert "age" not in _read(text, sms)


ROLE_CASES = [
    ("animateur jeunesse ici, un adulte contacte un eleve", "professional"),
    ("teacher here, a pupil told me something worrying", "professional"),
    ("il a mes nudes et il me menace", "teen"),
    ("on m'a piraté mon compte insta", "teen"),
    ("ma vidéo tourne au lycée", "teen"),
    ("mes photos circulent sur snap", "teen"),
    ("un mec me fait chanter", "teen"),
    ("someone is blackmailing me", "teen"),
    ("my account got hacked", "teen"),
    ("some guy has my nudes", "teen"),
    ("i'm being bullied at school", "teen"),
    ("mon petit copain a mes nudes", "teen"),  # "mon petit copain" is not "mon petit"
    ("une fille dans ma classe m'insulte", "teen"),  # "dans ma classe" is said by teens too
    ("ma fille a 13 ans et un homme la menace, il me menace aussi", "parent"),  # parent cues win
    ("mon fils me dit qu'on l'a piraté", "parent"),
    ("my daughter says someone hacked my account too", "parent"),
    ("je suis CPE, un élève me dit qu'il a mes nudes", "professional"),
    ("one of my students is being blackmailed", "professional"),
]


@TABLES
@pytest.mark.parametrize("text, role", ROLE_CASES)
def test_role(text: str, role: str, sms) -> None:
    assert _read(text, sms).get("user_role") == role


@TABLES
@pytest.mark.parametrize("text", ["bonjour", "comment signaler un compte", "c'est quoi e-enfance", "pouvez-vous m'aider", "je m'en fiche"])
def test_no_role_without_a_cue(text: str, sms) -> None:
    assert "user_role" not in _read(text, sms)


def _fact_table(key: str, cases):
    return [(text, key, value) for text, value in cases]


FACT_CASES = (
    _fact_table("deadline", [
        ("il veut 300 balles ce soir sinon il publie tout", "yes"),
        ("il me laisse jusqu'a vendredi", "yes"),
        ("faut que je paye avant minuit", "yes"),
        ("dans 1h", "yes"),
        ("il m'a dit dans une heure sinon il envoie a mes potes", "yes"),
        ("d'ici demain", "yes"),
        ("je dois payer sous 24h", "yes"),
        ("j'ai 2 jours pour lui envoyer l'argent", "yes"),
        ("il m'a donné 48h", "yes"),
        ("ce soir", "yes"),  # the whole answer to "did he give you a deadline?"
        ("demain normalement", "yes"),
        ("si je paie pas demain il balance tout", "yes"),
        ("he wants 500 tonight or he posts it", "yes"),
        ("I have to pay by tomorrow", "yes"),
        ("he gave me until friday", "yes"),
        ("pay within 24 hours he said", "yes"),
        ("he'll send it to everyone in an hour", "yes"),
        ("i have 2 days", "yes"),
        ("tonight", "yes"),
        ("pas de délai", "no"),
        ("non il a pas donné de délai", "no"),
        ("no deadline", "no"),
        ("he didn't give me a deadline", "no"),
    ])
    + _fact_table("meeting_proposed", [
        ("il m'a proposé de le rejoindre au parc", "yes"),
        ("he suggested meeting him at the mall", "yes"),
        ("il veut me voir", "yes"),
        ("un adulte sur roblox voudrait rencontrer ma fille", "yes"),
        ("ce type veut voir mon fils samedi en vrai", "yes"),
        ("il veut qu'on se voie samedi", "yes"),
        ("il insiste pour qu'on se voit en vrai", "yes"),
        ("il m'a donné rdv au parc", "yes"),
        ("il veut un rendez-vous", "yes"),
        ("il a proposé de venir me chercher apres les cours", "yes"),
        ("il m'a proposé de venir chez lui", "yes"),
        ("he wants to meet", "yes"),
        ("he keeps asking to meet up", "yes"),
        ("he wants to meet irl", "yes"),
        ("he said I should come to his house", "yes"),
        ("il a jamais proposé de se voir", "no"),
        ("il a jamais proposé qu'on se voie", "no"),
        ("il m'a jamais demandé de le rencontrer", "no"),
        ("he never asked to meet", "no"),
        ("he hasn't asked to meet me", "no"),
    ])
    + _fact_table("paid", [
        ("she already paid 50 bucks", "yes"),
        ("il lui a deja envoye 30 euros", "yes"),
        ("j'ai déjà payé 50€", "yes"),
        ("je lui ai envoyé 100 euros", "yes"),
        ("i already paid him", "yes"),
        ("j'ai rien payé", "no"),
        ("j'ai pas payé", "no"),
        ("non j'ai pas encore payé", "no"),
        ("g rien payé du tout", "no"),
        ("je n'ai jamais payé", "no"),
        ("je lui ai rien envoyé comme argent", "no"),
        ("i didnt pay", "no"),
        ("I haven't paid anything", "no"),
        ("I did not pay him", "no"),
        ("not paid yet", "no"),
    ])
    + _fact_table("posted", [
        ("its already online", "yes"),
        ("the video is already online", "yes"),
        ("they already posted one photo", "yes"),
        ("ils ont deja publie une photo", "yes"),
        ("il l'a déjà publiée", "yes"),
        ("ma vidéo tourne sur snap", "yes"),
        ("he already posted it", "yes"),
        ("rien n'a été publié", "no"),
        ("il a rien posté", "no"),
        ("pas encore publié je crois", "no"),
        ("il l'a pas publiée", "no"),
        ("he hasn't posted anything", "no"),
        ("nothing's been shared yet", "no"),
        ("it's not online yet", "no"),
    ])
    + _fact_table("can_login", [
        ("j'arrive plus à me connecter", "no"),
        ("jarrive pas a me co", "no"),
        ("je peux plus accéder à mon compte", "no"),
        ("le mot de passe a été changé", "no"),
        ("mdp changé", "no"),
        ("il a changé mon mot de passe", "no"),
        ("j'ai plus accès à mon snap", "no"),
        ("i can't log in anymore", "no"),
        ("they changed my password and email", "no"),
        ("I got locked out of my account", "no"),
        ("je peux encore me connecter", "yes"),
        ("j'ai encore accès", "yes"),
        ("I can still log in", "yes"),
        ("i still have access", "yes"),
    ])
    + _fact_table("impersonation", [
        ("quelqu'un a fait un faux compte avec mes photos", "yes"),
        ("il y a un faux compte à mon nom", "yes"),
        ("il se fait passer pour moi", "yes"),
        ("qqn se fait passer pour ma fille sur insta", "yes"),
        ("elle a créé un compte avec mes photos", "yes"),
        ("someone made a fake account of me", "yes"),
        ("a guy is pretending to be me", "yes"),
        ("someone is impersonating my son", "yes"),
        ("usurpation d'identité", "yes"),
    ])
    + _fact_table("school_involved", [
        ("au lycée tout le monde a vu", "yes"),
        ("au collège on se moque de moi", "yes"),
        ("ca tourne au bahut", "yes"),
        ("une fille dans ma classe m'insulte", "yes"),
        ("ils l'ont mis sur le groupe de la classe", "yes"),
        ("des gens de ma classe", "yes"),
        ("everyone at school saw it", "yes"),
        ("a boy in my class shared it", "yes"),
        ("it's in the class group chat", "yes"),
    ])
)


@TABLES
@pytest.mark.parametrize("text, key, value", FACT_CASES)
def test_fact_read_from_any_message(text: str, key: str, value: str, sms) -> None:
    assert _read(text, sms).get(key) == value


HARD_NEGATIVES = [
    ("hier soir il m'a écrit", "deadline"),
    ("ce soir il m'a écrit, il veut 200e", "deadline"),  # when it happened, not a limit
    ("quel est le délai pour porter plainte", "deadline"),
    ("demain je vais au commissariat", "deadline"),
    ("I'll talk to my mom tomorrow", "deadline"),
    ("a demain", "deadline"),
    ("il m'a suivi jusqu'a chez moi", "deadline"),
    ("je veux plus le voir", "meeting_proposed"),
    ("je veux pas me voir sur cette photo", "meeting_proposed"),
    ("j'ai rdv au commissariat demain", "meeting_proposed"),
    ("nice to meet you", "meeting_proposed"),
    ("je veux voir ma fille ce soir pour lui parler", "meeting_proposed"),  # the parent, not the stranger
    ("il veut que je paie", "paid"),
    ("je veux pas payer", "paid"),
    ("si je paye pas il publie", "paid"),
    ("j'ai pas d'argent", "paid"),
    ("si je paie pas il publie", "posted"),
    ("he says he will post it", "posted"),
    ("comment changer mon mot de passe", "can_login"),
    ("j'ai changé mon mot de passe", "can_login"),
    ("il a mon mot de passe", "can_login"),
    ("un faux compte m'insulte", "impersonation"),
    ("a fake account keeps messaging me", "impersonation"),
    ("il se fait passer pour une fille de 15 ans", "impersonation"),
    ("je suis au lycée", "school_involved"),
    ("je suis en 4e au collège et un mec me menace", "school_involved"),
    ("il m'a écrit sur insta", "school_involved"),
]


@TABLES
@pytest.mark.parametrize("text, key", HARD_NEGATIVES)
def test_fact_not_read(text: str, key: str, sms) -> None:
    assert key not in _read(text, sms)


def test_first_message_with_many_facts() -> None:
    found = _read("jai 14 ans, un mec sur insta a mes nudes, il veut 200e avant ce soir, jai rien payé", SMS)
    assert found == {
        "user_role": "teen", "age": 14, "platform": "instagram", "language": "fr", "paid": "no", "deadline": "yes",
    }


@pytest.mark.parametrize("text, language", [
    ("my sons account got hacked on tiktok", "en"),
    ("all my pics got leaked", "en"),
    ("on a un souci avec le compte de mon fils", "fr"),
    ("le mec a un compte insta", "fr"),
])
def test_a_first_message_made_of_everyday_words_gets_its_language(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_an_adult_of_the_home_acting_is_read_and_a_helping_one_is_not() -> None:
    from bot.safety.context import read_context

    acting = [
        "le copain de ma mere menvoie des messages bizarres sur snap le soir",
        "mon beau-père m'envoie des trucs chelou la nuit",
        "mon oncle me demande des photos de moi en sous vetements",
        "il vit avec nous et ma mere me croira jamais",
        "my mom's boyfriend keeps texting me weird stuff",
        "my stepdad asked me for pics",
        "he lives with us",
    ]
    helping = [
        "j'en ai parlé au copain de ma mère",
        "mon père veut voir les photos pour porter plainte",
        "mon pere me demande ce qui se passe",
        "mon beau pere m'a demandé de lui montrer les messages",
        "my dad wants to see the photos",
        "c'est mon beau-père qui m'aide",
    ]
    for text in acting:
        assert read_context(text, {}).get("household_adult") == "yes", text
    for text in helping:
        assert "household_adult" not in read_context(text, {}), text


def test_passive_publishing_a_parents_meeting_and_nothing_online_yet() -> None:
    from bot.safety.context import read_context

    for text, key, value in [
        ("oui elle a été postée hier", "posted", "yes"),
        ("la photo a deja ete publiee sur un compte", "posted", "yes"),
        ("the video is already up on some account", "posted", "yes"),
        ("pour l'instant rien n'est en ligne", "posted", "no"),
        ("nothing is online yet", "posted", "no"),
        ("rien n'a été publié", "posted", "no"),
        ("il veut la voir samedi", "meeting_proposed", "yes"),
        ("he wants to see her on saturday", "meeting_proposed", "yes"),
        ("un adulte qui lui offre des robux et veut le voir samedi", "meeting_proposed", "yes"),
    ]:
        assert read_context(text, {}).get(key) == value, text
    assert "meeting_proposed" not in read_context("je veux la voir", {})
