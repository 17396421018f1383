"""Reading a message as the answer to the question the bot just asked. Plain Python.

The facts any message reveals (age, platform, paid, posted, deadline, meeting...) are
read without context by bot/safety/context.py (NLU entities). What needs the question
is read here: a bare "non" to "has anything been published?" means posted = no; "14"
to "how old are you?" is an age; "bof" to "how are you holding up?" is a low mood.

"Non" followed by other content answers what the content is about, not the question:
"non j'ai rien payé" to "are you safe?" says nothing about safety (paid = no comes
from the content).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from bot.dialogue.planner import FREE_ANSWER_SLOTS, SAFETY_SLOTS
from bot.safety.answers import read_answer
from bot.safety.context import AGE_RANGE, _NUMBER_WORDS, detect_platform
from bot.safety.normalize import fold, normalize

YES_NO_SLOTS = ("paid", "posted", "deadline", "meeting_proposed", "school_involved", "can_login")
OTHER_PLATFORM = "other"
# Intents the classifier gives short answers, used only when the rules above read nothing.
INTENT_ANSWERS = {"affirm": "yes", "deny": "no", "skip": "unknown"}
SHORT_MESSAGE_WORDS = 4
# "ok", "d'accord": an acknowledgement. It accepts an offer, but it does not answer a
# question of fact ("has anything been published?" -> "ok" says nothing).
# "passe": skip this question and go on to what helps: the advice now (the questions after it).
SKIP_TO_ADVICE = {"passe", "je passe", "passer", "on passe", "suivant", "skip", "next", "pass"}
ACKNOWLEDGEMENTS = {"ok", "okay", "oki", "okk", "k", "dac", "d acc", "dacc", "d accord", "daccord", "ca marche", "entendu", "alright", "sure"}


@dataclass(frozen=True)
class Reply:
    value: Any = None  # the answer to the pending question, or None if it was not answered
    unsure_about_safety: bool = False
    what_now: bool = False
    accepts: bool = False  # "oui", "ok": yes to an offer


# Numbers that are counts or durations, not an age: "y en a au moins 5", "depuis 6 mois".
NOT_AN_AGE = re.compile(
    r"\b(?:au moins|at least|plus de|moins de|more than|depuis|since|il y a|ya|tous les|every) \d+\b|\b\d+ ?(?:mois|months?|jours?|days?|semaines?|weeks?|heures?|hours?|h|min\w*|fois|times"
    r"|personnes?|people|eleves?|filles?|mecs?|gars|potes?|euros?|e|balles|dollars?|messages?|photos?|videos?|comptes?|accounts?)\b")


def parse_age(text: str) -> Optional[int]:
    """An age in an answer to "how old?": "14", "14 ans", "quatorze", "il a 13 ans"."""
    folded = NOT_AN_AGE.sub(" ", fold(text))
    numbers = [int(n) for n in re.findall(r"\b(\d{1,2})(?:\s*(?:ans?|yo|y o|years?|piges?))?\b", folded)]
    for phrase, value in sorted(_NUMBER_WORDS.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"\b{phrase}\b", folded):
            numbers.append(value)
            break
    plausible = [n for n in numbers if AGE_RANGE[0] <= n <= AGE_RANGE[1]]
    return plausible[0] if plausible else None


POLITE_WORDS = {"merci", "mrc", "mci", "thanks", "thank", "you", "thx", "ty", "beaucoup", "bien", "super", "cool", "top", "parfait"}


def bare(text: Optional[str]) -> str:
    """The message folded, apostrophes as spaces, without outer punctuation: "Ok merci !" -> "ok merci"."""
    return " ".join(fold(text or "").replace("'", " ").split()).strip(" .!?")


def is_acknowledgement(bare_text: str) -> bool:
    """"ok", "ok merci", "d'accord merci beaucoup": an acknowledgement, not a yes."""
    words = bare_text.split()
    while words and words[-1] in POLITE_WORDS:
        words.pop()
    return bool(words) and " ".join(words) in ACKNOWLEDGEMENTS


def is_button(text: Optional[str]) -> bool:
    """A button's payload ("/affirm"): the channels let it through only when the bot just offered it."""
    return bool(text) and text.strip().startswith("/")


# What each button of a question means, by the kind of question.
BUTTON_ANSWERS = {
    "yes_no": {"affirm": "yes", "deny": "no", "skip": "unknown"},
    "free": {"skip": "skipped", "deny": "skipped"},
    "wellbeing": {"affirm": "ok", "deny": "low", "skip": "low"},
    "safety": {"affirm": "yes", "deny": "no", "skip": "unknown"},
}


def button_reply(pending: Optional[str], intent: Optional[str]) -> Reply:
    kind = (
        "yes_no" if pending in YES_NO_SLOTS else "free" if pending in FREE_ANSWER_SLOTS
        else "wellbeing" if pending == "wellbeing" else "safety" if pending in SAFETY_SLOTS else None
    )
    value = BUTTON_ANSWERS.get(kind, {}).get(intent or "") if kind else None
    return Reply(value=value, what_now=intent == "what_now", accepts=intent == "affirm")


def says_not_safe(text: str, intent: Optional[str], sms: Optional[Mapping[str, str]] = None) -> bool:
    """An unambiguous "not safe" to a safety question: a bare "non", "pas vraiment", or its "Non" button."""
    if is_button(text):
        return intent == "deny"
    return read_answer(text or "", sms).not_safe


def confirms_crisis(text: str, intent: Optional[str], sms: Optional[Mapping[str, str]] = None) -> bool:
    """The answer to "are you thinking of suicide, or is someone putting you in danger?"
    (utter_crisis_clarify): a yes, its button, or an unsure "jsp" (worth a person at once).
    "ok" acknowledges the numbers; "non ..." and other content go back to the conversation."""
    if is_button(text):
        return intent == "affirm"
    answer = read_answer(text or "", sms)
    bare_text = bare(text)
    if answer.yes_no == "yes":
        return not is_acknowledgement(bare_text)
    # "passe" / "skip" is a skip, not an unsure "I don't know"
    unsure = answer.yes_no == "unknown" and answer.bare and bare_text not in SKIP_TO_ADVICE
    return unsure or answer.unsure_safe


def read_reply(
    pending: Optional[str],
    text: str,
    intent: Optional[str],
    facts: Mapping[str, Any],
    aliases: Mapping[str, str],
    sms: Optional[Mapping[str, str]] = None,
) -> Reply:
    """`facts`: what the message revealed by itself (entities), already in the slots."""
    if is_button(text):
        return button_reply(pending, intent)
    answer = read_answer(text or "", sms)
    bare_text = bare(text)
    words = len(fold(text or "").split())
    yes_no = answer.yes_no
    if yes_no is None and not facts and words <= SHORT_MESSAGE_WORDS:
        yes_no = INTENT_ANSWERS.get(intent or "")
    # "oui j'ai 14 ans": the content gave facts; a bare or fact-free yes/no answers the question.
    plain = answer.bare or not facts
    acknowledgement = is_acknowledgement(bare_text)
    what_now = answer.what_now or intent == "what_now" or bare_text in SKIP_TO_ADVICE
    accepts = yes_no == "yes" and plain
    base = dict(what_now=what_now, accepts=accepts)
    if pending is None or pending in facts:
        return Reply(**base)
    if acknowledgement and pending != "wellbeing":
        return Reply(**base)

    if pending in YES_NO_SLOTS:
        value = yes_no if yes_no and plain else None
        return Reply(value=value, **base)
    if pending == "age":
        if yes_no == "unknown" or (yes_no == "no" and answer.bare):
            return Reply(value="skipped", **base)
        age = parse_age(text)
        return Reply(value=age, **base)
    if pending == "platform":
        if yes_no == "unknown" or (yes_no == "no" and answer.bare):
            return Reply(value="skipped", **base)
        found = detect_platform(normalize(text or "", sms), aliases) if aliases else None
        if found:
            return Reply(value=found, **base)
        if not facts and not what_now and yes_no is None and 0 < words <= SHORT_MESSAGE_WORDS and intent in ("inform", "nlu_fallback", None):
            return Reply(value=OTHER_PLATFORM, **base)  # an app the guides do not know
        return Reply(**base)
    if pending == "wellbeing":
        if answer.mood:
            return Reply(value=answer.mood, **base)
        if yes_no == "unknown" or (yes_no == "no" and plain):
            return Reply(value="low", **base)  # "jsp", "non": answered gently, with 3114
        if yes_no == "yes" and plain:
            return Reply(value="ok", **base)
        return Reply(**base)
    if pending in SAFETY_SLOTS:
        if answer.not_safe:
            return Reply(value="no", **base)
        if answer.unsure_safe:
            return Reply(unsure_about_safety=True, **base)
        if yes_no == "yes" and plain:
            return Reply(value="yes", **base)
        if yes_no == "unknown" and plain:
            return Reply(value="unknown", **base)
        return Reply(**base)
    return Reply(**base)
