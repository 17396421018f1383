"""The desk's commands, applied to a conversation inside the Rasa process (docs/handoff.md).

The desk owns a case's state; what Rasa holds (the `handoff_status` slot, the registry's
status that the policies read) is a projection of the commands applied here. Each command
is applied under the conversation's lock (Rasa's lock store, the one a user turn takes), and
its id and sequence number are recorded in the handoff registry after the tracker is saved:
a retry of a command already applied (the desk never got the answer) changes nothing and
sends nothing. The desk delivers one command at a time per conversation, in order, so a
sequence number at or below the last applied one is such a retry.

Commands are a small registry, type -> handler; a handler says what the command does to
the conversation (`Plan`), and `apply` does it. Erasure (`erase`) is registered by its own
module, imported by the commands channel at start-up:

    async def _erase(payload, app, conversation_id):    # runs under the conversation's lock
        await erase_conversation(conversation_id, ...)  # so it must not take that lock itself
        return None                                     # no Plan: nothing said, nothing saved
    register("erase", _erase)

and the desk adds `enqueue(conn, conversation_id, "erase", {}, case_id)` (desk/commands.py)
in the transaction that decides the erasure.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, SlotSet

from bot.rasa_addons.handoff.registry import shared_registry

logger = logging.getLogger(__name__)


@dataclass
class Plan:
    """What a command does: slot events, messages said by a person or the service (sent
    through the conversation's channel), a response the bot then says, and the handoff
    status the registry records (None: unchanged)."""

    events: List[Event] = field(default_factory=list)
    say: List[Dict[str, Any]] = field(default_factory=list)
    action: Optional[str] = None
    listen_after: bool = False
    status: Optional[str] = None


# A handler reads the command's payload (already checked to be a JSON object) and returns its
# plan; a handler that needs the whole application (erasure) gets it as the second argument.
Handler = Callable[[Dict[str, Any], Any, str], Awaitable[Optional[Plan]]]
HANDLERS: Dict[str, Handler] = {}


class BadCommand(ValueError):
    """The command itself is wrong (4xx, not retried)."""


def register(kind: str, handler: Handler) -> None:
    HANDLERS[kind] = handler


def _text(payload: Dict[str, Any], name: str, limit: int, optional: bool = False) -> Optional[str]:
    value = payload.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not optional and not value.strip()) or len(value) > limit:
        raise BadCommand(f"payload.{name} must be a {'string' if optional else 'non-empty string'} "
                         f"of at most {limit} characters")
    return value


def _slots(**values: Any) -> List[Event]:
    return [SlotSet(name, value) for name, value in values.items()]


# No active form, no pending question: the bot was maybe in the middle of its questions while
# the case was queued; after the counsellor leaves it must not come back with a stale one.
def _ends_the_questions() -> List[Event]:
    return [ActiveLoop(None), SlotSet("requested_slot", None)]


async def _claim(payload: Dict[str, Any], _app: Any, _conversation_id: str) -> Plan:
    """Claim and transfer: the bot goes quiet, the user is told a person joined."""
    name = _text(payload, "counsellor_name", 40)
    return Plan(events=_ends_the_questions() + _slots(handoff_status="active", counsellor_name=name,
                                                      handoff_wait_minutes=None),
                action="utter_handoff_joined", listen_after=True, status="active")


async def _message(payload: Dict[str, Any], _app: Any, _conversation_id: str) -> Plan:
    text = _text(payload, "text", 4000)
    metadata = {"sender": "counsellor", "author": _text(payload, "author", 40),
                "message_id": _text(payload, "message_id", 64)}
    return Plan(say=[{"text": text, "metadata": metadata}])


async def _requeue(payload: Dict[str, Any], _app: Any, _conversation_id: str) -> Plan:
    """Back to the queue: the bot answers again (with the queue line). With a notice (the
    counsellor went silent), the person is told why, as a message from the service."""
    notice = _text(payload, "notice", 4000, optional=True)
    return Plan(events=_slots(handoff_status="queued", counsellor_name=None, handoff_wait_minutes=None),
                say=[{"text": notice, "metadata": {"sender": "system"}}] if notice else [], status="queued")


async def _close(payload: Dict[str, Any], _app: Any, _conversation_id: str) -> Plan:
    """The bot says the case is closed, gives the numbers and asks the feedback question; the
    listen step after it lets the rules read the answer."""
    held = _slots(legal_hold=True) if payload.get("legal_hold") is True else []
    return Plan(events=held + _slots(handoff_status="closed"), action="utter_handoff_closed", listen_after=True,
                status="closed")


async def _notice(payload: Dict[str, Any], _app: Any, _conversation_id: str) -> Plan:
    """A message from the service (closing time with the case still queued); the wait
    estimated earlier no longer holds."""
    text = _text(payload, "text", 4000)
    return Plan(events=_slots(handoff_wait_minutes=None), say=[{"text": text, "metadata": {"sender": "system"}}])


async def _erase(payload: Dict[str, Any], _app: Any, _conversation_id: str) -> Plan:
    """A counsellor's erasure (or `make erase`): the bot tells the person through their
    channel (what the law keeps, if the desk kept a case); the tracker store, saving this,
    starts the erasure of everything Rasa holds (bot/rasa_addons/erasure.py), which runs once
    this command has released the conversation's lock."""
    held = payload.get("legal_hold") is True
    return Plan(events=_slots(legal_hold=True) if held else [], action="utter_erase_done")


for _kind, _handler in (("claim", _claim), ("transfer", _claim), ("message", _message), ("requeue", _requeue),
                        ("close", _close), ("notice", _notice), ("erase", _erase)):
    register(_kind, _handler)


def output_channel(app: Any, conversation_id: str) -> OutputChannel:
    """The channel that owns the conversation (recorded by the handoff registry), never
    Rasa's "latest"; a conversation whose channel cannot push (REST) keeps the message in
    the conversation only."""
    from bot.rasa_addons.channels.limits import owner_by_shape

    try:
        owner = shared_registry().owner(conversation_id)
    except Exception:
        logger.exception("Could not read the conversation's owner")
        owner = None
    owner = owner or owner_by_shape(conversation_id)
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if owner and channel.name() == owner:
            found = channel.get_output_channel()
            if found is not None:
                return found
    return CollectingOutputChannel()


async def run_action(app: Any, tracker: Any, output: OutputChannel, name: str) -> None:
    """Run one action (a response) in the conversation, as Rasa's `execute` route does."""
    from rasa.core.policies.policy import PolicyPrediction

    agent = app.ctx.agent
    processor = agent.processor
    action = processor._get_action(name)
    await processor._run_action(action, tracker, output, agent.nlg, PolicyPrediction.for_action_name(agent.domain, name))


async def apply(app: Any, command: Dict[str, Any]) -> Dict[str, Any]:
    """Apply a checked command once; raises BadCommand (4xx) or any other error (retried)."""
    kind, conversation_id = command["type"], command["conversation_id"]
    handler = HANDLERS.get(kind)
    if handler is None:
        raise BadCommand(f"unknown command type {kind!r}")
    agent = app.ctx.agent
    registry = shared_registry()
    async with agent.lock_store.lock(conversation_id):
        if registry.command_applied(conversation_id, command["id"], command["seq"]):
            return {"applied": False, "duplicate": True}
        plan = await handler(command["payload"], app, conversation_id)
        if plan is not None:
            output = output_channel(app, conversation_id)
            processor = agent.processor
            tracker = await processor.fetch_tracker_and_update_session(conversation_id, output)
            for event in plan.events:
                tracker.update(event, agent.domain)
            said = [BotUttered(item["text"], data={}, metadata=item["metadata"]) for item in plan.say]
            for event in said:
                tracker.update(event, agent.domain)
            await processor.execute_side_effects(said, tracker, output)
            if plan.action:
                await run_action(app, tracker, output, plan.action)
            if plan.listen_after:
                # `execute` leaves the bot without its listen step; the rules reading the next
                # answer (the feedback question) need it.
                tracker.update(ActionExecuted(ACTION_LISTEN_NAME), agent.domain)
            await processor.save_tracker(tracker)
            if plan.status:
                registry.set_status(conversation_id, plan.status)
        registry.record_command(conversation_id, command["id"], command["seq"], kind)
    logger.info("desk command %s (%s) applied", command["seq"], kind)
    return {"applied": True}
