"""Rasa's event broker, pointed at the counsellor desk (set in endpoints.yml).

Rasa calls `publish` for every new tracker event of every conversation. This broker
keeps the handoff registry up to date, and forwards to the desk only what the desk
needs (docs/handoff.md): handoff and risk changes of any conversation, and the
messages of conversations with an open case (queued or active: the counsellor who
claims it reads what the bot said meanwhile). Everything else never leaves Rasa.

Events go through a durable outbox (SQLite) and are retried until the desk accepts
them, so a case opened while the desk is down reaches it when it is back. The
outbox never holds more than the desk would have received anyway.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
import weakref
from collections import OrderedDict
from typing import Any, Dict, Optional

import aiohttp
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_addons import erasure
from bot.rasa_addons.channels.limits import new_case_allowed, report_case_limit
from bot.rasa_addons.handoff.registry import Registry, shared_registry
from bot.rasa_addons.settings import retention

logger = logging.getLogger(__name__)

HANDOFF_SLOT = "handoff_status"
RISK_SLOTS = ("risk_level", "risk_reasons", "crisis_type")
FEEDBACK_SLOT = "feedback"
MAX_REMEMBERED = 5000  # conversations whose risk facts are kept in memory (least recent dropped)
# Answers that mean the batch itself is wrong: retrying cannot help.
NOT_RETRYABLE = {400, 413, 422}
# The brokers of this process, so that an erasure reaches their caches (bot/rasa_addons/erasure.py).
BROKERS: "weakref.WeakSet[DeskEventBroker]" = weakref.WeakSet()


class DeskEventBroker(EventBroker):
    def __init__(
        self,
        desk_url: str,
        token: str,
        registry: Optional[Registry] = None,
        retry_max_seconds: float = 30.0,
    ) -> None:
        self.desk_url = desk_url.rstrip("/")
        self.token = token
        self.registry = registry or shared_registry()
        self.retry_max_seconds = retry_max_seconds
        self._facts: "OrderedDict[str, Dict[str, Any]]" = OrderedDict()
        self._wake: Optional[asyncio.Event] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._sender: Optional[asyncio.Task] = None
        BROKERS.add(self)

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig, event_loop: Optional[asyncio.AbstractEventLoop] = None
    ) -> "DeskEventBroker":
        kwargs = broker_config.kwargs if broker_config else {}
        broker = cls(
            desk_url=os.environ.get("DESK_URL") or kwargs.get("desk_url") or "http://127.0.0.1:8081",
            token=os.environ.get("DESK_EVENTS_TOKEN", ""),
        )
        broker.start()
        return broker

    # ---- Rasa's side ----
    def start(self) -> None:
        self._loop = asyncio.get_event_loop()
        self._wake = asyncio.Event()
        self._sender = self._loop.create_task(self._send_forever())

    def is_ready(self) -> bool:
        return True

    async def close(self) -> None:
        if self._sender:
            self._sender.cancel()

    def forget(self, conversation_id: str) -> None:
        """An erasure: nothing about the conversation stays in memory here."""
        self._facts.pop(conversation_id, None)

    def wake(self) -> None:
        """Send what is queued now (an erasure queued its `erase` event)."""
        if self._wake is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def publish(self, event: Dict[str, Any]) -> None:
        try:
            outgoing = self.translate(event)
        except Exception:  # a broker bug must never break a conversation
            logger.exception("Could not read a tracker event for the desk")
            return
        if outgoing is None:
            return
        try:
            self.registry.enqueue(json.dumps(outgoing, ensure_ascii=False))
        except Exception:
            logger.exception("Could not queue a %s event for the desk", outgoing.get("type"))
            return
        if self._wake is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def translate(self, event: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """The desk event for this Rasa event, or None if the desk need not know.

        Also records in the registry a case the bot opened (`queued`), so that the
        conversation's messages are forwarded.
        """
        conversation_id = str(event.get("sender_id") or "")
        kind = event.get("event")
        if not conversation_id:
            return None
        if kind == "action" and event.get("name") == erasure.ERASE_ACTION:
            return None  # the erasure itself starts from the tracker store (any broker, or none)
        base = {
            "id": uuid.uuid4().hex,
            "conversation_id": conversation_id,
            "timestamp": float(event.get("timestamp") or time.time()),
            # The channel that owns the conversation (the desk sends its messages back through it).
            "channel": self._owner(conversation_id) or event.get("input_channel"),
        }
        if kind == "slot" and event.get("name") == HANDOFF_SLOT:
            status = event.get("value") or None
            if status == "queued" and not self.registry.case_open(conversation_id):
                if not new_case_allowed():
                    return self._case_limit(base)
                # The bot opened a case (its own decision): recorded so the desk gets the
                # conversation's messages. `active` and `closed` are the desk's, recorded when
                # its commands are applied (handoff/commands.py), never from a broker.
                self.registry.set_status(conversation_id, status)
            return dict(base, type="handoff", status=status) if status else None
        if kind == "slot" and event.get("name") in RISK_SLOTS:
            facts = self._remember(conversation_id, event["name"], event.get("value"))
            if event["name"] == "crisis_type":
                return None  # sent with the next risk change
            if (facts.get("risk_level") == "critical" and not self.registry.case_open(conversation_id)
                    and not new_case_allowed()):
                return self._case_limit(base)  # the desk would open a case on it
            # (The crisis watchdog is armed by the tracker store, whatever broker runs.)
            in_human_mode = self.registry.in_human_mode(conversation_id)
            return dict(
                base,
                type="risk",
                risk_level=facts.get("risk_level"),
                risk_reasons=list(facts.get("risk_reasons") or []),
                crisis_type=facts.get("crisis_type"),
                alert=bool(in_human_mode and facts.get("risk_level") == "critical"),
            )
        if kind == "slot" and event.get("name") == FEEDBACK_SLOT and event.get("value"):
            return dict(base, type="feedback", value=event.get("value"))
        if kind in ("user", "bot") and self.registry.case_open(conversation_id):
            if kind == "user":
                return dict(base, type="user", text=event.get("text") or "")
            metadata = event.get("metadata") or {}
            sender = metadata.get("sender") if metadata.get("sender") in ("counsellor", "system") else "bot"
            if sender == "counsellor":
                self.registry.counsellor_spoke(conversation_id, base["timestamp"])
            return dict(
                base,
                type="bot",
                text=event.get("text") or "",
                sender=sender,
                author=metadata.get("author"),
                message_id=metadata.get("message_id"),
            )
        if kind == "slot" and event.get("name") == "user_left" and event.get("value"):
            return dict(base, type="left")
        return None

    @staticmethod
    def _case_limit(base: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """The client's new-case cap refused this turn's case: the desk alerts the supervisors
        (once per turn; no text, no client address)."""
        if not report_case_limit():
            return None
        return dict(base, type="case_limit")

    def _owner(self, conversation_id: str) -> Optional[str]:
        try:
            return self.registry.owner(conversation_id)
        except Exception:
            logger.exception("Could not read the conversation's owner")
            return None

    def _remember(self, conversation_id: str, name: str, value: Any) -> Dict[str, Any]:
        facts = self._facts.pop(conversation_id, {})
        facts[name] = value
        self._facts[conversation_id] = facts
        while len(self._facts) > MAX_REMEMBERED:
            self._facts.popitem(last=False)
        return facts

    # ---- the desk's side ----
    async def _send_forever(self) -> None:
        delay = 0.5
        next_cleanup = 0.0
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                if time.monotonic() >= next_cleanup:
                    next_cleanup = time.monotonic() + retention().housekeeping_interval_seconds
                    try:  # retention by age, then the SQLite files compacted (off the event loop)
                        erasure.evict_replay_buffers()
                        await asyncio.get_running_loop().run_in_executor(None, erasure.housekeeping, self.registry)
                    except Exception:
                        logger.exception("Could not apply the retention in the Rasa process")
                try:
                    sent = await self._send_pending(session)
                except Exception as error:  # desk down, slow, or refusing: keep the events, retry
                    logger.warning("Desk not reachable (%s); %d event(s) kept, retry in %.1f s",
                                   type(error).__name__, self.registry.pending_count(), delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.retry_max_seconds)
                    continue
                delay = 0.5
                if not sent:
                    assert self._wake is not None
                    self._wake.clear()
                    try:
                        await asyncio.wait_for(self._wake.wait(), timeout=5)
                    except asyncio.TimeoutError:
                        pass

    async def _send_pending(self, session: aiohttp.ClientSession) -> int:
        rows = self.registry.pending()
        if not rows:
            return 0
        body = {"events": [json.loads(row[1]) for row in rows]}
        headers = {"Authorization": f"Bearer {self.token}"}
        async with session.post(f"{self.desk_url}/internal/events", json=body, headers=headers) as response:
            if response.status in NOT_RETRYABLE:
                logger.error("The desk refused %d event(s) as malformed (HTTP %d); dropped", len(rows), response.status)
            elif response.status >= 300:
                raise RuntimeError(f"HTTP {response.status}")
        self.registry.delivered(rows[-1][0])
        if any(f'"type": "{erasure.ERASE_EVENT}"' in row[1] for row in rows):
            # The desk has the erasure: the outbox row itself goes, from the file too.
            await asyncio.get_running_loop().run_in_executor(None, self.registry.compact)
        return len(rows)
