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
    assert "posted" not in read_context("he hasn't posted it yet", ALIASES)
    assert "paid" not in read_context("non j'ai pas payé", ALIASES)
