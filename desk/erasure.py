"""Erasing one conversation from the desk (README, "Privacy"), whoever asked for it.

The desk's side: the conversation's cases, their transcripts, notes, webhook deliveries and
closing-time notices. The audit log keeps who asked, when, and that it happened, never any
text nor the conversation id (its rows about those cases lose their conversation id, as in the
retention purge). A case closed with an outcome after which the law requires a record
(`legal_hold: true` in content/desk/outcomes.yml: information préoccupante, signalement,
emergency services) is kept whole, and the person is told so by the assistant (the slot
`legal_hold` that the desk set when it closed the case chooses the message).

Three entry points, one function (`erase`):
- the person, in the conversation: Rasa erases its side, then sends an `erase` event
  (desk/ingest.py);
- a counsellor's button (desk/pages.py): `erase(..., tell_rasa=True)`, which queues an `erase`
  command for Rasa in the same transaction (desk/commands.py: retried until Rasa takes it);
- `make erase ID=...` (`python -m desk.manage erase`): the same, the command sent at once when
  Rasa answers; when Rasa is not running, its stores are also erased directly
  (`erase_rasa_side_offline`).
Deleted rows are overwritten (secure_delete) and the file compacted afterwards (`compact`).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.engine import Connection, Engine

from desk.commands import enqueue
from desk.models import audit, cases, messages, notes, queue_closing_notices, rasa_commands, webhook_outbox

log = logging.getLogger("desk.erasure")
SOURCES = ("person", "counsellor", "command")
ERASED = "erased"
KEPT = "erasure_kept"  # audit action: an erasure was asked, the case is kept as the law requires


@dataclass
class ErasureResult:
    erased: List[int] = field(default_factory=list)  # case ids deleted
    kept: List[int] = field(default_factory=list)  # case ids kept for the law

    @property
    def legal_hold(self) -> bool:
        return bool(self.kept)


def delete_cases(conn: Connection, ids: Iterable[int]) -> None:
    """Delete cases and everything attached to them; the audit keeps who did what and when,
    without what pointed at the conversation (shared with the retention purge)."""
    ids = list(ids)
    if not ids:
        return
    conn.execute(delete(messages).where(messages.c.case_id.in_(ids)))
    conn.execute(delete(notes).where(notes.c.case_id.in_(ids)))
    conn.execute(delete(webhook_outbox).where(webhook_outbox.c.case_id.in_(ids)))
    conn.execute(delete(queue_closing_notices).where(queue_closing_notices.c.case_id.in_(ids)))
    # The desk → Rasa commands' text goes (a counsellor's message not delivered yet is dropped:
    # marked done); their rows stay (tiny): the conversation's sequence numbers must keep
    # growing, or Rasa would take a later command for a retry of an old one.
    conn.execute(update(rasa_commands).where(rasa_commands.c.case_id.in_(ids)).values(
        payload={}, case_id=None, delivered_at=func.coalesce(rasa_commands.c.delivered_at, time.time())))
    conn.execute(update(audit).where(audit.c.case_id.in_(ids)).values(conversation_id=None, detail=None))
    conn.execute(delete(cases).where(cases.c.id.in_(ids)))


def erase_in(conn: Connection, conversation_id: str, source: str, legal_hold_codes: Iterable[str],
             user: Optional[Dict[str, Any]] = None, now: Optional[float] = None,
             tell_rasa: bool = False) -> ErasureResult:
    """The erasure inside the caller's transaction (the ingest applies it with its batch).
    `tell_rasa` (a counsellor's button, `make erase`): an `erase` command goes to Rasa through
    the command outbox, in this same transaction, so it is delivered whatever happens next;
    Rasa tells the person through their channel and erases its side (handoff/commands.py)."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}")
    now = now or time.time()
    held_codes = set(legal_hold_codes)
    result = ErasureResult()
    for row in conn.execute(select(cases.c.id, cases.c.status, cases.c.outcome)
                            .where(cases.c.conversation_id == conversation_id).order_by(cases.c.id)):
        if row.status == "closed" and row.outcome in held_codes:
            result.kept.append(row.id)
        else:
            result.erased.append(row.id)
    delete_cases(conn, result.erased)
    # Rows about the conversation without a case (a refused new case) lose the id as well.
    conn.execute(update(audit).where(audit.c.conversation_id == conversation_id, audit.c.case_id.is_(None))
                 .values(conversation_id=None))
    who = {"user_id": user["id"] if user else None, "username": user["username"] if user else None}
    for case_id in result.erased:
        conn.execute(audit.insert().values(action=ERASED, case_id=case_id, conversation_id=None,
                                           detail=f"by {source}", created_at=now, **who))
    for case_id in result.kept:
        # Once per kept case: Rasa's own `erase` event after a counsellor's erasure is no news.
        told = conn.execute(select(audit.c.id).where(and_(audit.c.case_id == case_id, audit.c.action == KEPT))).first()
        if told is None or result.erased:
            conn.execute(audit.insert().values(action=KEPT, case_id=case_id, conversation_id=None,
                                               detail=f"by {source}", created_at=now, **who))
    if tell_rasa:
        enqueue(conn, conversation_id, "erase", {"legal_hold": result.legal_hold}, None, now)
    return result


def erase(engine: Engine, conversation_id: str, source: str, legal_hold_codes: Iterable[str],
          user: Optional[Dict[str, Any]] = None, tell_rasa: bool = False) -> ErasureResult:
    with engine.begin() as conn:
        result = erase_in(conn, conversation_id, source, legal_hold_codes, user, tell_rasa=tell_rasa)
    compact(engine)
    log.info("erasure by %s: %d case(s) erased, %d kept for the law", source, len(result.erased), len(result.kept))
    return result


def compact(engine: Engine) -> bool:
    """Overwritten rows are zeros already (secure_delete); this also drops the free pages and
    empties the WAL, where the deleted text may still be (bot/sqlite_hygiene.py)."""
    from bot.sqlite_hygiene import compact_engine

    return compact_engine(engine)


def conversation_of_case(engine: Engine, case_id: int) -> Optional[str]:
    with engine.connect() as conn:
        return conn.execute(select(cases.c.conversation_id).where(cases.c.id == case_id)).scalar()


def erase_rasa_side_offline(conversation_id: str, tracker_db_url: str, handoff_db: Optional[str] = None) -> Dict[str, int]:
    """Rasa's side when Rasa is not running (`make erase`): the same function Rasa runs, on the
    configured stores (TRACKER_DB_URL, HANDOFF_DB). Rasa's memory (replay buffer, caches) is
    gone with the process; nothing is sent to the desk, which has just erased its side."""
    import asyncio

    from bot.rasa_addons.erasure import erase_conversation
    from bot.rasa_addons.handoff.registry import Registry, default_path

    return asyncio.run(erase_conversation(conversation_id, tracker_db_url=tracker_db_url,
                                          registry=Registry(handoff_db or default_path()), tell_desk=False))
