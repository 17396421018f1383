"""In-process tests of the channels' building blocks: platform windows (24 h, WhatsApp
template, Messenger HUMAN_AGENT tag), a reply after a restart, text splitting, typed
choices, the credentials builder. The platform is the recording server."""
from __future__ import annotations

import asyncio
import json
import time

import pytest

from bot.rasa_addons.channels import credentials
from bot.rasa_addons.channels.messaging import RecipientBook, chosen_payload, conversation_id, split_text
from bot.rasa_addons.channels.messenger import MessengerOutput
from bot.rasa_addons.channels.platform_http import DeliveryFailed, PlatformClient
from bot.rasa_addons.channels.telegram import TelegramOutput, telegram_html
from bot.rasa_addons.channels.twilio import TwilioWhatsAppOutput, twilio_signature
from tests.channels.recording_server import RecordingServer

HOUR = 3600
COUNSELLOR = {"text": "Je suis toujours là si besoin.", "sender": "counsellor", "author": "Sam"}


@pytest.fixture
def platform_env(recorder: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> RecordingServer:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "1" * 32)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t" * 32)
    monkeypatch.setenv("TWILIO_WHATSAPP_NUMBER", "+14155238886")
    monkeypatch.setenv("TWILIO_REPLY_TEMPLATE_SID", "HX" + "2" * 32)
    monkeypatch.setenv("MESSENGER_PAGE_ACCESS_TOKEN", "EAAtoken")
    monkeypatch.setenv("TELEGRAM_TOKEN", "1:tok")
    return recorder


def deliver(output_class, prefix: str, recorder: RecordingServer, hours_since_user: float, message=COUNSELLOR,
            platform_id: str = "user-1"):
    book = RecipientBook()
    book.remember("conv", platform_id, time.time() - hours_since_user * HOUR)
    client = PlatformClient(prefix.strip("/"), recorder.url + prefix, total_seconds=2, first_delay=0.05)
    output = output_class(client, book, strict=True)

    async def run() -> None:
        try:
            await output.send_response("conv", message)
        finally:
            await client.close()

    mark = recorder.mark()
    asyncio.run(run())
    return recorder.since(mark, prefix)


def test_messenger_person_reply_after_24_hours_uses_the_human_agent_tag(platform_env: RecordingServer) -> None:
    [recent] = deliver(MessengerOutput, "/graph", platform_env, 2)
    assert recent.body["messaging_type"] == "RESPONSE"
    [late] = deliver(MessengerOutput, "/graph", platform_env, 30)
    assert (late.body["messaging_type"], late.body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert late.body["message"]["text"] == "Sam (3018) : Je suis toujours là si besoin."
    with pytest.raises(DeliveryFailed):
        deliver(MessengerOutput, "/graph", platform_env, 8 * 24)  # beyond the tag's 7 days
    with pytest.raises(DeliveryFailed):
        deliver(MessengerOutput, "/graph", platform_env, 30, message={"text": "bot text"})  # the bot has no tag


def test_whatsapp_person_reply_after_24_hours_uses_the_template(platform_env: RecordingServer,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    [recent] = deliver(TwilioWhatsAppOutput, "/twilio", platform_env, 1, platform_id="whatsapp:+33600000000")
    assert recent.body["Body"].startswith("Sam (3018) :") and recent.body["From"] == "whatsapp:+14155238886"
    [late] = deliver(TwilioWhatsAppOutput, "/twilio", platform_env, 25, platform_id="whatsapp:+33600000000")
    assert late.body["ContentSid"] == "HX" + "2" * 32 and "Body" not in late.body
    assert json.loads(late.body["ContentVariables"]) == {"1": "Sam (3018) : Je suis toujours là si besoin."}
    monkeypatch.delenv("TWILIO_REPLY_TEMPLATE_SID")
    mark = platform_env.mark()
    with pytest.raises(DeliveryFailed, match="24 hours"):
        deliver(TwilioWhatsAppOutput, "/twilio", platform_env, 25, platform_id="whatsapp:+33600000000")
    assert platform_env.since(mark, "/twilio") == []


def test_telegram_has_no_window(platform_env: RecordingServer) -> None:
    [late] = deliver(TelegramOutput, "/telegram", platform_env, 24 * 20)
    assert late.body["text"] == "Sam (3018) : Je suis toujours là si besoin."


def test_a_reply_after_a_restart_fails_clearly_and_only_when_pushed(platform_env: RecordingServer) -> None:
    client = PlatformClient("telegram", platform_env.url + "/telegram", total_seconds=1)

    async def run(strict: bool) -> None:
        try:
            await TelegramOutput(client, RecipientBook(), strict=strict).send_response("telegram-unknown", COUNSELLOR)
        finally:
            await client.close()

    with pytest.raises(DeliveryFailed, match="restarted"):
        asyncio.run(run(True))
    asyncio.run(run(False))  # during a user's turn: logged, never raised


def test_refusals_are_not_retried_and_failures_give_up(platform_env: RecordingServer) -> None:
    platform_env.fail_next("/telegram", 403, times=1)
    mark = platform_env.mark()
    with pytest.raises(DeliveryFailed, match="HTTP 403"):
        deliver(TelegramOutput, "/telegram", platform_env, 0)
    assert len(platform_env.since(mark, "/telegram")) == 1
    platform_env.fail_next("/telegram", 502, times=100)
    started = time.monotonic()
    with pytest.raises(DeliveryFailed, match="could not be reached"):
        deliver(TelegramOutput, "/telegram", platform_env, 0)
    assert time.monotonic() - started < 3


def test_long_texts_are_split_between_sentences() -> None:
    sentences = [f"Phrase numéro {i} qui dit quelque chose d'utile." for i in range(120)]
    text = " ".join(sentences)
    parts = split_text(text, 1600)
    assert len(parts) > 1 and all(len(p) <= 1600 for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert " ".join(parts) == text
    assert split_text("court", 1600) == ["court"]
    options = TwilioWhatsAppOutput.parts("Question ?", [{"title": "Oui", "payload": "/affirm"}, {"title": "Non", "payload": "/deny"}])
    assert options == ["Question ?\n\n1. Oui\n2. Non"]


def test_typed_choices_and_formatting() -> None:
    buttons = [{"title": "Oui", "payload": "/affirm"}, {"title": "Je préfère ne pas dire", "payload": "/skip"}]
    assert chosen_payload("1", buttons) == "/affirm"
    assert chosen_payload(" 2. ", buttons) == "/skip"
    assert chosen_payload("je prefere ne pas dire", buttons) == "/skip"
    assert chosen_payload("3", buttons) is None and chosen_payload("oui mais", buttons) is None
    assert telegram_html("**Ne paie pas** <script>") == "<b>Ne paie pas</b> &lt;script&gt;"
    assert twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", [
        ("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"), ("From", "+12349013030"),
        ("To", "+18005551212")]) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="  # Twilio's documented example


def test_conversation_ids_are_keyed_hashes() -> None:
    one = conversation_id("whatsapp", "whatsapp:+33612345678", b"k" * 32)
    assert one.startswith("whatsapp-") and len(one) == len("whatsapp-") + 32 and "336" not in one
    assert one != conversation_id("whatsapp", "whatsapp:+33612345678", b"j" * 32)


def test_credentials_enable_only_fully_configured_channels(caplog: pytest.LogCaptureFixture) -> None:
    base = {"bot.rasa_addons.channels.rest.SafeRestInput": {}}
    assert credentials.build({}, base) == base
    telegram = {"TELEGRAM_TOKEN": "t", "TELEGRAM_BOT_NAME": "b", "TELEGRAM_WEBHOOK_URL": "u", "TELEGRAM_SECRET_TOKEN": "s"}
    assert credentials.build(telegram, base) == base  # no CHANNEL_ID_SECRET: refused
    assert "CHANNEL_ID_SECRET must be set" in caplog.text
    built = credentials.build(dict(telegram, CHANNEL_ID_SECRET="x" * 32, MESSENGER_APP_SECRET="only one"), base)
    assert list(built) == [*base, "bot.rasa_addons.channels.telegram.TelegramInput"]
    assert "t" not in json.dumps(built["bot.rasa_addons.channels.telegram.TelegramInput"])  # no secrets in the file
    assert set(credentials.base_channels()) >= {"bot.rasa_addons.channels.rest.SafeRestInput",
                                                "bot.rasa_addons.channels.socketio.SafeSocketIOInput"}
