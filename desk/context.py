"""What the counsellor needs from the Rasa tracker (GET /conversations/{id}/tracker)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

ANSWER_SLOTS = ("paid", "posted", "deadline", "meeting_proposed", "school_involved", "can_login", "safe_now")
RISK_ORDER = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def _age(value: Any) -> Optional[int]:
    try:
        age = int(float(value))
    except (TypeError, ValueError):
        return None
    return age if 0 <= age <= 120 else None


def _step_name(name: Any) -> bool:
    # Content names steps `step_<flow>_<what>`; older names were `utter_<flow>_step_<what>`.
    return isinstance(name, str) and ("_step_" in name or name.startswith("step_"))


def _message(event: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    kind = event.get("event")
    text = event.get("text")
    if kind not in ("user", "bot") or not isinstance(text, str) or not text.strip():
        return None
    metadata = event.get("metadata") or {}
    sender, author, message_id = kind, None, None
    if kind == "bot" and metadata.get("sender") in ("counsellor", "system"):
        sender = metadata["sender"]
        author = metadata.get("author")
        message_id = metadata.get("message_id")
    return {"sender": sender, "author": author, "text": text, "timestamp": float(event.get("timestamp") or 0.0),
            "message_id": message_id}


def extract_context(tracker: Dict[str, Any]) -> Dict[str, Any]:
    """Case fields and transcript from a Rasa 3.6 tracker JSON. Tolerates missing parts."""
    slots = tracker.get("slots") or {}
    events = [e for e in (tracker.get("events") or []) if isinstance(e, dict)]
    latest = tracker.get("latest_input_channel")

    transcript: List[Dict[str, Any]] = []
    advice: Dict[str, str] = {}
    last_user_text: Optional[str] = None
    trigger_handoff: Optional[str] = None
    trigger_critical: Optional[str] = None
    for event in events:
        kind = event.get("event")
        message = _message(event)
        if message:
            transcript.append(message)
        if kind == "user" and message:
            last_user_text = message["text"]
        elif kind == "bot" and message:
            action = (event.get("metadata") or {}).get("utter_action")
            if _step_name(action) and action not in advice:
                advice[action] = message["text"].strip().splitlines()[0]
        elif kind == "slot":
            # The last request for a person wins (a conversation can be queued again later).
            if event.get("name") == "handoff_status" and event.get("value") == "queued":
                trigger_handoff = last_user_text
            if event.get("name") == "risk_level" and event.get("value") == "critical" and trigger_critical is None:
                trigger_critical = last_user_text

    reasons = slots.get("risk_reasons") or []
    if not isinstance(reasons, list):
        reasons = [str(reasons)]
    risk = slots.get("risk_level") if slots.get("risk_level") in RISK_ORDER else "low"
    return {
        "channel": latest if isinstance(latest, str) else None,
        "language": slots.get("language") if slots.get("language") in ("fr", "en") else None,
        "user_role": slots.get("user_role"),
        "age": _age(slots.get("age")),
        "flow": slots.get("flow"),
        "platform": slots.get("platform"),
        "risk_level": risk,
        "risk_reasons": [str(r) for r in reasons],
        "crisis_type": slots.get("crisis_type"),
        "trigger_message": trigger_handoff if trigger_handoff is not None else trigger_critical,
        "answers": {name: slots.get(name) for name in ANSWER_SLOTS if slots.get(name) not in (None, "")},
        "advice_given": [{"action": name, "text": text} for name, text in advice.items()],
        "transcript": transcript,
    }
