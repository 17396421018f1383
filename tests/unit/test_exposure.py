"""Rasa's HTTP API answers callers on this machine only; the channels and health stay public."""
from __future__ import annotations

import pytest

from bot.rasa_addons.exposure import allowed
from bot.rasa_addons.settings import internal_networks

LOCAL = internal_networks({})


@pytest.mark.parametrize("method, path", [
    ("POST", "/webhooks/rest/webhook"), ("GET", "/webhooks/telegram/webhook"), ("GET", "/socket.io/"),
    ("POST", "/socket.io/"), ("GET", "/"),
])
def test_channels_and_health_are_public(method: str, path: str) -> None:
    assert allowed(method, path, "203.0.113.7", {}, LOCAL)
    assert allowed(method, path, "127.0.0.1", {"x-forwarded-for": "203.0.113.7"}, LOCAL)


@pytest.mark.parametrize("path", ["/status", "/conversations/x/tracker", "/conversations/x/execute", "/model",
                                  "/version", "/webhooksX", "/socketio"])
def test_the_api_from_outside_is_refused(path: str) -> None:
    assert not allowed("GET", path, "203.0.113.7", {}, LOCAL)
    assert not allowed("POST", path, "10.0.0.5", {}, LOCAL)
    # through the reverse proxy on this machine: the forwarding header says it came from outside
    for header in ("x-forwarded-for", "forwarded", "x-real-ip"):
        assert not allowed("GET", path, "127.0.0.1", {header: "for=203.0.113.7"}, LOCAL)
    assert not allowed("POST", "/", "203.0.113.7", {}, LOCAL)


def test_the_api_from_this_machine_or_the_internal_networks() -> None:
    assert allowed("GET", "/status", "127.0.0.1", {}, LOCAL)
    assert allowed("GET", "/status", "::1", {}, LOCAL)
    assert not allowed("GET", "/status", "", {}, LOCAL)
    inside = internal_networks({"RASA_INTERNAL_NETWORKS": "127.0.0.0/8, 10.0.0.0/8"})
    assert allowed("GET", "/conversations/x/tracker", "10.1.2.3", {}, inside)
    with pytest.raises(ValueError, match="RASA_INTERNAL_NETWORKS"):
        internal_networks({"RASA_INTERNAL_NETWORKS": "not-a-network"})
