"""The desk's way into Rasa: its commands (claim, counsellor message, transfer, requeue,
close...) and a status query, under `/webhooks/desk_commands/` (docs/handoff.md).

Not Rasa's HTTP API and not its master token: a project channel with its own bearer token
(DESK_COMMANDS_TOKEN, given to Rasa and the desk only), callable from the internal networks
only (RASA_INTERNAL_NETWORKS, no proxy forwarding header) even though `/webhooks/` is
public, so that a leaked token is not enough from outside. Bad input is a clear 4xx; a
failure to apply (the user's channel, the tracker store) is a 503 the desk retries.

The channel also runs the crisis watchdog's sweep (handoff/watchdog.py): both need the
running application (the agent, the lock store and the conversations' channels).
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.rasa_addons.exposure import internal_caller
from bot.rasa_addons.handoff import commands
from bot.rasa_addons.handoff.registry import shared_registry
from bot.rasa_addons.handoff.watchdog import CrisisWatchdog
from bot.rasa_addons.settings import handoff_settings, internal_networks, settings

logger = logging.getLogger(__name__)

MAX_ID = 64
MAX_CONVERSATION_ID = 255


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def checked_command(body: Any) -> Dict[str, Any]:
    """The command, or BadCommand naming the field."""
    if not isinstance(body, dict):
        raise commands.BadCommand("body must be a JSON object")
    command_id, conversation_id, seq = body.get("id"), body.get("conversation_id"), body.get("seq")
    kind, payload = body.get("type"), body.get("payload", {})
    if not isinstance(command_id, str) or not 0 < len(command_id) <= MAX_ID:
        raise commands.BadCommand(f"'id' must be a string of 1 to {MAX_ID} characters")
    if not isinstance(conversation_id, str) or not 0 < len(conversation_id) <= MAX_CONVERSATION_ID:
        raise commands.BadCommand(f"'conversation_id' must be a string of 1 to {MAX_CONVERSATION_ID} characters")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise commands.BadCommand("'seq' must be a positive integer")
    if not isinstance(kind, str) or kind not in commands.HANDLERS:
        raise commands.BadCommand("'type' must be one of " + ", ".join(sorted(commands.HANDLERS)))
    if not isinstance(payload, dict):
        raise commands.BadCommand("'payload' must be a JSON object")
    return {"id": command_id, "conversation_id": conversation_id, "seq": seq, "type": kind, "payload": payload}


class DeskCommandsInput(InputChannel):
    """No user writes here: the desk's commands only."""

    @classmethod
    def name(cls) -> Text:
        return "desk_commands"

    def __init__(self) -> None:
        self._app: Any = None
        self._sweeper: Optional[asyncio.Task] = None

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "DeskCommandsInput":
        return cls()

    def get_output_channel(self) -> None:
        return None  # never a conversation's owner

    def _refusal(self, request: Request) -> Optional[HTTPResponse]:
        if not internal_caller(request.ip, request.headers, internal_networks()):
            return _error(403, "not available from outside")
        token = handoff_settings().desk_commands_token
        header = request.headers.get("authorization") or ""
        given = header[7:] if header.lower().startswith("bearer ") else ""
        if not token or not given or not hmac.compare_digest(token.encode(), given.encode()):
            return _error(401, "missing or invalid bearer token")
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("desk_commands", __name__)
        channel = self

        @blueprint.listener("after_server_start")
        async def start(app: Any, _loop: Any) -> None:
            channel._app = app
            if not handoff_settings().desk_commands_token:
                logger.warning("DESK_COMMANDS_TOKEN is unset: the desk's commands are refused (401)")
            channel._sweeper = asyncio.ensure_future(CrisisWatchdog().run_forever(app))

        @blueprint.listener("before_server_stop")
        async def stop(_app: Any, _loop: Any) -> None:
            if channel._sweeper is not None:
                channel._sweeper.cancel()

        @blueprint.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/command", methods=["POST"])
        async def command(request: Request) -> HTTPResponse:
            refused = self._refusal(request)
            if refused is not None:
                return refused
            raw = request.body or b""
            if len(raw) > settings().max_body_bytes:
                return _error(413, "body too large")
            try:
                checked = checked_command(json.loads(raw))
            except (ValueError, UnicodeDecodeError) as error:
                message = str(error) if isinstance(error, commands.BadCommand) else "body is not valid JSON"
                return _error(400, message)
            if getattr(request.app.ctx, "agent", None) is None or request.app.ctx.agent.processor is None:
                return _error(503, "no model loaded yet")
            try:
                result = await commands.apply(request.app, checked)
            except commands.BadCommand as error:
                return _error(400, str(error))
            except Exception as error:  # the channel, the tracker store, the lock: the desk retries
                logger.error("desk command %s (%s) not applied: %s", checked["seq"], checked["type"],
                             type(error).__name__)
                return _error(503, "not applied, retry later")
            return response.json(result)

        @blueprint.route("/status/<conversation_id:path>", methods=["GET"])
        async def status(request: Request, conversation_id: str) -> HTTPResponse:
            """What Rasa holds for the conversation: the desk's reconciliation compares it."""
            refused = self._refusal(request)
            if refused is not None:
                return refused
            if not 0 < len(conversation_id) <= MAX_CONVERSATION_ID:
                return _error(400, "bad conversation id")
            registry = shared_registry()
            return response.json({"conversation_id": conversation_id, "status": registry.status(conversation_id),
                                  "last_seq": registry.last_command_seq(conversation_id)})

        return blueprint
