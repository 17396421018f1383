"""Erasing one conversation from everything the Rasa process holds (README, "Privacy").

`erase_conversation` removes, for one conversation id: its tracker store rows, its rows in
the handoff registry (status, owner), its events still waiting in the outbox for the desk,
the socket.io replay buffer's copies of the messages sent to it, the messaging channels' way
back to the platform's user id, and the broker's and the registry's in-memory caches; then it compacts the SQLite files (bot/sqlite_hygiene.py), so
that no byte of the text is left in a file or its WAL.

Who starts it:
- the person, in the conversation: after they confirm, the rules send `utter_erase_done`
  (bot/data/rules/privacy.yml); the tracker store, saving that turn, calls `schedule`
  (any event broker, or none), which erases once the turn has been saved (it waits for the
  conversation's lock) and tells the desk through the outbox (an `erase` event,
  docs/handoff.md), so the desk erases its side;
- the desk (a counsellor's button, `make erase` while Rasa runs): an `erase` command through
  the desk's command outbox (handoff/commands.py): the bot says so through the conversation's
  own channel, then `schedule` erases the same way;
- `make erase ID=...` with Rasa stopped: `erase_conversation(..., tracker_db_url=...,
  registry=...)` against the configured stores (desk/erasure.py, `erase_rasa_side_offline`).

No message text is ever logged: only counts.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any, Dict, Optional, Set

logger = logging.getLogger(__name__)

# The bot's answer to a confirmed erasure: once it is sent, the conversation is erased.
ERASE_ACTION = "utter_erase_done"
ERASE_EVENT = "erase"

_app: Any = None  # the Rasa server's sanic app (for its agent: tracker store and lock store)
_tasks: Set["asyncio.Task[Any]"] = set()


def attach_app(app: Any) -> None:
    """Called when Rasa's server starts (bot/rasa_addons/exposure.py): the agent can change
    when a model is loaded, so it is read from the app each time."""
    global _app
    _app = app


def _agent() -> Any:
    return getattr(getattr(_app, "ctx", None), "agent", None)


def confirmed_this_turn(tracker: Any) -> bool:
    """The bot answered the person's confirmed request (utter_erase_done) after their latest
    message: the tracker store starts the erasure when it saves that turn, whatever event
    broker is configured. A desk `erase` command runs the same action, so it starts the same way."""
    from bot.rasa_addons.policies.conversation import actions_this_turn

    return ERASE_ACTION in actions_this_turn(tracker)


def schedule(conversation_id: str) -> None:
    """Erase after the current turn (the broker calls this while the turn is being saved;
    the erasure takes the conversation's lock, so it runs once the turn has released it)."""
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        logger.error("No event loop to erase a conversation on")
        return
    task = loop.create_task(_erase_logged(conversation_id))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _erase_logged(conversation_id: str) -> None:
    try:
        await erase_conversation(conversation_id)
    except Exception:
        logger.exception("Could not erase a conversation")


async def erase_conversation(
    conversation_id: str,
    *,
    tracker_store: Any = None,
    tracker_engine: Any = None,
    tracker_db_url: Optional[str] = None,
    registry: Any = None,
    lock_store: Any = None,
    tell_desk: bool = True,
) -> Dict[str, int]:
    """Erase the conversation from the tracker store, the handoff registry and its outbox,
    the replay buffers and the caches; compact the SQLite files; and, with `tell_desk`,
    queue an `erase` event so the desk erases its side (case, transcript, notes).

    Inside Rasa the stores come from the running agent; a script passes the tracker store's
    database (`tracker_db_url`, or an engine on it: `tracker_engine`) and `registry` instead.
    Returns counts (never any text)."""
    from bot.rasa_addons.handoff.registry import shared_registry

    if tracker_db_url and tracker_engine is None:
        engine = _engine_for(tracker_db_url)
        try:
            return await erase_conversation(conversation_id, tracker_engine=engine, registry=registry,
                                            lock_store=lock_store, tell_desk=tell_desk)
        finally:
            engine.dispose()

    agent = _agent()
    if tracker_store is None and tracker_engine is None and agent is not None:
        tracker_store = agent.tracker_store
    if lock_store is None and agent is not None:
        lock_store = agent.lock_store
    registry = registry if registry is not None else shared_registry()
    if lock_store is not None:
        # The turn that asked for the erasure (or a desk call) holds this lock until its tracker
        # is saved: erasing before that would leave the turn's own events behind.
        async with lock_store.lock(conversation_id):
            counts = await _erase(conversation_id, tracker_store, tracker_engine, registry, tell_desk)
    else:
        counts = await _erase(conversation_id, tracker_store, tracker_engine, registry, tell_desk)
    logger.info("conversation erased: %s tracker events, %s outbox events, %s replayable messages",
                counts["tracker_events"], counts["outbox_events"], counts["replay_messages"])
    return counts


async def _erase(conversation_id: str, tracker_store: Any, tracker_engine: Any, registry: Any,
                 tell_desk: bool) -> Dict[str, int]:
    loop = asyncio.get_running_loop()
    engine = tracker_engine if tracker_engine is not None else _sql_engine(tracker_store)
    tracker_events = 0
    if engine is not None:
        tracker_events = await loop.run_in_executor(None, _delete_tracker_rows, engine, conversation_id)
    elif tracker_store is not None:
        tracker_events = _erase_other_store(tracker_store, conversation_id)
    outbox_events = await loop.run_in_executor(None, registry.erase, conversation_id)
    replay_messages = _erase_replay_buffers(conversation_id)
    _forget_recipients(conversation_id)
    _forget_in_brokers(conversation_id)
    if tell_desk:
        # Only the id: the desk erases its side (desk/erasure.py). The row goes once delivered,
        # and the broker compacts the outbox's file after it (handoff/broker.py).
        registry.enqueue(json.dumps({"id": uuid.uuid4().hex, "conversation_id": conversation_id,
                                     "type": ERASE_EVENT, "timestamp": time.time(), "channel": None}))
        _wake_brokers()
    if engine is not None:
        from bot.sqlite_hygiene import compact_engine

        await loop.run_in_executor(None, compact_engine, engine)
    await loop.run_in_executor(None, registry.compact)
    return {"tracker_events": tracker_events, "outbox_events": outbox_events, "replay_messages": replay_messages}


def _engine_for(url: str) -> Any:
    """The tracker store's database as a script sees it: parameters hidden (they would be the
    conversation's text), deleted rows overwritten."""
    import sqlalchemy as sa

    from bot.sqlite_hygiene import secure_delete_on_connect

    engine = sa.create_engine(url, future=True, hide_parameters=True)
    secure_delete_on_connect(engine)
    return engine


def _unwrap(tracker_store: Any) -> Any:
    """Rasa wraps the configured store (AwaitableTrackerStore, FailSafeTrackerStore)."""
    seen = 0
    while tracker_store is not None and hasattr(tracker_store, "_tracker_store") and seen < 5:
        tracker_store = tracker_store._tracker_store
        seen += 1
    return tracker_store


def _sql_engine(tracker_store: Any) -> Any:
    store = _unwrap(tracker_store)
    engine = getattr(store, "engine", None)
    return engine if engine is not None and hasattr(engine, "url") else None


def _delete_tracker_rows(engine: Any, conversation_id: str) -> int:
    """Rasa's SQLTrackerStore: table `events` (sender_id)."""
    from sqlalchemy import inspect, text

    if not inspect(engine).has_table("events"):
        return 0
    with engine.begin() as conn:
        return conn.execute(text("DELETE FROM events WHERE sender_id = :id"), {"id": conversation_id}).rowcount


def _erase_other_store(tracker_store: Any, conversation_id: str) -> int:
    store = _unwrap(tracker_store)
    kept = getattr(store, "store", None)  # InMemoryTrackerStore (tests, development)
    if isinstance(kept, dict):
        return 1 if kept.pop(conversation_id, None) is not None else 0
    logger.error("Tracker store %s cannot be erased here: erase the conversation there by hand",
                 type(store).__name__)
    return 0


def _erase_replay_buffers(conversation_id: str) -> int:
    from bot.rasa_addons.channels.socketio import REPLAY_BUFFERS

    return sum(buffer.erase(conversation_id) for buffer in list(REPLAY_BUFFERS))


def _forget_recipients(conversation_id: str) -> None:
    """The messaging channels' way back to the platform's user id (a phone number, say)."""
    from bot.rasa_addons.channels.messaging import RECIPIENT_BOOKS

    for book in list(RECIPIENT_BOOKS):
        book.forget(conversation_id)


def _forget_in_brokers(conversation_id: str) -> None:
    from bot.rasa_addons.handoff.broker import BROKERS

    for broker in list(BROKERS):
        broker.forget(conversation_id)


def _wake_brokers() -> None:
    from bot.rasa_addons.handoff.broker import BROKERS

    for broker in list(BROKERS):
        broker.wake()


def evict_replay_buffers() -> int:
    """Replayable messages past REPLAY_MAX_AGE_HOURS go. On the event loop: the channel changes
    the buffers there (the broker calls this with `housekeeping`)."""
    from bot.rasa_addons.channels.socketio import REPLAY_BUFFERS

    return sum(buffer.evict_old() for buffer in list(REPLAY_BUFFERS))


def housekeeping(registry: Any, tracker_engine: Any = None) -> Dict[str, int]:
    """The Rasa process's periodic retention, blocking (the broker runs it off the event loop
    every HOUSEKEEPING_INTERVAL_SECONDS): closed and abandoned handoffs and outbox events past
    their age go, then the SQLite files are compacted."""
    from bot.rasa_addons.settings import retention

    limits = retention()
    keep = limits.retention_days * 86400.0
    counts = {
        "closed": registry.forget_closed(keep),
        "abandoned": registry.forget_abandoned(keep),
        "outbox_events": registry.purge_outbox(limits.outbox_max_age_hours * 3600.0),
    }
    registry.compact()
    engine = tracker_engine if tracker_engine is not None else _sql_engine(getattr(_agent(), "tracker_store", None))
    if engine is not None:
        from bot.sqlite_hygiene import compact_engine

        compact_engine(engine)
    if counts["outbox_events"]:
        logger.warning("%d event(s) for the desk dropped after OUTBOX_MAX_AGE_HOURS", counts["outbox_events"])
    return counts
