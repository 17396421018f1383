"""Facebook Messenger (`/webhooks/facebook/webhook`), the project's channel.

Rasa 3.6's connector checks only the old SHA-1 signature and answers 200 when it
fails. This one:

- answers Meta's verification handshake (GET with `hub.mode=subscribe`,
  `hub.verify_token`, `hub.challenge`) only with the right verify token;
- accepts an event batch only with a valid `X-Hub-Signature-256`
  (`sha256=` HMAC-SHA256 of the raw body with `MESSENGER_APP_SECRET`); else 403,
  before the body is parsed;
- answers `EVENT_RECEIVED` at once and handles the messages in the background;
- buttons are quick replies (at most 13, titles of at most 20 characters; longer
  titles are listed, numbered, in the text and the quick replies show the numbers);
- a person's message more than 24 hours after the user's last message goes with
  the HUMAN_AGENT tag (allowed for 7 days; the page needs Meta's Human Agent
  permission); after 7 days it cannot be sent and the desk is told so;
- attachments (photos, videos, audio, files, stickers) are not downloaded.

Environment: MESSENGER_VERIFY_TOKEN, MESSENGER_APP_SECRET, MESSENGER_PAGE_ACCESS_TOKEN
(all required), MESSENGER_API_URL (default https://graph.facebook.com/v19.0),
CHANNEL_ID_SECRET.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.rasa_addons.channels.credentials import MESSAGING
from bot.rasa_addons.channels.messaging import (
    WINDOW_SECONDS, ChannelConfigError, Inbound, MessagingInput, MessagingOutput, is_person_message, numbered,
    split_text,
)
from bot.rasa_addons.channels.platform_http import DeliveryFailed, PlatformClient

logger = logging.getLogger(__name__)

REQUIRED = MESSAGING["messenger"][1]
DEFAULT_API_URL = "https://graph.facebook.com/v19.0"
TEXT_LIMIT = 2000
QUICK_REPLIES = 13
TITLE_CHARS = 20
HUMAN_AGENT_SECONDS = 7 * 24 * 3600
MEDIA_TYPES = ("image", "video", "audio", "file", "template")


def plain(text: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*", r"\1", text, flags=re.S)


class MessengerOutput(MessagingOutput):
    channel = "messenger"

    @classmethod
    def name(cls) -> Text:
        return "facebook"

    async def deliver(self, platform_id: str, text: str, buttons: List[Dict[str, str]], message: Dict[str, Any],
                      since_user: float) -> None:
        envelope: Dict[str, Any] = {"messaging_type": "RESPONSE"}
        if since_user > WINDOW_SECONDS:
            if not is_person_message(message) or since_user > HUMAN_AGENT_SECONDS:
                raise DeliveryFailed("messenger: the user's last message is too old, Messenger no longer allows a reply "
                                     "(24 hours, 7 days for a person); the user has to write again")
            envelope = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
        quick_replies: List[Dict[str, str]] = []
        if buttons:
            fits = len(buttons) <= QUICK_REPLIES and all(len(b["title"]) <= TITLE_CHARS for b in buttons)
            if fits:
                quick_replies = [{"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in buttons]
            else:
                text = f"{text}\n\n{numbered(buttons)}".strip()
                quick_replies = [{"content_type": "text", "title": str(i), "payload": b["payload"]}
                                 for i, b in enumerate(buttons[:QUICK_REPLIES], 1)]
        parts = split_text(plain(text), TEXT_LIMIT) or ["…"]
        for number, part in enumerate(parts, 1):
            body: Dict[str, Any] = dict(envelope, recipient={"id": platform_id}, message={"text": part})
            if quick_replies and number == len(parts):
                body["message"]["quick_replies"] = quick_replies
            await self.client.call("send", "/me/messages", json_body=body,
                                   params={"access_token": os.environ.get("MESSENGER_PAGE_ACCESS_TOKEN", "")})


class MessengerInput(MessagingInput):
    channel = "messenger"
    output_class = MessengerOutput
    match_typed_choices = True  # long option titles are listed with numbers

    @classmethod
    def name(cls) -> Text:
        return "facebook"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "MessengerInput":
        missing = [name for name in REQUIRED if not os.environ.get(name)]
        if missing:
            raise ChannelConfigError("Messenger channel: set " + ", ".join(missing))
        client = PlatformClient("messenger", os.environ.get("MESSENGER_API_URL") or DEFAULT_API_URL)
        return cls(client, os.environ["MESSENGER_VERIFY_TOKEN"], os.environ["MESSENGER_APP_SECRET"])

    def __init__(self, client: PlatformClient, verify_token: str, app_secret: str) -> None:
        super().__init__(client)
        self.verify_token = verify_token
        self.app_secret = app_secret.encode()

    def signed(self, request: Request) -> bool:
        given = request.headers.get("X-Hub-Signature-256") or ""
        if not given.startswith("sha256="):
            return False
        expected = "sha256=" + hmac.new(self.app_secret, request.body or b"", hashlib.sha256).hexdigest()
        return hmac.compare_digest(given.encode(), expected.encode())

    @staticmethod
    def read_event(event: Dict[str, Any]) -> Optional[Inbound]:
        sender = (event.get("sender") or {}).get("id")
        if sender is None:
            return None
        message = event.get("message")
        if isinstance(message, dict):
            if message.get("is_echo"):
                return None  # the page's own messages
            key = str(message.get("mid") or "")
            quick = message.get("quick_reply") or {}
            if quick.get("payload") is not None:
                return Inbound(str(sender), payload=str(quick["payload"]), message_key=key)
            attachments = message.get("attachments") or []
            media = bool(message.get("sticker_id")) or any(
                isinstance(a, dict) and a.get("type") in MEDIA_TYPES for a in attachments)
            text = message.get("text") if isinstance(message.get("text"), str) else ""
            if not text.strip() and not media:
                return None
            return Inbound(str(sender), text=text, media=media, message_key=key)
        postback = event.get("postback")
        if isinstance(postback, dict) and postback.get("payload") is not None:
            return Inbound(str(sender), payload=str(postback["payload"]), message_key=str(postback.get("mid") or ""))
        return None  # deliveries, reads, reactions...

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = self.webhook_blueprint()
        channel = self

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            token = request.args.get("hub.verify_token") or ""
            if request.args.get("hub.mode") == "subscribe" and token and hmac.compare_digest(
                    token.encode(), channel.verify_token.encode()):
                return response.text(request.args.get("hub.challenge") or "")
            logger.warning("messenger: verification refused (wrong verify token)")
            return response.text("forbidden", status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not channel.signed(request):
                logger.warning("messenger: event refused (missing or wrong X-Hub-Signature-256)")
                return response.text("forbidden", status=403)
            try:
                payload = json.loads(request.body or b"")
            except ValueError:
                return response.text("bad request", status=400)
            if not isinstance(payload, dict) or payload.get("object") != "page":
                return response.text("EVENT_RECEIVED")
            items = []
            for entry in payload.get("entry") or []:
                for event in (entry.get("messaging") or []) if isinstance(entry, dict) else []:
                    item = channel.read_event(event) if isinstance(event, dict) else None
                    if item is not None:
                        items.append(item)
            channel.start_turns(items, on_new_message)
            return response.text("EVENT_RECEIVED")

        return webhook
