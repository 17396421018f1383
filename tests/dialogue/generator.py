"""Seeded generator of realistic conversations, each with its ground truth.

Every conversation opens with a message describing one problem (one of the six flows),
in French or English, written by a teen, a parent or a professional, then answers out of
order, skips, several facts in one message, "je fais quoi ?" asked early, "non" followed by
content, small talk, and sometimes a crisis turn. The facts it injects (age, platform,
paid, posted, deadline, meeting_proposed, the role) and its crisis turns are recorded, so
that the invariants can compare what the assistant did with what it was told.

The user side is scripted in advance (it does not read the bot's questions), so a bare
"oui"/"non" is never used: every answer that sets a fact carries its content. Fact-bearing
turns get SMS spelling but no letter typos (the fact stays readable); problem descriptions
and small talk get both.

    from tests.dialogue.generator import generate
    conversations = generate(seed=1234, count=300)
"""
from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

FLOWS = ("sextortion", "nonconsensual_sharing", "grooming", "cyberbullying", "hacked_account", "report_account")

# Facts each flow may inject (age and platform everywhere; the yes/no facts where they belong).
FLOW_FACTS = {
    "sextortion": ("age", "platform", "paid", "posted", "deadline"),
    "nonconsensual_sharing": ("age", "platform"),
    "grooming": ("age", "platform", "meeting_proposed"),
    "cyberbullying": ("age", "platform"),
    "hacked_account": ("age", "platform"),
    "report_account": ("platform", "age"),
}

# The one number that fits each crisis type (docs/dialogue-design.md); any of them is accepted.
CRISIS_NUMBERS = {
    "suicide": ("3114",), "self_harm": ("3114",), "friend": ("3114",), "overdose": ("15",),
    "danger": ("17", "112"), "abuse": ("119",), "silent": ("114",),
}

# Platform id -> how people write it (weights favour the common ones).
PLATFORMS: Dict[str, List[str]] = {
    "instagram": ["insta", "instagram", "insta", "ig"],
    "snapchat": ["snap", "snapchat", "snap"],
    "tiktok": ["tiktok", "tik tok"],
    "whatsapp": ["whatsapp", "wtsp"],
    "discord": ["discord"],
    "facebook": ["facebook", "fb"],
    "roblox": ["roblox"],
    "telegram": ["telegram"],
    "x": ["twitter"],
    "youtube": ["youtube"],
    "fortnite": ["fortnite"],
}
PLATFORM_WEIGHTS = {"instagram": 6, "snapchat": 6, "tiktok": 3, "whatsapp": 2, "discord": 2, "facebook": 1,
                    "roblox": 1, "telegram": 1, "x": 1, "youtube": 1, "fortnite": 1}


@dataclass
class Turn:
    text: str
    kind: str  # first | fact | skip | what_now | smalltalk | crisis | wellbeing_low
    facts: Dict[str, Any] = field(default_factory=dict)
    crisis_type: Optional[str] = None


@dataclass
class Conversation:
    id: str
    language: str
    role: str
    flow: str
    facts: Dict[str, Any]  # ground truth: every fact this conversation states (flow, user_role, age, ...)
    turns: List[Turn]

    @property
    def crisis_turns(self) -> List[Tuple[int, str]]:
        return [(i, t.crisis_type) for i, t in enumerate(self.turns) if t.kind == "crisis"]

    @property
    def texts(self) -> List[str]:
        return [t.text for t in self.turns]

    def fact_turn(self, name: str) -> Optional[int]:
        if name in ("flow", "user_role"):
            return 0  # the first message names the problem and, for adults, who writes
        for i, t in enumerate(self.turns):
            if name in t.facts:
                return i
        return None


# --------------------------------------------------------------------------- persons

@dataclass
class Person:
    """Who writes, and the words that follow from it (the child's gender for adults)."""
    language: str
    role: str
    gender: str  # of the child / student / teen

    def words(self) -> Dict[str, str]:
        m = self.gender == "m"
        if self.language == "fr":
            return {
                "enfant": "mon fils" if m else "ma fille", "enfant_de": "mon fils" if m else "ma fille",
                "il": "il" if m else "elle", "Il": "Il" if m else "Elle", "e": "" if m else "e",
                "eleve": "un eleve" if m else "une eleve", "eleve_de": "d'un eleve" if m else "d'une eleve",
                "le": "le" if m else "la",
            }
        return {
            "child": "my son" if m else "my daughter", "he": "he" if m else "she", "He": "He" if m else "She",
            "him": "him" if m else "her", "his": "his" if m else "her",
            "student": "one of my students", "pupil": "a pupil",
        }


# --------------------------------------------------------------------------- first messages
# {p} = the platform phrase (" sur snap" / " on snap") or "" when the platform is kept for later.

FIRST: Dict[Tuple[str, str, str], List[str]] = {
    # sextortion
    ("sextortion", "fr", "teen"): [
        "un mec{p} me fait du chantage avec une video de moi tout nu",
        "jai envoye des photos a une meuf{p} et now elle veut de l'argent sinon elle les envoie a tout le monde",
        "qqn menace de diffuser mes nudes si je lui file pas 200 balles",
        "au secours on me fait chanter avec une video intime{p}",
        "un compte{p} dit qu'il va envoyer ma video a tous mes contacts si je paye pas",
        "une fille m'a piege en appel video{p} et elle demande des sous sinon elle balance tout",
    ],
    ("sextortion", "en", "teen"): [
        "someone{p} is blackmailing me with pics i sent",
        "a girl i met{p} says she'll send my video to all my friends unless i pay",
        "this guy has nudes of me and wants money or he posts them",
        "im being threatened they want cash or theyll leak my video{p}",
        "got tricked into a video call{p} and now they want money or theyll share it",
    ],
    ("sextortion", "fr", "parent"): [
        "bonjour {enfant} se fait faire chanter{p}, quelqu'un a une video intime et demande de l'argent",
        "{enfant} recoit des menaces, on veut publier des photos intimes si {il} ne paye pas",
        "je crois que {enfant} est victime de chantage a la webcam{p}",
        "mon ado m'a avoue qu'une personne rencontree{p} exige de l'argent contre une video",
    ],
    ("sextortion", "en", "parent"): [
        "hi, {child} is being blackmailed{p} over an intimate video",
        "someone is threatening to share private photos of {child} unless {he} pays",
        "{child} just told me a stranger{p} wants money or they'll post a video of {him}",
    ],
    ("sextortion", "fr", "professional"): [
        "je suis cpe, {eleve} me dit qu'on {le} fait chanter avec des photos intimes{p}",
        "bonjour je suis prof, {eleve} est menace{e} de diffusion d'une video si {il} paye pas",
    ],
    ("sextortion", "en", "professional"): [
        "i'm a teacher and {student} is being blackmailed with nude pics{p}",
        "school nurse here, a pupil told me someone wants money or they'll leak {his} video{p}",
    ],
    # nonconsensual_sharing
    ("nonconsensual_sharing", "fr", "teen"): [
        "mon ex a balance mes photos nues{p}",
        "y a un compte fisha qui a poste une photo de moi{p}",
        "des photos intimes de moi tournent dans le groupe de la classe",
        "quelqu'un a fait un montage porno avec ma tete et ca circule{p}",
        "ma video intime a ete partagee sans mon accord{p} tout le college l'a vue",
    ],
    ("nonconsensual_sharing", "en", "teen"): [
        "my ex posted my nudes{p}",
        "theres a fisha account with a pic of me naked{p}",
        "private pics of me are going around the class group chat",
        "someone made a fake nude of me and its being shared{p}",
    ],
    ("nonconsensual_sharing", "fr", "parent"): [
        "des photos intimes de {enfant_de} circulent au college{p}",
        "une video de {enfant} nu{e} a ete partagee sans son accord{p}",
        "l'ex de {enfant} a diffuse des photos intimes{p}",
    ],
    ("nonconsensual_sharing", "en", "parent"): [
        "intimate photos of {child} are being shared around school{p}",
        "{child}'s ex posted a private video of {him}{p}",
    ],
    ("nonconsensual_sharing", "fr", "professional"): [
        "je suis educatrice, des photos intimes {eleve_de} circulent{p}",
        "je suis prof principal, une video intime {eleve_de} tourne entre les eleves{p}",
    ],
    ("nonconsensual_sharing", "en", "professional"): [
        "teacher here, nude pics of {student} are circulating{p}",
        "im a school counsellor, an intimate video of a pupil is being passed around{p}",
    ],
    # grooming
    ("grooming", "fr", "teen"): [
        "un adulte me parle{p} et il me fait des cadeaux, il dit de pas le dire a mes parents",
        "un mec de 30 ans me demande des photos{p} et il dit que c'est notre secret",
        "y a un gars bcp plus vieux qui m'ecrit tout le temps{p}, il est chelou",
        "un homme que je connais pas m'envoie des messages{p} et me propose des skins gratuits",
    ],
    ("grooming", "en", "teen"): [
        "an older guy keeps messaging me{p} and says to keep it secret",
        "a man i met{p} sends me gifts and asks for pics",
        "some adult{p} is being really nice to me and asking weird stuff",
    ],
    ("grooming", "fr", "parent"): [
        "un adulte que je connais pas discute avec {enfant}{p} et lui offre des cadeaux",
        "je crois qu'un homme essaie de manipuler {enfant}{p}, il lui demande de garder le secret",
        "j'ai trouve des messages d'un adulte a {enfant} sur son tel{p}, ca me fait peur",
    ],
    ("grooming", "en", "parent"): [
        "a grown man has been chatting with {child}{p} and buying {him} game credits",
        "i think someone is grooming {child}{p}",
    ],
    ("grooming", "fr", "professional"): [
        "je suis infirmiere scolaire, {eleve} m'a dit qu'un adulte lui ecrit{p} et lui demande des photos",
        "animateur jeunesse ici, un adulte contacte {eleve}{p} avec des cadeaux",
    ],
    ("grooming", "en", "professional"): [
        "teacher here, {student} says an adult{p} keeps asking {him} for photos and to keep it secret",
    ],
    # cyberbullying
    ("cyberbullying", "fr", "teen"): [
        "on se moque de moi tous les jours{p}",
        "des gens de ma classe m'insultent{p} et ont cree un groupe contre moi",
        "je me fais harceler{p} depuis la rentree",
        "ils balancent des rumeurs sur moi{p} et tout le monde y croit",
        "on m'exclut du groupe et on poste des memes sur moi{p}",
    ],
    ("cyberbullying", "en", "teen"): [
        "people from my class keep insulting me{p}",
        "im getting bullied{p} every day",
        "they made a group chat just to make fun of me",
        "kids at school spread rumours about me{p}",
    ],
    ("cyberbullying", "fr", "parent"): [
        "{enfant} se fait harceler{p} par des eleves de sa classe",
        "des jeunes insultent {enfant} tous les soirs{p}",
    ],
    ("cyberbullying", "en", "parent"): [
        "{child} is being bullied{p} by kids from school",
        "other kids keep posting mean stuff about {child}{p}",
    ],
    ("cyberbullying", "fr", "professional"): [
        "je suis prof et {eleve} subit du harcelement{p}",
    ],
    ("cyberbullying", "en", "professional"): [
        "im a teacher, {student} is being harassed{p}",
    ],
    # hacked_account
    ("hacked_account", "fr", "teen"): [
        "on m'a pirate mon compte{p}",
        "je peux plus me connecter{p} qqn a change mon mot de passe",
        "mon compte{p} a ete hacke",
        "qqn s'est connecte a mon compte{p} et poste des trucs a ma place",
    ],
    ("hacked_account", "en", "teen"): [
        "my account got hacked{p}",
        "someone changed my password{p} and i cant log in",
        "i think someone got into my account{p}",
    ],
    ("hacked_account", "fr", "parent"): [
        "le compte de {enfant}{p} a ete pirate",
        "{enfant} n'arrive plus a acceder a son compte{p}, le mot de passe a ete change",
    ],
    ("hacked_account", "en", "parent"): [
        "{child}'s account{p} was hacked",
    ],
    ("hacked_account", "fr", "professional"): [
        "je suis cpe, {eleve} s'est fait pirater son compte{p}",
    ],
    ("hacked_account", "en", "professional"): [
        "teacher here, {student} had {his} account hacked{p}",
    ],
    # report_account
    ("report_account", "fr", "teen"): [
        "comment on signale un compte{p} ?",
        "je veux signaler un profil{p} qui poste des trucs degueu",
        "comment faire supprimer un post{p}",
    ],
    ("report_account", "en", "teen"): [
        "how do i report an account{p}?",
        "i want to report a profile{p}",
    ],
    ("report_account", "fr", "parent"): [
        "comment signaler un compte{p} ? {enfant} m'a montre un profil douteux",
    ],
    ("report_account", "en", "parent"): [
        "how do I report an account{p}? {child} showed me a weird profile",
    ],
    ("report_account", "fr", "professional"): [
        "je suis cpe, comment on signale un compte{p} ?",
    ],
    ("report_account", "en", "professional"): [
        "teacher here, how do we report an account{p}?",
    ],
}

PLATFORM_INLINE = {"fr": [" sur {p}", " sur {p}", " via {p}"], "en": [" on {p}", " on {p}", " over {p}"]}

# --------------------------------------------------------------------------- facts

AGE = {
    ("fr", "teen"): ["j'ai {n} ans", "jai {n} ans", "g {n} ans", "moi j'ai {n}ans", "j'ai que {n} ans"],
    ("en", "teen"): ["i'm {n}", "im {n}", "i am {n} years old", "im only {n}", "{n} yo btw"],
    ("fr", "parent"): ["{il} a {n} ans", "{enfant} a {n} ans", "{il} a {n}ans", "{il} vient d'avoir {n} ans"],
    ("en", "parent"): ["{he} is {n}", "{child} is {n}", "{he}'s {n} years old", "{he} just turned {n}"],
    ("fr", "professional"): ["{il} a {n} ans", "l'eleve a {n} ans", "c'est {eleve} de {n} ans"],
    ("en", "professional"): ["the student is {n}", "{he}'s {n}", "the pupil is {n} years old"],
}

PLATFORM_FACT = {
    ("fr", "self"): ["c'etait sur {p}", "sur {p}", "ca se passe sur {p}", "c sur {p}", "tout ca sur {p}"],
    ("en", "self"): ["it was on {p}", "on {p}", "its on {p}", "happened on {p}"],
    ("fr", "other"): ["ca s'est passe sur {p}", "sur {p}", "c'est sur {p}"],
    ("en", "other"): ["it was on {p}", "on {p}", "it happened on {p}"],
}

# (fact, value, language, self|other) -> phrasings; "self" is the teen, "other" a parent/professional.
YESNO = {
    ("paid", "yes", "fr", "self"): ["j'ai deja paye {amt}", "jai deja envoye {amt}", "g paye {amt} hier", "j'ai paye une fois {amt} mais il en veut encore"],
    ("paid", "no", "fr", "self"): ["non j'ai rien paye", "j'ai pas paye", "non jai rien envoye comme argent", "j'ai pas donne d'argent"],
    ("paid", "yes", "en", "self"): ["i already paid {amt}", "i sent him {amt} already", "already paid {amt} once"],
    ("paid", "no", "en", "self"): ["no i didnt pay anything", "i havent paid", "no i didn't send any money"],
    ("paid", "yes", "fr", "other"): ["{il} a deja paye {amt}", "{il} lui a deja envoye {amt}"],
    ("paid", "no", "fr", "other"): ["non {il} n'a rien paye", "{il} a pas paye"],
    ("paid", "yes", "en", "other"): ["{he} already paid {amt}", "{he} sent them {amt}"],
    ("paid", "no", "en", "other"): ["no {he} hasnt paid", "{he} didn't pay anything"],
    ("posted", "yes", "fr", "self"): ["il a deja poste la video", "c'est deja en ligne", "la photo a deja ete publiee sur un compte"],
    ("posted", "no", "fr", "self"): ["non il a rien poste pour l'instant", "c'est pas encore publie", "pour l'instant rien n'est en ligne"],
    ("posted", "yes", "en", "self"): ["he already posted it", "its already online", "the video is already up on some account"],
    ("posted", "no", "en", "self"): ["no he hasnt posted anything yet", "nothing is online yet", "no its not posted so far"],
    ("posted", "yes", "fr", "other"): ["la video est deja en ligne", "ils ont deja publie une photo"],
    ("posted", "no", "fr", "other"): ["non rien n'a ete publie pour l'instant", "ce n'est pas encore en ligne"],
    ("posted", "yes", "en", "other"): ["the video is already online", "they already posted one photo"],
    ("posted", "no", "en", "other"): ["no nothing has been posted yet", "it's not online yet"],
    ("deadline", "yes", "fr", "self"): ["il m'a donne jusqu'a ce soir", "il dit que j'ai jusqu'a minuit", "j'ai 24h sinon il publie"],
    ("deadline", "no", "fr", "self"): ["il a pas donne de date", "non pas de delai", "il a pas dit quand"],
    ("deadline", "yes", "en", "self"): ["he gave me until tonight", "i have 24 hours or he posts it", "he wants it by midnight"],
    ("deadline", "no", "en", "self"): ["no deadline", "he didnt say when", "no time limit"],
    ("deadline", "yes", "fr", "other"): ["ils ont donne jusqu'a ce soir", "il {le} menace de tout publier demain matin"],
    ("deadline", "no", "fr", "other"): ["pas de delai donne", "ils n'ont pas dit quand"],
    ("deadline", "yes", "en", "other"): ["they gave {him} until tonight", "they want it by tomorrow morning"],
    ("deadline", "no", "en", "other"): ["no deadline given", "they didnt say when"],
    ("meeting_proposed", "yes", "fr", "self"): ["il veut qu'on se voie ce week end", "il m'a propose de le rejoindre au parc", "il veut me rencontrer en vrai"],
    ("meeting_proposed", "no", "fr", "self"): ["non il a jamais parle de se voir", "il a pas propose de rencontre"],
    ("meeting_proposed", "yes", "en", "self"): ["he wants to meet up this weekend", "he asked to meet me irl"],
    ("meeting_proposed", "no", "en", "self"): ["no he never asked to meet", "he hasnt suggested meeting up"],
    ("meeting_proposed", "yes", "fr", "other"): ["il veut {le} rencontrer", "il lui a propose un rendez-vous samedi"],
    ("meeting_proposed", "no", "fr", "other"): ["il n'a pas propose de se voir", "non pas de rendez-vous propose"],
    ("meeting_proposed", "yes", "en", "other"): ["he asked to meet {him}", "he suggested meeting {him} at the mall"],
    ("meeting_proposed", "no", "en", "other"): ["he hasn't asked to meet", "no meeting suggested so far"],
}
AMOUNTS = {"fr": ["50e", "30 euros", "100€", "80 euros"], "en": ["$50", "50 bucks", "£40", "100 dollars"]}
JOINERS = {"fr": [" ", ", ", " et ", ". "], "en": [", ", " and ", ". ", " "]}

# --------------------------------------------------------------------------- other turns

SKIP = {"fr": ["je sais pas", "jsp", "passe", "je prefere pas dire", "aucune idee", "jsais pas trop"],
        "en": ["idk", "i dont know", "skip", "rather not say", "no idea", "dunno"]}
WHAT_NOW = {("fr", "self"): ["je fais quoi ?", "jfais quoi", "et du coup je fais quoi ??", "je dois faire quoi la", "jfais koi"],
            ("fr", "other"): ["qu'est-ce que je dois faire ?", "que faire ?", "on fait quoi maintenant ?"],
            ("en", "self"): ["what do i do?", "what should i do now??", "so what do i do", "wat do i do"],
            ("en", "other"): ["what should I do?", "what do we do now?", "what are the next steps?"]}
SMALLTALK = {"fr": ["merci", "ok", "mdr", "d'accord", "ok merci", "merci bcp", "ptdr ok"],
             "en": ["thanks", "ok", "lol", "thx", "ok thanks", "alright"]}
# Low answers to "how are you holding up?" (sextortion): worry, not a crisis.
WELLBEING_LOW = {"fr": ["pas trop bien", "bof jsuis stresse", "mal, j'ai peur", "pas ouf"],
                 "en": ["not great", "pretty scared tbh", "not good", "kinda stressed"]}

CRISIS = {
    ("fr", "self"): {
        "suicide": ["franchement j'ai envie de mourir", "jveux plus vivre", "je pense a me suicider ce soir"],
        "self_harm": ["je me scarifie depuis des semaines", "jme suis encore coupe les bras hier"],
        "overdose": ["j'ai avale toute une boite de medocs", "jai pris plein de cachets y a 20 min"],
        "danger": ["il est devant chez moi la il veut entrer", "il m'attend en bas de chez moi et je suis seul"],
        "abuse": ["mon beau pere me frappe quand ma mere est pas la", "mon pere me bat"],
        "friend": ["ma meilleure amie m'a dit qu'elle allait se tuer ce soir", "mon pote veut se suicider"],
        "silent": ["je peux pas parler il est dans la piece", "jpeux pas appeler il est a cote de moi"],
    },
    ("en", "self"): {
        "suicide": ["honestly i want to die", "i dont want to be alive anymore", "thinking about killing myself"],
        "self_harm": ["ive been cutting myself again", "i hurt myself last night on purpose"],
        "overdose": ["i took a whole bunch of pills like 20 min ago", "i swallowed all my mums sleeping pills"],
        "danger": ["hes outside my house right now trying to get in", "he's waiting for me outside and i'm alone"],
        "abuse": ["my stepdad hits me when mum isnt home", "my dad beats me"],
        "friend": ["my friend says shes gonna end it tonight", "my best mate wants to kill himself"],
        "silent": ["cant talk hes in the room with me", "i cant call he's right next to me"],
    },
    ("fr", "other"): {
        "suicide": ["{enfant} vient de me dire qu'{il} veut mourir", "{il} a ecrit qu'{il} voulait se suicider"],
        "self_harm": ["{il} se scarifie, j'ai vu ses bras", "{enfant} se fait du mal, {il} se coupe"],
        "overdose": ["{il} a avale une boite de medicaments il y a une heure"],
        "danger": ["l'homme est devant notre porte la maintenant"],
        "abuse": ["{il} m'a dit que son pere {le} frappe a la maison"],
    },
    ("en", "other"): {
        "suicide": ["{child} just told me {he} wants to die", "{he} wrote that {he} wants to kill {him}self"],
        "self_harm": ["{he} is cutting {him}self, i saw the marks", "{child} is self harming"],
        "overdose": ["{he} swallowed a whole box of pills an hour ago"],
        "danger": ["the man is at our front door right now"],
        "abuse": ["{he} told me {his} father beats {him} at home"],
    },
}
PARENT_CRISIS = ("suicide", "self_harm", "overdose", "danger")
PRO_CRISIS = ("suicide", "self_harm", "abuse")

# --------------------------------------------------------------------------- noise

SMS_FR = [(r"\bje suis\b", "jsuis"), (r"\bc'est\b", "c"), (r"\bquoi\b", "koi"), (r"\bbeaucoup\b", "bcp"),
          (r"\bquelqu'un\b", "qqn"), (r"\bj'ai\b", "jai"), (r"\bje sais pas\b", "jsp"), (r"\bpourquoi\b", "pk"),
          (r"\bil y a\b", "ya"), (r"\bje veux\b", "jveux"), (r"\bmaintenant\b", "mtn")]
SMS_EN = [(r"\byou\b", "u"), (r"\bbecause\b", "bc"), (r"\bdon't\b", "dont"), (r"\bi'm\b", "im"), (r"\bplease\b", "pls"),
          (r"\bare\b", "r"), (r"\bto be honest\b", "tbh"), (r"\bcan't\b", "cant")]
ENDINGS = ["", "", "", "?", "...", " :(", " !!", " stp", " pls"]


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def sms(text: str, language: str, rng: random.Random, rate: float = 0.4) -> str:
    for pattern, repl in SMS_FR if language == "fr" else SMS_EN:
        if rng.random() < rate:
            text = re.sub(pattern, repl, text, flags=re.IGNORECASE)
    return text


def typo(text: str, rng: random.Random, protected: Tuple[str, ...] = ()) -> str:
    """One realistic letter slip in one longer word (never in a digit or a protected word)."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words)
                  if len(w) >= 5 and w.isalpha() and w.lower() not in protected]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    k = rng.randrange(1, len(w) - 1)
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap":
        w = w[:k] + w[k + 1] + w[k] + w[k + 2:]
    elif kind == "drop":
        w = w[:k] + w[k + 1:]
    else:
        w = w[:k] + w[k] + w[k:]
    words[i] = w
    return " ".join(words)


def roughen(text: str, language: str, rng: random.Random, typos: bool, protected: Tuple[str, ...] = ()) -> str:
    text = strip_accents(text) if rng.random() < 0.9 else text
    text = sms(text, language, rng)
    if typos and rng.random() < 0.35:
        text = typo(text, rng, protected)
    if rng.random() < 0.75:
        text = text.lower()
    return text


# --------------------------------------------------------------------------- generation

def _fill(template: str, words: Dict[str, str], **extra: str) -> str:
    values = dict(words, **extra)
    return template.format_map(_Default(values))


class _Default(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _pick_platform(rng: random.Random) -> str:
    ids = list(PLATFORM_WEIGHTS)
    return rng.choices(ids, weights=[PLATFORM_WEIGHTS[i] for i in ids])[0]


def _age(rng: random.Random, role: str) -> int:
    if role == "teen":
        # mostly 11-17; some young adults (18-21) for the StopNCII branch
        return rng.choice([11, 12, 13, 13, 14, 14, 15, 15, 16, 16, 17, 17, 18, 19, 20, 21])
    return rng.choice([9, 10, 11, 12, 13, 13, 14, 14, 15, 15, 16, 16, 17, 17])


def fact_phrase(name: str, value: Any, person: Person, rng: random.Random, surface: str = "") -> str:
    words = person.words()
    who = "self" if person.role == "teen" else "other"
    lang = person.language
    if name == "age":
        return _fill(rng.choice(AGE[(lang, person.role)]), words, n=str(value))
    if name == "platform":
        return _fill(rng.choice(PLATFORM_FACT[(lang, who)]), words, p=surface)
    return _fill(rng.choice(YESNO[(name, value, lang, who)]), words, amt=rng.choice(AMOUNTS[lang]))


def make_conversation(index: int, seed: int, flow: str, language: str, role: str, rng: random.Random,
                      crisis: bool) -> Conversation:
    person = Person(language, role, rng.choice("mf"))
    words = person.words()
    who = "self" if role == "teen" else "other"
    facts: Dict[str, Any] = {"flow": flow, "user_role": role}

    # Which facts this conversation states (some are never given: the person does not know or skips).
    available = FLOW_FACTS[flow]
    stated: Dict[str, Any] = {}
    for name in available:
        keep = rng.random() < (0.85 if name in ("age", "platform") else 0.8)
        if not keep:
            continue
        if name == "age":
            stated["age"] = _age(rng, role)
        elif name == "platform":
            stated["platform"] = _pick_platform(rng)
        else:
            stated[name] = rng.choice(("yes", "no"))
    platform_surface = rng.choice(PLATFORMS[stated["platform"]]) if "platform" in stated else ""
    protected = tuple(s for surfaces in PLATFORMS.values() for s in surfaces)

    # First message: the problem, maybe with the platform inline, maybe with one more fact appended.
    template = rng.choice(FIRST[(flow, language, role)])
    first_facts: Dict[str, Any] = {}
    inline = ""
    if "platform" in stated and "{p}" in template and rng.random() < 0.5:
        inline = rng.choice(PLATFORM_INLINE[language]).format(p=platform_surface)
        first_facts["platform"] = stated["platform"]
    first = roughen(_fill(template, words, p=inline), language, rng, typos=True, protected=protected)
    remaining = [n for n in stated if n not in first_facts]
    rng.shuffle(remaining)
    if remaining and rng.random() < 0.3:
        name = remaining.pop(0)
        first_facts[name] = stated[name]
        phrase = roughen(fact_phrase(name, stated[name], person, rng, platform_surface), language, rng, typos=False)
        first = first + rng.choice([", ", " ", ". "]) + phrase
    turns = [Turn(first + rng.choice(ENDINGS[:5]), "first", first_facts)]

    # Fact turns: one to three facts each, at most three turns of facts.
    groups: List[List[str]] = []
    while remaining:
        size = rng.choice((1, 1, 2, 2, 3)) if len(groups) < 2 else len(remaining)
        groups.append(remaining[:size])
        remaining = remaining[size:]
    fact_turns = []
    for group in groups:
        phrases = [fact_phrase(n, stated[n], person, rng, platform_surface) for n in group]
        text = phrases[0]
        for phrase in phrases[1:]:
            text += rng.choice(JOINERS[language]) + phrase
        fact_turns.append(Turn(roughen(text, language, rng, typos=False), "fact", {n: stated[n] for n in group}))

    # Extras mixed in among the fact turns (turns 1..4): a skip, an early "je fais quoi ?", small talk,
    # a low wellbeing answer (sextortion), a crisis.
    early: List[Turn] = []
    if rng.random() < 0.45:
        early.append(Turn(roughen(rng.choice(SKIP[language]), language, rng, typos=False), "skip"))
    if rng.random() < 0.5:
        early.append(Turn(roughen(rng.choice(WHAT_NOW[(language, who)]), language, rng, typos=True), "what_now"))
    if rng.random() < 0.25:
        early.append(Turn(rng.choice(SMALLTALK[language]), "smalltalk"))
    if flow == "sextortion" and role == "teen" and rng.random() < 0.3:
        early.append(Turn(roughen(rng.choice(WELLBEING_LOW[language]), language, rng, typos=False), "wellbeing_low"))
    rng.shuffle(early)
    room = max(0, 4 - len(fact_turns))
    middle = fact_turns[:]
    for extra in early[:room]:
        middle.insert(rng.randrange(0, len(middle) + 1), extra)
    later = early[room:]
    turns += middle

    if crisis:
        kinds = {"teen": list(CRISIS[(language, "self")]), "parent": list(PARENT_CRISIS),
                 "professional": list(PRO_CRISIS)}[role]
        kind = rng.choice(kinds)
        text = _fill(rng.choice(CRISIS[(language, who)][kind]), words)
        position = rng.randrange(1, min(len(turns), 4) + 1)
        turns.insert(position, Turn(roughen(text, language, rng, typos=False), "crisis", crisis_type=kind))

    # Then the person goes on: what now, thanks, ok... up to at least 6 turns (the advice window).
    turns += later
    target = max(6, len(turns) + rng.choice((0, 0, 0, 1)))
    while len(turns) < target:
        if rng.random() < 0.55:
            turns.append(Turn(roughen(rng.choice(WHAT_NOW[(language, who)]), language, rng, typos=True), "what_now"))
        else:
            turns.append(Turn(rng.choice(SMALLTALK[language]), "smalltalk"))

    facts.update(stated)
    return Conversation(f"s{seed}-{index:03d}-{flow}-{language}-{role}", language, role, flow, facts, turns)


def generate(seed: int = 1234, count: int = 300, crisis_rate: float = 0.1) -> List[Conversation]:
    """`count` conversations, round-robin over flows x languages, roles mixed (teen ~55 %,
    parent ~33 %, professional ~12 %), about `crisis_rate` of them with one crisis turn."""
    rng = random.Random(seed)
    combos = [(f, lang) for f in FLOWS for lang in ("fr", "en")]
    out = []
    for i in range(count):
        flow, language = combos[i % len(combos)]
        role = rng.choices(("teen", "parent", "professional"), weights=(55, 33, 12))[0]
        out.append(make_conversation(i, seed, flow, language, role, rng, crisis=rng.random() < crisis_rate))
    return out


if __name__ == "__main__":  # a quick look: python -m tests.dialogue.generator [seed] [count]
    import sys

    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1234
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 6
    for conv in generate(seed, count):
        print(f"== {conv.id}  facts={conv.facts}  crisis={conv.crisis_turns}")
        for i, t in enumerate(conv.turns):
            print(f"  {i} [{t.kind}{':' + t.crisis_type if t.crisis_type else ''}] {t.text}  {t.facts or ''}")
