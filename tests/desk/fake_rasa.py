"""A tiny stand-in for Rasa: serves trackers (its HTTP API), and takes the desk's commands
(the commands channel) as Rasa does: applied once per id, a sequence number at or below the
conversation's last one being a retry. Records everything the desk sends."""
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
    def __init__(self, token: str = "rasa-secret", commands_token: str = "commands-secret"):
        self.token = token
        self.commands_token = commands_token
        self.applied: List[Dict[str, Any]] = []  # commands applied, in the order applied
        self.last_seq: Dict[str, int] = {}
        self.status_of: Dict[str, Any] = {}  # what the status query answers, per conversation
        self.fail_commands = 0  # the next N commands answer 503 (not applied)
        self.lose_answers = 0  # the next N commands are applied, but answer 502 (the answer is lost)
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

    async def _command(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        conversation = (body or {}).get("conversation_id") if isinstance(body, dict) else None
        with self._lock:
            self.requests.append({"method": request.method, "path": request.path, "tail": "command",
                                  "conversation_id": conversation, "query": dict(request.query), "json": body,
                                  "time": time.time()})
        if request.headers.get("authorization") != f"Bearer {self.commands_token}":
            return web.json_response({"error": "missing or invalid bearer token"}, status=401)
        if self.down:
            return web.json_response({"error": "down"}, status=503)
        with self._lock:
            if self.fail_commands:
                self.fail_commands -= 1
                return web.json_response({"error": "not applied"}, status=503)
            duplicate = body["seq"] <= self.last_seq.get(conversation, 0)
            if not duplicate:
                self.applied.append(body)
                self.last_seq[conversation] = body["seq"]
                status = {"claim": "active", "transfer": "active", "requeue": "queued", "close": "closed"}.get(body["type"])
                if status:
                    self.status_of[conversation] = status
            if self.lose_answers:
                self.lose_answers -= 1
                return web.json_response({"error": "answer lost"}, status=502)
        return web.json_response({"applied": not duplicate, **({"duplicate": True} if duplicate else {})})

    async def _status(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation_id"]
        with self._lock:
            self.requests.append({"method": "GET", "path": request.path, "tail": "status",
                                  "conversation_id": conversation, "query": {}, "json": None, "time": time.time()})
        if request.headers.get("authorization") != f"Bearer {self.commands_token}":
            return web.json_response({"error": "missing or invalid bearer token"}, status=401)
        if self.down:
            return web.json_response({"error": "down"}, status=503)
        return web.json_response({"conversation_id": conversation, "status": self.status_of.get(conversation),
                                  "last_seq": self.last_seq.get(conversation, 0)})

    def commands(self, conversation_id: str) -> List[Dict[str, Any]]:
        """The commands applied for this conversation, in order."""
        with self._lock:
            return [c for c in self.applied if c["conversation_id"] == conversation_id]

    def start(self) -> "FakeRasa":
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            app = web.Application()
            app.router.add_route("*", "/conversations/{conversation_id}/{tail:.*}", self._handle)
            app.router.add_route("POST", "/webhooks/desk_commands/command", self._command)
            app.router.add_route("GET", "/webhooks/desk_commands/status/{conversation_id}", self._status)
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
