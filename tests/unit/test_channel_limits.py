"""The channels' limits and settings, without a server (bot/rasa_addons/channels/limits.py, settings.py)."""
from __future__ import annotations

from bot.rasa_addons.channels.limits import SlidingWindow, client_address, client_metadata, owner_by_shape
from bot.rasa_addons.settings import ChannelSettings


def test_safe_defaults_and_bad_values_fall_back_to_them() -> None:
    default = ChannelSettings.from_env({})
    assert default.enable_rest_channel is False  # REST is for development and tests only
    assert (default.max_body_bytes, default.max_message_chars) == (65536, 4000)
    assert ChannelSettings.from_env({"ENABLE_REST_CHANNEL": "true"}).enable_rest_channel
    typo = ChannelSettings.from_env({"RATE_CONVERSATION_MESSAGES": "lots", "MAX_BODY_BYTES": "0"})
    assert (typo.rate_conversation_messages, typo.max_body_bytes) == (20, 65536)  # never "no limit"


def test_client_address_believes_only_trusted_proxies() -> None:
    proxies = {"10.0.0.1"}
    assert client_address("203.0.113.9", "1.2.3.4", proxies) == "203.0.113.9"  # not a proxy: its own address
    assert client_address("10.0.0.1", "198.51.100.7, 1.2.3.4", proxies) == "1.2.3.4"  # the hop the proxy saw
    assert client_address("10.0.0.1", None, proxies) == "10.0.0.1"


def test_sliding_window() -> None:
    window = SlidingWindow(2, 10)
    assert [window.hit("a", now) for now in (0, 1, 2)] == [True, True, False]
    assert window.hit("b", 2) and window.hit("a", 10.5)


def test_only_known_client_metadata_is_kept() -> None:
    assert client_metadata({"language": "en", "junk": "x" * 10000}) == {"language": "en"}
    assert client_metadata({"language": "x" * 100}) == {} and client_metadata("nope") == {}


def test_ids_made_by_the_channels_name_their_owner() -> None:
    assert owner_by_shape("0123456789abcdef0123456789abcdef") == "socketio"
    assert owner_by_shape("messenger-0123456789abcdef0123456789abcdef") == "facebook"
    assert owner_by_shape("test-1234") is None
