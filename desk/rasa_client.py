"""Desk → Rasa calls, exactly as in docs/handoff.md. Any failure raises RasaUnavailable."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import aiohttp

log = logging.getLogger("desk.rasa")


class RasaUnavailable(Exception):
    pass


class RasaClient:
    def __init__(self, base_url: str, token: str, timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
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

    def _url(self, conversation_id: str, tail: str) -> str:
        return f"{self.base_url}/conversations/{quote(conversation_id, safe='')}/{tail}"

    async def _call(self, method: str, url: str, params: Dict[str, str], body: Any = None) -> Any:
        params = dict(params, token=self.token)
        try:
            async with self.session.request(method, url, params=params, json=body) as response:
                if response.status >= 300:
                    raise RasaUnavailable(f"HTTP {response.status}")
                if response.content_type == "application/json":
                    return await response.json()
                return None
        except RasaUnavailable:
            raise
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            raise RasaUnavailable(type(exc).__name__) from exc
        except Exception as exc:  # asyncio.TimeoutError on 3.10 is not a subclass of TimeoutError
            raise RasaUnavailable(type(exc).__name__) from exc

    async def tracker(self, conversation_id: str) -> Dict[str, Any]:
        data = await self._call("GET", self._url(conversation_id, "tracker"), {})
        if not isinstance(data, dict):
            raise RasaUnavailable("tracker is not a JSON object")
        return data

    async def send_message(self, conversation_id: str, text: str, author: str, message_id: str) -> None:
        body = [{"event": "bot", "text": text,
                 "metadata": {"sender": "counsellor", "author": author, "message_id": message_id}}]
        await self._call("POST", self._url(conversation_id, "tracker/events"),
                         {"output_channel": "latest", "execute_side_effects": "true"}, body)

    async def claim(self, conversation_id: str, first_name: str) -> None:
        """Claim and transfer: the bot stays quiet, the user is told a person joined."""
        await self._set_slots(conversation_id, [("handoff_status", "active"), ("counsellor_name", first_name)])
        await self._call("POST", self._url(conversation_id, "execute"), {"output_channel": "latest"},
                         {"name": "utter_handoff_joined"})

    async def requeue(self, conversation_id: str) -> None:
        """Back to the queue (not in the contract's list; the bot stays quiet while queued)."""
        await self._set_slots(conversation_id, [("handoff_status", "queued"), ("counsellor_name", None)])

    async def close_conversation(self, conversation_id: str) -> None:
        await self._set_slots(conversation_id, [("handoff_status", "closed")])
        # The bot says the case is closed, gives the numbers and asks the feedback question.
        await self._call("POST", self._url(conversation_id, "execute"), {"output_channel": "latest"},
                         {"name": "utter_handoff_closed"})
        # `execute` leaves the bot without its listen step, so the rules that read the
        # answer to the feedback question would not match: add it.
        await self._call("POST", self._url(conversation_id, "tracker/events"), {},
                         [{"event": "action", "name": "action_listen"}])

    async def _set_slots(self, conversation_id: str, slots: List[Any]) -> None:
        await self._call("POST", self._url(conversation_id, "tracker/events"), {},
                         [{"event": "slot", "name": name, "value": value} for name, value in slots])
