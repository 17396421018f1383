"""Messenger contract tests: Graph webhook formats in, Send API calls out (recorded)."""
from __future__ import annotations

import random
import time
import uuid
from typing import Any, Dict, List

import pytest

from tests.channels.conftest import Channels
from tests.integration.helpers import says

GROOMING = "Un adulte envoie des messages à ma fille de 12 ans sur Instagram et lui propose de se voir"
PAGE_ID = "104857600000001"


def event(psid: str, message: Dict[str, Any]) -> Dict[str, Any]:
    now = int(time.time() * 1000)
    return {"object": "page", "entry": [{"id": PAGE_ID, "time": now, "messaging": [{
        "sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": now,
        "message": dict({"mid": "m_" + uuid.uuid4().hex}, **message)}]}]}


def new_psid() -> str:
    return str(random.randint(6_000_000_000_000_000, 6_999_999_999_999_999))


def sent_to(channels: Channels, mark: int, psid: str) -> List[Dict[str, Any]]:
    calls = channels.recorder.wait_quiet(mark, "/graph")
    return [c.body for c in calls if c.status == 200 and c.body.get("recipient", {}).get("id") == psid]


def text_of(bodies: List[Dict[str, Any]]) -> str:
    return "\n".join(b["message"]["text"] for b in bodies)


def test_verification_handshake(channels: Channels) -> None:
    token = channels.env["MESSENGER_VERIFY_TOKEN"]
    status, body = channels.get(f"/webhooks/facebook/webhook?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444")
    assert (status, body) == (200, b"1158201444")
    status, _ = channels.get("/webhooks/facebook/webhook?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
    assert status == 403


def test_parent_grooming_conversation_with_quick_replies(channels: Channels) -> None:
    psid = new_psid()
    mark = channels.recorder.mark()
    status, body = channels.messenger(event(psid, {"text": GROOMING}))
    assert (status, body) == (200, b"EVENT_RECEIVED")
    bodies = sent_to(channels, mark, psid)
    replies = text_of(bodies)
    says(replies, "vous")
    assert "**" not in replies
    assert all(b["messaging_type"] == "RESPONSE" for b in bodies)
    assert all(c.query.get("access_token") == channels.env["MESSENGER_PAGE_ACCESS_TOKEN"]
               for c in channels.recorder.since(mark, "/graph"))
    quick = bodies[-1]["message"]["quick_replies"]
    assert all(len(q["title"]) <= 20 for q in quick)
    conversation = channels.conversation_id("messenger", psid)
    slots = channels.tracker(conversation)["slots"]
    assert (slots["user_role"], slots["flow"]) == ("parent", "grooming")

    # The quick reply comes back with its payload.
    mark = channels.recorder.mark()
    choice = quick[1]
    channels.messenger(event(psid, {"text": choice["title"], "quick_reply": {"payload": choice["payload"]}}))
    assert sent_to(channels, mark, psid)
    user_texts = [e["text"] for e in channels.tracker(conversation)["events"] if e["event"] == "user"]
    assert user_texts[-1] == choice["payload"]


def test_long_option_titles_are_numbered_and_a_number_picks_one(channels: Channels) -> None:
    psid = new_psid()
    mark = channels.recorder.mark()
    channels.messenger(event(psid, {"text": "Bonjour, je suis parent"}))
    bodies = sent_to(channels, mark, psid)
    last = bodies[-1]["message"]
    assert "\n1. " in last["text"] and [q["title"] for q in last["quick_replies"]][:3] == ["1", "2", "3"]
    assert last["quick_replies"][0]["payload"].startswith("/")
    mark = channels.recorder.mark()
    channels.messenger(event(psid, {"text": "3"}))
    assert sent_to(channels, mark, psid)
    events = channels.tracker(channels.conversation_id("messenger", psid))["events"]
    assert [e["text"] for e in events if e["event"] == "user"][-1] == last["quick_replies"][2]["payload"]


def test_image_gets_the_no_images_answer_and_is_not_downloaded(channels: Channels) -> None:
    psid = new_psid()
    mark = channels.recorder.mark()
    url = f"{channels.recorder.url}/media/scontent/12345.jpg"
    channels.messenger(event(psid, {"attachments": [{"type": "image", "payload": {"url": url}}]}))
    says(text_of(sent_to(channels, mark, psid)), "photo")
    assert channels.recorder.since(mark, "/media") == []


def test_echoes_and_read_receipts_are_ignored(channels: Channels) -> None:
    psid = new_psid()
    mark = channels.recorder.mark()
    echo = event(psid, {"text": "message de la page", "is_echo": True})
    read = {"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "messaging": [
        {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": 1, "read": {"watermark": 1}}]}]}
    assert channels.messenger(echo)[0] == 200 and channels.messenger(read)[0] == 200
    time.sleep(0.8)
    assert channels.recorder.since(mark, "/graph") == []


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "sha1=0123456789abcdef0123456789abcdef01234567"])
def test_unsigned_or_wrongly_signed_event_is_refused(channels: Channels, signature: Any) -> None:
    psid = new_psid()
    mark = channels.recorder.mark()
    status, _ = channels.messenger(event(psid, {"text": "bonjour"}), signature=signature)
    assert status == 403
    time.sleep(0.5)
    assert channels.recorder.since(mark, "/graph") == []
    events = channels.tracker(channels.conversation_id("messenger", psid))["events"]
    assert not any(e["event"] == "user" for e in events)


def test_a_platform_5xx_is_retried_then_delivered(channels: Channels) -> None:
    psid = new_psid()
    channels.recorder.fail_next("/graph", 503, times=2)
    mark = channels.recorder.mark()
    channels.messenger(event(psid, {"text": "bonjour"}))
    calls = channels.recorder.wait_quiet(mark, "/graph", quiet=1.5)
    assert [c.status for c in calls[:3]] == [503, 503, 200]
    assert calls[0].body == calls[2].body
