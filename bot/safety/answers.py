"""Reading a short answer to the question the bot just asked: yes / no / "I don't know",
a mood, "what do I do now?", "I'm not safe". Plain Python, no Rasa.

Deterministic rules over normalised text (see normalize.py): "OUIII", "ouais", "nan",
"jsp" and "idk" must read the same whatever the classifier learnt. What the answer
means depends on the question; that choice is made by the caller (bot/dialogue/reading.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional, Tuple

from bot.safety.normalize import normalize


@dataclass(frozen=True)
class Answer:
    yes_no: Optional[str] = None  # "yes" / "no" / "unknown", when the message opens with one
    bare: bool = False  # the message is only that answer (plus fillers)
    mood: Optional[str] = None  # "low" / "ok": an answer to "how are you holding up?"
    what_now: bool = False  # "je fais quoi ?": asks for the next steps
    not_safe: bool = False  # an unambiguous "no" to "are you safe right now?"
    unsure_safe: bool = False  # "bof", "jsp", "not sure" to "are you safe right now?"


# --- yes / no / unknown ---------------------------------------------------------------
# Longest phrases first is done by the matcher, so "no idea" is never read as "no".
YES_PHRASES = [
    "oui", "ouais", "ouai", "oue", "ouep", "ouaip", "ui", "wi", "yes", "yep", "yup", "yeah", "yea", "ye", "sure",
    "grave", "carrement", "exact", "exactement", "ok", "okay", "oki", "okk", "d acc", "dac", "dacc", "d accord",
    "bien sur", "evidemment", "voila", "c est ca", "c est bien ca", "tout a fait", "absolument", "affirmatif",
    "of course", "definitely", "absolutely", "correct", "that s right", "right", "yes he did", "yes she did",
    "que oui", "i think so", "pas de souci", "pas de soucis", "pas de probleme", "no problem", "no worries",
]
NO_PHRASES = [
    "non", "nan", "nn", "nope", "nop", "no", "nah", "pas du tout", "jamais", "pas vraiment", "pas encore",
    "toujours pas", "absolument pas", "jamais de la vie", "not really", "not at all", "never", "not yet",
    "absolutely not", "no way", "no he didn t", "no she didn t", "que non", "i don t think so", "don t think so",
    "pas",  # what is left of "je pense pas" / "je crois pas" once the filler is gone
]
UNKNOWN_PHRASES = [
    "je sais pas", "je ne sais pas", "je sais plus", "je sais pas trop", "j en sais rien", "jsp", "chai pas", "chais pas",
    "chui pas sur", "che pas", "sais pas", "sai pas", "aucune idee", "pas d idee", "je suis pas sur", "je suis pas sure",
    "pas sur", "pas sure", "peut etre", "ptet", "idk", "i don t know", "i dont know", "i do not know", "dunno",
    "no idea", "not sure", "i m not sure", "maybe", "je prefere pas dire", "je prefere ne pas dire",
    "je prefere ne pas le dire", "je prefere pas le dire", "je prefere pas repondre", "je prefere ne pas repondre",
    "je veux pas dire", "je veux pas le dire", "je veux pas repondre", "i d rather not say", "i d rather not",
    "rather not say", "prefer not to say", "i prefer not to say", "i d prefer not to say", "i don t want to say",
]
# Said alone they answer; leading a sentence they mean something else
# ("si je paye pas...", "passe moi le numéro").
BARE_ONLY_PHRASES = {"si": "yes", "passe": "unknown", "je passe": "unknown", "skip": "unknown", "pass": "unknown", "next": "unknown"}
# "no one saw it", "no deadline": "no" opening a noun phrase is not an answer.
_NOT_AN_ANSWER_AFTER = r"(?! (?:one|body|deadline|time|money|idea|way to|problem)\b)"
# Words around an answer that add nothing to it ("euh non merci", "bah ouais frère").
FILLERS = [
    "euh", "heu", "eh", "bah", "ben", "beh", "bon", "hmm", "hm", "mmh", "mh", "mm", "ah", "oh", "ha", "haha", "hein",
    "alors", "enfin", "bref", "en fait", "du coup", "je pense", "je crois", "i think", "i guess", "well", "um", "umm",
    "uh", "er", "so", "merci", "merci beaucoup", "thanks", "thank you", "thx", "lol", "mdr", "ptdr", "xd",
    "stp", "svp", "s il te plait", "s il vous plait", "please", "pls", "sorry", "desole", "desolee", "vraiment",
    "really", "trop", "franchement", "honnetement", "honestly", "frere", "frero", "bro", "wesh", "mec", "madame",
    "monsieur", "quoi", "la",
]

# --- mood ---------------------------------------------------------------------------
# Read before the ok words: "ça va pas" and "pas bien" contain "ça va" and "bien".
LOW_MOOD_CUES = [
    r"\bca va pas\b", r"\bca (?:ne )?va (?:pas|plus)\b", r"\bpas (?:bien|top|ouf|terrible|trop|fort|genial|la forme|ok|okay)\b",
    r"\bbof\b", r"\bmal\b", r"\bhorrible\b", r"\bnul(?:le)?\b(?! part)", r"\bj en peux plus\b", r"\bjpp\b", r"\bje panique\b",
    r"\bpaniqu\w*\b", r"\b(?<!pas )peur\b", r"\b(?<!pas )stress\w*\b",
    r"\bangoiss\w*\b", r"\bflipp?\w*\b", r"\btriste\b", r"\bdeprim\w*\b", r"\bje pleure\b", r"\bmoyen\b", r"\bcatastroph\w*\b",
    r"\bla merde\b", r"\bje sais pas\b", r"\bjsp\b", r"\bchai pas\b", r"\bsais pas\b", r"\bpas vraiment\b",
    r"\baucune idee\b", r"\bno idea\b",
    r"\bnot (?:great|good|ok|okay|fine|well|really|so good|too good|doing well)\b", r"\b(?<!not )bad\b", r"\bawful\b",
    r"\bterrible\b", r"\bscared\b", r"\bafraid\b", r"\bterrified\b", r"\bpanic\w*\b", r"\banxious\b", r"\bstressed\b",
    r"\bfreaking out\b", r"\bworried\b", r"\bsad\b", r"\bcrying\b", r"\b(?:like )?shit\b", r"\bidk\b", r"\bi don t know\b",
    r"\bdunno\b", r"\bmeh\b", r"\bso so\b", r"\bcould be better\b", r"\bpourrait aller mieux\b", r"\bcomme ci comme ca\b",
]
# Only when the answer opens with them: "ok" deep inside a sentence says nothing about a mood.
OK_MOOD_CUES = [
    r"ca va(?: bien| mieux| aller| un peu mieux)?", r"ca peut aller", r"ca roule", r"ca gaze", r"je vais bien", r"je vais mieux",
    r"je me sens (?:bien|mieux)", r"(?:tres |plutot |assez )?bien", r"tranquille", r"tranquillou", r"tranqui", r"pas mal",
    r"nickel", r"super", r"mieux", r"ok", r"okay", r"oki", r"cool", r"fine", r"i ?m (?:ok|okay|fine|good|alright|better)",
    r"i am (?:ok|okay|fine|good|alright|better)", r"good", r"all good", r"alright", r"not bad", r"better", r"great",
]
# "oui ça va", "ouais tranquille": the yes only introduces the mood.
_MOOD_OPENERS = r"(?:(?:oui|ouais|ouai|yes|yeah|yep|euh|bah|ben|bon|hmm|ah|oh|well|um|uh) )*"

# --- "what do I do now?" ------------------------------------------------------------
WHAT_NOW_CUES = [
    r"\b(?:je|on|j) (?:fais|fait|doit|dois) (?:quoi|koi|comment)\b",  # "je fais quoi", "j'fais koi"
    r"\b(?:jfais|jdois) (?:quoi|koi|comment)\b",  # "jfais quoi" when no SMS table expanded it
    r"\b(?:je|on) (?:dois|doit) faire quoi\b",
    r"\b(?:qu est ce que|quest ce que|qu est ce qu|que) (?:je|j|on) (?:dois |doit |peux |peut )?(?:fais|fait|faire)\b",
    r"\bque (?:dois je|faire|puis je faire)\b",
    r"\bquoi faire\b",
    r"\bcomment (?:je fais|on fait|faire)\b",
    r"\b(?:c est )?quoi la suite\b",
    r"\baide(?:z)? moi\b",
    r"\bdis moi (?:quoi faire|ce que je dois faire)\b",
    r"\bwhat (?:should|do|can|shall|must) i do\b",
    r"\bwhat am i (?:supposed|meant) to do\b",
    r"\bwhat (?:now|next)\b", r"\bwhat s next\b", r"\bnow what\b",
    r"\bhelp me\b",
    r"\btell me what to do\b",
    r"\bwhat do i do now\b",
]
# "et du coup ?", "et maintenant ?": asking for what comes next only when they end the
# message ("et maintenant il me menace" tells a story).
WHAT_NOW_ENDINGS = (
    r"\b(?:et du coup|et maintenant|et apres|et ensuite|and now|so now|what now|now what)\b"
    r"(?: (?:quoi|alors|lol|mdr|stp|svp|please|pls|merci|frere|bro))*$"
)
# Alone they ask for the next step; inside a sentence they are ordinary words
# ("il m'a envoyé la suite", "il a tout publié du coup").
WHAT_NOW_ALONE = r"^(?:(?:ok|bon|bah|ben|euh|alors|donc|oui|ouais) )*(?:la suite|du coup|ensuite|et|apres|alors|next|and)$"

# --- "are you safe right now?" -------------------------------------------------------
NOT_SAFE_CUES = [
    r"\bpas (?:en securite|safe|a l abri)\b",  # "je me sens pas en sécurité"
    r"\bnot (?:feeling )?safe\b",  # "I'm not safe"
    r"\bi (?:don t|dont|do not) feel safe\b",
    r"\b(?:je suis|suis|je me sens|i m|i am|i feel) (?:en danger|in danger)\b",  # "je suis pas en danger" does not match
]
# "je suis pas en danger hein", "im not in danger or anything": the person says it in words.
# That outweighs the trained classifier alone (bot/rasa_addons/nlu/crisis_detector.py); a
# lexicon cue in the same message still counts.
SAYS_SAFE_CUES = [
    r"\b(?:je suis|jsuis|suis|chui|on est|il est|elle est) (?:pas|plus|absolument pas) en danger\b",
    r"\b(?:i m|im|i am|we re|we are|he s|she s|he is|she is) not in (?:any )?danger\b",
]


def says_not_in_danger(normalised: str) -> bool:
    return any(re.search(cue, normalised) for cue in SAYS_SAFE_CUES)


UNSURE_SAFE_CUES = [
    r"bof", r"je sais pas(?: trop| vraiment)?", r"je ne sais pas", r"jsp(?: trop)?", r"chai pas", r"sais pas", r"not sure",
    r"i m not sure", r"kinda", r"kind of", r"sort of", r"sorta", r"a peu pres", r"plus ou moins", r"more or less",
    r"maybe", r"peut etre", r"ptet", r"idk", r"i don t know", r"dunno", r"pas sure?", r"je suis pas sure?", r"moyen",
    r"ca depend", r"it depends", r"je crois", r"i think so", r"normalement",
]
_SAFETY_WORDS = r"\b(?:securite|safe|abri|danger)\b"


def _phrase_regex(phrases: Iterable[str]) -> str:
    return "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))


_ANSWERS: Tuple[Tuple[str, str], ...] = (
    ("yes", _phrase_regex(YES_PHRASES)),
    ("no", _phrase_regex(NO_PHRASES)),
    ("unknown", _phrase_regex(UNKNOWN_PHRASES)),
)
_FILLERS = _phrase_regex(FILLERS)
_LEADING_FILLERS = re.compile(rf"^(?:(?:{_FILLERS}) )*")
# What is left of ":D", ":p", ":o" once punctuation is gone; only ever after the answer
# (a leading "d" is the start of "d'acc").
_EMOTICON_REMAINS = re.compile(r"^(?:(?:d|p|o|xd|xp) ?)+$")


def _strip_leading_fillers(text: str) -> str:
    return _LEADING_FILLERS.sub("", text + " ").strip()


def _leading_answer(text: str) -> Tuple[Optional[str], str]:
    """The answer the message opens with (the longest phrase wins) and what follows it."""
    best: Tuple[Optional[str], str, int] = (None, text, 0)
    for value, phrases in _ANSWERS:
        match = re.match(rf"(?:{phrases})\b{_NOT_AN_ANSWER_AFTER}", text)
        if match and match.end() > best[2]:
            best = (value, text[match.end():].strip(), match.end())
    return best[0], best[1]


def _rest_is_empty(rest: str, value: str) -> bool:
    """Only fillers, or the same answer again ("non non", "oui grave", "nan jamais")."""
    while rest and not _EMOTICON_REMAINS.match(rest):
        stripped = _strip_leading_fillers(rest)
        again, after = _leading_answer(stripped)
        if stripped and again == value:
            stripped = after
        if stripped == rest:
            return False
        rest = stripped
    return True


def read_yes_no(normalised: str) -> Tuple[Optional[str], bool]:
    """(value, bare): the yes / no / unknown the message opens with, and whether it is all."""
    text = _strip_leading_fillers(normalised)
    if text in BARE_ONLY_PHRASES:
        return BARE_ONLY_PHRASES[text], True
    value, rest = _leading_answer(text)
    if value is None:
        return None, False
    return value, _rest_is_empty(rest, value)


def read_mood(normalised: str) -> Optional[str]:
    # "pas mal" and "not bad" mean fine; they are removed before looking for low words.
    text = re.sub(r"\b(?:pas mal|pas si mal|not bad|not too bad|pas trop mal)\b", " ", normalised)
    if any(re.search(cue, text) for cue in LOW_MOOD_CUES):
        return "low"
    opening = re.sub(rf"^{_MOOD_OPENERS}", "", normalised)
    if any(re.match(rf"(?:{cue})\b(?! sur\b)", opening) for cue in OK_MOOD_CUES):
        return "ok"
    return None


def asks_what_now(normalised: str) -> bool:
    return (
        any(re.search(cue, normalised) for cue in WHAT_NOW_CUES)
        or bool(re.search(WHAT_NOW_ENDINGS, normalised))
        or bool(re.match(WHAT_NOW_ALONE, normalised))
    )


def says_not_safe(normalised: str, yes_no: Optional[str], bare: bool) -> bool:
    """A bare "non" / "pas vraiment", or "je suis pas en sécurité" said in words."""
    if yes_no == "no" and bare:
        return True
    return any(re.search(cue, normalised) for cue in NOT_SAFE_CUES)


def unsure_about_safety(normalised: str) -> bool:
    """Opens with a hesitation ("bof", "jsp trop"), or hesitates about being safe."""
    text = _strip_leading_fillers(normalised)
    cues = "|".join(UNSURE_SAFE_CUES)
    if re.match(rf"(?:{cues})\b", text):
        return True
    return bool(re.search(rf"\b(?:{cues})\b", text) and re.search(_SAFETY_WORDS, text))


def read_answer(text: str, sms: Optional[Mapping[str, str]] = None) -> Answer:
    normalised = normalize(text or "", sms)
    yes_no, bare = read_yes_no(normalised)
    not_safe = says_not_safe(normalised, yes_no, bare)
    return Answer(
        yes_no=yes_no,
        bare=bare,
        mood=read_mood(normalised),
        what_now=asks_what_now(normalised),
        not_safe=not_safe,
        unsure_safe=not not_safe and unsure_about_safety(normalised),
    )
