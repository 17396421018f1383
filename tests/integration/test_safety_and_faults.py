"""The safety net and the promises that hold when things break, on the running stack."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.integration.helpers import bot_actions, never_asks_for_images, pending_question, says, says_any
from tests.support.chat import Chat, free_port, http

ROOT = Path(__file__).resolve().parents[2]


def test_crisis_inside_a_flow_comes_first_and_is_never_read_as_an_answer(chat: Chat) -> None:
    chat.say("un mec sur snap me menace d'envoyer ma vidéo à tout le monde si je lui paie pas 100 euros")
    assert chat.slots()["flow"] == "sextortion" and pending_question(chat.tracker()) == "wellbeing"
    replies = chat.say("jpp en vrai jveu plus vivre")
    text = Chat.text(replies)
    says(text, "3114")
    assert bot_actions(chat.tracker())[-2:] == ["utter_crisis", "action_request_human"]
    assert len(replies[0]["text"].strip().splitlines()) <= 3
    slots = chat.slots()
    assert slots["risk_level"] == "critical" and slots.get("wellbeing") is None  # not read as a mood
    # A counsellor is asked for at once (the stack's counsellors are on duty around the
    # clock): the bot says so. While the case is only queued, nobody is answering yet, so
    # the bot keeps answering (quiet only once a counsellor has the conversation).
    assert "3018" in text and slots["handoff_status"] == "queued"
    says(Chat.text(chat.say("c'est gratuit ?")), "gratuit")


@pytest.mark.parametrize(
    "message, number",
    [
        ("je veux mourir", "3114"),
        ("I took a whole box of my mum's pills an hour ago", "15"),
        ("il est devant chez moi et il tape à la porte", "17"),
        ("I want to kill myself tonight", "3114"),
    ],
)
def test_crisis_number_that_fits(chat: Chat, message: str, number: str) -> None:
    says(Chat.text(chat.say(message)), number)
    assert chat.slots()["risk_level"] == "critical"


def test_idiom_is_not_an_alarm(chat: Chat) -> None:
    text = Chat.text(chat.say("mdr ce jeu me tue, je meurs de faim"))
    assert "3114" not in text and chat.slots()["risk_level"] != "critical"


def test_possible_abuse_gets_a_gentle_check_in(chat: Chat) -> None:
    replies = chat.say("mon père va me tuer s'il voit mes notes")
    says(Chat.text(replies), "119")
    assert "/deny" in Chat.payloads(replies)
    assert chat.slots()["risk_level"] != "critical"
    says(Chat.text(chat.say("/deny")), "17")
    assert chat.slots()["risk_level"] == "critical"


def test_slash_text_cannot_bypass_the_crisis_net(chat: Chat) -> None:
    says(Chat.text(chat.say("/greet je veux mourir")), "3114")
    other = chat.stack.chat()
    says(Chat.text(other.say('/affirm{"risk_level": "low"} jveu me tuer')), "3114")
    assert other.slots()["risk_level"] == "critical"


def test_an_offered_button_payload_is_accepted(chat: Chat) -> None:
    replies = chat.say("bonjour")
    assert "/sextortion" in Chat.payloads(replies)
    says(Chat.text(chat.say("/sextortion")), "paie pas")
    assert chat.slots()["flow"] == "sextortion"


@pytest.mark.parametrize(
    "junk",
    ["", "   ", "a" * 20000, "\x00\x01\x02\x1b[31m", "🙂🙂🙂", "<script>alert(1)</script>", "'; DROP TABLE events;--",
     "{{7*7}} ${jndi:ldap://x}", "\u202e\u200b"],
)
def test_bad_input_gets_a_calm_answer_and_the_net_still_works(chat: Chat, junk: str) -> None:
    replies = chat.say(junk)
    assert replies and all(r.get("text") for r in replies)
    for reply in replies:
        assert "<script>" not in reply["text"]
    says(Chat.text(chat.say(junk[:100] + " je veux me suicider")), "3114")


def test_never_accepts_images(chat: Chat) -> None:
    text = Chat.text(chat.say("je peux t'envoyer la photo qu'il a ?"))
    says_any(text, ["n'envoie", "ne m'envoie", "pas besoin"])
    never_asks_for_images(text)


def test_frozen_action_server_still_gives_the_numbers(chat: Chat) -> None:
    pid = chat.stack.actions_pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        # The guided flow runs inside Rasa: its urgent steps need no action server.
        start = time.monotonic()
        text = Chat.text(chat.say("un mec me fait du chantage avec une vidéo de moi"))
        elapsed = time.monotonic() - start
        says(text, "ne paie pas")
        assert elapsed < 8, f"took {elapsed:.1f} s"
        # Asking for a person needs the action server: given up in seconds, with the numbers.
        start = time.monotonic()
        text = Chat.text(chat.say("je veux parler à quelqu'un"))
        elapsed = time.monotonic() - start
        says(text, "3018")
        says_any(text, ["17", "112"])
        assert elapsed < 8, f"took {elapsed:.1f} s"
    finally:
        os.kill(pid, signal.SIGCONT)
    time.sleep(6)  # let the circuit breaker close again before other tests


def test_text_edit_is_live_and_broken_edit_keeps_last_good(chat: Chat) -> None:
    path = chat.stack.content_dir / "responses" / "service.yml"
    original = path.read_text(encoding="utf-8")
    data = yaml.safe_load(original)
    variants = data["utter_hours"]["variants"] if isinstance(data["utter_hours"], dict) else data["utter_hours"]
    marker = "MARQUEUR-EDITION-42"
    fr = variants[-1]["fr"]
    variants[-1]["fr"] = {k: f"{marker} {v}" for k, v in fr.items()} if isinstance(fr, dict) else f"{marker} {fr}"
    try:
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        time.sleep(2)
        says(Chat.text(chat.say("vous êtes ouverts à quelle heure ?")), marker)
        path.write_text(original + "\nutter_hours: [cassé\n", encoding="utf-8")
        time.sleep(2)
        says(Chat.text(chat.say("c'est ouvert jusqu'à quelle heure ?")), marker)
        log = chat.stack.log_file.read_text(encoding="utf-8")
        assert "responses/service.yml" in log and "ligne" in log
    finally:
        path.write_text(original, encoding="utf-8")
        time.sleep(1.5)


@pytest.fixture(scope="module")
def degraded(model_path: str, tmp_path_factory: pytest.TempPathFactory):
    """Rasa alone: no action server at all, and a content folder that cannot be read."""
    work = tmp_path_factory.mktemp("degraded")
    broken = work / "content"
    broken.mkdir()
    (broken / "helplines.yml").write_text("helplines: [oops\n")
    port = free_port()
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{free_port()}/webhook"
    endpoints["tracker_store"]["db"] = str(work / "tracker.db")
    (work / "endpoints.yml").write_text(yaml.safe_dump(endpoints))
    env = dict(os.environ, CONTENT_DIR=str(broken), PYTHONPATH=str(ROOT), ACTION_SERVER_TIMEOUT="2",
               ENABLE_REST_CHANNEL="true", HANDOFF_DB=str(work / "handoff.db"))
    log = open(work / "rasa.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "rasa", "run", "--model", model_path, "--port", str(port), "--interface", "127.0.0.1",
         "--credentials", "credentials.yml", "--endpoints", str(work / "endpoints.yml")],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                http("GET", url + "/webhooks/rest/", timeout=2)  # the REST channel answers JSON once loaded
                break
            except (OSError, ValueError):
                if process.poll() is not None:
                    raise RuntimeError("degraded Rasa died:\n" + (work / "rasa.log").read_text()[-3000:])
                time.sleep(1)
        yield url
    finally:  # also when start-up failed: never leave a server behind
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def _say(url: str, sender: str, text: str):
    return http("POST", url + "/webhooks/rest/webhook", {"sender": sender, "message": text}, timeout=30)


def test_without_action_server_or_content_the_user_still_gets_the_numbers(degraded: str) -> None:
    start = time.monotonic()
    text = Chat.text(_say(degraded, "deg-1", "quelqu'un menace de publier ma vidéo si je paie pas"))
    assert time.monotonic() - start < 8
    says(text, "3018")
    says_any(text, ["17", "112"])


def test_without_action_server_or_content_the_crisis_net_answers(degraded: str) -> None:
    text = Chat.text(_say(degraded, "deg-2", "jveu mourir ce soir"))
    says(text, "3114")


def test_no_to_a_question_other_than_safety_is_not_an_emergency(chat: Chat) -> None:
    """Regression: "non" to "quel âge as-tu ?" once gave the not-safe emergency answer."""
    first = Chat.text(chat.say("slt jsui un gars de 14ans une meuf sur snap menace denvoyer ma video si jpaye pas"))
    says(first, "ne paie pas")
    assert chat.slots()["age"] == 14.0  # read from "14ans": the age question is not asked
    assert "utter_ask_age" not in bot_actions(chat.tracker())
    other = chat.stack.chat()
    other.say("une meuf menace de publier ma video si je paie pas")
    other.say("ça va")  # to "comment tu tiens le coup ?"
    assert pending_question(other.tracker()) == "age"
    other.say("non")
    # The reply may be the advice (which itself mentions 17 for immediate danger): what
    # matters is that no emergency answer was given and the risk did not become critical.
    actions = bot_actions(other.tracker())
    assert "utter_not_safe" not in actions and "utter_crisis" not in actions
    slots = other.slots()
    assert slots["risk_level"] != "critical" and slots["flow"] == "sextortion" and slots.get("handoff_status") is None


def test_non_j_ai_rien_paye_to_the_wellbeing_question_is_not_an_emergency(chat: Chat) -> None:
    chat.say("une fille sur insta menace de publier ma video si je lui donne pas 200e")
    assert pending_question(chat.tracker()) == "wellbeing"
    text = Chat.text(chat.say("non j'ai rien payé"))
    actions = bot_actions(chat.tracker())
    assert "utter_not_safe" not in actions and "utter_crisis" not in actions
    assert "17" not in text and "112" not in text
    slots = chat.slots()
    assert slots["paid"] == "no" and slots["risk_level"] != "critical" and slots.get("handoff_status") is None
    assert slots.get("wellbeing") != "low"  # "non" with content answers the content, not the mood


def test_bare_no_to_the_grooming_safety_question_gets_the_emergency_answer(chat: Chat) -> None:
    chat.say("un adulte sur roblox veut voir ma fille de 12 ans en vrai samedi")
    assert chat.slots()["meeting_proposed"] == "yes"
    assert pending_question(chat.tracker()) == "safe_now"  # asked only because a meeting was proposed
    text = Chat.text(chat.say("non"))
    says(text, "17")
    assert bot_actions(chat.tracker())[-2:] == ["utter_not_safe", "action_request_human"]
    slots = chat.slots()
    assert slots["risk_level"] == "critical" and slots["safe_now"] == "no" and slots["handoff_status"] == "queued"
