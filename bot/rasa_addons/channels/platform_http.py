"""Calls to the messaging platforms' APIs: aiohttp (never blocking the event loop),
retries with exponential backoff on network errors, 5xx and 429 (Retry-After
respected), about 10 seconds at most, then a clear `DeliveryFailed`.

Log lines name the platform, the call and the HTTP status, never a URL (Telegram's
carries the bot token), a message text or a user id.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from typing import Any, Dict, Optional, Tuple

import aiohttp

logger = logging.getLogger(__name__)

TOTAL_SECONDS = 10.0
FIRST_DELAY = 0.25
CALL_TIMEOUT = 5.0


class DeliveryFailed(Exception):
    """The platform did not take the message. The text never contains ids or message text."""

    def __init__(self, reason: str, status: Optional[int] = None) -> None:
        super().__init__(reason)
        self.status = status


class PlatformClient:
    def __init__(self, platform: str, base_url: str, total_seconds: float = TOTAL_SECONDS,
                 first_delay: float = FIRST_DELAY, call_timeout: float = CALL_TIMEOUT) -> None:
        self.platform = platform
        self.base_url = base_url.rstrip("/")
        self.total_seconds = total_seconds
        self.first_delay = first_delay
        self.call_timeout = call_timeout
        self._session: Optional[aiohttp.ClientSession] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.call_timeout))
            self._loop = loop
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    @staticmethod
    def retry_after(response_headers: Any, body: Any) -> Optional[float]:
        value = response_headers.get("Retry-After") if response_headers is not None else None
        if value is None and isinstance(body, dict):
            value = (body.get("parameters") or {}).get("retry_after")  # Telegram says it in the body
        try:
            return max(0.0, float(value)) if value is not None else None
        except (TypeError, ValueError):
            return None

    async def call(self, action: str, path: str, *, json_body: Any = None, form: Optional[Dict[str, str]] = None,
                   params: Optional[Dict[str, str]] = None, auth: Optional[aiohttp.BasicAuth] = None) -> Tuple[int, Any]:
        """POST to base_url + path; returns (status, parsed body) of a 2xx answer.

        Raises DeliveryFailed on a refusal (4xx other than 429) at once, and after the
        retries on network errors, 5xx and 429."""
        url = self.base_url + path
        started = time.monotonic()
        delay = self.first_delay
        attempt = 0
        while True:
            attempt += 1
            status: Optional[int] = None
            wait: Optional[float] = None
            try:
                async with self.session().post(url, json=json_body, data=form, params=params, auth=auth) as response:
                    status = response.status
                    raw = await response.read()
                    try:
                        body = json.loads(raw) if raw else None
                    except ValueError:
                        body = None
                    if 200 <= status < 300:
                        if attempt > 1:
                            logger.info("%s: %s delivered after %d attempts", self.platform, action, attempt)
                        return status, body
                    if status != 429 and status < 500:
                        logger.warning("%s: %s refused by the platform (HTTP %d)", self.platform, action, status)
                        raise DeliveryFailed(f"{self.platform} refused the message (HTTP {status})", status)
                    wait = self.retry_after(response.headers, body)
                    problem = f"HTTP {status}"
            except DeliveryFailed:
                raise
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                problem = type(exc).__name__
            wait = delay if wait is None else wait
            delay = min(delay * 2, 4.0)
            wait += random.uniform(0, wait / 4)
            if time.monotonic() - started + wait > self.total_seconds:
                logger.error("%s: %s given up after %d attempts (last: %s)", self.platform, action, attempt, problem)
                raise DeliveryFailed(f"{self.platform} could not be reached ({problem}, {attempt} attempts)", status)
            logger.warning("%s: %s failed (%s), retry %d in %.1f s", self.platform, action, problem, attempt, wait)
            await asyncio.sleep(wait)
