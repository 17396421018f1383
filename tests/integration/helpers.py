"""Assertions on what the assistant says, tolerant of case, accents and punctuation."""
from __future__ import annotations

import re
from typing import Iterable

from bot.safety.normalize import fold

# Any wording that asks the user to send or show an image. It must never appear.
ASKS_FOR_IMAGE = re.compile(
    r"\b(envoie|envoies|envoyez|montre|montrez|transfere|transferez|send|show|share|forward)\s+(moi|me|nous|us)\b"
    r".{0,40}\b(photo|photos|image|images|video|videos|capture|captures|pic|pics|picture|pictures|nude|nudes|screenshot)",
)


def says(text: str, *phrases: str) -> None:
    folded = fold(text)
    for phrase in phrases:
        assert fold(phrase) in folded, f"expected «{phrase}» in:\n{text}"


def says_any(text: str, phrases: Iterable[str]) -> None:
    folded = fold(text)
    assert any(fold(p) in folded for p in phrases), f"expected one of {list(phrases)} in:\n{text}"


def never_asks_for_images(text: str) -> None:
    match = ASKS_FOR_IMAGE.search(fold(text))
    assert match is None, f"the assistant asked for an image: «{match.group(0)}» in:\n{text}"


# Bot actions that are Rasa's bookkeeping, not part of the answer.
_BOOKKEEPING = {"action_listen", "action_extract_slots", "action_session_start"}


def pending_question(tracker: dict) -> str | None:
    """The slot the bot's latest turn asked about (utter_ask_age / utter_reask_age -> "age"),
    None when the latest turn ended otherwise (the advice, a choice, a rule's answer)."""
    for event in reversed(tracker.get("events") or []):
        if event.get("event") == "user":
            return None
        name = event.get("name") if event.get("event") == "action" else None
        if not name or name in _BOOKKEEPING:
            continue
        for prefix in ("utter_ask_", "utter_reask_"):
            if name.startswith(prefix):
                return name[len(prefix):]
        return None
    return None


def bot_actions(tracker: dict) -> list:
    """Every action the bot ran, in order (bookkeeping left out)."""
    return [e["name"] for e in tracker.get("events") or []
            if e.get("event") == "action" and e.get("name") and e["name"] not in _BOOKKEEPING]
