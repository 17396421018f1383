"""WhatsApp through Twilio contract tests: Twilio's form-encoded webhook in (signed),
Twilio's Messages API out (recorded)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import random
import time
import uuid
from typing import Dict, List

import pytest

from tests.channels.conftest import Channels
from tests.integration.helpers import says

GROOMING = "Un adulte envoie des messages à ma fille de 12 ans sur Instagram et lui propose de se voir"


def new_phone() -> str:
    return f"+336{random.randint(10_000_000, 99_999_999)}"


def inbound(channels: Channels, phone: str, body: str = "", **extra: str) -> Dict[str, str]:
    params = {
        "SmsMessageSid": "SM" + uuid.uuid4().hex, "NumMedia": "0", "ProfileName": "Camille Durand",
        "SmsSid": "SM" + uuid.uuid4().hex, "WaId": phone.lstrip("+"), "SmsStatus": "received", "Body": body,
        "To": channels.env["TWILIO_WHATSAPP_NUMBER"], "NumSegments": "1", "ReferralNumMedia": "0",
        "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": channels.env["TWILIO_ACCOUNT_SID"],
        "From": f"whatsapp:{phone}", "ApiVersion": "2010-04-01",
    }
    params.update(extra)
    return params


def sent_to(channels: Channels, mark: int, phone: str) -> List[Dict[str, str]]:
    calls = channels.recorder.wait_quiet(mark, "/twilio")
    return [c.body for c in calls if 200 <= c.status < 300 and c.body.get("To") == f"whatsapp:{phone}"]


def signed_for(channels: Channels, url: str, params: Dict[str, str]) -> str:
    data = url + "".join(k + params[k] for k in sorted(params))
    mac = hmac.new(channels.env["TWILIO_AUTH_TOKEN"].encode(), data.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def text_of(bodies: List[Dict[str, str]]) -> str:
    return "\n".join(b.get("Body", "") for b in bodies)


def test_parent_grooming_conversation_with_numbered_options(channels: Channels) -> None:
    phone = new_phone()
    mark = channels.recorder.mark()
    status, body = channels.twilio(inbound(channels, phone, GROOMING))
    assert status == 200 and b"<Response>" in body
    bodies = sent_to(channels, mark, phone)
    replies = text_of(bodies)
    says(replies, "vous")
    assert "**" not in replies and "/affirm" not in replies
    call = channels.recorder.since(mark, "/twilio")[0]
    assert call.path == f"/twilio/2010-04-01/Accounts/{channels.env['TWILIO_ACCOUNT_SID']}/Messages.json"
    assert call.headers["Authorization"].startswith("Basic ")
    assert bodies[0]["From"] == channels.env["TWILIO_WHATSAPP_NUMBER"]
    question = bodies[-1]["Body"]
    assert "\n1. Oui" in question and "\n2. Non" in question  # options in the text, one message
    conversation = channels.conversation_id("whatsapp", f"whatsapp:{phone}")
    assert channels.tracker(conversation)["slots"]["user_role"] == "parent"

    # "1" picks the first option.
    mark = channels.recorder.mark()
    channels.twilio(inbound(channels, phone, "1"))
    assert sent_to(channels, mark, phone)
    events = channels.tracker(conversation)["events"]
    assert [e["text"] for e in events if e["event"] == "user"][-1] == "/affirm"
    assert channels.tracker(conversation)["slots"]["meeting_proposed"] == "yes"


def test_the_option_words_pick_it_too(channels: Channels) -> None:
    phone = new_phone()
    mark = channels.recorder.mark()
    channels.twilio(inbound(channels, phone, "Bonjour, je suis une maman inquiète"))
    menu = sent_to(channels, mark, phone)[-1]["Body"]
    line = next(l for l in menu.splitlines() if l.startswith("2. "))
    mark = channels.recorder.mark()
    channels.twilio(inbound(channels, phone, line[3:].lower()))
    assert sent_to(channels, mark, phone)
    events = channels.tracker(channels.conversation_id("whatsapp", f"whatsapp:{phone}"))["events"]
    assert [e["text"] for e in events if e["event"] == "user"][-1].startswith("/")


def test_media_gets_the_no_images_answer_and_is_not_downloaded(channels: Channels) -> None:
    phone = new_phone()
    mark = channels.recorder.mark()
    media = f"{channels.recorder.url}/media/2010-04-01/Accounts/AC/Messages/MM1/Media/ME1"
    channels.twilio(inbound(channels, phone, "", NumMedia="1", MediaUrl0=media, MediaContentType0="image/jpeg"))
    says(text_of(sent_to(channels, mark, phone)), "photo")
    assert channels.recorder.since(mark, "/media") == []


@pytest.mark.parametrize("how", ["unsigned", "wrong token", "other url", "tampered"])
def test_unsigned_or_wrongly_signed_request_is_refused(channels: Channels, how: str) -> None:
    phone = new_phone()
    params = inbound(channels, phone, "bonjour")
    signature = {
        "unsigned": None,
        "wrong token": channels.twilio_signature(params, token="0" * 32),
        "other url": signed_for(channels, "https://attacker.example.com/webhooks/twilio/webhook", params),
        "tampered": channels.twilio_signature(dict(params, Body="autre chose")),
    }[how]
    mark = channels.recorder.mark()
    status, _ = channels.twilio(params, signature=signature)
    assert status == 403
    time.sleep(0.5)
    assert channels.recorder.since(mark, "/twilio") == []
    events = channels.tracker(channels.conversation_id("whatsapp", f"whatsapp:{phone}"))["events"]
    assert not any(e["event"] == "user" for e in events)


def test_a_platform_5xx_is_retried_then_delivered(channels: Channels) -> None:
    phone = new_phone()
    channels.recorder.fail_next("/twilio", 500, times=1)
    mark = channels.recorder.mark()
    channels.twilio(inbound(channels, phone, "bonjour"))
    calls = channels.recorder.wait_quiet(mark, "/twilio", quiet=1.5)
    assert [c.status for c in calls[:2]] == [500, 200]  # as recorded (the stand-in then answers 201)
    assert calls[0].body == calls[1].body
