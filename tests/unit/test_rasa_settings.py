"""Rasa-side settings: the socket.io channel's allowed origins are never "any"."""
from __future__ import annotations

import pytest

from bot.rasa_addons.settings import DEFAULT_WIDGET_ORIGINS, socketio_cors_origins


@pytest.mark.parametrize("env", [{}, {"SOCKETIO_CORS_ORIGINS": ""}, {"SOCKETIO_CORS_ORIGINS": " , "}])
def test_unset_or_empty_origins_mean_the_widgets_own_never_no_check(env: dict) -> None:
    assert socketio_cors_origins(None, env) == list(DEFAULT_WIDGET_ORIGINS)
    assert socketio_cors_origins([], env) == list(DEFAULT_WIDGET_ORIGINS)


def test_origins_from_the_environment_or_the_credentials() -> None:
    env = {"SOCKETIO_CORS_ORIGINS": "https://www.e-enfance.org, https://e-enfance.org/"}
    assert socketio_cors_origins(None, env) == ["https://www.e-enfance.org", "https://e-enfance.org"]
    assert socketio_cors_origins(["https://a.example"], env) == ["https://a.example"]


@pytest.mark.parametrize("value", ["*", "https://a.example,*"])
def test_any_origin_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="any site"):
        socketio_cors_origins(None, {"SOCKETIO_CORS_ORIGINS": value})
    with pytest.raises(ValueError):
        socketio_cors_origins(value.split(","), {})


def test_the_channel_never_gives_engineio_an_empty_list(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.rasa_addons.channels.socketio import SafeSocketIOInput

    monkeypatch.delenv("SOCKETIO_CORS_ORIGINS", raising=False)
    channel = SafeSocketIOInput.from_credentials({})
    assert channel.cors_allowed_origins == list(DEFAULT_WIDGET_ORIGINS)
    channel.blueprint(lambda message: None)  # noqa: ARG005
    assert channel.sio.eio.cors_allowed_origins == list(DEFAULT_WIDGET_ORIGINS)
