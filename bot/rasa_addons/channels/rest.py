"""The REST channel (`/webhooks/rest/webhook`), with the project's guard around it.

Same request and response as Rasa's: POST {"sender": "...", "message": "...",
"metadata": {...}} returns the list of bot messages.
"""
from __future__ import annotations

import inspect
import logging
from typing import Awaitable, Callable, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.rasa_addons.channels.guard import handle_safely, neutralise_intent_syntax

logger = logging.getLogger(__name__)


class SafeRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        module = inspect.getmodule(self)
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", module.__name__ if module else None)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else None
            if body is None:
                return response.json({"error": "expected a JSON object with 'sender' and 'message'"}, status=400)
            sender_id = str(body.get("sender") or "default")[:128]
            metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
            agent = getattr(request.app.ctx, "agent", None)
            text = await neutralise_intent_syntax(body.get("message"), sender_id, agent)
            collector = CollectingOutputChannel()
            await handle_safely(
                agent, on_new_message, UserMessage(text, collector, sender_id, input_channel=self.name(), metadata=metadata)
            )
            return response.json(collector.messages)

        return webhook
