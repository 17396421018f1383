"""A tiny stand-in for Rasa's HTTP API: serves trackers, records what the desk sends."""
from __future__ import annotations

import asyncio
import copy
import json
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from aiohttp import web

from tests.support.chat import free_port

TRACKER = json.loads((Path(__file__).parent / "data" / "tracker_sextortion.json").read_text())


class FakeRasa:
    def __init__(self, token: str = "rasa-secret"):
        self.token = token
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: List[Dict[str, Any]] = []
        self.trackers: Dict[str, Dict[str, Any]] = {}
        self.down = False  # every call answers 503
        self._loop = asyncio.new_event_loop()
        self._runner: Optional[web.AppRunner] = None
        self._lock = threading.Lock()

    def tracker_for(self, conversation_id: str, template: Optional[Dict[str, Any]] = None) -> None:
        tracker = copy.deepcopy(template or TRACKER)
        tracker["sender_id"] = conversation_id
        self.trackers[conversation_id] = tracker

    async def _handle(self, request: web.Request) -> web.Response:
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
        conversation = request.match_info.get("conversation_id")
        record = {"method": request.method, "path": request.path, "tail": request.match_info.get("tail"),
                  "conversation_id": conversation, "query": dict(request.query), "json": body, "time": time.time()}
        with self._lock:
            self.requests.append(record)
        if request.query.get("token") != self.token:
            return web.json_response({"reason": "NotAuthenticated"}, status=401)
        if self.down:
            return web.json_response({"reason": "down"}, status=503)
        if request.method == "GET":
            tracker = self.trackers.get(conversation)
            if tracker is None:
                return web.json_response({"sender_id": conversation, "slots": {}, "events": []})
            return web.json_response(tracker)
        return web.json_response({"sender_id": conversation, "events": []})

    def start(self) -> "FakeRasa":
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            app = web.Application()
            app.router.add_route("*", "/conversations/{conversation_id}/{tail:.*}", self._handle)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
            ready.set()
            self._loop.run_forever()

        threading.Thread(target=serve, daemon=True, name="fake-rasa").start()
        assert ready.wait(10), "fake Rasa did not start"
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._runner:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    def calls(self, conversation_id: str, method: Optional[str] = None) -> List[Dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["conversation_id"] == conversation_id
                    and (method is None or r["method"] == method)]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"fake Rasa: condition not met in {timeout}s; requests: {self.requests[-10:]}")
