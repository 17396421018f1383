"""WhatsApp through Twilio (`/webhooks/twilio/webhook`), the project's channel.

Rasa 3.6's connector checks no signature, blocks the event loop with Twilio's
synchronous client, and sends each button as a separate message showing its raw
payload. This one:

- accepts a request only with a valid `X-Twilio-Signature` (base64 HMAC-SHA1, with
  `TWILIO_AUTH_TOKEN`, of `TWILIO_WEBHOOK_URL`, the public URL Twilio calls, followed
  by the POST parameters sorted by name, each as name then value); else 403;
- answers Twilio at once with an empty TwiML document; replies go through the REST
  API (aiohttp, retried) from a background task;
- options are numbered in the text ("1. ...", "2. ..."); the user answers with the
  number or the option's words;
- a person's message more than 24 hours after the user's last message is sent as the
  pre-approved WhatsApp template `TWILIO_REPLY_TEMPLATE_SID` (Content API, the labelled
  message in variable {{1}}); without it, the desk is told the message cannot be sent;
- media (`NumMedia` > 0) are never downloaded.

Environment: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_WHATSAPP_NUMBER,
TWILIO_WEBHOOK_URL (all required), TWILIO_API_URL (default https://api.twilio.com),
TWILIO_REPLY_TEMPLATE_SID (optional), CHANNEL_ID_SECRET.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple
from urllib.parse import parse_qsl

import aiohttp
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

REQUIRED = MESSAGING["whatsapp (twilio)"][1]
DEFAULT_API_URL = "https://api.twilio.com"
TEXT_LIMIT = 1600  # Twilio's limit for one WhatsApp message body
TEMPLATE_VARIABLE_CHARS = 1000
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def whatsapp_text(text: str) -> str:
    """Content's **bold** as WhatsApp's *bold*."""
    return re.sub(r"\*\*(.+?)\*\*", r"*\1*", text, flags=re.S)


def twilio_signature(auth_token: str, url: str, params: List[Tuple[str, str]]) -> str:
    data = url + "".join(name + value for name, value in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def whatsapp_address(number: str) -> str:
    number = number.strip()
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


class TwilioWhatsAppOutput(MessagingOutput):
    channel = "whatsapp"

    @classmethod
    def name(cls) -> Text:
        return "twilio"

    async def deliver(self, platform_id: str, text: str, buttons: List[Dict[str, str]], message: Dict[str, Any],
                      since_user: float) -> None:
        sid = os.environ.get("TWILIO_ACCOUNT_SID", "")
        auth = aiohttp.BasicAuth(sid, os.environ.get("TWILIO_AUTH_TOKEN", ""))
        path = f"/2010-04-01/Accounts/{sid}/Messages.json"
        sender = whatsapp_address(os.environ.get("TWILIO_WHATSAPP_NUMBER", ""))
        if since_user > WINDOW_SECONDS:
            template = os.environ.get("TWILIO_REPLY_TEMPLATE_SID", "")
            if not is_person_message(message) or not template:
                raise DeliveryFailed("whatsapp: more than 24 hours since the user's last message and no reply "
                                     "template (TWILIO_REPLY_TEMPLATE_SID): WhatsApp does not allow this message")
            variable = " ".join(whatsapp_text(text).split())[:TEMPLATE_VARIABLE_CHARS]
            await self.client.call("send template", path, auth=auth, form={
                "From": sender, "To": platform_id, "ContentSid": template,
                "ContentVariables": json.dumps({"1": variable}, ensure_ascii=False),
            })
            return
        for part in self.parts(text, buttons):
            await self.client.call("send", path, auth=auth, form={"From": sender, "To": platform_id, "Body": part})

    @staticmethod
    def parts(text: str, buttons: List[Dict[str, str]]) -> List[str]:
        parts = split_text(whatsapp_text(text), TEXT_LIMIT)
        if buttons:
            options = numbered(buttons)
            if parts and len(parts[-1]) + 2 + len(options) <= TEXT_LIMIT:
                parts[-1] = f"{parts[-1]}\n\n{options}"
            else:
                parts.extend(split_text(options, TEXT_LIMIT))
        return parts


class TwilioWhatsAppInput(MessagingInput):
    channel = "whatsapp"
    output_class = TwilioWhatsAppOutput
    match_typed_choices = True

    @classmethod
    def name(cls) -> Text:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TwilioWhatsAppInput":
        missing = [name for name in REQUIRED if not os.environ.get(name)]
        if missing:
            raise ChannelConfigError("WhatsApp (Twilio) channel: set " + ", ".join(missing))
        client = PlatformClient("whatsapp", os.environ.get("TWILIO_API_URL") or DEFAULT_API_URL)
        return cls(client, os.environ["TWILIO_AUTH_TOKEN"], os.environ["TWILIO_WEBHOOK_URL"],
                   os.environ["TWILIO_ACCOUNT_SID"])

    def __init__(self, client: PlatformClient, auth_token: str, webhook_url: str, account_sid: str) -> None:
        super().__init__(client)
        self.auth_token = auth_token
        self.webhook_url = webhook_url
        self.account_sid = account_sid

    def signed(self, request: Request, params: List[Tuple[str, str]]) -> bool:
        given = request.headers.get("X-Twilio-Signature") or ""
        expected = twilio_signature(self.auth_token, self.webhook_url, params)
        return bool(given) and hmac.compare_digest(given.encode(), expected.encode())

    def read_form(self, params: List[Tuple[str, str]]) -> Optional[Inbound]:
        form = dict(params)
        sender = form.get("From", "")
        if not sender.startswith("whatsapp:") or form.get("AccountSid", self.account_sid) != self.account_sid:
            return None
        if "Body" not in form and "NumMedia" not in form:
            return None  # a delivery status callback
        try:
            media = int(form.get("NumMedia") or 0) > 0
        except ValueError:
            media = False
        text = form.get("Body") or ""
        if not text.strip() and not media:
            return None
        return Inbound(sender, text=text, media=media, message_key=form.get("MessageSid", ""))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = self.webhook_blueprint()
        channel = self

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                params = parse_qsl((request.body or b"").decode("utf-8"), keep_blank_values=True, strict_parsing=False)
            except UnicodeDecodeError:
                params = []
            if not channel.signed(request, params):
                logger.warning("whatsapp: request refused (missing or wrong X-Twilio-Signature)")
                return response.text("forbidden", status=403)
            item = channel.read_form(params)
            if item is not None:
                channel.start_turns([item], on_new_message)
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return webhook
