"""Facts the assistant can read from a message without asking: who is writing,
how old, on which platform, in which language, already paid, already posted.

Deterministic rules over normalised text (see normalize.py), so that they behave
the same on words no training example contained. Kept free of Rasa imports.
"""
from __future__ import annotations

import re
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

from bot.safety.normalize import fold, normalize

# --- who is writing ---------------------------------------------------------------
_CHILD = r"(?:fils|fille|enfant|enfants|ado|gamin|gamine|garcon|petit|petite|bebe|fiston)"
PARENT_CUES = [
    rf"\b(?:mon|ma|mes|notre|nos) (?:\w+ )?{_CHILD}\b",
    r"\bje suis (?:sa|son|la|le) (?:mere|pere|maman|papa|parent|tante|oncle|grand mere|grand pere)\b",
    r"\ben tant que (?:parent|mere|pere|maman|papa)\b",
    r"\bmy (?:\d+ (?:year old |yo )?)?(?:son|daughter|child|kid|kids|children|teen|teenager|stepson|stepdaughter)\b",
    r"\bi m (?:a|his|her|their) (?:parent|mother|father|mom|mum|dad|guardian)\b",
    r"\bas a (?:parent|mother|father|mom|mum|dad)\b",
]
PROFESSIONAL_CUES = [
    r"\b(?:mon|ma|mes|un de mes|une de mes|nos) (?:\w+ )?eleves?\b",
    r"\bje suis (?:un |une )?(?:prof|professeur|professeure|enseignant|enseignante|cpe|infirmiere|infirmier|educateur|educatrice|"
    r"assistante? sociale?|directeur|directrice|principal|principale|animateur|animatrice|psychologue scolaire|surveillant|surveillante)\b",
    r"\bdans (?:ma|mon) (?:classe|college|lycee|etablissement)\b",
    r"\bmy (?:students?|pupils?)\b",
    r"\bi m (?:a |an )?(?:teacher|school nurse|counsellor|counselor|social worker|youth worker|headteacher|principal|educator)\b",
    r"\bin my (?:class|school)\b",
]
TEEN_CUES = [
    r"\bj ai (?:1[0-7]|[89]) ans\b",
    r"\bje suis (?:un |une )?(?:\w+ )?de (?:1[0-7]|[89]) ans\b",
    r"\bi m (?:1[0-7]|[89])(?: years old| yo)?\b",
    r"\bi am (?:1[0-7]|[89])(?: years old)?\b",
    r"\bje suis (?:en|au) (?:\d+e|\d+eme|sixieme|cinquieme|quatrieme|troisieme|seconde|premiere|terminale|college|lycee)\b",
]

# --- age ---------------------------------------------------------------------------
_NUMBER_WORDS = {
    "six": 6, "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13,
    "quatorze": 14, "quinze": 15, "seize": 16, "dix sept": 17, "dix huit": 18, "dix neuf": 19, "vingt": 20,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
}
_NUM = r"(\d{1,2}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + ")"
AGE_PATTERNS = [
    rf"\bj ai {_NUM} ans\b",
    rf"\bje suis (?:un |une )?(?:\w+ )?de {_NUM} ans\b",  # "je suis un gars de 14 ans" (first person only)
    rf"\bi m {_NUM}(?: years old| yo| y o)?\b",
    rf"\bi am {_NUM}(?: years old)?\b",
    rf"\b{_CHILD} (?:de|a|qui a) {_NUM} ans\b",
    rf"\b(?:son|daughter|child|kid|boy|girl) (?:is|aged|of) {_NUM}\b",
    rf"\bmy {_NUM} (?:year old|yo) (?:son|daughter|child|kid|boy|girl)\b",
    rf"\b(?:il|elle) a {_NUM} ans\b",  # kept only when the writer is a parent or pro (see extract_age)
    rf"^(?:j ai |i m |il a |elle a |he s |she s )?{_NUM}(?: ans| an| years| years old| yo)?$",  # an answer to "how old?"
]
AGE_RANGE = (5, 25)

# --- already paid / already posted -----------------------------------------------
PAID_CUES = [
    r"\b(?:j ai|je lui ai|je leur ai|on a|il a) (?:deja )?(?:paye|payer|envoye \d+|verse|donne \d+|achete (?:une|des) cartes?)\b",
    r"\bdeja paye\b",
    r"\bi (?:already )?(?:paid|sent (?:him|her|them) (?:\d+|money|the money))\b",
    r"\b(?:already|have) paid\b",
]
POSTED_CUES = [
    r"\b(?:il|elle|ils|elles) (?:l a|les a|la a|a) (?:deja )?(?:poste|postee|publie|publiee|partage|partagee|diffuse|diffusee|envoye a)\b",
    r"\bdeja (?:poste|postee|publie|publiee|partage|partagee|diffuse|diffusee|en ligne)\b",
    r"\b(?:tourne|circule) (?:au|dans|sur|partout)\b",
    r"\b(?:already )?(?:posted|shared|leaked|sent) (?:it|them|the video|the pics|my pics) (?:to|on|online|everywhere)\b",
    r"\b(?:already|has|have|he s|she s|they ve|they have|he has|she has) (?:posted|shared|leaked|published) (?:it|them|the video|the pics|the photos|my pics)\b",
    r"\bit s (?:already )?(?:online|out there|going around)\b",
]

# --- language -----------------------------------------------------------------------
FRENCH_WORDS = set(
    "je j tu il elle nous vous ils elles le la les un une des du et est c pas ne que qui mon ma mes ton ta tes son sa ses "
    "sur avec pour dans moi toi suis ai sont fait veux peux quoi comment pourquoi bonjour salut merci oui non ouais nan "
    "jsp mdr stp svp enfant fils fille aide etre avoir tout tres bien aussi mais ou donc car ca cette ce ces leur y au aux "
    "qu quand parce m t s l d n sais peur faire dit veut mais menace photo video gens quelqu quelqu un chez apres avant "
    "cest jai jsuis chui wsh tkt pk bcp ptn truc mec meuf daron darons parler personne".split()
)
ENGLISH_WORDS = set(
    "i you he she we they the an and is are was my your his her with for to of it this that what how why hello hi hey "
    "thanks thank yes no please child son daughter help be have not don t can cant im i m want someone because "
    "about from will would just know ok okay guy girl pics pic video threatened threatening send sent money he s she s "
    "they re do does did am at if or so me him them who where when there their".split()
)
_AMBIGUOUS = {"a", "on", "me", "en", "t", "s", "d", "l", "m", "n", "video", "ok", "i"}
FRENCH_WORDS -= _AMBIGUOUS
ENGLISH_WORDS -= _AMBIGUOUS


def _any(patterns: Iterable[str], text: str) -> bool:
    return any(re.search(p, text) for p in patterns)


def detect_role(normalised: str) -> Optional[str]:
    if _any(PROFESSIONAL_CUES, normalised):
        return "professional"
    if _any(PARENT_CUES, normalised):
        return "parent"
    if _any(TEEN_CUES, normalised):
        return "teen"
    return None


def _to_int(token: str) -> Optional[int]:
    if token.isdigit():
        return int(token)
    return _NUMBER_WORDS.get(token)


def extract_age(normalised: str, role: Optional[str]) -> Optional[int]:
    for i, pattern in enumerate(AGE_PATTERNS):
        # "il a 25 ans" from a teen is most often the adult who contacts them: only
        # parents and professionals talk about the young person in the third person.
        if "(?:il|elle) a" in pattern and role not in ("parent", "professional"):
            continue
        m = re.search(pattern, normalised)
        if m:
            age = _to_int(m.group(1))
            if age is not None and AGE_RANGE[0] <= age <= AGE_RANGE[1]:
                return age
    return None


def detect_platform(normalised: str, aliases: Mapping[str, str]) -> Optional[str]:
    """The platform named last (where the threat is now, when contact moved apps)."""
    best: Tuple[int, Optional[str]] = (-1, None)
    padded = f" {normalised} "
    for alias, pid in aliases.items():
        if len(alias) <= 2:
            # One- or two-letter names ("x", "fb") only count in an obvious context.
            rx = rf"(?:^|\b(?:sur|on|de|from|via|dans|in|compte|account|app|appli)) {re.escape(alias)}(?= |$)"
            m = None
            for m in re.finditer(rx, normalised):
                pass
            if m is None and normalised == alias:
                return pid
            if m is not None and m.end() > best[0]:
                best = (m.end(), pid)
            continue
        start = padded.rfind(f" {alias} ")
        if start >= 0 and start + len(alias) > best[0]:
            best = (start + len(alias), pid)
    return best[1]


def detect_language(text: str) -> Optional[str]:
    """'fr' or 'en' when the message clearly is; None for short or mixed messages."""
    tokens = fold(text).split()
    if len(tokens) < 2:
        return None  # "ok", "merci": a one-word message never switches the language
    fr = sum(1 for t in tokens if t in FRENCH_WORDS)
    en = sum(1 for t in tokens if t in ENGLISH_WORDS)
    if any(ch in text.lower() for ch in "éèêàçùâîôœ"):
        fr += 2
    if fr >= 2 and fr >= 2 * en + 1:
        return "fr"
    if en >= 2 and en >= 2 * fr + 1:
        return "en"
    return None


NEGATION_BEFORE = re.compile(r"\b(?:pas|jamais|not|never|no|hasn|hasnt|haven|havent|didn|didnt|n)\b(?:\s+\S+){0,2}\s*$")


def _affirmed(patterns: Iterable[str], text: str) -> bool:
    """A cue that is not negated just before ("he hasn't posted it", "il l'a pas publiée")."""
    for pattern in patterns:
        for match in re.finditer(pattern, text):
            if not NEGATION_BEFORE.search(text[: match.start()]) and not re.match(r"\s*(?:pas|not)\b", text[match.end():]):
                return True
    return False


def detect_flags(normalised: str) -> Dict[str, str]:
    flags = {}
    if _affirmed(PAID_CUES, normalised):
        flags["paid"] = "yes"
    if _affirmed(POSTED_CUES, normalised):
        flags["posted"] = "yes"
    return flags


def read_context(text: str, aliases: Mapping[str, str], sms: Optional[Mapping[str, str]] = None) -> Dict[str, object]:
    normalised = normalize(text, sms)
    found: Dict[str, object] = {}
    role = detect_role(normalised)
    if role:
        found["user_role"] = role
    age = extract_age(normalised, role)
    if age is not None:
        found["age"] = age
    platform = detect_platform(normalised, aliases) if aliases else None
    if platform:
        found["platform"] = platform
    language = detect_language(text)
    if language:
        found["language"] = language
    found.update(detect_flags(normalised))
    return found


def entity_list(found: Mapping[str, object], text: str, extractor: str) -> List[Dict[str, object]]:
    return [
        {"entity": key, "value": value, "start": 0, "end": len(text), "confidence_entity": 1.0, "extractor": extractor}
        for key, value in found.items()
    ]
