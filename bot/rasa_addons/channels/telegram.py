"""Telegram (`/webhooks/telegram/webhook`), the project's channel.

Rasa 3.6's connector calls Telegram (`set_webhook`, `get_me`) while handling updates
and cannot check the secret token. This one:

- accepts an update only with `X-Telegram-Bot-Api-Secret-Token` equal to
  `TELEGRAM_SECRET_TOKEN` (anything else: 403, before the body is read);
- never calls Telegram while receiving; the webhook is registered once, by the
  operator: `python -m bot.rasa_addons.channels.telegram set-webhook`;
- private chats only (a group's messages are ignored);
- buttons are inline keyboards; `/start` (and `/start@<bot name>`) is a greeting,
  other commands are read as plain text by the guard;
- photos, videos, voice notes, files, stickers: not downloaded, a gentle answer.

Environment: TELEGRAM_TOKEN, TELEGRAM_BOT_NAME, TELEGRAM_WEBHOOK_URL,
TELEGRAM_SECRET_TOKEN (all required), TELEGRAM_API_URL (default https://api.telegram.org),
CHANNEL_ID_SECRET.
"""
from __future__ import annotations

import asyncio
import hmac
import html
import json
import logging
import os
import re
import sys
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.rasa_addons.channels.credentials import MESSAGING
from bot.rasa_addons.channels.messaging import (
    ChannelConfigError, Inbound, MessagingInput, MessagingOutput, split_text,
)
from bot.rasa_addons.channels.platform_http import DeliveryFailed, PlatformClient

logger = logging.getLogger(__name__)

REQUIRED = MESSAGING["telegram"][1]
DEFAULT_API_URL = "https://api.telegram.org"
TEXT_LIMIT = 4000  # Telegram's is 4096 characters
CALLBACK_DATA_BYTES = 64
MEDIA_KEYS = ("photo", "video", "voice", "video_note", "audio", "document", "sticker", "animation", "contact", "location")
GREETING = "Bonjour"
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)


def telegram_html(text: str) -> str:
    """Content's **bold** as Telegram HTML; everything else escaped."""
    escaped = html.escape(text, quote=False)
    if escaped.count("**") % 2:
        return escaped.replace("**", "")
    return _BOLD.sub(r"<b>\1</b>", escaped)


def callback_data(payload: str, index: int) -> str:
    return payload if len(payload.encode()) <= CALLBACK_DATA_BYTES else f"#{index}"


class TelegramOutput(MessagingOutput):
    channel = "telegram"

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    def __init__(self, client: PlatformClient, book: Any, strict: bool = False, token: str = "") -> None:
        super().__init__(client, book, strict)
        self.token = token or os.environ.get("TELEGRAM_TOKEN", "")

    async def deliver(self, platform_id: str, text: str, buttons: List[Dict[str, str]], message: Dict[str, Any],
                      since_user: float) -> None:
        parts = split_text(text, TEXT_LIMIT) or ["…"]
        for number, part in enumerate(parts, 1):
            body: Dict[str, Any] = {"chat_id": platform_id, "text": telegram_html(part), "parse_mode": "HTML",
                                    "disable_web_page_preview": True}
            if buttons and number == len(parts):
                body["reply_markup"] = {"inline_keyboard": [
                    [{"text": b["title"][:64], "callback_data": callback_data(b["payload"], i)}]
                    for i, b in enumerate(buttons, 1)
                ]}
            await self.client.call("sendMessage", f"/bot{self.token}/sendMessage", json_body=body)


class TelegramInput(MessagingInput):
    channel = "telegram"
    output_class = TelegramOutput

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TelegramInput":
        missing = [name for name in REQUIRED if not os.environ.get(name)]
        if missing:
            raise ChannelConfigError("Telegram channel: set " + ", ".join(missing))
        client = PlatformClient("telegram", os.environ.get("TELEGRAM_API_URL") or DEFAULT_API_URL)
        return cls(client, os.environ["TELEGRAM_SECRET_TOKEN"], os.environ["TELEGRAM_BOT_NAME"])

    def __init__(self, client: PlatformClient, secret_token: str, bot_name: str) -> None:
        super().__init__(client)
        self.secret_token = secret_token
        self.bot_name = bot_name.lstrip("@").lower()

    def signed(self, request: Request) -> bool:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token") or ""
        return bool(given) and hmac.compare_digest(given.encode(), self.secret_token.encode())

    def read_update(self, update: Dict[str, Any]) -> Optional[Inbound]:
        key = f"u{update.get('update_id')}"
        callback = update.get("callback_query")
        if isinstance(callback, dict):
            chat = ((callback.get("message") or {}).get("chat") or {})
            if chat.get("type", "private") != "private" or chat.get("id") is None:
                return None
            if callback.get("id"):
                self.answer_callback(str(callback["id"]))
            return Inbound(str(chat["id"]), payload=str(callback.get("data") or ""), message_key=key)
        message = update.get("message")
        if not isinstance(message, dict):
            return None  # edited messages, channel posts, member updates...: nothing to answer
        chat = message.get("chat") or {}
        if chat.get("type") != "private" or chat.get("id") is None:
            return None
        media = any(k in message for k in MEDIA_KEYS)
        text = message.get("text") if isinstance(message.get("text"), str) else str(message.get("caption") or "")
        stripped = text.strip()
        if stripped.startswith("/"):
            command, _, rest = stripped.partition(" ")
            command, _, addressee = command.partition("@")
            if addressee and addressee.lower() != self.bot_name:
                return None  # a command for another bot
            text = GREETING if command.lower() == "/start" else f"{command}{(' ' + rest) if rest else ''}"
        if not text.strip() and not media:
            return None
        return Inbound(str(chat["id"]), text=text, media=media, message_key=key)

    def answer_callback(self, callback_id: str) -> None:
        """Stop the button's spinner; best effort, in the background."""
        async def answer() -> None:
            try:
                await self.client.call("answerCallbackQuery", f"/bot{os.environ.get('TELEGRAM_TOKEN', '')}/answerCallbackQuery",
                                       json_body={"callback_query_id": callback_id})
            except DeliveryFailed:
                pass

        task = asyncio.get_running_loop().create_task(answer())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = self.webhook_blueprint()
        channel = self

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not channel.signed(request):
                logger.warning("telegram: update refused (missing or wrong secret token)")
                return response.text("forbidden", status=403)
            try:
                update = json.loads(request.body or b"")
            except ValueError:
                return response.text("bad request", status=400)
            if not isinstance(update, dict):
                return response.text("bad request", status=400)
            item = channel.read_update(update)
            if item is not None:
                channel.start_turns([item], on_new_message)
            return response.json({})

        return webhook


async def set_webhook() -> int:
    """Register the webhook with its secret token (run once by the operator)."""
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        print("set " + ", ".join(missing), file=sys.stderr)
        return 2
    client = PlatformClient("telegram", os.environ.get("TELEGRAM_API_URL") or DEFAULT_API_URL)
    try:
        await client.call("setWebhook", f"/bot{os.environ['TELEGRAM_TOKEN']}/setWebhook", json_body={
            "url": os.environ["TELEGRAM_WEBHOOK_URL"], "secret_token": os.environ["TELEGRAM_SECRET_TOKEN"],
            "allowed_updates": ["message", "callback_query"],
        })
    except DeliveryFailed as exc:
        print(f"setWebhook failed: {exc}", file=sys.stderr)
        return 1
    finally:
        await client.close()
    print("webhook registered")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["set-webhook"]:
        print("usage: python -m bot.rasa_addons.channels.telegram set-webhook", file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(set_webhook()))
