"""A crisis typed while a counsellor has the conversation (`active`).

(While the case is only `queued`, the bot is not quiet: the crisis net answers at once,
so there is nothing to wait for.)

The counsellor is alerted at once (the desk shows the risk event). If no counsellor
message reaches the user within the grace period (HANDOFF_CRISIS_GRACE_SECONDS, 60 s),
the emergency answer is sent anyway, by Rasa itself, through the user's channel. This
runs in the Rasa process, so it also works when the desk is down.

The deadline is armed when the conversation is saved (the project's tracker store calls
`arm_after_a_crisis`), not by an event broker, so it works whatever broker is configured, or
none. It is stored in the handoff registry (not a timer in memory), so a Rasa restart
in the grace period loses nothing: a sweep at start-up and every second sends what is due.
Each deadline fires once: a sweep claims it atomically (a lease, so a process that died
mid-send lets the next one retry), and the answer is sent under the conversation's lock
after checking the tracker, so an answer already in the conversation is never sent again.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Optional

from bot.rasa_addons.handoff.registry import Registry, shared_registry

logger = logging.getLogger(__name__)

CRISIS_ANSWER = "utter_crisis"
# Messages after which a "critical" risk is a new crisis (deny: an unambiguous "not safe").
CRISIS_MESSAGE_INTENTS = ("crisis", "crisis_check", "deny")
SWEEP_SECONDS = 1.0
LEASE_SECONDS = 30.0  # a send that takes longer than this is taken for dead and retried
RETRY_SECONDS = 5.0


class CrisisWatchdog:
    def __init__(self, grace_seconds: Optional[float] = None, registry: Optional[Registry] = None) -> None:
        if grace_seconds is None:
            from bot.rasa_addons.settings import handoff_settings

            grace_seconds = handoff_settings().crisis_grace_seconds
        self.grace_seconds = grace_seconds
        self.registry = registry

    @classmethod
    def from_environment(cls) -> "CrisisWatchdog":
        return cls()

    def attach(self, registry: Registry) -> None:
        self.registry = registry

    def _registry(self) -> Registry:
        return self.registry or shared_registry()

    def crisis_during_handoff(self, conversation_id: str, at: float) -> None:
        """Risk became critical at `at` in a conversation with a person."""
        if self._registry().arm_deadline(conversation_id, at, at + self.grace_seconds):
            logger.warning("Crisis during a handoff; emergency answer in %.0f s unless a counsellor answers",
                           self.grace_seconds)

    async def sweep(self, app: Any, now: Optional[float] = None) -> int:
        """Send the emergency answers that are due; returns how many were sent."""
        registry = self._registry()
        now = time.time() if now is None else now
        sent = 0
        for conversation_id, alert_at in registry.due_deadlines(now):
            if not registry.claim_deadline(conversation_id, now, LEASE_SECONDS):
                continue  # another sweep has it
            try:
                if await self._fire(app, registry, conversation_id, alert_at):
                    sent += 1
                registry.deadline_done(conversation_id, time.time())
            except Exception as error:
                logger.error("Emergency answer during a handoff failed (%s); retried in %.0f s",
                             type(error).__name__, RETRY_SECONDS)
                registry.release_deadline(conversation_id, time.time() + RETRY_SECONDS)
        return sent

    async def _fire(self, app: Any, registry: Registry, conversation_id: str, alert_at: float) -> bool:
        from bot.rasa_addons.handoff.commands import output_channel, run_action

        agent = app.ctx.agent
        async with agent.lock_store.lock(conversation_id):
            if not registry.case_open(conversation_id):
                return False  # closed meanwhile: the closing message gave the numbers
            # Still active, or handed back to the queue since: either way nobody answered the crisis.
            answered_at = registry.last_counsellor_at(conversation_id)
            if answered_at is not None and answered_at >= alert_at:
                return False
            output = output_channel(app, conversation_id)
            tracker = await agent.processor.fetch_tracker_and_update_session(conversation_id, output)
            if answered_in_tracker(tracker, alert_at):
                return False  # sent before a restart, or answered by the bot itself (requeued)
            await run_action(app, tracker, output, CRISIS_ANSWER)
            await agent.processor.save_tracker(tracker)
        logger.warning("No counsellor answer to a crisis in time: emergency answer sent")
        return True

    async def run_forever(self, app: Any) -> None:
        """The sweep loop of the Rasa process (started by the desk commands channel)."""
        while True:
            try:
                await self.sweep(app)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Crisis deadline sweep failed")
            await asyncio.sleep(SWEEP_SECONDS)


def crisis_at(tracker: Any) -> Optional[float]:
    """When this turn's risk became critical after a crisis message, or None.

    Armed by a crisis message, not by any "critical" slot event: a new session or a restart
    carries the slot over, and that is no new crisis. Only the events since the person's
    latest message count; the same crisis read again at a later save has the same time."""
    from rasa.shared.core.events import Restarted, SessionStarted, SlotSet, UserUttered

    critical = None
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            intent = (event.intent or {}).get("name")
            return critical if intent in CRISIS_MESSAGE_INTENTS else None
        if isinstance(event, (Restarted, SessionStarted)):
            return None
        if isinstance(event, SlotSet) and event.key == "risk_level" and event.value == "critical":
            critical = event.timestamp
    return None


def arm_after_a_crisis(tracker: Any, registry: Optional[Registry] = None) -> None:
    """Called with each conversation saved: a crisis typed while a counsellor has the
    conversation arms its emergency answer (once per crisis, see Registry.arm_deadline)."""
    registry = registry or shared_registry()
    if not registry.in_human_mode(tracker.sender_id):
        return
    at = crisis_at(tracker)
    if at is not None:
        CrisisWatchdog(registry=registry).crisis_during_handoff(tracker.sender_id, at)


def answered_in_tracker(tracker: Any, alert_at: float) -> bool:
    """The emergency answer, or a counsellor's message, is in the conversation since the alert."""
    for event in reversed(tracker.events):
        timestamp = getattr(event, "timestamp", 0) or 0
        if timestamp < alert_at - 0.001:
            break
        if getattr(event, "action_name", None) == CRISIS_ANSWER:
            return True
        metadata = getattr(event, "metadata", None) or {}
        if type(event).__name__ == "BotUttered" and metadata.get("sender") == "counsellor":
            return True
    return False
