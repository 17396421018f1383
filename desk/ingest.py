"""Rasa → desk events (docs/handoff.md): validation, idempotent application, context merge."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Set

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from desk import webhook
from desk.context import RISK_ORDER
from desk.erasure import erase_in
from desk.models import audit, cases, ingested_events, messages, rasa_commands
from desk.summary import summarise

log = logging.getLogger("desk.ingest")
TYPES = {"handoff", "risk", "user", "bot", "left", "feedback", "case_limit", "erase"}
# Audit action of a case Rasa did not open: one client address opened too many on a channel.
CASE_LIMIT_ACTION = "new_case_limit"
FEEDBACK = ("helpful", "not_helpful", "skipped")


class BatchError(ValueError):
    pass


def _str(value: Any, name: str, where: str, max_len: int, optional: bool = False) -> Optional[str]:
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not optional and not value) or len(value) > max_len:
        raise BatchError(f"{where}: '{name}' must be a {'string or null' if optional else 'non-empty string'}"
                         f" of at most {max_len} characters")
    return value


def validate_batch(body: Any) -> List[Dict[str, Any]]:
    """The whole batch or nothing: an error names the event index and the field."""
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise BatchError("body must be a JSON object {\"events\": [...]}")
    if len(body["events"]) > 1000:
        raise BatchError("at most 1000 events per batch")
    clean = []
    for index, event in enumerate(body["events"]):
        where = f"events[{index}]"
        if not isinstance(event, dict):
            raise BatchError(f"{where}: must be an object")
        kind = event.get("type")
        if kind not in TYPES:
            raise BatchError(f"{where}: 'type' must be one of {', '.join(sorted(TYPES))}")
        timestamp = event.get("timestamp")
        if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)) or timestamp < 0:
            raise BatchError(f"{where}: 'timestamp' must be a number (Unix seconds)")
        item: Dict[str, Any] = {
            "id": _str(event.get("id"), "id", where, 200), "type": kind, "timestamp": float(timestamp),
            "conversation_id": _str(event.get("conversation_id"), "conversation_id", where, 255),
            "channel": _str(event.get("channel"), "channel", where, 64, optional=True),
        }
        if kind == "handoff":
            if event.get("status") not in ("queued", "active", "closed"):
                raise BatchError(f"{where}: 'status' must be queued, active or closed")
            item["status"] = event["status"]
        elif kind == "risk":
            if event.get("risk_level") not in RISK_ORDER:
                raise BatchError(f"{where}: 'risk_level' must be low, medium, high or critical")
            reasons = event.get("risk_reasons") or []
            if not isinstance(reasons, list) or not all(isinstance(r, str) and len(r) <= 100 for r in reasons):
                raise BatchError(f"{where}: 'risk_reasons' must be a list of strings")
            item.update(risk_level=event["risk_level"], risk_reasons=reasons[:20],
                        crisis_type=_str(event.get("crisis_type"), "crisis_type", where, 32, optional=True))
        elif kind == "user":
            item["text"] = _str(event.get("text"), "text", where, 20000)
        elif kind == "bot":
            if event.get("sender", "bot") not in ("bot", "counsellor", "system"):
                raise BatchError(f"{where}: 'sender' must be bot, counsellor or system")
            item.update(text=_str(event.get("text"), "text", where, 20000), sender=event.get("sender", "bot"),
                        author=_str(event.get("author"), "author", where, 40, optional=True),
                        message_id=_str(event.get("message_id"), "message_id", where, 64, optional=True))
        elif kind == "feedback":
            if event.get("value") not in FEEDBACK:
                raise BatchError(f"{where}: 'value' must be one of {', '.join(FEEDBACK)}")
            item["value"] = event["value"]
        clean.append(item)
    return clean


@dataclass
class IngestResult:
    opened: List[int] = field(default_factory=list)
    changed: Set[int] = field(default_factory=set)  # cases whose page must refresh
    duplicates: int = 0
    erased: bool = False  # an `erase` event was applied: the database file is to be compacted


def _open_case(conn: Connection, conversation_id: str) -> Optional[Dict[str, Any]]:
    row = conn.execute(select(cases).where(cases.c.conversation_id == conversation_id,
                                           cases.c.status != "closed")).mappings().first()
    return dict(row) if row else None


def _new_case(conn: Connection, event: Dict[str, Any], now: float, lang: str) -> int:
    fields: Dict[str, Any] = {"risk_level": event.get("risk_level", "low"), "risk_reasons": event.get("risk_reasons", []),
                              "crisis_type": event.get("crisis_type")}
    critical = fields["risk_level"] == "critical"
    case_id = conn.execute(insert(cases).values(
        conversation_id=event["conversation_id"], status="queued", channel=event["channel"], answers={},
        advice_given=[], created_at=event["timestamp"] if event["timestamp"] <= now else now,
        alert=critical, alert_at=event["timestamp"] if critical else None, user_left=False,
        context_status="pending", context_attempts=0, next_context_at=now,
        summary=summarise(fields, lang), **fields)).inserted_primary_key[0]
    return case_id


def _closing_case(conn: Connection, conversation_id: str) -> Optional[Dict[str, Any]]:
    """The conversation's latest case if it is closed and its close is not applied by Rasa yet."""
    row = conn.execute(select(cases).where(cases.c.conversation_id == conversation_id)
                       .order_by(cases.c.id.desc()).limit(1)).mappings().first()
    if row is None or row["status"] != "closed":
        return None
    waiting = conn.execute(select(rasa_commands.c.id).where(
        rasa_commands.c.case_id == row["id"], rasa_commands.c.type == "close",
        rasa_commands.c.delivered_at.is_(None))).first()
    return dict(row) if waiting else None


def _apply(conn: Connection, event: Dict[str, Any], now: float, lang: str, result: IngestResult,
           webhook_enabled: bool, legal_hold_codes: Iterable[str] = ()) -> None:
    conversation = event["conversation_id"]
    kind = event["type"]
    if kind == "erase":
        # The person asked, and Rasa has erased its side already (desk/erasure.py).
        erased = erase_in(conn, conversation, "person", legal_hold_codes, now=now)
        result.changed.update(erased.erased + erased.kept)
        result.erased = True
        return
    if kind == "case_limit":
        # No case: an alert for the supervisors (banner) and a line in the audit log.
        conn.execute(insert(audit).values(action=CASE_LIMIT_ACTION, conversation_id=conversation,
                                          detail=f"channel {event['channel'] or '?'}", created_at=now))
        log.warning("new-case limit reached on channel %s: no case opened", event["channel"])
        return
    case = _open_case(conn, conversation)
    if kind == "feedback":
        # Comes after the case is closed: it belongs to the conversation's latest case.
        target = case["id"] if case else conn.execute(
            select(cases.c.id).where(cases.c.conversation_id == conversation)
            .order_by(cases.c.created_at.desc(), cases.c.id.desc()).limit(1)).scalar()
        if target is not None:
            conn.execute(update(cases).where(cases.c.id == target).values(feedback=event["value"]))
            result.changed.add(target)
        return
    opens = (kind == "handoff" and event["status"] == "queued") or (kind == "risk" and event["risk_level"] == "critical")
    if case is None and kind in ("user", "bot"):
        # Closed at the desk, but Rasa has not applied the close yet: the bot is still quiet, so
        # what the person writes meanwhile goes to that case, never into a void.
        case = _closing_case(conn, conversation)
    if case is None:
        if opens:
            case_id = _new_case(conn, event, now, lang)
            if webhook_enabled:
                webhook.enqueue(conn, case_id, now)
            result.opened.append(case_id)
            result.changed.add(case_id)
            log.info("case %s opened from %s event", case_id, kind)
        return
    case_id = case["id"]
    if kind == "risk":
        values: Dict[str, Any] = {"risk_level": event["risk_level"], "risk_reasons": event["risk_reasons"],
                                  "crisis_type": event["crisis_type"] or case["crisis_type"]}
        if event["risk_level"] == "critical":
            values.update(alert=True, alert_at=event["timestamp"])
        merged = dict(case, **values)
        values["summary"] = summarise(merged, case["language"] or lang)
        conn.execute(update(cases).where(cases.c.id == case_id).values(**values))
    elif kind in ("user", "bot") and _already_stored(conn, case_id, event):
        return
    elif kind == "user":
        conn.execute(insert(messages).values(case_id=case_id, sender="user", text=event["text"],
                                             timestamp=event["timestamp"]))
        if case["user_left"]:  # they came back
            conn.execute(update(cases).where(cases.c.id == case_id).values(user_left=False))
    elif kind == "bot":
        if event.get("message_id") and conn.execute(select(messages.c.id).where(
                messages.c.case_id == case_id, messages.c.message_id == event["message_id"])).first():
            return  # the desk stored this counsellor message when it sent it
        conn.execute(insert(messages).values(case_id=case_id, sender=event["sender"], author=event.get("author"),
                                             text=event["text"], timestamp=event["timestamp"],
                                             message_id=event.get("message_id")))
    elif kind == "left":
        conn.execute(update(cases).where(cases.c.id == case_id).values(user_left=True, left_at=event["timestamp"]))
    elif kind == "handoff":
        return  # active/closed echo what the desk did; queued while open changes nothing
    result.changed.add(case_id)


def _already_stored(conn: Connection, case_id: int, event: Dict[str, Any]) -> bool:
    """Same text and timestamp as a transcript entry read from the tracker: the same message."""
    return conn.execute(select(messages.c.id).where(
        messages.c.case_id == case_id, messages.c.text == event["text"],
        messages.c.timestamp.between(event["timestamp"] - 0.001, event["timestamp"] + 0.001)).limit(1)).first() is not None


def apply_events(engine: Engine, events: List[Dict[str, Any]], lang: str = "fr", webhook_enabled: bool = False,
                 now: Optional[float] = None, legal_hold_codes: Iterable[str] = ()) -> IngestResult:
    """Each event in its own transaction with its id: a replayed id is skipped, even concurrently."""
    now = now or time.time()
    result = IngestResult()
    for event in events:
        for attempt in range(3):
            try:
                with engine.begin() as conn:
                    seen = conn.execute(select(ingested_events.c.event_id)
                                        .where(ingested_events.c.event_id == event["id"])).first()
                    if seen:
                        result.duplicates += 1
                        break
                    conn.execute(insert(ingested_events).values(event_id=event["id"], received_at=now))
                    _apply(conn, event, now, lang, result, webhook_enabled, legal_hold_codes)
                break
            except IntegrityError:
                # Another request took this event id, or opened the conversation's case first:
                # retry, and the next pass sees their row.
                if attempt == 2:
                    raise
    return result


def _close_enough(a: Dict[str, Any], b: Dict[str, Any]) -> bool:
    return a["sender"] == b["sender"] and a["text"] == b["text"] and abs(a["timestamp"] - b["timestamp"]) < 0.5


def apply_context(engine: Engine, case_id: int, context: Dict[str, Any], lang: str = "fr") -> None:
    """Merge what the tracker says into the case; messages already stored (from events or
    sent by the desk) are not added twice."""
    with engine.begin() as conn:
        case = conn.execute(select(cases).where(cases.c.id == case_id)).mappings().first()
        if case is None:
            return
        case = dict(case)
        values: Dict[str, Any] = {key: context[key] for key in
                                  ("language", "user_role", "age", "flow", "platform", "trigger_message", "answers",
                                   "advice_given") if context.get(key) not in (None, "", [], {})}
        if context.get("channel") and not case["channel"]:
            values["channel"] = context["channel"]
        # Events may be newer than the tracker read: never lower the risk they reported.
        if RISK_ORDER.get(context["risk_level"], 0) >= RISK_ORDER.get(case["risk_level"], 0):
            values["risk_level"] = context["risk_level"]
            if context.get("risk_reasons"):
                values["risk_reasons"] = context["risk_reasons"]
            if context.get("crisis_type"):
                values["crisis_type"] = context["crisis_type"]
        merged = dict(case, **values)
        values.update(summary=summarise(merged, lang), context_status="done", next_context_at=None)
        conn.execute(update(cases).where(cases.c.id == case_id).values(**values))

        stored = [dict(r) for r in conn.execute(select(messages.c.sender, messages.c.text, messages.c.timestamp,
                                                        messages.c.message_id).where(messages.c.case_id == case_id))
                  .mappings()]
        known_ids = {m["message_id"] for m in stored if m["message_id"]}
        for message in context.get("transcript", []):
            if message.get("message_id") and message["message_id"] in known_ids:
                continue
            if any(_close_enough(message, other) for other in stored):
                continue
            conn.execute(insert(messages).values(case_id=case_id, sender=message["sender"], author=message["author"],
                                                 text=message["text"], timestamp=message["timestamp"],
                                                 message_id=message["message_id"],
                                                 delivered=True if message["sender"] == "counsellor" else None))


def context_failed(engine: Engine, case_id: int, now: Optional[float] = None) -> float:
    """Back off 2 s, 4 s, 8 s... up to a minute. Returns the delay chosen."""
    now = now or time.time()
    with engine.begin() as conn:
        attempts = (conn.execute(select(cases.c.context_attempts).where(cases.c.id == case_id)).scalar() or 0) + 1
        delay = float(min(2 ** attempts, 60))
        conn.execute(update(cases).where(cases.c.id == case_id).values(context_attempts=attempts,
                                                                       next_context_at=now + delay))
    return delay


def cases_needing_context(engine: Engine, now: Optional[float] = None) -> List[Dict[str, Any]]:
    now = now or time.time()
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(cases.c.id, cases.c.conversation_id).where(
            cases.c.context_status == "pending", cases.c.status != "closed", cases.c.next_context_at <= now)).mappings()]
