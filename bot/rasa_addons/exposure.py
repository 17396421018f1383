"""What Rasa shows to the outside: the channels and a health check, nothing else.

Rasa serves its HTTP API (`--enable-api`: trackers, models, `/conversations/.../execute`...)
on the same port as the channels. The API is for the services on this machine (the desk reads
trackers with it), protected by RASA_API_TOKEN; nobody outside should reach it even with a
leaked token. This "channel" (listed in credentials.yml) adds one request middleware to
Rasa's server: a request from outside, that is from an address not in RASA_INTERNAL_NETWORKS
(default: this machine) or carrying a proxy's forwarding header (X-Forwarded-For, Forwarded,
X-Real-IP: it came through the public reverse proxy), may only reach `/webhooks/...` (the
channels), `/socket.io/...` (the widget) and `GET /` (health); anything else gets 403.
The reverse proxy should forward only those paths too (README, "Exposure").
"""
from __future__ import annotations

import ipaddress
import logging
from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.rasa_addons.settings import internal_networks

logger = logging.getLogger(__name__)

PUBLIC_PREFIXES = ("/webhooks/", "/socket.io")
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def public_path(method: str, path: str) -> bool:
    return path.startswith(PUBLIC_PREFIXES) or (path == "/" and method in ("GET", "HEAD"))


def internal_caller(peer: str, headers: Any, networks: Any) -> bool:
    if any(name in headers for name in FORWARDING_HEADERS):
        return False
    try:
        address = ipaddress.ip_address((peer or "").split("%", 1)[0])
    except ValueError:
        return False
    return any(address in network for network in networks)


def allowed(method: str, path: str, peer: str, headers: Any, networks: Any) -> bool:
    return public_path(method, path) or internal_caller(peer, headers, networks)


class _GuardBlueprint(Blueprint):
    def register(self, app: Any, options: Any) -> Any:
        networks = internal_networks()

        async def exposure_guard(request: Request) -> Optional[HTTPResponse]:
            if allowed(request.method, request.path, request.ip, request.headers, networks):
                return None
            logger.info("refused %s %s from outside (only the channels and health are public)",
                        request.method, request.path)
            return response.json({"error": "not available from outside"}, status=403)

        app.register_middleware(exposure_guard, "request")
        # This channel is always configured and is the one place that sees Rasa's app: the
        # erasure reads the running agent's tracker store and lock store from it.
        from bot.rasa_addons.erasure import attach_app

        attach_app(app)
        return super().register(app, options)


class ExposureGuard(InputChannel):
    """No conversations here: only the guard (its health check at /webhooks/exposure_guard/)."""

    @classmethod
    def name(cls) -> Text:
        return "exposure_guard"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = _GuardBlueprint("exposure_guard", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        return blueprint
