"""The Rasa service's settings for the channels: read from the environment once, with safe defaults.

Every limit of the input channels is here (README, "Limits"). A malformed value falls back to
its default with a warning, never to "no limit": a typo must not open the door.

  ENABLE_REST_CHANNEL               false  the REST channel (`/webhooks/rest/webhook`, development and
                                           tests only) answers only when "true"
  MAX_BODY_BYTES                    65536  a request body (HTTP, socket.io polling) or websocket frame
                                           above this is refused (413, or the socket closed)
  MAX_MESSAGE_CHARS                 4000   a message's text is cut to this many characters
  RATE_CONVERSATION_MESSAGES        20     messages one conversation may send ...
  RATE_CONVERSATION_SECONDS         60     ... within this many seconds
  RATE_ADDRESS_MESSAGES             600    messages one client address may send (all its conversations) ...
  RATE_ADDRESS_SECONDS              60     ... within this many seconds (schools share one address)
  NEW_CASES_PER_ADDRESS_PER_MINUTE  5      cases one client address may open per channel per minute;
                                           beyond, no case is opened and the supervisors are alerted
  TRUSTED_PROXIES                   unset  addresses of the reverse proxies (comma-separated) whose
                                           X-Forwarded-For is believed; otherwise the peer's address counts
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import FrozenSet, Mapping, Optional

logger = logging.getLogger(__name__)


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        logger.warning("%s is not a whole number; using %d", name, default)
        return default
    if value < minimum:
        logger.warning("%s must be at least %d; using %d", name, minimum, default)
        return default
    return value


def _bool(env: Mapping[str, str], name: str) -> bool:
    return (env.get(name) or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class ChannelSettings:
    enable_rest_channel: bool = False
    max_body_bytes: int = 64 * 1024
    max_message_chars: int = 4000
    rate_conversation_messages: int = 20
    rate_conversation_seconds: int = 60
    rate_address_messages: int = 600
    rate_address_seconds: int = 60
    new_cases_per_address_per_minute: int = 5
    trusted_proxies: FrozenSet[str] = frozenset()

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "ChannelSettings":
        env = os.environ if env is None else env
        return cls(
            enable_rest_channel=_bool(env, "ENABLE_REST_CHANNEL"),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 64 * 1024, 1024),
            max_message_chars=_int(env, "MAX_MESSAGE_CHARS", 4000, 100),
            rate_conversation_messages=_int(env, "RATE_CONVERSATION_MESSAGES", 20, 1),
            rate_conversation_seconds=_int(env, "RATE_CONVERSATION_SECONDS", 60, 1),
            rate_address_messages=_int(env, "RATE_ADDRESS_MESSAGES", 600, 1),
            rate_address_seconds=_int(env, "RATE_ADDRESS_SECONDS", 60, 1),
            new_cases_per_address_per_minute=_int(env, "NEW_CASES_PER_ADDRESS_PER_MINUTE", 5, 1),
            trusted_proxies=frozenset(p.strip() for p in (env.get("TRUSTED_PROXIES") or "").split(",") if p.strip()),
        )


_current: Optional[ChannelSettings] = None


def settings() -> ChannelSettings:
    """The process's settings, read from the environment the first time."""
    global _current
    if _current is None:
        _current = ChannelSettings.from_env()
    return _current
