"""A crisis typed while a counsellor has the conversation (`active`).

(While the case is only `queued`, the bot is not quiet: the crisis net answers at once,
so there is nothing to wait for.)

The counsellor is alerted at once (the desk shows the risk event). If no counsellor
message reaches the user within the grace period (60 s by default), the emergency
answer is sent anyway, by Rasa itself, through the user's channel. This runs in the
Rasa process, so it also works when the desk is down.
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import Dict, Optional
from urllib.parse import quote

import aiohttp

from bot.rasa_addons.handoff.registry import Registry

logger = logging.getLogger(__name__)

CRISIS_ANSWER = "utter_crisis"


class CrisisWatchdog:
    def __init__(self, rasa_url: str, token: str, grace_seconds: float = 60.0) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        self.grace_seconds = grace_seconds
        self.registry: Optional[Registry] = None
        self._timers: Dict[str, asyncio.TimerHandle] = {}

    @classmethod
    def from_environment(cls) -> "CrisisWatchdog":
        port = os.environ.get("RASA_PORT", "5005")
        return cls(
            rasa_url=os.environ.get("RASA_URL") or f"http://127.0.0.1:{port}",
            token=os.environ.get("RASA_API_TOKEN", ""),
            grace_seconds=float(os.environ.get("HANDOFF_CRISIS_GRACE_SECONDS", "60")),
        )

    def attach(self, registry: Registry) -> None:
        self.registry = registry

    def crisis_during_handoff(self, conversation_id: str, at: float) -> None:
        """Called by the broker when risk becomes critical in a conversation with a person."""
        loop = asyncio.get_event_loop()
        if conversation_id in self._timers:
            return  # one pending emergency answer per conversation is enough
        logger.warning("Crisis during a handoff; emergency answer in %.0f s unless a counsellor answers", self.grace_seconds)
        self._timers[conversation_id] = loop.call_later(
            self.grace_seconds, lambda: loop.create_task(self._check(conversation_id, at))
        )

    async def _check(self, conversation_id: str, alert_at: float) -> None:
        self._timers.pop(conversation_id, None)
        registry = self.registry
        if registry is None or not registry.case_open(conversation_id):
            return  # closed meanwhile: the closing message gave the numbers
        # Still active, or handed back to the queue since: either way nobody answered the crisis.
        answered_at = registry.last_counsellor_at(conversation_id)
        if answered_at is not None and answered_at >= alert_at:
            return
        await self.send_emergency_answer(conversation_id)

    async def send_emergency_answer(self, conversation_id: str) -> bool:
        # Through the channel that owns the conversation, never Rasa's "latest".
        try:
            owner = self.registry.owner(conversation_id) if self.registry is not None else None
        except Exception:
            logger.exception("Could not read the conversation's owner; the answer is kept in the conversation")
            owner = None
        if owner is None:
            from bot.rasa_addons.channels.limits import owner_by_shape

            owner = owner_by_shape(conversation_id)
        url = (
            f"{self.rasa_url}/conversations/{quote(conversation_id, safe='')}/execute"
            f"?output_channel={quote(owner or '', safe='')}&token={quote(self.token, safe='')}"
        )
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
                async with session.post(url, json={"name": CRISIS_ANSWER}) as response:
                    if response.status == 200:
                        logger.warning("No counsellor answer to a crisis in time: emergency answer sent")
                        return True
                    logger.error("Emergency answer during a handoff failed: HTTP %d", response.status)
        except Exception as error:
            logger.error("Emergency answer during a handoff failed: %s", type(error).__name__)
        return False
