"""Desk → Rasa calls, exactly as in docs/handoff.md. Any failure raises RasaUnavailable.

Messages go out through the channel that owns the conversation (the case's `channel`, given by
`channel_of`), never Rasa's "latest" (which whoever wrote last could choose). A conversation
whose channel is not known gets no push: the message is kept in the conversation only."""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional
from urllib.parse import quote

import aiohttp

log = logging.getLogger("desk.rasa")


class RasaUnavailable(Exception):
    pass


class RasaClient:
    def __init__(self, base_url: str, token: str, timeout: float = 5.0,
                 channel_of: Optional[Callable[[str], Awaitable[Optional[str]]]] = None):
        self.base_url = base_url.rstrip("/")
        self.channel_of = channel_of
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

    async def _output(self, conversation_id: str, **params: str) -> Dict[str, str]:
        """Query parameters that send the bot's messages through the conversation's own channel."""
        channel = await self.channel_of(conversation_id) if self.channel_of is not None else None
        return dict(params, output_channel=channel) if channel else dict(params)

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
                         await self._output(conversation_id, execute_side_effects="true"), body)

    async def claim(self, conversation_id: str, first_name: str) -> None:
        """Claim and transfer: the bot stays quiet, the user is told a person joined.

        The bot may have been in the middle of its questions (it answers while the case
        is queued): the claim ends them, so that after the case is closed the bot does
        not come back with a stale question."""
        await self._call("POST", self._url(conversation_id, "tracker/events"), {}, ENDS_THE_QUESTIONS + [
            _slot("handoff_status", "active"), _slot("counsellor_name", first_name), _slot("handoff_wait_minutes", None)])
        await self._call("POST", self._url(conversation_id, "execute"), await self._output(conversation_id),
                         {"name": "utter_handoff_joined"})

    async def requeue(self, conversation_id: str) -> None:
        """Back to the queue: the bot answers again, with the queue line (no estimate any more)."""
        await self._set_slots(conversation_id, [("handoff_status", "queued"), ("counsellor_name", None),
                                                ("handoff_wait_minutes", None)])

    async def tell_queue_closing(self, conversation_id: str, text: str) -> None:
        """The counsellors' day ends with the case still queued: the person is told (a
        `system` message through their channel, like a counsellor's), the case stays
        queued and the bot goes on answering; the wait estimated earlier no longer holds."""
        await self._call("POST", self._url(conversation_id, "tracker/events"),
                         await self._output(conversation_id, execute_side_effects="true"),
                         [_slot("handoff_wait_minutes", None),
                          {"event": "bot", "text": text, "metadata": {"sender": "system"}}])

    async def close_conversation(self, conversation_id: str, legal_hold: bool = False) -> None:
        """`legal_hold`: closed with an outcome after which the law requires a record (content/desk/
        outcomes.yml); an erasure asked later tells the person what is kept (utter_erase_done)."""
        if legal_hold:  # its own call, first: the close itself stays as docs/handoff.md says
            await self._set_slots(conversation_id, [("legal_hold", True)])
        await self._set_slots(conversation_id, [("handoff_status", "closed")])
        # The bot says the case is closed, gives the numbers and asks the feedback question.
        await self._call("POST", self._url(conversation_id, "execute"), await self._output(conversation_id),
                         {"name": "utter_handoff_closed"})
        # `execute` leaves the bot without its listen step, so the rules that read the
        # answer to the feedback question would not match: add it.
        await self._call("POST", self._url(conversation_id, "tracker/events"), {},
                         [{"event": "action", "name": "action_listen"}])

    async def erase(self, conversation_id: str, channel: Optional[str] = None) -> None:
        """Rasa's side of a counsellor's erasure, through the HTTP API as it is today: the bot
        says the conversation is erased (through `channel`, read by the caller before the case
        was deleted), and the broker, seeing utter_erase_done, erases everything Rasa holds
        (bot/rasa_addons/erasure.py). To be replaced by the desk→Rasa command path."""
        params = {"output_channel": channel} if channel else {}
        await self._call("POST", self._url(conversation_id, "execute"), params, {"name": "utter_erase_done"})

    async def _set_slots(self, conversation_id: str, slots: List[Any]) -> None:
        await self._call("POST", self._url(conversation_id, "tracker/events"), {},
                         [_slot(name, value) for name, value in slots])


def _slot(name: str, value: Any) -> Dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


# No active form, no pending question (Rasa's ActiveLoop(None) and requested_slot).
ENDS_THE_QUESTIONS: List[Dict[str, Any]] = [{"event": "active_loop", "name": None}, _slot("requested_slot", None)]
