"""A local stand-in for Twilio's, Messenger's and Telegram's APIs, recording every call.

Runs an aiohttp server in a thread. Prefixes: /twilio (Twilio REST API), /graph (Graph
API), /telegram (Bot API), /media (files a user "sent": a download would show up
here). `fail_next(prefix, status, times)` makes the next calls under a prefix answer
an error (500, 429 with Retry-After, 400...).
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from aiohttp import web

from tests.support.chat import free_port


@dataclass
class Call:
    method: str
    path: str
    query: Dict[str, str]
    headers: Dict[str, str]
    body: Any
    status: int
    at: float = field(default_factory=time.time)


class RecordingServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.calls: List[Call] = []
        self._failures: List[Dict[str, Any]] = []
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    # ---- control
    def start(self) -> "RecordingServer":
        self._thread.start()
        assert self._ready.wait(10), "recording server did not start"
        return self

    def stop(self) -> None:
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def fail_next(self, prefix: str, status: int, times: int = 1, headers: Optional[Dict[str, str]] = None,
                  body: Any = None) -> None:
        with self._lock:
            self._failures.append({"prefix": prefix, "status": status, "times": times, "headers": headers or {},
                                   "body": body})

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    def since(self, mark: int, prefix: str = "") -> List[Call]:
        with self._lock:
            return [c for c in self.calls[mark:] if c.path.startswith(prefix)]

    def mark(self) -> int:
        with self._lock:
            return len(self.calls)

    def wait_for(self, predicate: Callable[[Call], bool], mark: int = 0, timeout: float = 15.0, count: int = 1) -> List[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [c for c in self.since(mark) if predicate(c)]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no matching call at the recording server within {timeout} s; calls: "
                             + "; ".join(f"{c.method} {c.path} {c.status}" for c in self.since(mark)))

    def wait_quiet(self, mark: int, prefix: str = "", quiet: float = 1.0, timeout: float = 20.0) -> List[Call]:
        """Wait until no new call arrived for `quiet` seconds; the calls since `mark`."""
        deadline = time.monotonic() + timeout
        last_count, last_change = -1, time.monotonic()
        while time.monotonic() < deadline:
            calls = self.since(mark, prefix)
            if len(calls) != last_count:
                last_count, last_change = len(calls), time.monotonic()
            elif calls and time.monotonic() - last_change >= quiet:
                return calls
            time.sleep(0.05)
        return self.since(mark, prefix)

    # ---- server
    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()

    def _failure_for(self, path: str) -> Optional[Dict[str, Any]]:
        with self._lock:
            for failure in self._failures:
                if path.startswith(failure["prefix"]) and failure["times"] > 0:
                    failure["times"] -= 1
                    return failure
        return None

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if request.content_type == "application/json":
            body: Any = json.loads(raw or b"null")
        elif request.content_type == "application/x-www-form-urlencoded":
            body = dict((await request.post()).items())
        else:
            body = raw.decode(errors="replace")
        failure = self._failure_for(request.path)
        status = failure["status"] if failure else 200
        with self._lock:
            self.calls.append(Call(request.method, request.path, dict(request.query), dict(request.headers), body, status))
        if failure:
            payload = failure["body"] if failure["body"] is not None else {"error": {"message": "simulated", "code": status}}
            return web.json_response(payload, status=status, headers=failure["headers"])
        if request.path.startswith("/twilio"):
            return web.json_response({"sid": f"SM{len(self.calls):032d}", "status": "queued"}, status=201)
        if request.path.startswith("/graph"):
            return web.json_response({"recipient_id": "x", "message_id": f"m_{len(self.calls)}"})
        if request.path.startswith("/telegram"):
            return web.json_response({"ok": True, "result": {"message_id": len(self.calls)}})
        if request.path.startswith("/media"):
            return web.Response(body=b"\x89PNG fake", content_type="image/png")
        return web.json_response({"error": "unknown"}, status=404)
