"""A real socket.io client, speaking the web widget's protocol (bot/rasa_addons/channels/socketio.py)."""
from __future__ import annotations

import asyncio
import time
from typing import Any, Dict, List, Optional

import socketio


class WidgetClient:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.messages: List[Dict[str, Any]] = []
        self.session: Dict[str, str] = {}
        self._confirmed = asyncio.Event()
        self.sio.on("bot_uttered", self._on_bot)
        self.sio.on("session_confirm", self._on_confirm)

    async def _on_bot(self, data: Dict[str, Any]) -> None:
        self.messages.append(data)

    async def _on_confirm(self, data: Dict[str, Any]) -> None:
        self.session = data
        self._confirmed.set()

    @property
    def last_seq(self) -> int:
        return max((m.get("seq", 0) for m in self.messages), default=0)

    async def connect(self, resume: Optional[Dict[str, str]] = None) -> str:
        self._confirmed.clear()
        # Long-polling: python-engineio's websocket client needs aiohttp >= 3.10, and
        # Rasa 3.6 pins aiohttp 3.9. The server side is the same for both transports;
        # the browser tests use websockets.
        await self.sio.connect(self.url, transports=["polling"], socketio_path="/socket.io")
        request: Dict[str, Any] = dict(resume or {})
        if resume:
            request["last_seq"] = self.last_seq
        await self.sio.emit("session_request", request)
        await asyncio.wait_for(self._confirmed.wait(), 10)
        return self.session["session_id"]

    async def disconnect(self) -> None:
        """Like a closed tab: say goodbye and go, without waiting for the pending long-poll
        (python-socketio's own disconnect waits for it, up to the 25 s ping interval)."""
        from socketio import packet

        for namespace in list(self.sio.namespaces):
            await self.sio._send_packet(self.sio.packet_class(packet.DISCONNECT, namespace=namespace))
        await self.sio.eio.disconnect(abort=True)

    async def say(self, text: str, wait_for: int = 1, timeout: float = 20) -> List[Dict[str, Any]]:
        """Send a message; return the replies (at least `wait_for` of them, or [] when 0)."""
        before = len(self.messages)
        await self.sio.emit("user_uttered", {"message": text, "metadata": {"language": "fr"}})
        if wait_for == 0:
            await asyncio.sleep(1.5)
            return self.messages[before:]
        await self.wait_messages(before + wait_for, timeout)
        # A turn may send several messages: wait until nothing new comes for a moment.
        count = -1
        while count != len(self.messages):
            count = len(self.messages)
            await asyncio.sleep(0.8)
        return self.messages[before:]

    async def wait_messages(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} messages, got {len(self.messages)}: {self.messages[-3:]}")
            await asyncio.sleep(0.05)

    async def wait_for(self, predicate, timeout: float) -> Dict[str, Any]:  # noqa: ANN001
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages:
                if predicate(message):
                    return message
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching message within {timeout} s; last: {self.messages[-3:]}")
            await asyncio.sleep(0.05)
