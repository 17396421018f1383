"""The advice of a flow: its steps for the facts known, joined into a few messages.

The steps are the editors' (content/flows/<flow>.yml, in their order, each with its
`when`). They are joined into messages of at most PART_CHARS characters (one message per
step would flood WhatsApp, Messenger and Telegram, where a turn stays within 4
messages). There a turn sends at most MAX_PARTS of them (`utter_advice_1`, ...); if more
remain, the turn ends with "la suite ?" and the rest comes with the next message. On the
web chat, all of them at once. A step
already given in this flow is not given again; a step that a new fact calls for later
("en fait il l'a publiée") is given then.

Used by the flow policy (how many parts to send) and by the content NLG (the text of
each part), so that both always agree.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from bot.content_store.model import Snapshot
from bot.content_store.render import matches, render

ADVICE_PREFIX = "utter_advice_"
MAX_PARTS = 3
MAX_ACTIONS = 6  # utter_advice_1..6 exist (the web chat may send up to 6 parts)
# A part holds steps up to this many characters (platforms split longer texts: Twilio
# at 1,600); a single longer step is a part of its own.
PART_CHARS = 1500


def advice_action(part: int) -> str:
    return f"{ADVICE_PREFIX}{part}"


def part_of(action: str) -> Optional[int]:
    """1 for utter_advice_1, ...; None for any other action."""
    if not action.startswith(ADVICE_PREFIX):
        return None
    suffix = action[len(ADVICE_PREFIX):]
    return int(suffix) if suffix.isdigit() and 1 <= int(suffix) <= MAX_ACTIONS else None


def steps_for(snapshot: Optional[Snapshot], flow: Optional[str], slots: Mapping[str, Any]) -> List[str]:
    """The flow's steps that the facts call for, in the editors' order."""
    if snapshot is None or not flow or flow not in snapshot.flows:
        return []
    return [step.response for step in snapshot.flows[flow].steps if matches(step.when, slots)]


def pending_steps(snapshot: Optional[Snapshot], flow: Optional[str], slots: Mapping[str, Any], given: Iterable[str]) -> List[str]:
    already = set(given)
    return [name for name in steps_for(snapshot, flow, slots) if name not in already]


def parts(snapshot: Optional[Snapshot], steps: Sequence[str], slots: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The steps rendered and grouped into messages of at most PART_CHARS characters:
    [{"text": ..., "steps": [names]}, ...]."""
    rendered = []
    for name in steps:
        message = render(snapshot, name, slots) if snapshot is not None else None
        if message and message.get("text"):
            rendered.append((name, message["text"]))
    groups: List[Dict[str, Any]] = []
    for name, text in rendered:
        last = groups[-1] if groups else None
        if last is not None and len(last["text"]) + 2 + len(text) <= PART_CHARS:
            last["text"] = f"{last['text']}\n\n{text}"
            last["steps"].append(name)
        else:
            groups.append({"text": text, "steps": [name]})
    return groups
