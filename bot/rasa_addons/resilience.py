"""Action-server calls that give up in seconds, and a record of what failed.

Rasa 3.6 waits up to 300 s for the action server and, when an action fails, logs
it and drops its events: the user gets silence. Here every call is bounded
(ACTION_SERVER_TIMEOUT, 3 s by default), a server that just failed is not waited
for again for a few seconds (circuit breaker), and every failure is written in the
current turn's record, which the channel reads to add the safety answer (helpline
and emergency numbers). No installed file is patched: the agent's endpoint object
is replaced by this subclass when a channel first handles a message.
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import time
from typing import Any, List, Optional

import aiohttp
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

TURN_FAILURES: contextvars.ContextVar[Optional[List[str]]] = contextvars.ContextVar("turn_failures", default=None)


def _timeout() -> float:
    return float(os.environ.get("ACTION_SERVER_TIMEOUT", "3"))


class BoundedEndpointConfig(EndpointConfig):
    cooldown_seconds = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._down_until = 0.0

    @classmethod
    def wrap(cls, config: EndpointConfig) -> "BoundedEndpointConfig":
        bounded = cls(
            config.url, config.params, config.headers, config.basic_auth, config.token, config.token_name,
            config.cafile, **config.kwargs,
        )
        bounded.type = config.type
        return bounded

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() < self._down_until:
            _record("action server unavailable (circuit open)")
            raise aiohttp.ClientConnectionError("action server recently failed; not waiting for it")
        try:
            result = await asyncio.wait_for(super().request(*args, **kwargs), timeout=_timeout())
        except asyncio.TimeoutError:
            self._trip("timeout")
            raise aiohttp.ServerTimeoutError(f"action server did not answer within {_timeout():.0f} s") from None
        except aiohttp.ClientResponseError as exc:
            if exc.status >= 500:
                self._trip(f"HTTP {exc.status}")
            elif exc.status != 400:  # 400 is a form's normal "rejection"
                _record(f"HTTP {exc.status}")
            raise
        except aiohttp.ClientError as exc:
            self._trip(exc.__class__.__name__)
            raise
        self._down_until = 0.0
        return result

    def _trip(self, reason: str) -> None:
        self._down_until = time.monotonic() + self.cooldown_seconds
        _record(reason)
        logger.error("Action server call failed (%s); answering with the safety message", reason)


def _record(reason: str) -> None:
    failures = TURN_FAILURES.get()
    if failures is not None:
        failures.append(reason)


def bound_action_endpoint(agent: Any) -> None:
    """Make the agent's action calls bounded (idempotent, cheap enough for every message)."""
    for owner in (agent, getattr(agent, "processor", None)):
        endpoint = getattr(owner, "action_endpoint", None) if owner is not None else None
        if endpoint is not None and not isinstance(endpoint, BoundedEndpointConfig):
            owner.action_endpoint = BoundedEndpointConfig.wrap(endpoint)
