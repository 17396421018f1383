"""What the three messaging channels (WhatsApp through Twilio, Messenger, Telegram) share.

- Conversation ids are `<channel>-<keyed hash of the platform's user id>` (HMAC-SHA256
  with `CHANNEL_ID_SECRET`, 32 hex characters): a phone number or a platform id never
  reaches the tracker, the logs or the desk.
- The way back from a conversation id to the platform id lives in memory only, in the
  channel object (`RecipientBook`), with the time of the user's last message (for the
  platforms' 24-hour windows). A Rasa restart forgets it: until the user writes again,
  a counsellor's reply cannot be delivered and the desk marks it undelivered.
- Every inbound turn goes through the project's guard (`handle_safely`,
  `neutralise_intent_syntax`), in a background task after the platform has been
  answered, one turn at a time per conversation (so replies keep their order).
- Photos, videos, voice notes and files are never downloaded: the user gets the
  content's `utter_dont_send_images` answer (a caption, if any, is read as text).
- Long texts are split at sentence ends to each platform's limit; counsellor
  messages are labelled "<first name> (3018) :".
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import re
import time
import weakref
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.content_store import shared_store
from bot.content_store.model import DEFAULT_LANGUAGE
from bot.content_store.render import service_field
from bot.rasa_addons.channels.guard import handle_safely, neutralise_intent_syntax
from bot.rasa_addons.channels.limits import apply_server_limits, bounded_text, is_crisis, shared_limits
from bot.rasa_addons.channels.platform_http import DeliveryFailed, PlatformClient

logger = logging.getLogger(__name__)

ID_SECRET_ENV = "CHANNEL_ID_SECRET"
HASH_CHARS = 32
WINDOW_SECONDS = 24 * 3600
NO_IMAGES_RESPONSE = "utter_dont_send_images"
NO_IMAGES_FALLBACK = {
    "fr": "Merci de ne pas m'envoyer de photo ni de vidéo : je n'en ai pas besoin. Décrivez-moi plutôt la situation avec des mots.",
    "en": "Please don't send me photos or videos: I don't need them. Just describe the situation in words.",
}
SLOW_DOWN_MESSAGING = {
    "fr": "Je reçois beaucoup de messages d'un coup : je ne peux pas tous les lire. Attendez un petit moment avant "
    "d'écrire la suite. En cas de danger : 17 ou 112 ; idées noires : 3114.",
    "en": "I'm getting a lot of messages at once and can't read them all. Please wait a moment before writing "
    "the rest. In danger: 17 or 112; dark thoughts: 3114.",
}
KEEP_RECIPIENTS = 100_000
KEEP_SECONDS = 30 * 24 * 3600


class ChannelConfigError(Exception):
    """A messaging channel cannot start: its configuration is incomplete."""


def id_secret() -> bytes:
    secret = os.environ.get(ID_SECRET_ENV, "")
    if len(secret) < 16:
        raise ChannelConfigError(
            f"{ID_SECRET_ENV} must be set (at least 16 characters, e.g. `openssl rand -hex 32`) to enable a "
            "messaging channel: conversation ids are a keyed hash of the platform's user id"
        )
    return secret.encode()


# Not ":": the desk and the crisis watchdog quote the id in Rasa's URLs ("%3A") and
# Rasa's server (Sanic 21.12) does not decode path parameters, so a ":" id would
# address another conversation. "-" never needs quoting.
SEPARATOR = "-"


def conversation_id(channel: str, platform_user_id: str, secret: bytes) -> str:
    digest = hmac.new(secret, f"{channel}:{platform_user_id}".encode(), hashlib.sha256).hexdigest()
    return f"{channel}{SEPARATOR}{digest[:HASH_CHARS]}"


# Every recipient book of this process, so that an erasure reaches them (weak: no channel kept alive).
RECIPIENT_BOOKS: "weakref.WeakSet[RecipientBook]" = weakref.WeakSet()


class RecipientBook:
    """conversation id -> (platform user id, time of the user's last message). Memory only."""

    def __init__(self, size: int = KEEP_RECIPIENTS, seconds: float = KEEP_SECONDS) -> None:
        self.size = size
        self.seconds = seconds
        self._data: "OrderedDict[str, Tuple[str, float]]" = OrderedDict()
        RECIPIENT_BOOKS.add(self)

    def forget(self, conversation: str) -> bool:
        """An erasure (bot/rasa_addons/erasure.py): the platform id (a phone number, say) goes too."""
        return self._data.pop(conversation, None) is not None

    def remember(self, conversation: str, platform_id: str, at: Optional[float] = None) -> None:
        self._data.pop(conversation, None)
        self._data[conversation] = (platform_id, time.time() if at is None else at)
        while len(self._data) > self.size:
            self._data.popitem(last=False)

    def lookup(self, conversation: str) -> Optional[Tuple[str, float]]:
        entry = self._data.get(conversation)
        if entry is None or time.time() - entry[1] > self.seconds:
            return None
        return entry

    def __len__(self) -> int:
        return len(self._data)


class SeenIds:
    """Recent platform message ids, so that a platform's retry is not answered twice."""

    def __init__(self, size: int = 5000) -> None:
        self.size = size
        self._ids: "OrderedDict[str, None]" = OrderedDict()

    def first_time(self, key: str) -> bool:
        if not key:
            return True
        if key in self._ids:
            return False
        self._ids[key] = None
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


# ---------------------------------------------------------------- texts

_PIECE = re.compile(r".*?(?:[.!?…:;](?=\s)\s+|\n+|$)", re.S)


def split_text(text: str, limit: int) -> List[str]:
    """Parts of at most `limit` characters, cut after a sentence or a line when possible."""
    text = (text or "").strip()
    if len(text) <= limit:
        return [text] if text else []
    pieces = [p for p in _PIECE.findall(text) if p]
    parts: List[str] = []
    current = ""
    for piece in pieces:
        while len(piece) > limit:  # one sentence longer than the limit: cut between words
            cut = piece.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            head, piece = piece[:cut], piece[cut:].lstrip()
            if current.strip():
                parts.append(current.strip())
            current = ""
            parts.append(head.strip())
        if len(current) + len(piece) > limit and current.strip():
            parts.append(current.strip())
            current = ""
        current += piece
    if current.strip():
        parts.append(current.strip())
    return [p for p in parts if p]


def counsellor_label(message: Dict[str, Any]) -> Optional[str]:
    sender = message.get("sender")
    if sender not in ("counsellor", "system"):
        return None
    service = service_field(shared_store().snapshot(), "name", DEFAULT_LANGUAGE)  # content/settings.yml
    author = " ".join(str(message.get("author") or "").split())[:40] if sender == "counsellor" else ""
    return f"{author} ({service}) :" if author else f"{service} :"


def message_text(message: Dict[str, Any]) -> str:
    text = str(message.get("text") or "").strip()
    label = counsellor_label(message)
    if label and text:
        return f"{label} {text}"
    return text


def buttons_of(message: Dict[str, Any]) -> List[Dict[str, str]]:
    raw = message.get("buttons") or message.get("quick_replies") or []
    out = []
    for b in raw:
        if isinstance(b, dict) and b.get("payload") is not None:
            out.append({"title": str(b.get("title") or b.get("payload")), "payload": str(b["payload"])})
    return out


def numbered(buttons: List[Dict[str, str]]) -> str:
    return "\n".join(f"{i}. {b['title']}" for i, b in enumerate(buttons, 1))


def is_person_message(message: Dict[str, Any]) -> bool:
    return message.get("sender") in ("counsellor", "system")


# ---------------------------------------------------------------- the way in

def offered_buttons(tracker: Any) -> List[Dict[str, str]]:
    """The buttons of the bot's latest message (title and payload)."""
    if tracker is None:
        return []
    for event in reversed(tracker.events):
        if isinstance(event, BotUttered):
            return buttons_of(event.data or {})
    return []


_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
_INDEX_PAYLOAD = re.compile(r"^#\d{1,2}$")


def chosen_payload(text: str, buttons: List[Dict[str, str]]) -> Optional[str]:
    """"2", "2." or a button's own words -> that button's payload."""
    if not buttons or not text:
        return None
    match = _NUMBER.match(text)
    if match:
        index = int(match.group(1))
        return buttons[index - 1]["payload"] if 1 <= index <= len(buttons) else None
    from bot.safety.normalize import fold

    wanted = " ".join(fold(text).split())
    for button in buttons:
        if wanted and wanted == " ".join(fold(button["title"]).split()):
            return button["payload"]
    return None


async def read_buttons(agent: Any, conversation: str) -> List[Dict[str, str]]:
    try:
        tracker = await agent.tracker_store.retrieve(conversation)
    except Exception:
        logger.exception("Could not read the tracker to match an answer to the options")
        return []
    return offered_buttons(tracker)


class MessagingOutput(OutputChannel):
    """Base of the three output channels.

    `strict` output channels (the ones Rasa gets from `get_output_channel()`, used to
    push a counsellor's message or the joined/closed messages) raise `DeliveryFailed`
    when the platform did not take the message, so that Rasa answers the desk with an
    error and the desk marks the message undelivered. During a user's turn, a failed
    delivery is logged and the turn goes on (the bot never crashes on a platform error).
    """

    channel = ""  # conversation-id prefix, e.g. "telegram"

    def __init__(self, client: PlatformClient, book: RecipientBook, strict: bool = False) -> None:
        self.client = client
        self.book = book
        self.strict = strict
        self.sent = 0

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        text = message_text(message)
        buttons = buttons_of(message)
        if not text and not buttons:
            return  # images, attachments and custom payloads are never sent here
        self.sent += 1
        try:
            entry = self.book.lookup(recipient_id)
            if entry is None:
                raise DeliveryFailed(
                    f"{self.channel}: this user's address is not known to this Rasa process "
                    "(it restarted since the user's last message); the user has to write again"
                )
            platform_id, last_inbound = entry
            await self.deliver(platform_id, text, buttons, message, time.time() - last_inbound)
        except DeliveryFailed as exc:
            logger.warning("%s: a message was not delivered: %s", self.channel, exc)
            if self.strict:
                raise
        except Exception as exc:
            logger.exception("%s: unexpected error while sending a message", self.channel)
            if self.strict:
                raise DeliveryFailed(f"{self.channel}: unexpected error ({type(exc).__name__})") from None

    async def deliver(self, platform_id: str, text: str, buttons: List[Dict[str, str]], message: Dict[str, Any],
                      since_user: float) -> None:
        raise NotImplementedError

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text, "buttons": buttons})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        logger.info("Images are never sent on this channel")

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:  # type: ignore[override]
        logger.info("Attachments are never sent on this channel")

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        logger.info("Custom payloads are never sent on this channel")


class Inbound:
    """One user message as the channel read it, before it reaches the bot."""

    def __init__(self, platform_id: str, text: str = "", payload: Optional[str] = None, media: bool = False,
                 message_key: str = "") -> None:
        self.platform_id = platform_id
        self.text = text
        self.payload = payload
        self.media = media
        self.message_key = message_key


class MessagingInput(InputChannel):
    """Base of the three input channels: ids, order, guard, media, background turns."""

    channel = ""  # conversation-id prefix and metadata value
    output_class: Any = MessagingOutput
    match_typed_choices = False  # "1"/"2" or the words pick an option (WhatsApp, Messenger's numbered lists)

    def __init__(self, client: PlatformClient) -> None:
        self.client = client
        self.book = RecipientBook()
        self.seen = SeenIds()
        self.slowed = SeenIds()  # conversations told to slow down, per minute
        self._secret = id_secret()
        self._locks: Dict[str, asyncio.Lock] = {}
        self._pending: Dict[str, int] = {}  # turns started and not finished, per conversation
        self._tasks: Set[asyncio.Task] = set()
        self._app: Any = None

    # -- Rasa asks for this to push a counsellor's message through the user's channel
    def get_output_channel(self) -> Optional[OutputChannel]:
        return self.output_class(self.client, self.book, strict=True)

    def conversation_of(self, platform_id: str) -> str:
        return conversation_id(self.channel, platform_id, self._secret)

    def agent(self) -> Any:
        return getattr(getattr(self._app, "ctx", None), "agent", None)

    def remember_app(self, app: Any) -> None:
        self._app = app

    def webhook_blueprint(self) -> Blueprint:
        """The channel's blueprint, with what every messaging channel needs: the app
        (for the agent), a clean stop (turns finished, HTTP client closed), and a
        health route. Each channel adds its own `/webhook` route(s)."""
        webhook = Blueprint(f"project_{self.name()}_webhook", type(self).__module__)
        webhook.listener("main_process_start")(apply_server_limits)
        channel = self

        @webhook.listener("after_server_start")
        async def remember(app: Any, _loop: Any) -> None:
            channel.remember_app(app)

        @webhook.listener("before_server_stop")
        async def stop(_app: Any, _loop: Any) -> None:
            await channel.wait_idle()
            await channel.client.close()

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        return webhook

    def start_turns(self, items: List[Inbound], on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Take the messages now; answer them in the background, in order per conversation."""
        for item in items:
            if not self.seen.first_time(item.message_key):
                continue  # the platform sent it again (a retry): answered already
            conversation = self.conversation_of(item.platform_id)
            self.book.remember(conversation, item.platform_id)
            lock = self._locks.setdefault(conversation, asyncio.Lock())
            self._pending[conversation] = self._pending.get(conversation, 0) + 1
            task = asyncio.get_running_loop().create_task(self._turn(lock, conversation, item, on_new_message))
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s: a turn failed: %s", self.channel, type(task.exception()).__name__)

    async def _turn(self, lock: asyncio.Lock, conversation: str, item: Inbound,
                    on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        try:
            async with lock:
                await self._answer(conversation, item, on_new_message)
        finally:
            left = self._pending.get(conversation, 1) - 1
            if left <= 0:  # nobody waits on this conversation's lock: forget it
                self._pending.pop(conversation, None)
                self._locks.pop(conversation, None)
            else:
                self._pending[conversation] = left

    async def _answer(self, conversation: str, item: Inbound,
                      on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        agent = self.agent()
        output = self.output_class(self.client, self.book, strict=False)
        if item.media:
            await self.send_no_images(agent, conversation, output)
            if not (item.text or "").strip():
                return
        text = item.payload if item.payload is not None else item.text
        if item.payload is not None and _INDEX_PAYLOAD.match(item.payload) and agent is not None:
            # a button whose payload was too long for the platform carries its number instead
            text = chosen_payload(item.payload[1:], await read_buttons(agent, conversation)) or ""
        if item.payload is None and self.match_typed_choices and agent is not None:
            picked = chosen_payload(text, await read_buttons(agent, conversation))
            if picked is not None:
                text = picked
        text = bounded_text(text)
        if shared_limits().message(conversation, None) and not is_crisis(text):
            # The platform was answered 2xx already (it would retry otherwise): the message is
            # dropped, and the person is asked once per minute to slow down.
            logger.info("%s: a message was dropped: conversation rate limit", self.channel)
            if self.slowed.first_time(f"{conversation}:{int(time.time() // 60)}"):
                await output.send_response(conversation, {"text": SLOW_DOWN_MESSAGING["en" if await self._english(agent, conversation) else "fr"]})
            return
        text = await neutralise_intent_syntax(text, conversation, agent)
        metadata = {"channel": self.channel}
        await handle_safely(
            agent, on_new_message, UserMessage(text, output, conversation, input_channel=self.name(), metadata=metadata)
        )

    @staticmethod
    async def _english(agent: Any, conversation: str) -> bool:
        try:
            tracker = await agent.tracker_store.retrieve(conversation) if agent is not None else None
            return tracker is not None and tracker.get_slot("language") == "en"
        except Exception:
            return False

    async def send_no_images(self, agent: Any, conversation: str, output: MessagingOutput) -> None:
        slots: Dict[str, Any] = {}
        try:
            tracker = await agent.tracker_store.retrieve(conversation) if agent is not None else None
            slots = tracker.current_slot_values() if tracker is not None else {}
        except Exception:
            logger.exception("Could not read the tracker for the no-images answer")
        message = None
        nlg = getattr(agent, "nlg", None)
        try:
            message = nlg.render(NO_IMAGES_RESPONSE, slots) if hasattr(nlg, "render") else None
        except Exception:
            logger.exception("Could not render the no-images answer")
        if not message or not message.get("text"):
            message = {"text": NO_IMAGES_FALLBACK["en" if slots.get("language") == "en" else "fr"]}
        await output.send_response(conversation, {"text": message["text"]})

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait for the background turns (used when the server stops)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
