"""Texts of the guided flows that are put together from the content, not written whole:

- `utter_advice_<n>`: part n of the flow's steps not given yet (bot/dialogue/advice.py);
  its message carries the names of its steps (`steps`, kept in the tracker's event
  metadata, never shown), so that the next turns know what was already said;
- `utter_reask_<slot>`: the question again, rephrased: a short opening line
  (`utter_reask_intro`) and the question with its buttons.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from rasa.shared.core.trackers import DialogueStateTracker

from bot.content_store.model import Snapshot
from bot.dialogue import advice
from bot.dialogue.planner import question_of
from bot.rasa_addons.policies.conversation import flow_history, slot_before_turn

REASK_INTRO = "utter_reask_intro"

Render = Callable[[str, Dict[str, Any]], Optional[Dict[str, Any]]]


def flow_message(
    name: str, tracker: DialogueStateTracker, slots: Dict[str, Any], snapshot: Optional[Snapshot], render: Render
) -> Optional[Dict[str, Any]]:
    """The message for a composed flow text, or None for any other response."""
    part = advice.part_of(name)
    if part is not None:
        return advice_part(part, tracker, slots, snapshot)
    if name.startswith("utter_reask_"):
        return reask(name, slots, render)
    return None


def advice_part(part: int, tracker: DialogueStateTracker, slots: Dict[str, Any], snapshot: Optional[Snapshot]) -> Optional[Dict[str, Any]]:
    flow = slots.get("flow")
    # The steps given before this turn (this turn's own parts are the ones being written).
    started_now = slot_before_turn(tracker, "flow") != flow
    given = [] if started_now else flow_history(tracker, flow).steps_given
    steps = advice.pending_steps(snapshot, flow, slots, given)
    parts = advice.parts(snapshot, steps, slots)
    if part > len(parts):
        return None
    return {"text": parts[part - 1]["text"], "steps": parts[part - 1]["steps"]}


def reask(name: str, slots: Dict[str, Any], render: Render) -> Optional[Dict[str, Any]]:
    slot = question_of(name)
    question = render(f"utter_ask_{slot}", slots) if slot else None
    if not question:
        return None
    intro = render(REASK_INTRO, slots)
    text = question.get("text", "")
    if intro and intro.get("text"):
        text = f"{intro['text']}\n{text}"
    return dict(question, text=text)
