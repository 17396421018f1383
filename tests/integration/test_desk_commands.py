"""The desk owns a case's state (issue 12): its commands reach Rasa through a durable outbox,
in order, once each, whatever happens on the way; the crisis watchdog survives a Rasa restart;
a counsellor who vanishes does not leave the person waiting; human mode needs no event broker.

The desk of this stack talks to Rasa through a proxy that can refuse the desk's writes (Rasa
unreachable) or lose Rasa's answers (applied, but the desk never hears it)."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from tests.conftest import CRISIS_GRACE_SECONDS, running_stack
from tests.support.chat import Stack, http
from tests.support.desk_api import await_case, desk, desk_call
from tests.support.fault_proxy import FaultProxy
from tests.support.widget_client import WidgetClient

SILENCE_SECONDS = 8  # DESK_COUNSELLOR_SILENCE_SECONDS for this stack (5 minutes in production)
RETRY_WITHIN = 20.0  # this stack retries a command at least every 2 s (DESK_COMMAND_RETRY_MAX_SECONDS)
# These scenarios are about the desk's commands, not the action server's cold start on a busy
# machine (its first call loads the content): a case must open even then.
SLOW_MACHINE = {"ACTION_SERVER_TIMEOUT": "10"}


@pytest.fixture(scope="module")
def proxy() -> Iterator[FaultProxy]:
    running = FaultProxy().start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("commands-stack")


@pytest.fixture(scope="module")
def cstack(model_path: str, work: Path, proxy: FaultProxy) -> Iterator[Stack]:
    extra = dict(SLOW_MACHINE, RASA_URL=proxy.url, DESK_COUNSELLOR_SILENCE_SECONDS=str(SILENCE_SECONDS),
                 DESK_COMMAND_RETRY_MAX_SECONDS="2")
    with running_stack(model_path, work, extra_env=extra) as running:
        proxy.target = running.url
        yield running


def tracker(stack: Stack, conversation_id: str) -> Dict[str, Any]:
    return http("GET", f"{stack.url}/conversations/{conversation_id}/tracker?token={stack.token}")


def bot_texts(stack: Stack, conversation_id: str) -> List[str]:
    return [e.get("text") or "" for e in tracker(stack, conversation_id)["events"] if e.get("event") == "bot"]


async def until(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await asyncio.to_thread(predicate)
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")


def transcript(stack: Stack, case_id: int) -> List[Dict[str, Any]]:
    return desk(stack, "GET", f"/api/cases/{case_id}")["transcript"]


async def queued_conversation(stack: Stack) -> Tuple[WidgetClient, str, Dict[str, Any]]:
    client = WidgetClient(stack.url)
    conversation_id = await client.connect()
    await client.say("je veux parler à un humain")
    case = await await_case(stack, conversation_id, timeout=10, status="queued")
    return client, conversation_id, case


async def counsellor_says(stack: Stack, client: WidgetClient, case_id: int, text: str) -> None:
    desk(stack, "POST", f"/api/cases/{case_id}/messages", {"text": text, "author": "Léa"})
    await client.wait_for(lambda m: m.get("text") == text, 10)


def test_a_close_that_fails_then_recovers(cstack: Stack, proxy: FaultProxy) -> None:
    """The desk closes while Rasa cannot be told: what the person writes meanwhile is kept in
    the case (the bot is still quiet); once Rasa is back the close is applied, the person is
    told, and the bot answers again."""
    async def scenario() -> None:
        client, conversation_id, case = await queued_conversation(cstack)
        await counsellor_says(cstack, client, case["id"], "Bonjour, ici Léa.")
        proxy.refuse_writes = True
        try:
            closed = desk(cstack, "POST", f"/api/cases/{case['id']}/close", {"outcome": "information_given"})
            assert closed["case"]["status"] == "closed" and closed["rasa_notified"] is False
            assert await client.say("tu es encore là ?", wait_for=0) == []  # Rasa still has a person on it
            await until(lambda: any(m["text"] == "tu es encore là ?" for m in transcript(cstack, case["id"])), 10,
                        "the message written during the failed close reaches the case")
        finally:
            proxy.refuse_writes = False
        closing = await client.wait_for(lambda m: "terminée" in m.get("text", ""), RETRY_WITHIN)
        assert closing["notice"] == "person_left"
        assert tracker(cstack, conversation_id)["slots"]["handoff_status"] == "closed"
        await client.say("/skip")
        again = await client.say("c'est quoi les horaires du 3018 ?")
        assert again and "23h" in "\n".join(m["text"] for m in again)
        await client.disconnect()

    asyncio.run(scenario())


def test_a_command_whose_answer_was_lost_is_delivered_once(cstack: Stack, proxy: FaultProxy) -> None:
    async def scenario() -> None:
        client, conversation_id, case = await queued_conversation(cstack)
        await counsellor_says(cstack, client, case["id"], "Bonjour, je suis Léa.")
        proxy.lose_answers = 1  # Rasa applies the next command; the desk never hears it
        status, answer = desk_call(cstack, "POST", f"/api/cases/{case['id']}/messages",
                                   {"text": "Tu peux me dire ce qui se passe ?", "author": "Léa"})
        assert status == 502 and answer["delivered"] is False and answer["retrying"] is True
        await until(lambda: [m for m in transcript(cstack, case["id"]) if m["text"] == "Tu peux me dire ce qui se passe ?"
                             and m["delivered"]], RETRY_WITHIN, "the retry is acknowledged")
        await client.say("d'accord", wait_for=0)  # a later turn: anything sent twice would be there by now
        await until(lambda: any(m["text"] == "d'accord" for m in transcript(cstack, case["id"])), 10, "user message")
        assert [m["text"] for m in client.messages].count("Tu peux me dire ce qui se passe ?") == 1
        assert bot_texts(cstack, conversation_id).count("Tu peux me dire ce qui se passe ?") == 1
        desk(cstack, "POST", f"/api/cases/{case['id']}/close", {"outcome": "information_given"})
        await client.disconnect()

    asyncio.run(scenario())


def command_call(stack: Stack, body: Any, token: Optional[str] = None,
                 headers: Optional[Dict[str, str]] = None) -> Tuple[int, Any]:
    request = urllib.request.Request(
        f"{stack.url}/webhooks/desk_commands/command", method="POST", data=json.dumps(body).encode(),
        headers=dict({"Content-Type": "application/json",
                      "Authorization": f"Bearer {token if token is not None else stack.commands_token}"},
                     **(headers or {})))
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_a_duplicate_command_is_applied_once_and_bad_ones_are_refused(cstack: Stack) -> None:
    async def scenario() -> None:
        client, conversation_id, case = await queued_conversation(cstack)
        await counsellor_says(cstack, client, case["id"], "Bonjour.")  # the desk's commands 1 and 2
        command = {"id": uuid.uuid4().hex, "conversation_id": conversation_id, "seq": 3, "type": "message",
                   "payload": {"text": "Une seule fois.", "author": "Léa", "message_id": uuid.uuid4().hex}}
        assert command_call(cstack, command) == (200, {"applied": True})
        assert command_call(cstack, command) == (200, {"applied": False, "duplicate": True})
        # A later sequence number is applied; an earlier one is a retry (the desk sends in order).
        late = dict(command, id=uuid.uuid4().hex, seq=2, payload=dict(command["payload"], text="Trop tard."))
        assert command_call(cstack, late) == (200, {"applied": False, "duplicate": True})
        await client.say("merci", wait_for=0)
        await until(lambda: any(m["text"] == "merci" for m in transcript(cstack, case["id"])), 10, "user message")
        assert [m["text"] for m in client.messages].count("Une seule fois.") == 1
        assert "Trop tard." not in bot_texts(cstack, conversation_id)
        # Refusals: clear 4xx, nothing applied.
        assert command_call(cstack, command, token="wrong")[0] == 401
        assert command_call(cstack, dict(command, id="x" * 65))[0] == 400
        assert command_call(cstack, dict(command, type="unknown", seq=9))[0] == 400
        assert command_call(cstack, dict(command, seq="3"))[0] == 400
        assert command_call(cstack, [1, 2])[0] == 400
        assert command_call(cstack, dict(command, id="new", seq=9, payload={"text": ""}))[0] == 400
        assert command_call(cstack, command, headers={"X-Forwarded-For": "203.0.113.9"})[0] == 403
        request = urllib.request.Request(f"{cstack.url}/webhooks/desk_commands/status/{conversation_id}",
                                         headers={"Authorization": f"Bearer {cstack.commands_token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            status = json.loads(response.read())
        assert status == {"conversation_id": conversation_id, "status": "active", "last_seq": 3}
        desk(cstack, "POST", f"/api/cases/{case['id']}/close", {"outcome": "information_given"})
        await client.disconnect()

    asyncio.run(scenario())


def test_a_vanished_counsellor(cstack: Stack, work: Path) -> None:
    """Claimed, the person writes, the counsellor says nothing: the supervisors are alerted,
    the case goes back to the queue, the person is told and the bot answers again."""
    async def scenario() -> None:
        client, conversation_id, case = await queued_conversation(cstack)
        await counsellor_says(cstack, client, case["id"], "Bonjour, je lis ton message.")
        assert await client.say("il m'a encore écrit", wait_for=0) == []
        told = await client.wait_for(lambda m: "s'absenter" in m.get("text", ""), SILENCE_SECONDS + 20)
        assert told["sender"] == "system"
        requeued = await await_case(cstack, conversation_id, timeout=5, status="queued")
        assert requeued["assigned_to"] is None
        audit = sqlite3.connect(work / "desk.db")
        try:
            actions = [row[0] for row in audit.execute(
                "SELECT action FROM desk_audit WHERE case_id = ? ORDER BY id", (case["id"],))]
        finally:
            audit.close()
        assert actions.count("counsellor_silent") == 1
        assert tracker(cstack, conversation_id)["slots"]["handoff_status"] == "queued"
        answer = await client.say("c'est quoi les horaires du 3018 ?")
        assert answer and "23h" in "\n".join(m["text"] for m in answer)  # the bot answers again
        desk(cstack, "POST", f"/api/cases/{case['id']}/close", {"outcome": "information_given"})
        await client.disconnect()

    asyncio.run(scenario())


def rasa_pid(stack: Stack) -> int:
    out = subprocess.run(["pgrep", "-P", str(stack.process.pid), "-f", "rasa_serve.py"], capture_output=True,
                         text=True).stdout.split()
    assert out, "Rasa process not found"
    return int(out[0])


def deadline_fired(work: Path, conversation_id: str) -> bool:
    db = sqlite3.connect(work / "handoff.db")
    try:
        row = db.execute("SELECT fired_at FROM crisis_deadlines WHERE conversation_id = ?", (conversation_id,)).fetchone()
    finally:
        db.close()
    return bool(row and row[0])


def rasa_up(stack: Stack) -> bool:
    try:
        return bool(http("GET", f"{stack.url}/status?token={stack.token}", timeout=3).get("model_file"))
    except (urllib.error.URLError, OSError, ValueError):
        return False


def test_rasa_restarted_during_the_crisis_grace_period(cstack: Stack, work: Path) -> None:
    """The emergency answer's deadline is stored: a Rasa killed in the grace period sends it
    when it is back, exactly once."""
    chat = cstack.chat()
    chat.say("je veux parler à quelqu'un")

    async def claimed() -> Dict[str, Any]:
        case = await await_case(cstack, chat.sender, timeout=10, status="queued")
        desk(cstack, "POST", f"/api/cases/{case['id']}/messages", {"text": "Je suis là.", "author": "Léa"})
        await until(lambda: tracker(cstack, chat.sender)["slots"]["handoff_status"] == "active", 10, "claimed")
        return case

    case = asyncio.run(claimed())
    assert chat.say("je vais me tuer ce soir") == []  # a person has the conversation: the bot is quiet
    asyncio.run(await_case(cstack, chat.sender, timeout=10, risk_level="critical", alert=True))
    os.kill(rasa_pid(cstack), signal.SIGKILL)  # supervisord starts it again

    def answers() -> List[Dict[str, Any]]:
        events = tracker(cstack, chat.sender)["events"]
        crisis = max(i for i, e in enumerate(events) if e.get("event") == "user" and "tuer" in (e.get("text") or ""))
        return [e for e in events[crisis:] if e.get("event") == "action" and e.get("name") == "utter_crisis"]

    async def after_restart() -> None:
        await until(lambda: rasa_up(cstack), 180, "Rasa back")
        await until(answers, 30, "the emergency answer after the restart")
        # Once the deadline is marked fired no sweep sends it again: count then.
        await until(lambda: deadline_fired(work, chat.sender), 30, "the stored deadline marked fired")

    asyncio.run(after_restart())
    assert len(answers()) == 1
    assert any("3114" in t for t in bot_texts(cstack, chat.sender)[-3:])
    desk(cstack, "POST", f"/api/cases/{case['id']}/close", {"outcome": "information_given"})


EVENTS_TOKEN = uuid.uuid4().hex


@pytest.fixture(scope="module")
def no_broker_stack(model_path: str, tmp_path_factory: pytest.TempPathFactory, cstack: Stack) -> Iterator[Stack]:
    """Rasa with no event broker at all (`cstack` first: one stack at a time on this machine)."""
    with running_stack(model_path, tmp_path_factory.mktemp("no-broker"), event_broker={},
                       extra_env=dict(SLOW_MACHINE, DESK_EVENTS_TOKEN=EVENTS_TOKEN)) as running:
        yield running


def test_human_mode_needs_no_event_broker(no_broker_stack: Stack) -> None:
    """Without the desk's broker the desk hears nothing from Rasa (here the case is opened by
    hand), but its commands still decide: the bot is quiet while a counsellor has the
    conversation, through a restart of the conversation, and answers again after the close."""
    stack = no_broker_stack
    chat = stack.chat()
    assert chat.say("bonjour")
    request = urllib.request.Request(
        f"{stack.desk_url}/internal/events", method="POST",
        data=json.dumps({"events": [{"id": uuid.uuid4().hex, "conversation_id": chat.sender, "type": "handoff",
                                     "status": "queued", "timestamp": time.time(), "channel": "rest"}]}).encode(),
        headers={"Authorization": f"Bearer {EVENTS_TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        case_id = json.loads(response.read())["opened"][0]
    assert desk(stack, "POST", f"/api/cases/{case_id}/messages", {"text": "Bonjour, ici Léa.", "author": "Léa"})["delivered"]
    assert chat.say("il me menace") == []
    http("POST", f"{stack.url}/conversations/{chat.sender}/tracker/events?token={stack.token}", [{"event": "restart"}])
    assert chat.say("allo ?") == []  # the conversation's restart does not end human mode
    assert chat.slots()["handoff_status"] == "active"
    # The crisis watchdog needs no broker either: no counsellor answer, the emergency answer comes.
    assert chat.say("je vais me tuer ce soir") == []
    deadline = time.monotonic() + CRISIS_GRACE_SECONDS + 15
    while "utter_crisis" not in [e.get("name") for e in tracker(stack, chat.sender)["events"]]:
        assert time.monotonic() < deadline, "no emergency answer"
        time.sleep(0.2)
    closed = desk(stack, "POST", f"/api/cases/{case_id}/close", {"outcome": "information_given"})
    assert closed["rasa_notified"] is True
    assert "terminée" in "\n".join(bot_texts(stack, chat.sender)[-2:])
    chat.say("/skip")
    again = chat.say("c'est quoi les horaires du 3018 ?")
    assert again and "23h" in chat.text(again)
