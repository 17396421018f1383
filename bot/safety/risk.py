"""Risk level from what the conversation revealed. Small and explicit on purpose.

critical  a crisis was detected, or the person said they are not safe right now
high      images already posted, already paid, a deadline, an adult proposing to meet,
          a possible abuse check-in, or a serious flow with a child under 15
medium    a serious flow (sextortion, images circulating, grooming) or any other reason
low       nothing of the above
The level never goes down within a conversation.
"""
from __future__ import annotations

from typing import Any, Iterable, List, Mapping, Optional, Tuple

LEVELS = ("low", "medium", "high", "critical")
SERIOUS_FLOWS = ("sextortion", "nonconsensual_sharing", "grooming")
HIGH_REASONS = ("already_posted", "already_paid", "deadline", "meeting_proposed", "possible_abuse", "under_15_serious")
CRITICAL_REASONS = ("crisis", "not_safe")


def _age(value: Any) -> Optional[float]:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def reasons_from(slots: Mapping[str, Any], intents_seen: Iterable[str] = ()) -> List[str]:
    reasons: List[str] = []
    intents = set(intents_seen)
    # "unknown" is the classifier's alone, asked about rather than answered (crisis_detector.CLASSIFIER_ONLY)
    if slots.get("crisis_type") not in (None, "unknown") or "crisis" in intents:
        reasons.append("crisis")
    if slots.get("safe_now") == "no" or slots.get("safe_at_home") == "no":
        reasons.append("not_safe")
    if slots.get("posted") == "yes":
        reasons.append("already_posted")
    if slots.get("paid") == "yes":
        reasons.append("already_paid")
    if slots.get("deadline") == "yes":
        reasons.append("deadline")
    if slots.get("meeting_proposed") == "yes":
        reasons.append("meeting_proposed")
    if "crisis_check" in intents:
        reasons.append("possible_abuse")
    age = _age(slots.get("age"))
    if age is not None and age < 15:
        reasons.append("under_15")
        if slots.get("flow") in SERIOUS_FLOWS:
            reasons.append("under_15_serious")
    if slots.get("flow") in SERIOUS_FLOWS:
        reasons.append(f"flow_{slots['flow']}")
    return reasons


def level_for(reasons: Iterable[str]) -> str:
    reasons = set(reasons)
    if reasons & set(CRITICAL_REASONS):
        return "critical"
    if reasons & set(HIGH_REASONS):
        return "high"
    if reasons:
        return "medium"
    return "low"


def assess(slots: Mapping[str, Any], intents_seen: Iterable[str] = ()) -> Tuple[str, List[str]]:
    """(level, reasons), never below the level already reached."""
    previous_reasons = [r for r in (slots.get("risk_reasons") or []) if isinstance(r, str)]
    reasons = list(dict.fromkeys(previous_reasons + reasons_from(slots, intents_seen)))
    level = level_for(reasons)
    previous = slots.get("risk_level")
    if previous in LEVELS and LEVELS.index(previous) > LEVELS.index(level):
        level = previous
    return level, reasons
