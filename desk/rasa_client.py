"""Desk → Rasa calls, exactly as in docs/handoff.md. Any failure raises RasaUnavailable.

Two doors: Rasa's HTTP API (RASA_API_TOKEN) to read a conversation's tracker (the case's
context), and the project's commands channel (DESK_COMMANDS_TOKEN) for every change. The
commands come from the outbox (desk/commands.py), never straight from a request; Rasa sends
their messages through the channel that owns the conversation (its handoff registry knows it)."""
from __future__ import annotations

import logging
from typing import Any, Dict, Optional
from urllib.parse import quote

import aiohttp

log = logging.getLogger("desk.rasa")


class RasaUnavailable(Exception):
    """Not reachable, not ready, or not applied: retried."""


class CommandRefused(Exception):
    """Rasa says the command itself is wrong (4xx): retrying cannot help."""


# 401/403: a token or network set-up being fixed; 404: a Rasa without the commands channel yet
# (an upgrade under way); 408/429: try later. Retried, not set aside.
RETRYABLE_4XX = {401, 403, 404, 408, 429}


class RasaClient:
    def __init__(self, base_url: str, token: str, commands_token: str = "", timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.commands_token = commands_token
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: Optional[aiohttp.ClientSession] = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def tracker(self, conversation_id: str) -> Dict[str, Any]:
        url = f"{self.base_url}/conversations/{quote(conversation_id, safe='')}/tracker"
        try:
            async with self.session.get(url, params={"token": self.token}) as response:
                if response.status >= 300:
                    raise RasaUnavailable(f"HTTP {response.status}")
                data = await response.json() if response.content_type == "application/json" else None
        except RasaUnavailable:
            raise
        except Exception as exc:  # unreachable, timeout (asyncio.TimeoutError is no TimeoutError on 3.10)
            raise RasaUnavailable(type(exc).__name__) from exc
        if not isinstance(data, dict):
            raise RasaUnavailable("tracker is not a JSON object")
        return data

    async def command(self, command: Dict[str, Any]) -> None:
        """One command to Rasa's commands channel. Rasa answers 200 when it applied the
        command or had already applied it; another 4xx means the command itself is wrong."""
        url = f"{self.base_url}/webhooks/desk_commands/command"
        try:
            async with self.session.post(url, json=command, headers=self._bearer()) as response:
                if 400 <= response.status < 500 and response.status not in RETRYABLE_4XX:
                    raise CommandRefused(f"HTTP {response.status}")
                if response.status >= 300:
                    raise RasaUnavailable(f"HTTP {response.status}")
        except (CommandRefused, RasaUnavailable):
            raise
        except Exception as exc:
            raise RasaUnavailable(type(exc).__name__) from exc

    async def status(self, conversation_id: str) -> Dict[str, Any]:
        """What Rasa holds for the conversation: {"status": ..., "last_seq": ...}."""
        url = f"{self.base_url}/webhooks/desk_commands/status/{quote(conversation_id, safe='')}"
        try:
            async with self.session.get(url, headers=self._bearer()) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"HTTP {response.status}")
                data = await response.json()
        except RasaUnavailable:
            raise
        except Exception as exc:
            raise RasaUnavailable(type(exc).__name__) from exc
        if not isinstance(data, dict):
            raise RasaUnavailable("status is not a JSON object")
        return data

    def _bearer(self) -> Dict[str, str]:
        return {"Authorization": f"Bearer {self.commands_token}"}
