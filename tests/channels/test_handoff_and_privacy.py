"""Live handoff through each messaging channel (desk API as in tests/integration/test_handoff.py),
a refused message reported to the desk, and privacy: no phone number or platform id in
the tracker store or the logs."""
from __future__ import annotations

import sqlite3
import time
from typing import Any, Callable, Dict, List

import pytest

from tests.channels import test_messenger as messenger
from tests.channels import test_telegram as telegram
from tests.channels import test_whatsapp as whatsapp
from tests.channels.conftest import Channels
from tests.integration.helpers import says
from tests.support.desk_api import desk_call, wait_case

PARENT = "Un adulte envoie des messages à ma fille de 12 ans sur Instagram et lui propose de se voir"
SEEN_IDS = []  # every phone number and platform id the tests used, for the privacy checks


def wait_transcript(channels: Channels, case_id: int, text: str, timeout: float = 5.0) -> Dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in desk_call(channels.stack, "GET", f"/api/cases/{case_id}")[1]["transcript"]:
            if entry["text"] == text:
                return entry
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in the transcript")


def turn_over(channels: Channels, conversation_id: str, text: str, timeout: float = 10.0) -> List[Dict[str, Any]]:
    """The events after the user's `text`, once the bot's turn after it is over and saved
    (an `action_listen` follows it in the tracker): whatever the bot sent, it has sent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = channels.tracker(conversation_id)["events"]
        said = [i for i, e in enumerate(events) if e["event"] == "user" and e.get("text") == text]
        if said:
            after = events[said[-1] + 1:]
            if any(e["event"] == "action" and e.get("name") == "action_listen" for e in after):
                return after
        time.sleep(0.1)
    raise AssertionError(f"the turn after {text!r} did not end")


# channel -> (new platform id, send a text, texts sent to that id since a mark, conversation id, prefix)
def _telegram(channels: Channels) -> Dict[str, Any]:
    chat = telegram.new_chat()
    return {
        "raw": str(chat), "prefix": "/telegram",
        "say": lambda text: channels.telegram(telegram.update_message(chat, text)),
        "sent": lambda mark: [b["text"] for b in telegram.sent_to(channels, mark, chat)],
        "conversation": channels.conversation_id("telegram", str(chat)),
    }


def _messenger(channels: Channels) -> Dict[str, Any]:
    psid = messenger.new_psid()
    return {
        "raw": psid, "prefix": "/graph",
        "say": lambda text: channels.messenger(messenger.event(psid, {"text": text})),
        "sent": lambda mark: [b["message"]["text"] for b in messenger.sent_to(channels, mark, psid)],
        "conversation": channels.conversation_id("messenger", psid),
    }


def _whatsapp(channels: Channels) -> Dict[str, Any]:
    phone = whatsapp.new_phone()
    return {
        "raw": phone, "prefix": "/twilio",
        "say": lambda text: channels.twilio(whatsapp.inbound(channels, phone, text)),
        "sent": lambda mark: [b["Body"] for b in whatsapp.sent_to(channels, mark, phone)],
        "conversation": channels.conversation_id("whatsapp", f"whatsapp:{phone}"),
    }


USERS: Dict[str, Callable[[Channels], Dict[str, Any]]] = {"telegram": _telegram, "messenger": _messenger, "whatsapp": _whatsapp}
RASA_CHANNEL = {"telegram": "telegram", "messenger": "facebook", "whatsapp": "twilio"}


@pytest.mark.parametrize("name", list(USERS))
def test_handoff_counsellor_reply_goes_out_through_the_channel(channels: Channels, name: str) -> None:
    user = USERS[name](channels)
    SEEN_IDS.append(user["raw"])
    recorder = channels.recorder

    # A meeting was proposed: after the urgent steps, the grooming flow asks whether the child is safe now.
    mark = recorder.mark()
    user["say"](PARENT)
    says("\n".join(user["sent"](mark)), "vous", "Aucune rencontre", "en sécurité en ce moment")
    # Asking for a person, even with that question pending, opens a case (queued) at once.
    mark = recorder.mark()
    user["say"]("je veux parler à quelqu'un, mon numéro c'est pas la peine")
    says("\n".join(user["sent"](mark)), "3018")
    case = wait_case(channels.stack, user["conversation"], user_role="parent")
    assert case["channel"] == RASA_CHANNEL[name]

    # The counsellor's reply goes out through the platform, labelled as from a person.
    mark = recorder.mark()
    status, answer = desk_call(channels.stack, "POST", f"/api/cases/{case['id']}/messages",
                          {"text": "Bonjour, je suis là. Votre fille va bien ?", "author": "Léa"})
    assert status == 201 and answer["delivered"] is True
    texts = user["sent"](mark)
    # Writing claimed the queued case: first the notice that a person joined, then the message.
    assert len(texts) == 2 and "a rejoint la conversation" in texts[0]
    assert texts[1] == "Léa (3018) : Bonjour, je suis là. Votre fille va bien ?"

    # The case is active now (claimed by the message): the parent's answer reaches the desk;
    # the bot stays quiet (it answers only while the case is queued or after it closed).
    mark = recorder.mark()
    user["say"]("oui elle est avec moi")
    wait_transcript(channels, case["id"], "oui elle est avec moi")
    after = turn_over(channels, user["conversation"], "oui elle est avec moi")
    assert [e for e in after if e["event"] == "bot"] == []
    assert channels.tracker(user["conversation"])["slots"]["handoff_status"] == "active"
    assert recorder.since(mark, user["prefix"]) == []

    # A message the platform refuses is reported to the desk as not delivered (yet): the desk
    # keeps it and sends it again (docs/handoff.md, the outbox); it then reaches the parent,
    # once, and the desk shows it delivered.
    recorder.fail_next(user["prefix"], 400, times=1)
    status, answer = desk_call(channels.stack, "POST", f"/api/cases/{case['id']}/messages", {"text": "Vous êtes là ?", "author": "Léa"})
    assert status == 502 and answer["delivered"] is False and answer["retrying"] is True
    deadline = time.monotonic() + 20
    while not wait_transcript(channels, case["id"], "Vous êtes là ?")["delivered"]:
        assert time.monotonic() < deadline, "the message was not sent again"
        time.sleep(0.2)
    bots = [e for e in channels.tracker(user["conversation"])["events"] if e["event"] == "bot"]
    assert [e["text"] for e in bots].count("Vous êtes là ?") == 1

    desk_call(channels.stack, "POST", f"/api/cases/{case['id']}/close", {"outcome": "information_given"})


def test_no_phone_number_or_platform_id_in_the_tracker_store_or_the_logs(channels: Channels) -> None:
    phone = whatsapp.new_phone()
    mark = channels.recorder.mark()
    channels.twilio(whatsapp.inbound(channels, phone, "Bonjour, mon fils est harcelé sur TikTok"))
    assert whatsapp.sent_to(channels, mark, phone)
    SEEN_IDS.append(phone)
    SEEN_IDS.append(phone.lstrip("+"))
    turn_over(channels, channels.conversation_id("whatsapp", f"whatsapp:{phone}"), "Bonjour, mon fils est harcelé sur TikTok")
    db = channels.stack.log_file.parent / "tracker.db"
    raw = db.read_bytes()
    for wal in db.parent.glob("tracker.db-*"):
        raw += wal.read_bytes()
    with sqlite3.connect(db) as connection:
        dumped = "\n".join(connection.iterdump())
    log = channels.stack.log_file.read_text(errors="replace")
    assert "whatsapp-" in dumped  # the conversations are there, under their hashed ids
    for secret in SEEN_IDS + ["Camille", "Durand", "camille_d"]:
        assert secret.encode() not in raw, f"{secret} in the tracker store file"
        assert secret not in dumped, f"{secret} in the tracker store"
        assert secret not in log, f"{secret} in the logs"
