"""Retention: closed cases and the Rasa conversations behind them go after DESK_RETENTION_DAYS.

A case left queued or active without any activity for that long (abandoned: nobody will
come back to it) is closed (outcome `user_left`, audit `closed_abandoned`), and so goes a
retention period later like every closed case; until then supervisors can still see it.
Then the SQLite files are compacted, so that deleted text stays neither in their free pages
nor in their WAL."""
from __future__ import annotations

import logging
import time
from typing import Dict, List, Optional

from sqlalchemy import bindparam, delete, func, inspect, select, text, update
from sqlalchemy.engine import Connection, Engine

from desk.erasure import compact, delete_cases
from desk.models import (audit, cases, ingested_events, messages, notes, queue_closing_notices, rasa_commands,
                         webhook_outbox)

log = logging.getLogger("desk.purge")
ABANDONED_OUTCOME = "user_left"  # content/desk/outcomes.yml: "left or no answer"


def purge(engine: Engine, tracker_engine: Optional[Engine], retention_days: int,
          now: Optional[float] = None) -> Dict[str, int]:
    now = now or time.time()
    cutoff = now - retention_days * 86400
    with engine.begin() as conn:
        old = conn.execute(select(cases.c.id, cases.c.conversation_id).where(
            cases.c.status == "closed", cases.c.closed_at < cutoff)).all()
        abandoned = _abandoned(conn, cutoff)
        for chunk in _chunks(abandoned):
            conn.execute(update(cases).where(cases.c.id.in_(chunk), cases.c.status != "closed")
                         .values(status="closed", closed_at=now, outcome=ABANDONED_OUTCOME, alert=False))
            for case_id in chunk:  # who closed it: the retention (no user), never any text
                conn.execute(audit.insert().values(action="closed_abandoned", case_id=case_id, created_at=now))
        ids = [row.id for row in old]
        old_conversations = {row.conversation_id for row in old}
        for chunk in _chunks(ids):
            delete_cases(conn, chunk)
        conn.execute(delete(ingested_events).where(ingested_events.c.received_at < cutoff))
        conn.execute(delete(webhook_outbox).where(webhook_outbox.c.delivered_at < cutoff))
        kept = {row[0] for row in conn.execute(select(cases.c.conversation_id))}
    tracker_rows = 0
    if tracker_engine is not None:
        tracker_rows = purge_tracker(tracker_engine, (old_conversations - kept), kept, cutoff)
    compact(engine)
    if tracker_engine is not None:
        compact(tracker_engine)
    counts = {"cases": len(ids), "tracker_events": tracker_rows}
    log.info("purge: %s closed cases, %s tracker events deleted, %s abandoned cases closed", counts["cases"],
             counts["tracker_events"], len(abandoned))
    return counts


def _abandoned(conn: Connection, cutoff: float) -> List[int]:
    """Queued or active cases whose last sign of life (opened, claimed, alert, left, last
    message) is older than the cutoff: nobody will come back to them."""
    last_message = (select(messages.c.case_id, func.max(messages.c.timestamp).label("last"))
                    .group_by(messages.c.case_id).subquery())
    rows = conn.execute(select(cases.c.id, cases.c.created_at, cases.c.claimed_at,
                               cases.c.alert_at, cases.c.left_at, last_message.c.last)
                        .outerjoin(last_message, last_message.c.case_id == cases.c.id)
                        .where(cases.c.status != "closed")).all()
    return [row.id for row in rows
            if max(t for t in (row.created_at, row.claimed_at, row.alert_at, row.left_at, row.last) if t) < cutoff]


def purge_tracker(tracker_engine: Engine, conversations: set, protected: set, cutoff: float) -> int:
    """Rasa's SQLTrackerStore: table `events` (sender_id, timestamp)."""
    if not inspect(tracker_engine).has_table("events"):
        log.info("purge: no tracker table 'events' at TRACKER_DB_URL, skipped")
        return 0
    deleted = 0
    with tracker_engine.begin() as conn:
        stale = {row[0] for row in conn.execute(text(
            "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff"), {"cutoff": cutoff})}
        # A conversation with an open or recent case is kept, however old its last event.
        for chunk in _chunks(sorted((conversations | stale) - protected)):
            deleted += conn.execute(text("DELETE FROM events WHERE sender_id IN :ids")
                                    .bindparams(bindparam("ids", expanding=True)), {"ids": chunk}).rowcount
    return deleted


def _chunks(items: List, size: int = 500):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]
