"""The socket.io channel (the web widget's), with the project's guard and three fixes.

Rasa 3.6's own channel loses every reply with `session_persistence` and
python-socketio >= 5.10, because it does not await `enter_room` (RasaHQ/rasa#13027).
This class is written for the project rather than patched into the installed package:

- `enter_room` is awaited, so replies and pushed messages reach the session's room;
- session ids are created by the server, with a signed token: a client can resume
  its own session (page reload, dropped connection) but cannot pick another one;
- every message sent to a session gets a sequence number and is kept for a while, so
  messages sent while the socket was disconnected (a counsellor's reply, say) are
  delivered on reconnect, once: the client says the last number it has seen.

Limits (README, "Limits"; `limits.py`): the session id is recorded as this channel's
conversation when the server makes it; packets over MAX_BODY_BYTES are refused (413 on
long-polling, the websocket closed); only the `language` metadata key is kept; a session or a
client address writing faster than the rates gets a calm `bot_uttered` message instead of an
answer (socket.io has no 429), unless the message may be a crisis.

Counsellor messages (docs/handoff.md) carry `sender: "counsellor"` and the
counsellor's first name in `author`, so the widget can label them as from a person.
The kept messages live in this process's memory: one Rasa instance serves the
socket.io channel (Rasa cannot recreate this output channel on another instance).

Events: client -> server `session_request` {session_id?, session_token?, last_seq?},
`user_uttered` {message, metadata?}, `quick_exit` {}; server -> client
`session_confirm` {session_id, session_token}, `bot_uttered` {text, seq, sender
("bot"/"counsellor"/"system"), author? (counsellor's first name), notice?
("person_joined"/"person_left"), quick_replies? [{title, payload}]}; `session_required`
when a message comes before `session_request`.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import time
import uuid
import weakref
from collections import OrderedDict, deque
from typing import Any, Awaitable, Callable, Deque, Dict, List, Optional, Text, Tuple

from rasa.core.channels.channel import UserMessage, decode_bearer_token
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.rasa_addons.channels.guard import handle_safely, neutralise_intent_syntax
from bot.rasa_addons.channels.limits import (
    apply_server_limits, bounded_text, client_address, client_metadata, is_crisis, record_owner, shared_limits,
)
from bot.rasa_addons.settings import retention, settings, socketio_cors_origins

logger = logging.getLogger(__name__)

KEEP_PER_SESSION = 200
KEEP_SESSIONS = 10000
KEEP_SECONDS = 24 * 3600  # the default of REPLAY_MAX_AGE_HOURS (bot/rasa_addons/settings.py)
PERSON_SENDERS = ("counsellor", "system")
# Bot messages that mark a person joining or leaving the conversation (for the widget's notice).
NOTICES = {"utter_handoff_joined": "person_joined", "utter_handoff_closed": "person_left"}


# Sent instead of an answer when a session writes faster than the limits allow.
SLOW_DOWN = {
    "fr": "Je reçois beaucoup de messages d'un coup. Prends ton temps : attends un petit moment avant d'écrire "
    "la suite. Si tu es en danger, appelle le 17 ou le 112 ; idées noires : 3114.",
    "en": "I'm getting a lot of messages at once. Take your time: wait a moment before writing the rest. "
    "If you are in danger, call 17 or 112; dark thoughts: 3114.",
}


# Every replay buffer of this process, so that an erasure and the hourly housekeeping reach
# them (bot/rasa_addons/erasure.py); weak, so a discarded channel is not kept alive.
REPLAY_BUFFERS: "weakref.WeakSet[SessionOutbox]" = weakref.WeakSet()


class SessionOutbox:
    """The recent messages of each session, numbered, for delivery on reconnect; a message
    older than `seconds` is dropped (they hold what the bot and the counsellors wrote)."""

    def __init__(self, per_session: int = KEEP_PER_SESSION, sessions: int = KEEP_SESSIONS,
                 seconds: Optional[float] = None) -> None:
        self.per_session = per_session
        self.sessions = sessions
        self.seconds = seconds if seconds is not None else retention().replay_max_age_hours * 3600.0
        self._data: "OrderedDict[str, Tuple[int, Deque[Tuple[int, float, Dict[str, Any]]]]]" = OrderedDict()
        REPLAY_BUFFERS.add(self)

    def evict_old(self, now: Optional[float] = None) -> int:
        """Drop the messages older than `seconds`. Each session keeps its counter (a number,
        no text): the widget ignores a number it has already seen, so numbering must go on."""
        oldest = (now if now is not None else time.time()) - self.seconds
        dropped = 0
        for _seq, kept in self._data.values():
            while kept and kept[0][1] < oldest:
                kept.popleft()
                dropped += 1
        return dropped

    def erase(self, session_id: str) -> int:
        """Drop every kept message of one session (an erasure), keeping its counter as above."""
        entry = self._data.get(session_id)
        if entry is None:
            return 0
        dropped = len(entry[1])
        entry[1].clear()
        return dropped

    def add(self, session_id: str, message: Dict[str, Any]) -> Dict[str, Any]:
        seq, kept = self._data.pop(session_id, (0, deque(maxlen=self.per_session)))
        seq += 1
        numbered = dict(message, seq=seq)
        kept.append((seq, time.time(), numbered))
        self._data[session_id] = (seq, kept)
        while len(self._data) > self.sessions:
            self._data.popitem(last=False)
        return numbered

    def after(self, session_id: str, last_seq: int) -> List[Dict[str, Any]]:
        entry = self._data.get(session_id)
        if entry is None:
            return []
        oldest = time.time() - self.seconds
        return [message for seq, at, message in entry[1] if seq > last_seq and at >= oldest]

    def forget(self, session_id: str) -> None:
        self._data.pop(session_id, None)


class OutboxOutput(SocketIOOutput):
    """Sends to the session's room and keeps a numbered copy."""

    def __init__(self, sio: AsyncServer, bot_message_evt: Text, outbox: SessionOutbox) -> None:
        super().__init__(sio, bot_message_evt)
        self.outbox = outbox
        self.sent = 0

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    async def emit(self, session_id: Text, payload: Dict[str, Any]) -> None:
        numbered = self.outbox.add(session_id, payload)
        self.sent += 1
        await self.sio.emit(self.bot_message_evt, numbered, room=session_id)

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        sender = message.get("sender") if message.get("sender") in PERSON_SENDERS else "bot"
        payload: Dict[str, Any] = {"text": message.get("text") or "", "sender": sender}
        if sender in PERSON_SENDERS and message.get("author"):
            payload["author"] = str(message["author"])[:40]
        if message.get("utter_action") in NOTICES:
            payload["notice"] = NOTICES[message["utter_action"]]
        buttons = message.get("buttons") or message.get("quick_replies") or []
        if buttons:
            payload["quick_replies"] = [
                {"content_type": "text", "title": b.get("title"), "payload": b.get("payload")}
                for b in buttons if isinstance(b, dict)
            ]
        if message.get("custom"):
            payload["custom"] = message["custom"]
        if payload["text"] or buttons or payload.get("custom"):
            await self.emit(recipient_id, payload)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text, "buttons": buttons})

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"custom": json_message})

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        logger.warning("Images are never sent on this channel")

    async def send_attachment(self, recipient_id: Text, attachment: Any, **kwargs: Any) -> None:  # type: ignore[override]
        logger.warning("Attachments are never sent on this channel")


class SafeSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> Text:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "SafeSocketIOInput":
        credentials = credentials or {}
        origins = socketio_cors_origins(credentials.get("cors_allowed_origins"))  # never "any"
        channel = cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            True,  # sessions are always persistent here
            credentials.get("socketio_path", "/socket.io"),
            credentials.get("jwt_key"),
            credentials.get("jwt_method", "HS256"),
            credentials.get("metadata_key", "metadata"),
        )
        channel.cors_allowed_origins = origins
        return channel

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cors_allowed_origins: List[str] = socketio_cors_origins()
        self.outbox = SessionOutbox()
        secret = os.environ.get("SOCKETIO_SESSION_SECRET")
        if not secret:
            # Sessions then survive page reloads and dropped connections, not a Rasa restart.
            secret = secrets.token_hex(32)
        self._secret = secret.encode()
        self._sessions: Dict[str, str] = {}  # socket id -> session id
        self._addresses: Dict[str, str] = {}  # socket id -> client address (for the rate limits)
        self._app: Any = None

    def session_token(self, session_id: str) -> str:
        return hmac.new(self._secret, session_id.encode(), hashlib.sha256).hexdigest()

    def valid_session(self, session_id: Any, token: Any) -> bool:
        return (
            isinstance(session_id, str) and isinstance(token, str) and 0 < len(session_id) <= 64
            and hmac.compare_digest(self.session_token(session_id), token)
        )

    def get_output_channel(self) -> Optional[OutboxOutput]:
        if self.sio is None:
            return None
        return OutboxOutput(self.sio, self.bot_message_evt, self.outbox)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=socketio_cors_origins(self.cors_allowed_origins),
                          max_http_buffer_size=settings().max_body_bytes)
        webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        webhook.listener("main_process_start")(apply_server_limits)
        self.sio = sio
        channel = self

        @webhook.listener("after_server_start")
        async def remember_app(app: Any, _loop: Any) -> None:
            channel._app = app

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict]) -> bool:
            if self.jwt_key:
                token = auth.get("token") if isinstance(auth, dict) else None
                if not (token and decode_bearer_token(token, self.jwt_key, self.jwt_algorithm)):
                    return False
            request = environ.get("sanic.request")
            self._addresses[sid] = client_address(getattr(request, "ip", None), environ.get("HTTP_X_FORWARDED_FOR"),
                                                  settings().trusted_proxies)
            return True

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: Text) -> None:
            self._sessions.pop(sid, None)
            self._addresses.pop(sid, None)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id")
            if not self.valid_session(session_id, data.get("session_token")):
                session_id = uuid.uuid4().hex  # a new conversation; never one the client names
                record_owner(session_id, self.name())
            await sio.enter_room(sid, session_id, namespace=self.namespace)
            self._sessions[sid] = session_id
            await sio.emit(
                "session_confirm",
                {"session_id": session_id, "session_token": self.session_token(session_id)},
                room=sid,
                namespace=self.namespace,
            )
            try:
                last_seq = int(data.get("last_seq") or 0)
            except (TypeError, ValueError):
                last_seq = 0
            for message in self.outbox.after(session_id, last_seq):
                await sio.emit(self.bot_message_evt, message, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            session_id = self._sessions.get(sid)
            if session_id is None:
                await sio.emit("session_required", {}, room=sid, namespace=self.namespace)
                return
            data = data if isinstance(data, dict) else {}
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            metadata = client_metadata(metadata)
            agent = getattr(getattr(self._app, "ctx", None), "agent", None)
            message = bounded_text(data.get("message"))
            output = OutboxOutput(sio, self.bot_message_evt, self.outbox)
            if shared_limits().message(session_id, self._addresses.get(sid)) and not is_crisis(message):
                # socket.io has no 429: a calm message instead, not kept in the conversation
                await output.send_response(session_id, {"text": SLOW_DOWN["en" if metadata.get("language") == "en" else "fr"]})
                return
            text = await neutralise_intent_syntax(message, session_id, agent)
            await handle_safely(
                agent, on_new_message, UserMessage(text, output, session_id, input_channel=self.name(), metadata=metadata),
                address=self._addresses.get(sid),
            )

        @sio.on("quick_exit", namespace=self.namespace)
        async def quick_exit(sid: Text, _data: Any = None) -> None:
            """The person left with the quick-exit button: tell the desk, forget the kept messages."""
            session_id = self._sessions.pop(sid, None)
            if session_id is None:
                return
            self.outbox.forget(session_id)
            await self.mark_left(session_id)
            await sio.leave_room(sid, session_id, namespace=self.namespace)

        return webhook

    async def mark_left(self, session_id: str) -> None:
        from rasa.shared.core.events import SlotSet

        agent = getattr(getattr(self._app, "ctx", None), "agent", None)
        if agent is None or agent.processor is None:
            return
        try:
            tracker = await agent.processor.fetch_tracker_with_initial_session(session_id)
            tracker.update(SlotSet("user_left", True))
            await agent.processor.save_tracker(tracker)
        except Exception:
            logger.exception("Could not record a quick exit")
