"""Live updates for the pages: an in-process publish/subscribe hub and Server-Sent Events."""
from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, Set


class Hub:
    """Topics are "queue" and "case:<id>". A slow browser never blocks ingest: its queue is
    bounded and it just misses intermediate notices (the next one makes it re-read)."""

    def __init__(self) -> None:
        self._subscribers: Dict[str, Set[asyncio.Queue]] = {}
        self.closing = False

    def subscribe(self, topic: str) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=50)
        self._subscribers.setdefault(topic, set()).add(queue)
        return queue

    def unsubscribe(self, topic: str, queue: asyncio.Queue) -> None:
        self._subscribers.get(topic, set()).discard(queue)

    def publish(self, topic: str, data: Any = None) -> None:
        for queue in list(self._subscribers.get(topic, ())):
            try:
                queue.put_nowait(data)
            except asyncio.QueueFull:
                pass

    def close_all(self) -> None:
        self.closing = True
        for queues in self._subscribers.values():
            for queue in list(queues):
                try:
                    queue.put_nowait(StopAsyncIteration)
                except asyncio.QueueFull:
                    pass


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"
