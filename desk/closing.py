"""The counsellors' day ends with cases still queued: each person is told, once.

Run by the desk (a background job, every minute), because the desk knows which cases
still wait and sends to the person's channel like a counsellor's message. The message
(`utter_handoff_queue_closing` in content/responses/handoff.yml) says when counsellors
are back and which 24/7 numbers to call. Nothing else changes: the case stays queued
for the morning, the bot goes on answering meanwhile, and the conversation keeps its
slots across new sessions, so a person who comes back the next day finds it where it was.

A case opened after the closing was already told by `action_request_human`
(`utter_handoff_closed_hours`), so only cases created before the closing are told.
The clock is a parameter, so the tests choose the time.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any, Dict, List, Optional

from sqlalchemy import and_, delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.content_store import render
from bot.content_store.hours import Hours, describe_opening
from desk.cases import record
from desk.models import cases, queue_closing_notices
from desk.rasa_client import RasaClient, RasaUnavailable

log = logging.getLogger("desk.closing")

CLOSING_MESSAGE = "utter_handoff_queue_closing"
LOOK_BACK_DAYS = 15


def last_closing(hours: Hours, now: dt.datetime) -> Optional[dt.datetime]:
    """When the counsellors' latest opening range ended, if they are not on duty now."""
    if hours.is_open(now):
        return None
    local = now.astimezone(hours.zone)
    for offset in range(LOOK_BACK_DAYS):
        day = local.date() - dt.timedelta(days=offset)
        midnight = dt.datetime.combine(day, dt.time(0, 0), tzinfo=hours.zone)
        ends = [midnight + dt.timedelta(minutes=end) for _start, end in hours.ranges_on(day)]
        past = [end for end in ends if end <= local]
        if past:
            return max(past)
    return None


def cases_to_tell(engine: Engine, closing_at: float) -> List[Dict[str, Any]]:
    """Queued cases opened before this closing and not yet told of it."""
    told = and_(queue_closing_notices.c.case_id == cases.c.id, queue_closing_notices.c.closing_at == closing_at)
    with engine.connect() as conn:
        rows = conn.execute(select(cases.c.id, cases.c.conversation_id, cases.c.language, cases.c.user_role).where(
            cases.c.status == "queued", cases.c.created_at < closing_at,
            ~select(queue_closing_notices.c.case_id).where(told).exists())).mappings().all()
    return [dict(r) for r in rows]


def reserve(engine: Engine, case: Dict[str, Any], closing_at: float, now: float) -> bool:
    """Mark the case told for this closing; False if another run already did."""
    try:
        with engine.begin() as conn:
            conn.execute(insert(queue_closing_notices).values(case_id=case["id"], closing_at=closing_at, told_at=now))
            record(conn, None, "queue_closing_told", case["id"], case["conversation_id"], now=now)
        return True
    except IntegrityError:
        return False


def release(engine: Engine, case_id: int, closing_at: float) -> None:
    """Rasa did not take the message: the next run tries again."""
    with engine.begin() as conn:
        conn.execute(delete(queue_closing_notices).where(queue_closing_notices.c.case_id == case_id,
                                                         queue_closing_notices.c.closing_at == closing_at))


def closing_text(snapshot: Any, case: Dict[str, Any], hours: Hours, now: dt.datetime, default_language: str) -> str:
    language = case["language"] if case["language"] in ("fr", "en") else default_language
    slots = {"language": language, "user_role": case["user_role"],
             "next_opening": describe_opening(hours.next_opening(now), now, language)}
    message = render(snapshot, CLOSING_MESSAGE, slots)
    return (message or {}).get("text") or ""


async def tell_queued_cases_at_closing(engine: Engine, rasa: RasaClient, snapshot: Any, default_language: str = "fr",
                                       now: Optional[dt.datetime] = None) -> int:
    """Tell each case still queued since the latest closing; returns how many were told."""
    now = now or dt.datetime.now(dt.timezone.utc)
    hours = (getattr(snapshot, "settings", None) or {}).get("counsellor_hours")
    if snapshot is None or not isinstance(hours, Hours):
        return 0  # no valid content: nothing sensible to say about the hours
    closing = last_closing(hours, now)
    if closing is None:
        return 0
    closing_at = closing.timestamp()
    told = 0
    for case in cases_to_tell(engine, closing_at):
        text = closing_text(snapshot, case, hours, now, default_language)
        if not text or not reserve(engine, case, closing_at, time.time()):
            continue
        try:
            await rasa.tell_queue_closing(case["conversation_id"], text)
            told += 1
        except RasaUnavailable as exc:
            release(engine, case["id"], closing_at)
            log.warning("case %s: end of the day not told (%s), retried at the next run", case["id"], exc)
    if told:
        log.info("end of the day told to %s queued case(s)", told)
    return told
