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


def test_the_broker_opens_at_most_the_cap_of_cases_per_address_and_alerts(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from bot.rasa_addons.channels import limits
    from bot.rasa_addons.handoff.broker import DeskEventBroker
    from bot.rasa_addons.handoff.registry import Registry
    from bot.rasa_addons.settings import ChannelSettings

    monkeypatch.setattr(limits, "_limits", limits.Limits(ChannelSettings(new_cases_per_address_per_minute=2)))
    registry = Registry(tmp_path / "handoff.db")
    broker = DeskEventBroker("http://127.0.0.1:9", "t", registry=registry)

    def turn(conversation: str, address: str, channel: str = "rest") -> list:
        token = limits.TURN_CLIENT.set({"address": address, "channel": channel, "case_allowed": None})
        try:
            events = [{"sender_id": conversation, "event": "slot", "name": "risk_level", "value": "critical", "timestamp": 1.0},
                      {"sender_id": conversation, "event": "slot", "name": "handoff_status", "value": "queued", "timestamp": 1.0}]
            return [e and e["type"] for e in map(broker.translate, events)]
        finally:
            limits.TURN_CLIENT.reset(token)

    assert turn("a", "1.2.3.4") == ["risk", "handoff"] and turn("b", "1.2.3.4") == ["risk", "handoff"]
    assert turn("c", "1.2.3.4") == ["case_limit", None]  # the third: no case, one alert
    assert not registry.case_open("c")
    assert turn("d", "1.2.3.4", "socketio") == ["risk", "handoff"]  # per channel
    assert turn("e", "5.6.7.8") == ["risk", "handoff"]  # per address
    assert turn("a", "1.2.3.4") == ["risk", "handoff"]  # a case already open is not a new one: not capped
    # Turns without a client (the desk, the HTTP API, the messaging platforms) are never capped.
    assert [e and e["type"] for e in map(broker.translate, [
        {"sender_id": "f", "event": "slot", "name": "handoff_status", "value": "queued", "timestamp": 1.0}])] == ["handoff"]


def test_no_case_is_opened_when_the_guard_marks_the_cap_reached() -> None:
    import asyncio

    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from bot.actions.handoff import ActionRequestHuman

    latest = {"intent": {"name": "crisis"}, "text": "…", "metadata": {"language": "fr", "new_case": "limited"}}
    tracker = Tracker("c1", {"language": "fr"}, latest, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionRequestHuman().run(dispatcher, tracker, {}))
    assert not any(e.get("name") == "handoff_status" for e in events)  # nobody is told "a person is coming"
    assert [m["response"] for m in dispatcher.messages] == ["utter_technical_problem"]  # the numbers instead


def test_a_limited_message_goes_through_when_it_may_be_a_crisis() -> None:
    from bot.rasa_addons.channels.limits import is_crisis

    assert is_crisis("je veux mourir") and is_crisis("jveu me tuer ce soir") and is_crisis("my dad hits me")
    assert not is_crisis("salut 12") and not is_crisis("c'est quoi les horaires du 3018 ?")
