"""Reconciliation: what Rasa holds for a case must be what the desk decided (docs/handoff.md).

The outbox delivers every change, in order, until Rasa applies it; still, Rasa's copy can
drift (a command Rasa refused and the desk set aside, a registry restored from an old
backup, an operator's edit). A job (every DESK_RECONCILE_SECONDS, 60) asks Rasa, through
the commands channel's status query, what it holds for each open case and each case closed
in the last day, and when it differs, sends the desk's current state again as a command
(claim with the counsellor's name, requeue, or close).

A comparison only counts if nothing moved meanwhile: no command of the conversation is
waiting, none was delivered after the status query started, and the case still has the
status that was compared (checked again in the transaction that adds the command).
"""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Optional

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine

from desk.cases import record
from desk.commands import enqueue
from desk.db import run
from desk.models import cases, rasa_commands, users
from desk.rasa_client import RasaClient, RasaUnavailable

log = logging.getLogger("desk.reconcile")
RECENTLY_CLOSED_SECONDS = 86400


def cases_to_compare(engine: Engine, now: Optional[float] = None) -> List[Dict[str, Any]]:
    now = now or time.time()
    with engine.connect() as conn:
        rows = conn.execute(select(cases.c.id, cases.c.conversation_id, cases.c.status, cases.c.assigned_to).where(
            or_(cases.c.status.in_(("queued", "active")), cases.c.closed_at >= now - RECENTLY_CLOSED_SECONDS))
            .order_by(cases.c.id)).mappings()
        # Only each conversation's latest case speaks for it (an older one was closed before it).
        latest = {row["conversation_id"]: dict(row) for row in rows}
    return list(latest.values())


def agrees(desk_status: str, rasa_status: Optional[str]) -> bool:
    if desk_status == "closed":
        # Rasa forgets closed handoffs after the retention period (None); "queued" is the bot's
        # own new request, whose case the desk opens when its event arrives: never closed here.
        return rasa_status in (None, "closed", "queued")
    return desk_status == rasa_status


def counsellor_name(conn: Any, case: Dict[str, Any]) -> str:
    """The name the person was told: the assignee's, or the one the last claim carried (API)."""
    if case["assigned_to"] is not None:
        name = conn.execute(select(users.c.first_name).where(users.c.id == case["assigned_to"])).scalar()
        if name:
            return name
    payload = conn.execute(select(rasa_commands.c.payload).where(
        rasa_commands.c.case_id == case["id"], rasa_commands.c.type.in_(("claim", "transfer")))
        .order_by(rasa_commands.c.seq.desc()).limit(1)).scalar()
    return (payload or {}).get("counsellor_name") or "3018"


def resend(engine: Engine, case: Dict[str, Any], asked_at: float) -> bool:
    """Add the command that brings Rasa back to the desk's state, if nothing moved meanwhile."""
    with engine.begin() as conn:
        status = conn.execute(select(cases.c.status).where(cases.c.id == case["id"]).with_for_update()).scalar()
        moved = conn.execute(select(func.count()).select_from(rasa_commands).where(
            rasa_commands.c.conversation_id == case["conversation_id"],
            or_(rasa_commands.c.delivered_at.is_(None), rasa_commands.c.delivered_at >= asked_at))).scalar()
        if status != case["status"] or moved:
            return False
        if status == "active":
            enqueue(conn, case["conversation_id"], "claim", {"counsellor_name": counsellor_name(conn, case)}, case["id"])
        elif status == "queued":
            enqueue(conn, case["conversation_id"], "requeue", {}, case["id"])
        else:
            enqueue(conn, case["conversation_id"], "close", {}, case["id"])
        record(conn, None, "reconciled", case["id"], case["conversation_id"], detail=status)
    return True


async def reconcile(engine: Engine, rasa: RasaClient) -> int:
    """One run; returns how many cases were sent again. Stops at the first unreachable Rasa."""
    sent = 0
    for case in await run(cases_to_compare, engine):
        asked_at = time.time()
        try:
            held = await rasa.status(case["conversation_id"])
        except RasaUnavailable as exc:
            log.info("reconciliation postponed: Rasa not reachable (%s)", exc)
            return sent
        if agrees(case["status"], held.get("status")):
            continue
        if await run(resend, engine, case, asked_at):
            sent += 1
            log.warning("case %s: Rasa held %s, the desk %s: sent again", case["id"], held.get("status"),
                        case["status"])
    return sent
