"""The words that define each problem (bot/dialogue/problem_cues.py): they correct the first
reading of a problem and gate a switch of flow in the middle of a conversation."""
import pytest

from bot.dialogue.problem_cues import first_flow, names, problems_named
from bot.safety.normalize import normalize


def n(text: str) -> str:
    return normalize(text)


@pytest.mark.parametrize("text, flow", [
    ("il dit qu'il va tout balancer si je lui donne pas 300 euros", "sextortion"),
    ("she's threatening to post my pics unless i send more", "sextortion"),
    ("c'est du chantage ou pas ?", "sextortion"),
    ("le mec veut 150 balles en paysafecard", "sextortion"),
    ("des photos de moi nue circulent dans tout le lycée", "nonconsensual_sharing"),
    ("my ex posted a video of me on a fake account", "nonconsensual_sharing"),
    ("ils ont fait un montage de moi toute nue", "nonconsensual_sharing"),
    ("un compte fisha a mis ma photo", "nonconsensual_sharing"),
    ("le gars a 32 ans et il me parle tous les soirs", "grooming"),
    ("he keeps saying it's our secret and sent me robux", "grooming"),
    ("il veut qu'on se voie samedi au parc", "grooming"),
    ("they made a poll about who's the ugliest in class", "cyberbullying"),
    ("on me traite de tous les noms sur le groupe", "cyberbullying"),
    ("je peux plus me connecter, ils ont changé le mot de passe", "hacked_account"),
    ("my account got hacked last night", "hacked_account"),
    ("quelqu'un se fait passer pour moi sur tiktok", "report_account"),
    ("there's a fake profile with my name and my photos", "report_account"),
])
def test_a_problem_is_named_by_its_defining_words(text, flow):
    assert flow in problems_named(n(text))


@pytest.mark.parametrize("text, flow", [
    # details of another problem, not the problem itself
    ("c'est son ex qui l'a filmée à l'époque", "sextortion"),
    ("il lui a envoyé une carte cadeau et demande des photos en uniforme", "sextortion"),
    ("j'ai déjà bloqué mais elles recréent des comptes", "sextortion"),
    ("ma tante a déjà payé 100 euros avant qu'on comprenne", "sextortion"),
    ("elle veut qu'on efface tout sur son téléphone", "grooming"),
    ("mes amis trouvent que j'ai de la chance", "sextortion"),
    ("il menace de publier mes photos si je paie pas", "nonconsensual_sharing"),
])
def test_a_detail_does_not_switch_flows(text, flow):
    assert not names(n(text), flow)


@pytest.mark.parametrize("classified, text, expected", [
    # the classifier over-reads images as blackmail: the words say they are already out
    ("sextortion", "y a une vidéo de moi qui tourne sur tous les téléphones", "nonconsensual_sharing"),
    # an adult asking a young teen for photos, no threat: grooming
    ("sextortion", "un homme de 40 ans me demande des photos de moi", "grooming"),
    # a real threat stays sextortion
    ("sextortion", "il a mes photos et il veut 200 euros sinon il les envoie", "sextortion"),
    # nothing defines another problem: the classifier's reading stands
    ("grooming", "quelqu'un me parle bizarrement sur discord", "grooming"),
    # two other problems named: too unsure to overrule the classifier
    ("report_account", "un faux compte publie des photos de moi et il me menace de pas arrêter si je paie pas 50 euros", "report_account"),
])
def test_the_first_problem_follows_its_defining_words(classified, text, expected):
    assert first_flow(classified, n(text)) == expected


@pytest.mark.parametrize("text, named", [
    ("on a partagé une vidéo de ma fille sans son accord", ["nonconsensual_sharing"]),
    ("ok merci beaucoup", []),
    ("je sais pas trop quoi dire en fait", []),
])
def test_a_statement_names_at_most_the_problems_it_defines(text, named):
    assert problems_named(n(text)) == named
