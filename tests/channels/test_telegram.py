"""Telegram contract tests: Bot API update formats in, Bot API calls out (recorded)."""
from __future__ import annotations

import itertools
import random
import time
from typing import Any, Dict, List

import pytest

from tests.channels.conftest import Channels
from tests.integration.helpers import says

GROOMING = "Un adulte envoie des messages à ma fille de 12 ans sur Instagram et lui propose de se voir"
_updates = itertools.count(random.randint(10_000, 90_000) * 1000)


def update_message(chat_id: int, text: str = None, **extra: Any) -> Dict[str, Any]:
    message: Dict[str, Any] = {
        "message_id": next(_updates) % 100000, "date": int(time.time()),
        "from": {"id": chat_id, "is_bot": False, "first_name": "Camille", "last_name": "Durand",
                 "username": "camille_d", "language_code": "fr"},
        "chat": {"id": chat_id, "first_name": "Camille", "last_name": "Durand", "username": "camille_d", "type": "private"},
    }
    if text is not None:
        message["text"] = text
    message.update(extra)
    return {"update_id": next(_updates), "message": message}


def callback(chat_id: int, data: str) -> Dict[str, Any]:
    return {"update_id": next(_updates), "callback_query": {
        "id": str(next(_updates)), "from": {"id": chat_id, "is_bot": False, "first_name": "Camille"},
        "chat_instance": "-123", "data": data,
        "message": {"message_id": 5, "date": int(time.time()), "chat": {"id": chat_id, "type": "private"}, "text": "…"}}}


def sent_to(channels: Channels, mark: int, chat_id: int, quiet: float = 1.0) -> List[Dict[str, Any]]:
    calls = channels.recorder.wait_quiet(mark, "/telegram", quiet=quiet)
    return [c.body for c in calls if c.path.endswith("/sendMessage") and c.body.get("chat_id") == str(chat_id)
            and c.status == 200]


def text_of(bodies: List[Dict[str, Any]]) -> str:
    return "\n".join(b["text"] for b in bodies)


def new_chat() -> int:
    return random.randint(5_000_000_000, 5_999_999_999)


def test_parent_grooming_conversation_with_buttons(channels: Channels) -> None:
    chat = new_chat()
    mark = channels.recorder.mark()
    status, _ = channels.telegram(update_message(chat, "/start"))
    assert status == 200
    greeting = sent_to(channels, mark, chat)
    assert greeting, "no answer to /start"
    keyboard = greeting[-1]["reply_markup"]["inline_keyboard"]
    assert [row[0]["callback_data"] for row in keyboard][:2] == ["/sextortion", "/nonconsensual_sharing"]

    mark = channels.recorder.mark()
    assert channels.telegram(update_message(chat, GROOMING))[0] == 200
    replies = text_of(sent_to(channels, mark, chat))
    says(replies, "vous")
    assert " tu " not in f" {replies.lower()} "
    conversation = channels.conversation_id("telegram", str(chat))
    slots = channels.tracker(conversation)["slots"]
    assert slots["user_role"] == "parent" and slots["flow"] == "grooming"
    assert all(c.body.get("parse_mode") == "HTML" for c in channels.recorder.since(mark, "/telegram")
               if c.path.endswith("/sendMessage"))

    # An inline-keyboard answer arrives as a callback query and is acknowledged.
    buttons = sent_to(channels, mark, chat)[-1].get("reply_markup", {}).get("inline_keyboard", [])
    if buttons:
        mark = channels.recorder.mark()
        assert channels.telegram(callback(chat, buttons[0][0]["callback_data"]))[0] == 200
        assert sent_to(channels, mark, chat)
        assert any(c.path.endswith("/answerCallbackQuery") for c in channels.recorder.since(mark, "/telegram"))
        events = channels.tracker(conversation)["events"]
        last_user = [e for e in events if e["event"] == "user"][-1]
        assert last_user["text"] == buttons[0][0]["callback_data"]


def test_photo_gets_the_no_images_answer_and_is_not_downloaded(channels: Channels) -> None:
    chat = new_chat()
    mark = channels.recorder.mark()
    photo = [{"file_id": "AgACAgQAAxkBAAIB", "file_unique_id": "AQAD", "width": 90, "height": 90, "file_size": 1200}]
    assert channels.telegram(update_message(chat, photo=photo))[0] == 200
    replies = text_of(sent_to(channels, mark, chat))
    says(replies, "photo")
    assert not any("getFile" in c.path or c.path.startswith("/media") for c in channels.recorder.since(mark))
    # no turn for the bot: a photo is not a message
    assert not any(e["event"] == "user" for e in channels.tracker(channels.conversation_id("telegram", str(chat)))["events"])


@pytest.mark.parametrize("secret", [None, "wrong-secret", ""])
def test_unsigned_or_wrongly_signed_update_is_refused(channels: Channels, secret: Any) -> None:
    chat = new_chat()
    mark = channels.recorder.mark()
    status, _ = channels.telegram(update_message(chat, "bonjour"), secret=secret)
    assert status == 403
    time.sleep(0.5)
    assert channels.recorder.since(mark, "/telegram") == []
    events = channels.tracker(channels.conversation_id("telegram", str(chat)))["events"]
    assert not any(e["event"] == "user" for e in events)


def test_a_platform_error_is_retried_then_delivered(channels: Channels) -> None:
    chat = new_chat()
    channels.recorder.fail_next("/telegram", 500, times=1)
    mark = channels.recorder.mark()
    assert channels.telegram(update_message(chat, "bonjour"))[0] == 200
    calls = [c for c in channels.recorder.wait_quiet(mark, "/telegram", quiet=1.5) if c.path.endswith("/sendMessage")]
    assert calls[0].status == 500 and calls[1].status == 200
    assert calls[0].body == calls[1].body


def test_rate_limit_is_respected(channels: Channels) -> None:
    chat = new_chat()
    channels.recorder.fail_next("/telegram", 429, times=1, body={
        "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}})
    mark = channels.recorder.mark()
    assert channels.telegram(update_message(chat, "bonjour"))[0] == 200
    calls = [c for c in channels.recorder.wait_quiet(mark, "/telegram", quiet=1.5) if c.path.endswith("/sendMessage")]
    assert calls[0].status == 429 and calls[1].status == 200
    assert calls[1].at - calls[0].at >= 1.0
