"""Erasure end to end, on the running stack (README, "Privacy"): from the person (FR and EN,
confirmed, "non" cancels, in a flow and while a case is queued, crisis net still on), from a
counsellor's button, and from `make erase`. After each, the raw bytes of every file in the
stack's work directory (databases, their WAL, logs) are searched for the conversation's marker.
A case closed with a child-protection outcome keeps its record, and the person is told."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import List

from tests.conftest import ROOT
from tests.desk.helpers import Browser, make_user
from tests.support.chat import Chat, Stack
from tests.support.desk_api import desk, desk_call, wait_case
from tests.support.widget_client import WidgetClient

ERASED_FR, ERASED_EN = "effacée chez nous", "erased on our side"


def work_dir(stack: Stack) -> Path:
    return stack.content_dir.parent


def files_containing(folder: Path, marker: str, skip: tuple = ()) -> List[str]:
    needle = marker.encode()
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and path.name not in skip:
            try:
                if needle in path.read_bytes():
                    found.append(str(path))
            except OSError:  # a file removed while walking (a journal)
                pass
    return found


def wait_no_trace(stack: Stack, marker: str, timeout: float = 30, skip: tuple = ()) -> None:
    """The erasure finishes after the turn (then the desk's side, then the outbox's compaction)."""
    deadline = time.monotonic() + timeout
    while True:
        left = files_containing(work_dir(stack), marker, skip)
        if not left:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the erased text is still in {left}")
        time.sleep(0.5)


def marker() -> str:
    return f"zq{uuid.uuid4().hex[:12]}"


def test_the_person_erases_in_french_in_a_flow_after_confirming(stack: Stack) -> None:
    chat, mark = stack.chat(), marker()
    chat.say(f"un mec sur snap me fait du chantage avec une video de moi, il s'appelle {mark}")
    asked = chat.say("efface ma conversation")
    assert "confirmes" in Chat.text(asked) and Chat.payloads(asked) == ["/affirm", "/deny"]
    kept = chat.say("non")
    assert "n'efface rien" in Chat.text(kept)
    assert files_containing(work_dir(stack), mark)  # "non" kept everything

    # The crisis net works at the confirmation too: no erasure, the emergency answer.
    chat.say("supprime ma conv stp")
    crisis = chat.say("oui et de toute facon je veux mourir")
    assert "3114" in Chat.text(crisis) and ERASED_FR not in Chat.text(crisis)
    assert files_containing(work_dir(stack), mark)

    asked = chat.say("efface tt stp")
    assert "confirmes" in Chat.text(asked)
    done = chat.say("oui")
    assert ERASED_FR in Chat.text(done)
    wait_no_trace(stack, mark)
    assert mark not in str(chat.tracker()["events"])


def test_the_person_erases_in_english_while_a_case_is_queued(stack: Stack) -> None:
    chat, mark = stack.chat(), marker()
    en = {"language": "en"}
    chat.say(f"someone is posting insults about me at school, his name is {mark}", metadata=en)
    chat.say("I want to talk to a person", metadata=en)
    case = wait_case(stack, chat.sender, timeout=15, status="queued")
    deadline = time.monotonic() + 15
    while mark not in str(desk(stack, "GET", f"/api/cases/{case['id']}")["transcript"]):
        assert time.monotonic() < deadline, "the marker never reached the desk's transcript"
        time.sleep(0.3)
    asked = chat.say("delete my conversation please", metadata=en)
    assert "Do you confirm?" in Chat.text(asked)
    done = chat.say("yes", metadata=en)
    assert ERASED_EN in Chat.text(done)
    wait_no_trace(stack, mark)
    assert desk_call(stack, "GET", f"/api/cases/{case['id']}")[0] == 404
    # The bot is not left waiting for a counsellor on a case that no longer exists.
    assert chat.slots().get("handoff_status") in (None, "closed")


def counsellor(stack: Stack, username: str) -> Browser:
    database_url = f"sqlite:///{work_dir(stack) / 'desk.db'}"
    make_user(database_url, username, "counsellor", "Léa")
    browser = Browser(SimpleNamespace(url=stack.desk_url, database_url=database_url))
    browser.login(username)
    return browser


def test_a_counsellor_erases_with_the_button_and_the_person_is_told(stack: Stack) -> None:
    asyncio.run(_button(stack))


async def _button(stack: Stack) -> None:
    client, mark = WidgetClient(stack.url), marker()
    conversation = await client.connect()
    await client.say(f"on me harcele sur insta, c'est {mark}")
    await client.say("je veux parler a quelqu'un")
    case = await asyncio.to_thread(wait_case, stack, conversation, 15, status="queued")
    lea = await asyncio.to_thread(counsellor, stack, f"lea{uuid.uuid4().hex[:6]}")
    await asyncio.to_thread(lea.post, f"/cases/{case['id']}/claim")
    answer = await asyncio.to_thread(lea.post, f"/cases/{case['id']}/erase", {"confirm": "yes"},
                                     headers={"X-Requested-With": "fetch"})
    assert answer.status_code == 200 and answer.json()["notice"] == "erased", answer.text
    told = await client.wait_for(lambda m: "effacée" in (m.get("text") or ""), timeout=15)
    assert told["sender"] == "bot"
    await client.disconnect()
    await asyncio.to_thread(wait_no_trace, stack, mark)
    assert desk_call(stack, "GET", f"/api/cases/{case['id']}")[0] == 404


def test_make_erase_sends_the_running_rasa_its_command(stack: Stack) -> None:
    chat, mark = stack.chat(), marker()
    chat.say(f"mon compte insta a ete pirate par {mark}")
    chat.say("je veux parler a quelqu'un")
    wait_case(stack, chat.sender, timeout=15, status="queued")
    work = work_dir(stack)
    env = dict(os.environ, PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{work / 'desk.db'}",
               TRACKER_DB_URL=f"sqlite:///{work / 'tracker.db'}", HANDOFF_DB=str(work / "handoff.db"),
               RASA_URL=stack.url, DESK_COMMANDS_TOKEN=stack.commands_token, CONTENT_DIR=str(stack.content_dir))
    out = subprocess.run([sys.executable, "-m", "desk.manage", "erase", "--id", chat.sender], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "running Rasa" in out.stdout and mark not in out.stdout + out.stderr
    wait_no_trace(stack, mark)


def test_a_child_protection_case_keeps_its_record_and_the_person_is_told(stack: Stack) -> None:
    chat, mark = stack.chat(), marker()
    chat.say(f"mon beau pere me touche quand maman est pas la, il s'appelle {mark}")
    chat.say("je veux parler a quelqu'un")
    case = wait_case(stack, chat.sender, timeout=15)
    closed = desk(stack, "POST", f"/api/cases/{case['id']}/close", {"outcome": "information_preoccupante"})
    assert closed["rasa_notified"] is True
    assert chat.say("efface ma conversation") and "la loi" not in chat.all_bot_text()
    done = chat.say("oui")
    assert ERASED_FR in Chat.text(done) and "la loi l'exige" in Chat.text(done)
    # Rasa's side goes; the desk keeps the case and its transcript, as the law requires.
    wait_no_trace(stack, mark, skip=("desk.db", "desk.db-wal", "desk.db-shm"))
    kept = desk(stack, "GET", f"/api/cases/{case['id']}")
    assert kept["outcome"] == "information_preoccupante" and mark in str(kept["transcript"])
