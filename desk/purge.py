"""Retention: closed cases and the Rasa conversations behind them go after DESK_RETENTION_DAYS."""
from __future__ import annotations

import logging
import time
from typing import Dict, List, Optional

from sqlalchemy import bindparam, delete, inspect, select, text, update
from sqlalchemy.engine import Engine

from desk.models import (audit, cases, ingested_events, messages, notes, queue_closing_notices, rasa_commands,
                         webhook_outbox)

log = logging.getLogger("desk.purge")


def purge(engine: Engine, tracker_engine: Optional[Engine], retention_days: int,
          now: Optional[float] = None) -> Dict[str, int]:
    now = now or time.time()
    cutoff = now - retention_days * 86400
    with engine.begin() as conn:
        old = conn.execute(select(cases.c.id, cases.c.conversation_id).where(
            cases.c.status == "closed", cases.c.closed_at < cutoff)).all()
        ids = [row.id for row in old]
        old_conversations = {row.conversation_id for row in old}
        for chunk in _chunks(ids):
            conn.execute(delete(messages).where(messages.c.case_id.in_(chunk)))
            conn.execute(delete(notes).where(notes.c.case_id.in_(chunk)))
            conn.execute(delete(webhook_outbox).where(webhook_outbox.c.case_id.in_(chunk)))
            conn.execute(delete(queue_closing_notices).where(queue_closing_notices.c.case_id.in_(chunk)))
            # The commands' text goes; their rows stay (tiny): the conversation's sequence numbers
            # must keep growing, or Rasa would take a later command for a retry of an old one.
            conn.execute(update(rasa_commands).where(rasa_commands.c.case_id.in_(chunk))
                         .values(payload={}, case_id=None))
            # Keep who did what and when; drop what pointed at the conversation.
            conn.execute(update(audit).where(audit.c.case_id.in_(chunk)).values(conversation_id=None, detail=None))
            conn.execute(delete(cases).where(cases.c.id.in_(chunk)))
        conn.execute(delete(ingested_events).where(ingested_events.c.received_at < cutoff))
        conn.execute(delete(webhook_outbox).where(webhook_outbox.c.delivered_at < cutoff))
        kept = {row[0] for row in conn.execute(select(cases.c.conversation_id))}
    tracker_rows = 0
    if tracker_engine is not None:
        tracker_rows = purge_tracker(tracker_engine, (old_conversations - kept), kept, cutoff)
    counts = {"cases": len(ids), "tracker_events": tracker_rows}
    log.info("purge: %s closed cases, %s tracker events deleted", counts["cases"], counts["tracker_events"])
    return counts


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
