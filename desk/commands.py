"""Desk -> Rasa commands: a durable outbox, delivered in order per conversation (docs/handoff.md).

The desk owns a case's state. Each change that Rasa must know (claim, counsellor message,
transfer, back to the queue, close, a notice) is a row of `desk_rasa_commands`, written in
the same transaction as the case change, with the conversation's next sequence number. A
worker delivers each conversation's commands one at a time, in order, to Rasa's commands
channel (`RasaClient.command`), retrying with a growing delay until Rasa applies them;
Rasa records each command's id, so a retry whose first answer was lost changes nothing.
A command Rasa refuses as malformed (4xx) is set aside (logged, `last_error`), so it
cannot hold the conversation's later commands back forever.

The request that made the change asks for an immediate delivery (`flush`) to answer the
counsellor "delivered" or "not yet"; either way nothing is lost.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
import weakref
from typing import Any, Dict, List, Optional

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from desk.db import run
from desk.models import cases, messages, rasa_commands
from desk.rasa_client import CommandRefused, RasaClient, RasaUnavailable

log = logging.getLogger("desk.commands")

FIRST_RETRY_SECONDS = 0.5


def enqueue(conn: Connection, conversation_id: str, kind: str, payload: Dict[str, Any],
            case_id: Optional[int] = None, now: Optional[float] = None) -> str:
    """Add a command in the caller's transaction; returns its id."""
    now = now or time.time()
    if case_id is not None:
        # Serialises concurrent changes of the same case (PostgreSQL row lock), so that two
        # transactions never pick the same sequence number.
        conn.execute(select(cases.c.id).where(cases.c.id == case_id).with_for_update())
    seq = (conn.execute(select(func.max(rasa_commands.c.seq)).where(
        rasa_commands.c.conversation_id == conversation_id)).scalar() or 0) + 1
    command_id = uuid.uuid4().hex
    conn.execute(insert(rasa_commands).values(
        id=command_id, conversation_id=conversation_id, seq=seq, type=kind, payload=payload, case_id=case_id,
        created_at=now, delivered_at=None, attempts=0, next_try_at=now))
    return command_id


def pending_conversations(engine: Engine, now: Optional[float] = None, limit: int = 200) -> List[str]:
    """Conversations whose next command is due."""
    now = now or time.time()
    with engine.connect() as conn:
        return list(conn.execute(select(rasa_commands.c.conversation_id).where(
            rasa_commands.c.delivered_at.is_(None), rasa_commands.c.next_try_at <= now)
            .group_by(rasa_commands.c.conversation_id).limit(limit)).scalars())


def head(engine: Engine, conversation_id: str) -> Optional[Dict[str, Any]]:
    """The conversation's oldest command not delivered yet (only it may be sent)."""
    with engine.connect() as conn:
        row = conn.execute(select(rasa_commands).where(
            rasa_commands.c.conversation_id == conversation_id, rasa_commands.c.delivered_at.is_(None))
            .order_by(rasa_commands.c.seq).limit(1)).mappings().first()
    return dict(row) if row else None


def has_pending(engine: Engine, conversation_id: str) -> bool:
    return head(engine, conversation_id) is not None


def delivered(engine: Engine, command: Dict[str, Any], now: float, error: Optional[str] = None) -> None:
    with engine.begin() as conn:
        conn.execute(update(rasa_commands).where(rasa_commands.c.id == command["id"]).values(
            delivered_at=now, attempts=command["attempts"] + 1, last_error=error))
        row = command["payload"].get("_message_row")
        if command["type"] == "message" and row is not None and error is None:
            conn.execute(update(messages).where(messages.c.id == row).values(delivered=True))
            # The young person got an answer from a person: the crisis alert is handled.
            conn.execute(update(cases).where(cases.c.id == command["case_id"]).values(alert=False))


def failed(engine: Engine, command: Dict[str, Any], now: float, error: str, max_delay: float) -> float:
    attempts = command["attempts"] + 1
    delay = min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), max_delay)
    with engine.begin() as conn:
        conn.execute(update(rasa_commands).where(rasa_commands.c.id == command["id"]).values(
            attempts=attempts, next_try_at=now + delay, last_error=error[:64]))
    return delay


def wire(command: Dict[str, Any]) -> Dict[str, Any]:
    """What Rasa receives (the desk's own bookkeeping, keys starting with "_", stays here)."""
    return {"id": command["id"], "conversation_id": command["conversation_id"], "seq": command["seq"],
            "type": command["type"], "payload": {k: v for k, v in command["payload"].items() if not k.startswith("_")}}


class Outbox:
    """Delivery, one conversation at a time (a lock per conversation in this process: the
    desk runs one worker process)."""

    def __init__(self, engine: Engine, rasa: RasaClient, max_delay: float = 30.0,
                 on_delivered: Optional[Any] = None) -> None:
        self.engine = engine
        self.rasa = rasa
        self.max_delay = max_delay
        self.on_delivered = on_delivered  # called with each delivered command (pages refresh)
        # Held while a conversation is being delivered; forgotten when nobody holds it.
        self._locks: "weakref.WeakValueDictionary[str, asyncio.Lock]" = weakref.WeakValueDictionary()

    async def flush(self, conversation_id: str, until: Optional[str] = None) -> bool:
        """Deliver the conversation's due commands in order; True when `until` (or all) went."""
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        async with lock:
            while True:
                command = await run(head, self.engine, conversation_id)
                if command is None:
                    return True
                if command["next_try_at"] > time.time() and command["attempts"]:
                    return False  # backing off: the worker retries when due
                if not await self._deliver(command):
                    return False
                if until is not None and command["id"] == until:
                    return True

    async def _deliver(self, command: Dict[str, Any]) -> bool:
        now = time.time()
        try:
            await self.rasa.command(wire(command))
        except CommandRefused as exc:
            log.error("Rasa refused command %s (%s) of case %s as malformed (%s): set aside",
                      command["seq"], command["type"], command["case_id"], exc)
            await run(delivered, self.engine, command, now, f"refused {exc}")
            return True
        except RasaUnavailable as exc:
            delay = await run(failed, self.engine, command, now, str(exc), self.max_delay)
            log.warning("command %s (%s) of case %s not delivered (%s), retry in %.1f s", command["seq"],
                        command["type"], command["case_id"], exc, delay)
            return False
        await run(delivered, self.engine, command, now)
        if self.on_delivered is not None:
            self.on_delivered(command)
        return True

    async def deliver_due(self) -> None:
        """One pass of the worker (every half second)."""
        conversations = await run(pending_conversations, self.engine)
        if conversations:
            await asyncio.gather(*(self.flush(conversation) for conversation in conversations))


class QueueClosingNotices:
    """What desk/closing.py tells a person whose case is still queued at closing time: a
    `notice` command, durable once written (so the closing job never tells twice)."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def tell_queue_closing(self, conversation_id: str, text: str) -> None:
        def add() -> str:
            with self.outbox.engine.begin() as conn:
                return enqueue(conn, conversation_id, "notice", {"text": text})

        await self.outbox.flush(conversation_id, until=await run(add))
