"""Optional outgoing webhook for new cases, signed, delivered from a DB outbox with backoff.

The partner learns that a case opened, its id, urgency, topic, language and time: enough to
triage and to fetch more through the API (with its token), nothing that identifies the person
or their conversation (no conversation id, age, role or summary). Each request carries
`X-Desk-Timestamp` (Unix seconds) and `X-Desk-Signature: sha256=HMAC-SHA256(secret,
"{timestamp}.{raw body}")`: the partner recomputes it, compares in constant time, and refuses a
timestamp more than 5 minutes away from its clock (so a captured request cannot be replayed).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any, Dict, List, Optional

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Engine

from desk.models import webhook_outbox

log = logging.getLogger("desk.webhook")
FIELDS = ("id", "risk_level", "flow", "language", "created_at")


def payload(case: Dict[str, Any]) -> Dict[str, Any]:
    """What a partner system learns of a new case: no conversation id, no personal detail, no text."""
    return {"event": "case_opened", "case": {field: case[field] for field in FIELDS}}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 of "{timestamp}.{body}": the time is signed with the body."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def enqueue(conn: Connection, case_id: int, now: float) -> None:
    """Written in the case-creation transaction; the body is filled at delivery time
    (by then the context, hence the summary, is usually known)."""
    conn.execute(insert(webhook_outbox).values(case_id=case_id, body="", attempts=0, next_attempt_at=now))


def due(engine: Engine, now: Optional[float] = None, limit: int = 20) -> List[Dict[str, Any]]:
    now = now or time.time()
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(webhook_outbox).where(
            webhook_outbox.c.delivered_at.is_(None), webhook_outbox.c.next_attempt_at <= now)
            .order_by(webhook_outbox.c.id).limit(limit)).mappings()]


def backoff(attempts: int) -> float:
    return float(min(5 * 2 ** max(0, attempts - 1), 3600))


def mark(engine: Engine, row_id: int, ok: bool, body: str, attempts: int, error: str = "") -> None:
    now = time.time()
    values: Dict[str, Any] = {"attempts": attempts, "body": body}
    if ok:
        values["delivered_at"] = now
    else:
        values.update(next_attempt_at=now + backoff(attempts), last_error=error[:200])
    with engine.begin() as conn:
        conn.execute(update(webhook_outbox).where(webhook_outbox.c.id == row_id).values(**values))


async def deliver_due(engine: Engine, url: str, secret: str, http: Any) -> int:
    """One pass over the outbox; returns how many were delivered."""
    from desk import cases as case_ops
    from desk.db import run

    delivered = 0
    for row in await run(due, engine):
        body = row["body"]
        if not body:
            case = await run(case_ops.get_case, engine, row["case_id"])
            if case is None:  # purged before delivery
                await run(mark, engine, row["id"], True, "{}", row["attempts"])
                continue
            body = json.dumps(payload(case), ensure_ascii=False, sort_keys=True)
        raw = body.encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Desk-Timestamp": timestamp,
                   "X-Desk-Signature": sign(secret, timestamp, raw)}
        try:
            async with http.post(url, data=raw, headers=headers) as response:
                ok = 200 <= response.status < 300
                error = "" if ok else f"HTTP {response.status}"
        except Exception as exc:  # unreachable, timeout: retried later
            ok, error = False, type(exc).__name__
        await run(mark, engine, row["id"], ok, body, row["attempts"] + 1, error)
        if ok:
            delivered += 1
        else:
            log.warning("webhook for case %s failed (%s), attempt %s", row["case_id"], error, row["attempts"] + 1)
    return delivered
