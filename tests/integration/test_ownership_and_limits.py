"""The doors of issue 12, parts 2 and 3, on a running stack with the production limits (README,
"Limits"; only the REST channel is turned on, as in development):

- a conversation belongs to the channel that started it: the REST channel cannot write into the
  web widget's conversation, and the counsellor's reply still reaches the widget;
- a flood is limited (429 on REST, a calm message on socket.io), and a crisis message within the
  flood still gets its number;
- bodies over 64 KB get 413, over HTTP and over socket.io;
- a message's text is cut to 4,000 characters, and only known metadata keys reach the tracker.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Tuple

import pytest
import yaml

from tests.conftest import ROOT, running_stack
from tests.support.chat import Stack, free_port, http
from tests.support.desk_api import await_case, desk
from tests.support.widget_client import WidgetClient

TWO_MB = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def strict(model_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(model_path, tmp_path_factory.mktemp("limits"), limits={}) as stack:
        yield stack


def post(url: str, body: bytes, content_type: str = "application/json", timeout: float = 30) -> Tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def rest(stack: Stack, sender: str, text: str, metadata: Optional[Dict[str, Any]] = None) -> Tuple[int, Any]:
    body: Dict[str, Any] = {"sender": sender, "message": text}
    if metadata is not None:
        body["metadata"] = metadata
    status, raw = post(f"{stack.url}/webhooks/rest/webhook", json.dumps(body).encode())
    return status, json.loads(raw) if raw else None


def tracker(stack: Stack, conversation_id: str) -> Dict[str, Any]:
    return http("GET", f"{stack.url}/conversations/{conversation_id}/tracker?token={stack.token}")


def user_events(stack: Stack, conversation_id: str) -> list:
    return [e for e in tracker(stack, conversation_id)["events"] if e["event"] == "user"]


def texts(replies: Any) -> str:
    return "\n".join(r.get("text", "") for r in replies or [])


# ---------------------------------------------------------------- ownership

def test_rest_cannot_take_over_a_widget_conversation_and_the_counsellor_still_reaches_the_widget(strict: Stack) -> None:
    asyncio.run(_takeover(strict))


async def _takeover(stack: Stack) -> None:
    client = WidgetClient(stack.url)
    conversation_id = await client.connect()
    await client.say("je veux parler a quelqu'un")
    case = await await_case(stack, conversation_id, timeout=5.0, status="queued")
    assert case["channel"] == "socketio"

    # The id is shown in the desk, the API and the partner webhook: REST tries to write with it.
    status, _ = await asyncio.to_thread(rest, stack, conversation_id, "bonjour, c'est moi maintenant")
    assert status == 403
    assert all(e.get("input_channel") == "socketio" for e in user_events(stack, conversation_id))

    # The counsellor's reply goes through the widget's own channel.
    await asyncio.to_thread(desk, stack, "POST", f"/api/cases/{case['id']}/messages",
                            {"text": "Bonjour, je suis Léa.", "author": "Léa"})
    reply = await client.wait_for(lambda m: m.get("sender") == "counsellor", 5.0)
    assert reply["text"] == "Bonjour, je suis Léa."
    await client.disconnect()


def test_rest_cannot_start_a_conversation_with_a_widget_or_messaging_id(strict: Stack) -> None:
    for made_by_a_channel in (uuid.uuid4().hex, f"whatsapp-{uuid.uuid4().hex}", f"telegram-{uuid.uuid4().hex}"):
        status, _ = rest(strict, made_by_a_channel, "bonjour")
        assert status == 403, made_by_a_channel
    status, replies = rest(strict, f"dev-{uuid.uuid4().hex[:8]}", "bonjour")
    assert status == 200 and replies


def test_the_rest_channel_is_off_unless_enabled(model_path: str, tmp_path: Path) -> None:
    """Rasa as `make run` starts it, without ENABLE_REST_CHANNEL: the REST webhook is not there."""
    port = free_port()
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    endpoints["tracker_store"]["db"] = str(tmp_path / "tracker.db")
    endpoints.pop("event_broker", None)
    (tmp_path / "endpoints.yml").write_text(yaml.safe_dump(endpoints))
    env = {k: v for k, v in os.environ.items() if k != "ENABLE_REST_CHANNEL"}
    env.update(PYTHONPATH=str(ROOT), HANDOFF_DB=str(tmp_path / "handoff.db"), RASA_TELEMETRY_ENABLED="false")
    with open(tmp_path / "rasa.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "rasa", "run", "--model", model_path, "--port", str(port), "--interface", "127.0.0.1",
             "--credentials", "credentials.yml", "--endpoints", str(tmp_path / "endpoints.yml")],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 180
            while True:  # the socket.io channel's health route answers once the channels are up
                try:
                    http("GET", url + "/webhooks/socketio/", timeout=2)
                    break
                except (OSError, ValueError):
                    assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "rasa.log").read_text()[-3000:]
                    time.sleep(1)
            status, _ = post(f"{url}/webhooks/rest/webhook", json.dumps({"sender": "dev-1", "message": "bonjour"}).encode())
            assert status == 404
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


# ---------------------------------------------------------------- rates

def test_a_flood_is_limited_and_a_crisis_within_it_still_gets_its_number(strict: Stack) -> None:
    sender = f"flood-{uuid.uuid4().hex[:8]}"
    statuses = [rest(strict, sender, f"salut {i}")[0] for i in range(26)]
    assert statuses[:20] == [200] * 20 and set(statuses[20:]) == {429}
    status, replies = rest(strict, sender, "je veux mourir")
    assert status == 200 and "3114" in texts(replies)
    assert tracker(strict, sender)["slots"]["risk_level"] == "critical"
    assert rest(strict, sender, "salut encore")[0] == 429


def test_a_flood_on_socketio_gets_a_calm_message_and_a_crisis_still_its_number(strict: Stack) -> None:
    asyncio.run(_socketio_flood(strict))


async def _socketio_flood(stack: Stack) -> None:
    client = WidgetClient(stack.url)
    conversation_id = await client.connect()
    for i in range(24):
        await client.sio.emit("user_uttered", {"message": f"coucou {i}", "metadata": {"language": "fr"}})
        if i % 8 == 7:
            await asyncio.sleep(0.3)  # engine.io takes at most 16 packets in one long-polling request
    await client.wait_for(lambda m: "beaucoup de messages" in m.get("text", ""), 30)
    # The 20 allowed messages are answered (in turn); the 4 others never reach the assistant.
    await client.wait_for(lambda m: len([x for x in client.messages if "beaucoup de messages" not in x["text"]]) >= 20
                          and len(user_events(stack, conversation_id)) >= 20, 60)
    await asyncio.sleep(1)
    assert len(user_events(stack, conversation_id)) == 20
    assert len([m for m in client.messages if "beaucoup de messages" in m["text"]]) == 4
    before = len(client.messages)
    await client.sio.emit("user_uttered", {"message": "je veux me tuer", "metadata": {"language": "fr"}})
    answer = await client.wait_for(lambda m: m in client.messages[before:] and "3114" in m.get("text", "")
                                   and "beaucoup de messages" not in m.get("text", ""), 20)
    assert answer["sender"] == "bot"
    await client.wait_for(lambda m: tracker(stack, conversation_id)["slots"]["risk_level"] == "critical", 10)
    await client.disconnect()


def test_a_flood_of_crises_opens_at_most_the_cap_of_cases_and_each_gets_its_number(strict: Stack) -> None:
    """40 "je veux mourir" with fresh ids from one address once opened 40 critical cases. Now
    5 a minute (NEW_CASES_PER_ADDRESS_PER_MINUTE) on that channel; every message still gets
    the emergency answer; the supervisors are alerted (audit entry and banner)."""
    senders = [f"flood-case-{uuid.uuid4().hex[:8]}" for _ in range(12)]
    for sender in senders:
        status, replies = rest(strict, sender, "je veux mourir")
        assert status == 200 and "3114" in texts(replies), texts(replies)
        assert tracker(strict, sender)["slots"]["risk_level"] == "critical"
    time.sleep(3)  # the broker's outbox reaches the desk
    opened = [c for c in desk(strict, "GET", "/api/cases")["cases"] if c["conversation_id"] in senders]
    # (the flood tests above may have opened one from this address within the minute)
    assert 1 <= len(opened) <= 5
    refused = set(senders) - {c["conversation_id"] for c in opened}
    assert all(tracker(strict, s)["slots"]["handoff_status"] is None for s in refused)  # nobody told "a person is coming"
    with sqlite3.connect(strict.log_file.parent / "desk.db") as db:
        alerted = {row[0] for row in db.execute("SELECT conversation_id FROM desk_audit WHERE action = 'new_case_limit'")}
    assert refused <= alerted


# ---------------------------------------------------------------- sizes and metadata

def test_a_2_mb_body_gets_413_over_http(strict: Stack) -> None:
    body = json.dumps({"sender": f"big-{uuid.uuid4().hex[:8]}", "message": "a" * TWO_MB}).encode()
    status, _ = post(f"{strict.url}/webhooks/rest/webhook", body)
    assert status == 413


def test_a_2_mb_body_gets_413_over_socketio(strict: Stack) -> None:
    # An engine.io long-polling session, as the widget opens it, then a 2 MB packet.
    with urllib.request.urlopen(f"{strict.url}/socket.io/?EIO=4&transport=polling", timeout=10) as response:
        opened = response.read().decode()
    sid = json.loads(opened[opened.index("{"):])["sid"]
    packet = b'42["user_uttered",{"message":"' + b"a" * TWO_MB + b'"}]'
    status, _ = post(f"{strict.url}/socket.io/?EIO=4&transport=polling&sid={sid}", packet, "text/plain;charset=UTF-8")
    assert status == 413


def test_text_is_cut_to_4000_characters(strict: Stack) -> None:
    sender = f"long-{uuid.uuid4().hex[:8]}"
    status, _ = rest(strict, sender, "je suis harcelée sur insta " + "a" * 10_000)
    assert status == 200
    assert len(user_events(strict, sender)[-1]["text"]) == 4000


def stored_client_keys(metadata: Dict[str, Any]) -> Dict[str, Any]:
    """The metadata stored with a message, without the keys the server adds itself (Rasa's, and the
    guard's mark when this address has reached its new-case cap, as the flood test above makes it)."""
    return {k: v for k, v in metadata.items() if k not in ("model_id", "assistant_id", "new_case")}


def test_junk_metadata_is_not_stored(strict: Stack) -> None:
    junk = {f"junk{i}": "x" * 100 for i in range(100)}  # 10 KB
    sender = f"meta-{uuid.uuid4().hex[:8]}"
    assert rest(strict, sender, "bonjour", dict(junk, language="en"))[0] == 200
    assert stored_client_keys(user_events(strict, sender)[-1]["metadata"]) == {"language": "en"}
    asyncio.run(_socketio_metadata(strict, junk))


async def _socketio_metadata(stack: Stack, junk: Dict[str, str]) -> None:
    client = WidgetClient(stack.url)
    conversation_id = await client.connect()
    before = len(client.messages)
    await client.sio.emit("user_uttered", {"message": "bonjour", "metadata": dict(junk, language="fr")})
    await client.wait_messages(before + 1, 20)
    assert stored_client_keys(user_events(stack, conversation_id)[-1]["metadata"]) == {"language": "fr"}
    await client.disconnect()
