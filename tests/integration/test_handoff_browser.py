"""End to end, nothing faked: a young person on the socket.io channel asks for a
person; a counsellor logged into the real desk in Chromium sees the case appear live,
opens it, claims it (the young person is told a person joined), and replies; the
reply reaches the young person labelled with the counsellor's first name."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading

from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.support.chat import Stack
from tests.support.desk_api import wait_case
from tests.support.widget_client import WidgetClient

PASSWORD = "correct horse battery staple"


def create_counsellor(stack: Stack, username: str, first_name: str) -> None:
    """With the desk's own command (what `make desk-user` runs), on the stack's database."""
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{stack.log_file.parent / 'desk.db'}", DESK_USER_PASSWORD=PASSWORD,
               PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "desk.manage", "create-user", "--username", username, "--first-name", first_name,
         "--role", "counsellor"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


class YoungPerson:
    """The socket.io client, on its own event loop in a thread (Playwright's API here is synchronous)."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.client = WidgetClient(url)

    def run(self, coroutine, timeout: float = 60):  # noqa: ANN001, ANN201
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.run(self.client.disconnect())
        self.loop.call_soon_threadsafe(self.loop.stop)


def test_counsellor_in_the_desk_answers_a_young_person_live(stack: Stack, browser) -> None:  # noqa: ANN001
    create_counsellor(stack, "nadia", "Nadia")
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(stack.desk_url + "/queue")
    page.get_by_label("Identifiant").fill("nadia")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/queue")

    person = YoungPerson(stack.url)
    try:
        conversation_id = person.run(person.client.connect())
        person.run(person.client.say("y a un type sur insta qui me demande des photos de moi, j'ai 13 ans"))
        person.run(person.client.say("je veux parler a un vrai humain"))

        # This person's case (the queue may hold other tests' cases, in the same session's stack).
        case = wait_case(stack, conversation_id)
        link = page.locator(f"#queue-body tr a[href$='/cases/{case['id']}']")
        try:
            link.wait_for(timeout=5000)  # live, without reloading
        except Exception:
            print("QUEUE", page.locator("#queue-body").inner_text(), person.client.messages)
            raise
        link.click()
        page.wait_for_url("**/cases/*")
        expect(page.locator("#summary")).to_contain_text("13 ans")
        expect(page.locator("#transcript")).to_contain_text("me demande des photos")

        page.get_by_role("button", name="Prendre en charge").click()
        joined = person.run(person.client.wait_for(lambda m: m.get("notice") == "person_joined", 5))
        assert "Nadia" in joined["text"]
        page.get_by_label("Votre message (signé Nadia)").fill("Bonjour, je suis Nadia. Tu as bien fait d'en parler.")
        page.get_by_role("button", name="Envoyer").click()
        reply = person.run(person.client.wait_for(lambda m: m.get("sender") == "counsellor", 5))
        assert reply["author"] == "Nadia" and "Tu as bien fait" in reply["text"]

        tracker_status = person.run(person.client.say("merci", wait_for=0))
        assert tracker_status == []  # the bot leaves the conversation to Nadia
        page.locator(".msg-user", has_text="merci").wait_for(timeout=5000)  # reached the desk live
        artifacts = ROOT / "tests" / "artifacts"
        artifacts.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(artifacts / "desk-live-case.png"), full_page=True)
        page.get_by_label("Issue").select_option("information_given")
        page.get_by_role("button", name="Clore le cas").click()
        person.run(person.client.wait_for(lambda m: m.get("notice") == "person_left", 5))
        assert conversation_id
    finally:
        person.close()
        page.close()
