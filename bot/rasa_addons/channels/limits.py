"""What every input channel enforces before a message reaches the assistant (README, "Limits").

- Which channel may write to a conversation: the one that owns it (recorded in the handoff
  registry when the conversation starts). The REST channel (development and tests) can never
  address a socket.io or messaging conversation, even one started before owners were recorded.
- Sizes: request bodies and websocket frames above `MAX_BODY_BYTES` are refused by the server
  (Sanic's REQUEST_MAX_SIZE and WEBSOCKET_MAX_SIZE, set here before it starts; engineio's
  max_http_buffer_size in the socket.io channel); a message's text is cut to
  `MAX_MESSAGE_CHARS`; only the client metadata keys the assistant reads are kept.
- Rates: per conversation first, then per client address (the forwarded address when the
  peer is a trusted proxy). A limited message that the crisis lexicon recognises goes through
  all the same: a limit never holds back the emergency answer.
- New cases: at most `NEW_CASES_PER_ADDRESS_PER_MINUTE` per client address and channel.
"""
from __future__ import annotations

import contextvars
import logging
import re
import threading
import time
from collections import OrderedDict, deque
from typing import Any, Deque, Dict, Iterable, Optional

from bot.rasa_addons.settings import ChannelSettings, settings

logger = logging.getLogger(__name__)

# Client metadata keys the assistant reads; every other key a client sends is dropped.
CLIENT_METADATA_KEYS = ("language",)
LANGUAGES = ("fr", "en")

# Conversation ids the channels make themselves: socket.io (uuid4 hex, made by the server) and
# the messaging channels (`<prefix>-<hash>`), with the Rasa channel that owns them.
_SOCKETIO_ID = re.compile(r"^[0-9a-f]{32}$")
_MESSAGING_ID = re.compile(r"^(telegram|messenger|whatsapp)-[0-9a-f]{32}$")
MESSAGING_OWNERS = {"telegram": "telegram", "messenger": "facebook", "whatsapp": "twilio"}
REST = "rest"


def client_metadata(raw: Any) -> Dict[str, Any]:
    """The keys of a client's metadata that the assistant reads, with sane values; nothing else."""
    if not isinstance(raw, dict):
        return {}
    kept: Dict[str, Any] = {}
    language = raw.get("language")
    if isinstance(language, str) and language in LANGUAGES:
        kept["language"] = language
    return kept


def bounded_text(text: Any) -> str:
    return str(text or "")[: settings().max_message_chars]


# ---------------------------------------------------------------- ownership

def owner_by_shape(conversation_id: str) -> Optional[str]:
    """The channel whose ids look like this one (ids the channels make themselves)."""
    if _SOCKETIO_ID.match(conversation_id):
        return "socketio"
    match = _MESSAGING_ID.match(conversation_id)
    return MESSAGING_OWNERS[match.group(1)] if match else None


async def _owner_in_tracker(agent: Any, conversation_id: str) -> Optional[str]:
    """For conversations started before owners were recorded: the channel of its first message."""
    if agent is None:
        return None
    tracker = await agent.tracker_store.retrieve(conversation_id)
    if tracker is None:
        return None
    for event in tracker.events:
        channel = getattr(event, "input_channel", None)
        if getattr(event, "type_name", "") == "user" and channel:
            return str(channel)
    return None


async def may_write(agent: Any, conversation_id: str, channel: str) -> bool:
    """Whether `channel` may write to the conversation; the first channel to write to it owns it."""
    from bot.rasa_addons.handoff.registry import shared_registry

    try:
        registry = shared_registry()
        owner = registry.owner(conversation_id)
        if owner is None:
            owner = await _owner_in_tracker(agent, conversation_id) or owner_by_shape(conversation_id) or channel
            owner = registry.claim_owner(conversation_id, owner)
    except Exception:
        logger.exception("Could not read the conversation's owner")
        # The REST channel is refused when in doubt; the channels that make their own ids are not
        # (a child is never locked out of their conversation by a database error).
        return channel != REST
    if owner != channel:
        logger.warning("Channel %s refused: the conversation belongs to channel %s", channel, owner)
        return False
    return True


def record_owner(conversation_id: str, channel: str) -> None:
    """A channel made a new conversation id: it owns it from now on."""
    from bot.rasa_addons.handoff.registry import shared_registry

    try:
        shared_registry().claim_owner(conversation_id, channel)
    except Exception:
        logger.exception("Could not record the conversation's owner")


# ---------------------------------------------------------------- client address

def client_address(peer: Optional[str], forwarded_for: Optional[str], trusted: Iterable[str] = ()) -> str:
    """The client's address: the peer's, or, when the peer is a trusted proxy, the last address
    in X-Forwarded-For that is not one of the trusted proxies."""
    peer = (peer or "").strip() or "unknown"
    trusted = set(trusted)
    if peer not in trusted or not forwarded_for:
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if hop not in trusted:
            return hop[:64]
    return peer


# ---------------------------------------------------------------- rates

class SlidingWindow:
    """At most `limit` hits per key within `seconds` (the most recent keys kept, in memory)."""

    def __init__(self, limit: int, seconds: float, keys: int = 100_000) -> None:
        self.limit = limit
        self.seconds = seconds
        self.keys = keys
        self._hits: "OrderedDict[str, Deque[float]]" = OrderedDict()
        self._lock = threading.Lock()

    def full(self, key: str, now: Optional[float] = None) -> bool:
        """Whether a hit now would be refused (nothing is counted)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.get(key)
            return bool(hits) and len([at for at in hits if at > now - self.seconds]) >= self.limit

    def hit(self, key: str, now: Optional[float] = None) -> bool:
        """Count a hit and say whether it is within the limit (a refused hit is not counted)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.pop(key, None) or deque()
            while hits and hits[0] <= now - self.seconds:
                hits.popleft()
            allowed = len(hits) < self.limit
            if allowed:
                hits.append(now)
            self._hits[key] = hits
            while len(self._hits) > self.keys:
                self._hits.popitem(last=False)
            return allowed


class Limits:
    """The message rates and the new-case cap of one Rasa process."""

    def __init__(self, config: Optional[ChannelSettings] = None) -> None:
        config = config or settings()
        self.conversations = SlidingWindow(config.rate_conversation_messages, config.rate_conversation_seconds)
        self.addresses = SlidingWindow(config.rate_address_messages, config.rate_address_seconds)
        self.cases = SlidingWindow(config.new_cases_per_address_per_minute, 60.0)
        self.trusted = config.trusted_proxies

    def message(self, conversation_id: str, address: Optional[str]) -> Optional[str]:
        """None if the message may go on, else which limit it hit ("conversation" or "address")."""
        if not self.conversations.hit(conversation_id):
            return "conversation"
        if address is not None and not self.addresses.hit(address):
            return "address"
        return None


_limits: Optional[Limits] = None

# The client of the turn being handled: (client address, channel), set by the channel guard for
# the duration of a user's turn, read by the event broker when the turn would open a case.
TURN_CLIENT: "contextvars.ContextVar[Optional[Dict[str, Any]]]" = contextvars.ContextVar("turn_client", default=None)
# Metadata key the guard sets (server-side) when the client's new-case cap is reached: the
# action that opens a case then gives the numbers instead (bot/actions/handoff.py).
NEW_CASE_KEY = "new_case"
NEW_CASE_LIMITED = "limited"


def case_key(address: str, channel: str) -> str:
    return f"{address}|{channel}"


def new_case_allowed() -> bool:
    """Called by the event broker when the current turn would open a case: counts it against
    the client's cap (once per turn). Turns without a client (the desk, the HTTP API, the
    messaging channels, whose client is the platform) are never capped."""
    client = TURN_CLIENT.get()
    if client is None or client.get("address") is None:
        return True
    if client.get("case_allowed") is None:
        allowed = shared_limits().cases.hit(case_key(client["address"], client["channel"]))
        client["case_allowed"] = allowed
        if not allowed:
            logger.warning("New-case limit reached for a client address on channel %s: no case opened",
                           client["channel"])
    return bool(client["case_allowed"])


def report_case_limit() -> bool:
    """True the first time in a turn that a refused case is reported."""
    client = TURN_CLIENT.get()
    if client is None or client.get("reported"):
        return False
    client["reported"] = True
    return True


def shared_limits() -> Limits:
    global _limits
    if _limits is None:
        _limits = Limits()
    return _limits


def is_crisis(text: str) -> bool:
    """The crisis lexicon recognises the text (a crisis or a check-in), or the text holds one of
    its signal words (with which the trained classifier's "crisis" is trusted). When the lexicon
    cannot be read, every text counts as one: a limit never holds back the emergency answer."""
    try:
        from bot.content_store import shared_store

        snapshot = shared_store().snapshot()
        lexicon = snapshot.lexicon if snapshot is not None else None
        if lexicon is None or not lexicon.crisis:
            return True
        match, _idiom = lexicon.scan(text)
        return match is not None or lexicon.has_signal(text)
    except Exception:
        logger.exception("Could not read the crisis lexicon for a limited message")
        return True


# ---------------------------------------------------------------- the server's own limits

def apply_server_limits(app: Any, _loop: Any = None) -> None:
    """Sanic's body and websocket frame limits. Run at `main_process_start`: the websocket
    limit is read when the server is built, the body limit for each connection."""
    size = settings().max_body_bytes
    app.config.REQUEST_MAX_SIZE = size
    app.config.WEBSOCKET_MAX_SIZE = size
