"""Plays conversations against a running assistant through REST, in parallel, and reads
back the tracker: per user turn, the REST replies, the bot's actions and messages (names
from the tracker, not wording) and the slots as they stood at the end of the turn.

    results = play_all(url, token, [texts, ...], workers=8)
"""
from __future__ import annotations

import time
import urllib.error
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from tests.support.chat import Chat, Stack, http

EMERGENCY_ACTIONS = ("utter_crisis", "utter_not_safe")


@dataclass
class BotMessage:
    name: str  # the response/action that produced it (metadata utter_action, else the running action)
    text: str
    metadata: Dict[str, Any]
    run: int  # index of the action run that produced it (one question = one run, however many bubbles)


@dataclass
class TurnResult:
    index: int
    user: str
    replies: List[Dict[str, Any]]
    error: Optional[str] = None
    intent: Optional[str] = None
    actions: List[str] = field(default_factory=list)  # action events of the turn, action_listen excluded
    messages: List[BotMessage] = field(default_factory=list)
    slots: Dict[str, Any] = field(default_factory=dict)  # slots at the end of the turn
    slot_events: List[tuple] = field(default_factory=list)  # (name, value) set during the turn

    def names(self) -> List[str]:
        """What the bot did this turn, in order: response names and actions, deduplicated per run."""
        out: List[str] = []
        seen = set()
        for action in self.actions:
            out.append(action)
        for m in self.messages:
            if (m.run, m.name) not in seen and m.name not in out:
                out.append(m.name)
            seen.add((m.run, m.name))
        return out

    @property
    def safety_answer(self) -> bool:
        """A reply that is part of no bot message in the tracker: the REST guard added its
        safety message (a failed or timed-out action server call, or a turn that said
        nothing). Rasa's REST channel splits a message at each blank line, so replies are
        compared by text, not counted."""
        texts = [" ".join((m.text or "").split()) for m in self.messages]
        for reply in self.replies:
            said = " ".join((reply.get("text") or "").split())
            if said and not any(said in text for text in texts):
                return True
        return False

    def emergency_messages(self) -> List[BotMessage]:
        return [m for m in self.messages if m.name in EMERGENCY_ACTIONS]

    def text(self) -> str:
        return "\n".join(r.get("text") or "" for r in self.replies)


@dataclass
class PlayResult:
    sender: str
    turns: List[TurnResult]
    final_slots: Dict[str, Any]
    events: List[Dict[str, Any]]
    error: Optional[str] = None
    seconds: float = 0.0

    def bot_texts(self) -> List[str]:
        return [m.text for t in self.turns for m in t.messages] or [t.text() for t in self.turns]


def split_turns(events: List[Dict[str, Any]], turns: List[TurnResult]) -> Dict[str, Any]:
    """Fill each turn with its tracker events (in order: the k-th user event is the k-th turn)."""
    slots: Dict[str, Any] = {}
    current: Optional[TurnResult] = None
    user_index = -1
    run = 0
    running_action = ""
    for event in events:
        kind = event.get("event")
        if kind == "user":
            user_index += 1
            current = turns[user_index] if user_index < len(turns) else None
            if current is not None:
                current.intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            running_action = ""
        elif kind == "slot":
            slots[event.get("name")] = event.get("value")
            if current is not None:
                current.slot_events.append((event.get("name"), event.get("value")))
        elif kind == "action":
            run += 1
            running_action = event.get("name") or ""
            if current is not None and running_action != "action_listen":
                current.actions.append(running_action)
        elif kind == "bot" and current is not None:
            metadata = event.get("metadata") or {}
            name = metadata.get("utter_action") or running_action or "?"
            current.messages.append(BotMessage(name, event.get("text") or "", metadata, run))
        elif kind == "restart":
            slots = {}
        if current is not None:
            current.slots = dict(slots)
    return slots


def play(url: str, token: str, texts: Sequence[str], sender: Optional[str] = None, timeout: float = 30,
         metadata: Optional[Dict[str, Any]] = None) -> PlayResult:
    stack = Stack(url, token, None, None, 0, None)  # type: ignore[arg-type]
    chat = Chat(stack, sender=sender or f"sim-{uuid.uuid4().hex[:12]}")
    started = time.monotonic()
    turns: List[TurnResult] = []
    error = None
    for i, text in enumerate(texts):
        try:
            replies = chat.say(text, metadata=metadata, timeout=timeout)
            turns.append(TurnResult(i, text, replies))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            turns.append(TurnResult(i, text, [], error=f"{type(exc).__name__}: {exc}"))
    events: List[Dict[str, Any]] = []
    final: Dict[str, Any] = {}
    try:
        tracker = http("GET", f"{url}/conversations/{chat.sender}/tracker?token={token}", timeout=timeout)
        events = tracker.get("events") or []
        split_turns(events, turns)
        final = tracker.get("slots") or {}
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = f"tracker: {type(exc).__name__}: {exc}"
    return PlayResult(chat.sender, turns, final, events, error, time.monotonic() - started)


WARM_UP = (["bonjour", "mon compte a ete pirate", "je fais quoi"], ["hi", "someone is bullying me online", "ok thanks"])


def warm_up(url: str, token: str) -> None:
    """Two throwaway conversations, one after the other, so that a freshly started stack (first model
    run, first action server calls) does not time out on the first measured turns."""
    for texts in WARM_UP:
        play(url, token, texts, f"warmup-{uuid.uuid4().hex[:8]}")


def play_all(url: str, token: str, conversations: Sequence[Sequence[str]], workers: int = 8,
             prefix: str = "sim", warm: bool = True) -> List[PlayResult]:
    """Each conversation in its own sender id, `workers` at a time; results in input order."""
    if warm:
        warm_up(url, token)
    run_id = uuid.uuid4().hex[:6]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(play, url, token, list(texts), f"{prefix}-{run_id}-{i:04d}")
                   for i, texts in enumerate(conversations)]
        return [f.result() for f in futures]
