"""The REST channel (`/webhooks/rest/webhook`), with the project's guard around it.

For development and tests only: it answers only when `ENABLE_REST_CHANNEL=true` (404
otherwise), and even then it cannot write to a conversation another channel owns (the web
widget's or a messaging app's): 403. Same request and response as Rasa's: POST
{"sender": "...", "message": "...", "metadata": {...}} returns the list of bot messages.
Limits (README): a rate-limited message gets 429 with Retry-After, unless the crisis lexicon
recognises it (then it is answered: a limit never holds back the emergency answer).
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
from bot.rasa_addons.channels.limits import (
    apply_server_limits, bounded_text, client_address, client_metadata, is_crisis, may_write, shared_limits,
)
from bot.rasa_addons.settings import settings

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128


class SafeRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        module = inspect.getmodule(self)
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", module.__name__ if module else None)
        webhook.listener("main_process_start")(apply_server_limits)
        enabled = settings().enable_rest_channel
        if not enabled:
            logger.info("REST channel off (ENABLE_REST_CHANNEL is not true)")

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            if not enabled:
                return response.json({"error": "not found"}, status=404)
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not enabled:
                return response.json({"error": "not found"}, status=404)
            try:
                body = request.json if isinstance(request.json, dict) else None
            except Exception:  # not JSON at all
                body = None
            if body is None:
                return response.json({"error": "expected a JSON object with 'sender' and 'message'"}, status=400)
            sender_id = str(body.get("sender") or "default")
            if len(sender_id) > MAX_SENDER_CHARS:
                return response.json({"error": f"'sender' is longer than {MAX_SENDER_CHARS} characters"}, status=400)
            agent = getattr(request.app.ctx, "agent", None)
            if not await may_write(agent, sender_id, self.name()):
                return response.json({"error": "this conversation belongs to another channel"}, status=403)
            message = bounded_text(body.get("message"))
            address = client_address(request.ip, request.headers.get("x-forwarded-for"), settings().trusted_proxies)
            limited = shared_limits().message(sender_id, address)
            if limited and not is_crisis(message):
                logger.info("REST message refused: %s rate limit", limited)
                seconds = settings().rate_conversation_seconds if limited == "conversation" else settings().rate_address_seconds
                return response.json({"error": "too many messages, slow down"}, status=429,
                                     headers={"Retry-After": str(seconds)})
            text = await neutralise_intent_syntax(message, sender_id, agent)
            collector = CollectingOutputChannel()
            await handle_safely(
                agent, on_new_message,
                UserMessage(text, collector, sender_id, input_channel=self.name(), metadata=client_metadata(body.get("metadata"))),
                address=address,
            )
            return response.json(collector.messages)

        return webhook
