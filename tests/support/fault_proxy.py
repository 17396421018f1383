"""A pass-through HTTP proxy in front of Rasa, for the desk, that can fail on purpose.

The desk's RASA_URL points here; every request is forwarded to `target` unchanged (path,
query, headers, body) except when a fault is set: `refuse_writes` answers 503 to every
POST without forwarding it (Rasa unreachable for changes), `lose_answers = n` forwards the
next n POSTs but answers 502 (Rasa applied them; the answer was lost on the way back).
"""
from __future__ import annotations

import asyncio
import threading
from typing import List, Optional

import aiohttp
from aiohttp import web

from tests.support.chat import free_port


class FaultProxy:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.target: Optional[str] = None
        self.refuse_writes = False
        self.lose_answers = 0
        self.posts: List[str] = []  # paths of the POSTs seen (no bodies)
        self._loop = asyncio.new_event_loop()
        self._runner: Optional[web.AppRunner] = None
        self._lock = threading.Lock()

    async def _forward(self, request: web.Request) -> web.Response:
        if self.target is None:
            return web.json_response({"error": "no target yet"}, status=503)
        body = await request.read()
        lose = False
        if request.method == "POST":
            with self._lock:
                self.posts.append(request.path)
                if self.refuse_writes:
                    return web.json_response({"error": "refused by the test"}, status=503)
                if self.lose_answers:
                    self.lose_answers -= 1
                    lose = True
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
            async with session.request(request.method, self.target + request.path_qs, data=body,
                                       headers=headers) as answer:
                content = await answer.read()
                if lose:
                    return web.json_response({"error": "answer lost by the test"}, status=502)
                return web.Response(body=content, status=answer.status,
                                    content_type=answer.content_type or "application/octet-stream")

    def start(self) -> "FaultProxy":
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._forward)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
            ready.set()
            self._loop.run_forever()

        threading.Thread(target=serve, daemon=True, name="fault-proxy").start()
        assert ready.wait(10), "fault proxy did not start"
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._runner:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
