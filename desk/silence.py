"""A claimed case whose counsellor has gone silent goes back to the queue (docs/handoff.md).

While a counsellor has the conversation the bot is quiet, so a counsellor who vanished
(a closed laptop, an emergency call) would leave the young person writing into a void.
A job (every 5 s) finds each `active` case where the person has been waiting for a
counsellor's word for DESK_COUNSELLOR_SILENCE_SECONDS (5 minutes): since the claim if the
counsellor has not written since, else since the person's first message after the
counsellor's last one. In one transaction: the supervisors are alerted (audit
`counsellor_silent`, the banner on their pages), the case goes back to the queue, and a
`requeue` command carries the notice that tells the person (content/desk/notices.yml);
the bot then answers again, with the queue line, until someone claims the case.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Optional

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from desk.cases import record
from desk.commands import enqueue
from desk.models import audit, cases, messages, users

log = logging.getLogger("desk.silence")
ALERT_ACTION = "counsellor_silent"
NOTICE = "counsellor_away"


def waiting_since(engine: Engine, case: Dict[str, Any]) -> Optional[float]:
    """Since when the person has been waiting for the counsellor, or None if they are not."""
    with engine.connect() as conn:
        last_said = conn.execute(select(func.max(messages.c.timestamp)).where(
            messages.c.case_id == case["id"], messages.c.sender == "counsellor",
            messages.c.timestamp >= case["claimed_at"])).scalar()
        if last_said is None:
            return case["claimed_at"]
        return conn.execute(select(func.min(messages.c.timestamp)).where(
            messages.c.case_id == case["id"], messages.c.sender == "user",
            messages.c.timestamp > last_said)).scalar()


def silent_cases(engine: Engine, silence_seconds: float, now: Optional[float] = None) -> List[Dict[str, Any]]:
    now = now or time.time()
    with engine.connect() as conn:
        active = [dict(r) for r in conn.execute(select(
            cases.c.id, cases.c.conversation_id, cases.c.claimed_at, cases.c.assigned_to, cases.c.language,
            cases.c.user_role).where(cases.c.status == "active", cases.c.claimed_at.isnot(None))).mappings()]
    found = []
    for case in active:
        since = waiting_since(engine, case)
        if since is not None and now - since >= silence_seconds:
            found.append(case)
    return found


def requeue_silent(engine: Engine, case: Dict[str, Any], notice: str, now: Optional[float] = None) -> bool:
    """Back to the queue, the supervisors alerted, the person told; False if the case changed meanwhile."""
    now = now or time.time()
    with engine.begin() as conn:
        done = conn.execute(update(cases).where(
            cases.c.id == case["id"], cases.c.status == "active", cases.c.claimed_at == case["claimed_at"])
            .values(status="queued", assigned_to=None, claimed_at=None)).rowcount
        if not done:
            return False
        username = conn.execute(select(users.c.username).where(users.c.id == case["assigned_to"])).scalar() \
            if case["assigned_to"] is not None else None
        enqueue(conn, case["conversation_id"], "requeue", {"notice": notice} if notice else {}, case["id"], now)
        record(conn, None, ALERT_ACTION, case["id"], case["conversation_id"], detail=username, now=now)
    log.warning("case %s: the counsellor said nothing for too long; back to the queue, supervisors alerted", case["id"])
    return True


def check(engine: Engine, content: Any, silence_seconds: float) -> List[int]:
    """One run of the job; returns the cases sent back to the queue."""
    requeued = []
    for case in silent_cases(engine, silence_seconds):
        if requeue_silent(engine, case, content.notice(NOTICE, case["language"], case["user_role"])):
            requeued.append(case["id"])
    return requeued


def recent_alerts(engine: Engine, seconds: float = 3600, now: Optional[float] = None) -> int:
    """Cases handed back in the last hour because their counsellor went silent (the supervisors' banner)."""
    since = (now or time.time()) - seconds
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(audit).where(
            audit.c.action == ALERT_ACTION, audit.c.created_at >= since)).scalar() or 0
