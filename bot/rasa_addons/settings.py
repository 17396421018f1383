"""The Rasa service's settings, read from the environment with safe defaults: the code that
runs inside Rasa reads its configuration here (HANDOFF_DB excepted, read by the handoff
registry). A malformed value falls back to its default with a warning, never to "no
limit": a typo must not open the door.

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
  SOCKETIO_CORS_ORIGINS             the widget's own origins (never "any"; "*" is refused)
  RASA_INTERNAL_NETWORKS            127.0.0.0/8,::1/128: who reaches Rasa's HTTP API beyond the channels
  DESK_COMMANDS_TOKEN               unset  bearer token of the desk's commands (/webhooks/desk_commands/);
                                           unset: every command is refused (401)
  HANDOFF_CRISIS_GRACE_SECONDS      60     a crisis typed while a counsellor has the conversation: the
                                           emergency answer follows if no counsellor answers within this
                                           (the desk's countdown reads the same variable)

Retention (RetentionSettings, README "Privacy"):
  DESK_RETENTION_DAYS               30     closed handoffs, and open ones untouched this long, are forgotten
  OUTBOX_MAX_AGE_HOURS              168    an event the desk has not taken after this long leaves the outbox
  REPLAY_MAX_AGE_HOURS              24     the socket.io channel keeps a sent message this long for replay
  HOUSEKEEPING_INTERVAL_SECONDS     3600   how often the Rasa process applies these and compacts its
                                           SQLite files (secure_delete, VACUUM, WAL truncated)
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, FrozenSet, Iterable, List, Mapping, Optional, Union

# The web widget's own pages in `make run` (WIDGET_PORT's default): the only origins allowed
# on the socket.io channel when SOCKETIO_CORS_ORIGINS is not set.
DEFAULT_WIDGET_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")


def socketio_cors_origins(configured: Union[None, str, Iterable[str]] = None,
                          env: Optional[Mapping[str, str]] = None) -> List[str]:
    """Page origins allowed to open the socket.io channel: `configured` (the channel's
    `cors_allowed_origins` in credentials.yml) if given, else SOCKETIO_CORS_ORIGINS
    (comma-separated), else the widget's own. Never "any": python-engineio reads an empty
    list as "no check" and "*" as every site, so neither can come out of here."""
    env = os.environ if env is None else env
    if configured is None or configured == [] or configured == "":
        configured = env.get("SOCKETIO_CORS_ORIGINS") or ""
    if isinstance(configured, str):
        configured = configured.split(",")
    origins = [o.strip().rstrip("/") for o in configured if o and o.strip()]
    if any(o == "*" for o in origins):
        raise ValueError("SOCKETIO_CORS_ORIGINS: '*' would let any site open conversations in the name of the "
                         "helpline; list the pages' origins (https://www.example.org,https://example.org)")
    return origins or list(DEFAULT_WIDGET_ORIGINS)


DEFAULT_INTERNAL_NETWORKS = "127.0.0.0/8,::1/128"


def internal_networks(env: Optional[Mapping[str, str]] = None) -> List[Any]:
    """RASA_INTERNAL_NETWORKS: addresses (CIDR, comma-separated) whose requests may use Rasa's
    HTTP API (the desk's tracker reads) and the desk's commands channel; default this machine only."""
    import ipaddress

    env = os.environ if env is None else env
    raw = env.get("RASA_INTERNAL_NETWORKS") or DEFAULT_INTERNAL_NETWORKS
    try:
        return [ipaddress.ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip()]
    except ValueError as error:
        raise ValueError(f"RASA_INTERNAL_NETWORKS: {error}") from None


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


@dataclass(frozen=True)
class HandoffSettings:
    desk_commands_token: str = ""
    crisis_grace_seconds: float = 60.0

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "HandoffSettings":
        env = os.environ if env is None else env
        return cls(
            desk_commands_token=env.get("DESK_COMMANDS_TOKEN") or "",
            crisis_grace_seconds=float(_int(env, "HANDOFF_CRISIS_GRACE_SECONDS", 60, 0)),
        )


def handoff_settings() -> HandoffSettings:
    """Read at each call (cheap): the tests start several stacks with different values."""
    return HandoffSettings.from_env()


@dataclass(frozen=True)
class RetentionSettings:
    """How long the Rasa process keeps what it holds outside the tracker store (whose own
    retention the desk applies: DESK_RETENTION_DAYS)."""
    retention_days: int = 30
    outbox_max_age_hours: int = 168
    replay_max_age_hours: int = 24
    housekeeping_interval_seconds: int = 3600

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "RetentionSettings":
        env = os.environ if env is None else env
        return cls(
            retention_days=_int(env, "DESK_RETENTION_DAYS", 30, 1),
            outbox_max_age_hours=_int(env, "OUTBOX_MAX_AGE_HOURS", 168, 1),
            replay_max_age_hours=_int(env, "REPLAY_MAX_AGE_HOURS", 24, 1),
            housekeeping_interval_seconds=_int(env, "HOUSEKEEPING_INTERVAL_SECONDS", 3600, 1),
        )


def retention() -> RetentionSettings:
    """Read each time (cheap, and the tests change the environment between cases)."""
    return RetentionSettings.from_env()
