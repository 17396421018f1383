"""The handoff on the Rasa side: registry, event broker, human mode (quiet only while a
counsellor has the conversation), the queue line, the channel guard, opening hours,
the socket.io session outbox, and the action that opens a case."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from aiohttp import web
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, Restarted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.handoff import ActionRecordFeedback, ActionRequestHuman, choose_answer
from bot.content_store.hours import Hours, check_hours, describe_opening, parse_ranges
from bot.rasa_addons.channels.socketio import SafeSocketIOInput, SessionOutbox
from bot.rasa_addons.handoff import registry as registry_module
from bot.rasa_addons.handoff.broker import DeskEventBroker
from bot.rasa_addons.handoff.registry import Registry
from bot.rasa_addons.policies.crisis_policy import critical_events, handoff_state, next_crisis_action, restore_handoff_slot
from tests.support.chat import free_port

PARIS = dt.timezone(dt.timedelta(hours=1))  # November: Paris is UTC+1


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    monkeypatch.setenv("HANDOFF_DB", str(tmp_path / "handoff.db"))
    monkeypatch.setattr(registry_module, "_shared", None)
    return registry_module.shared_registry()


def user(text: str, sender: str = "c1", intent: str = "inform") -> Dict[str, Any]:
    return {"sender_id": sender, "event": "user", "text": text, "timestamp": 1.0, "input_channel": "socketio",
            "parse_data": {"intent": {"name": intent, "confidence": 1.0}}}


def slot(name: str, value: Any, sender: str = "c1") -> Dict[str, Any]:
    return {"sender_id": sender, "event": "slot", "name": name, "value": value, "timestamp": 2.0}


# ---- broker: what reaches the desk ----

def test_messages_reach_the_desk_only_while_a_person_has_the_conversation(registry: Registry) -> None:
    broker = DeskEventBroker("http://desk", "t", registry=registry)
    assert broker.translate(user("il me fait du chantage")) is None  # bot-only conversation: stays in Rasa
    opened = broker.translate(slot("handoff_status", "queued"))
    assert opened["type"] == "handoff" and opened["status"] == "queued" and opened["conversation_id"] == "c1"
    assert registry.status("c1") == "queued"
    forwarded = broker.translate(user("vous êtes là ?"))
    assert forwarded["type"] == "user" and forwarded["text"] == "vous êtes là ?" and forwarded["channel"] == "socketio"
    # Queued: the case is open (the desk reads along) but nobody has it yet, so the bot answers.
    assert registry.case_open("c1") and not registry.in_human_mode("c1")
    answered = broker.translate({"sender_id": "c1", "event": "bot", "text": "Voici quoi faire", "timestamp": 3.0})
    assert answered["type"] == "bot" and answered["sender"] == "bot"
    # A broker never decides human mode: the desk's commands do (handoff/commands.py).
    broker.translate(slot("handoff_status", "active"))
    assert not registry.in_human_mode("c1")
    registry.set_status("c1", "active")  # the desk's claim, applied
    assert registry.in_human_mode("c1")
    broker.translate(slot("handoff_status", "closed"))
    assert registry.in_human_mode("c1")
    registry.set_status("c1", "closed")  # the desk's close, applied
    assert not registry.in_human_mode("c1")
    assert broker.translate(user("merci")) is None


def test_counsellor_messages_are_labelled_and_remembered(registry: Registry) -> None:
    broker = DeskEventBroker("http://desk", "t", registry=registry)
    registry.set_status("c1", "active")  # the desk's claim, applied
    event = broker.translate({"sender_id": "c1", "event": "bot", "text": "Bonjour, je suis Léa", "timestamp": 5.0,
                              "metadata": {"sender": "counsellor", "author": "Léa", "message_id": "m1"}})
    assert (event["sender"], event["author"], event["message_id"]) == ("counsellor", "Léa", "m1")
    assert registry.last_counsellor_at("c1") == 5.0
    bot = broker.translate({"sender_id": "c1", "event": "bot", "text": "x", "timestamp": 6.0, "metadata": {"sender": "<b>"}})
    assert bot["sender"] == "bot"


def test_a_crisis_during_a_handoff_alerts_the_counsellor(registry: Registry) -> None:
    broker = DeskEventBroker("http://desk", "t", registry=registry)
    broker.translate(slot("crisis_type", "suicide"))
    outside = broker.translate(slot("risk_level", "critical"))
    assert outside["type"] == "risk" and outside["alert"] is False
    # Queued: the bot answers the crisis itself, at once; nothing to wait for.
    broker.translate(slot("handoff_status", "queued"))
    queued = broker.translate(slot("risk_level", "critical"))
    assert queued["alert"] is False
    registry.set_status("c1", "active")  # the desk's claim, applied
    broker.translate(user("je vais me tuer", intent="crisis"))
    during = broker.translate(slot("risk_level", "critical"))
    assert during["alert"] is True and during["crisis_type"] == "suicide"


def test_the_watchdog_is_armed_by_a_crisis_message_with_a_person_whatever_the_broker(registry: Registry) -> None:
    """Armed when the conversation is saved (the tracker store), by a crisis message, not by
    any "critical" slot: a new session or a restart carries the slot over, and that is no new
    crisis (it sent a second, unasked-for emergency answer)."""
    from bot.rasa_addons.handoff.watchdog import arm_after_a_crisis

    crisis = rasa_tracker("crisis", after_user=[SlotSet("risk_level", "critical", timestamp=50.0)])
    arm_after_a_crisis(crisis, registry)
    assert registry.due_deadlines(1e12) == []  # nobody has the conversation: the bot answered itself
    registry.set_status("c1", "active")
    carried = rasa_tracker("greet", [SessionStarted(), SlotSet("risk_level", "critical", timestamp=40.0)])
    arm_after_a_crisis(carried, registry)
    assert registry.due_deadlines(1e12) == []
    arm_after_a_crisis(crisis, registry)
    assert registry.due_deadlines(1e12) == [("c1", 50.0)]
    registry.deadline_done("c1", 200.0)
    arm_after_a_crisis(crisis, registry)  # the same crisis, saved again (a command, a later save)
    assert registry.due_deadlines(1e12) == []


def test_feedback_and_quick_exit_are_forwarded(registry: Registry) -> None:
    broker = DeskEventBroker("http://desk", "t", registry=registry)
    assert broker.translate(slot("feedback", "helpful"))["value"] == "helpful"
    assert broker.translate(slot("user_left", True))["type"] == "left"
    assert broker.translate(slot("platform", "snapchat")) is None


class FakeDesk:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.batches: List[Dict[str, Any]] = []
        self.auth: List[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.auth.append(request.headers.get("Authorization", ""))
        self.batches.append(await request.json())
        return web.json_response({}, status=self.status)


async def _serve(desk: FakeDesk, port: int) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/internal/events", desk.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def test_events_wait_in_the_outbox_while_the_desk_is_down_then_arrive(registry: Registry) -> None:
    async def scenario() -> None:
        port = free_port()
        broker = DeskEventBroker(f"http://127.0.0.1:{port}", "secret", registry=registry, retry_max_seconds=0.2)
        broker.start()
        broker.publish(slot("handoff_status", "queued"))
        broker.publish(user("au secours il veut publier la vidéo"))
        await asyncio.sleep(1.0)
        assert registry.pending_count() == 2  # desk down: nothing lost
        desk = FakeDesk()
        runner = await _serve(desk, port)
        for _ in range(50):
            if registry.pending_count() == 0:
                break
            await asyncio.sleep(0.1)
        await broker.close()
        await runner.cleanup()
        assert registry.pending_count() == 0
        events = [e for batch in desk.batches for e in batch["events"]]
        assert [e["type"] for e in events] == ["handoff", "user"]
        assert desk.auth[0] == "Bearer secret"

    asyncio.run(scenario())


@pytest.mark.parametrize("status,kept", [(500, True), (401, True), (400, False)])
def test_refusals(registry: Registry, status: int, kept: bool) -> None:
    """A desk error or a wrong token keeps the events; a batch called malformed is dropped."""
    async def scenario() -> None:
        port = free_port()
        desk = FakeDesk(status)
        runner = await _serve(desk, port)
        broker = DeskEventBroker(f"http://127.0.0.1:{port}", "t", registry=registry, retry_max_seconds=0.2)
        broker.start()
        broker.publish(slot("handoff_status", "queued"))
        await asyncio.sleep(0.8)
        await broker.close()
        await runner.cleanup()
        assert desk.batches, "the desk was called"
        assert (registry.pending_count() == 1) is kept

    asyncio.run(scenario())


# ---- human mode in the policies ----

def rasa_tracker(intent: str, events_before: Optional[List] = None, after_user: Optional[List] = None, sender: str = "c1") -> DialogueStateTracker:
    events = list(events_before or []) + [ActionExecuted(ACTION_LISTEN_NAME), UserUttered("…", {"name": intent, "confidence": 1.0})]
    return DialogueStateTracker.from_events(sender, events + list(after_user or []))


def test_human_mode_survives_a_restart_and_a_new_session(registry: Registry) -> None:
    registry.set_status("c1", "active")
    for cleared in ([Restarted()], [SessionStarted()]):
        t = rasa_tracker("greet", [SlotSet("handoff_status", "active")] + cleared)
        assert t.get_slot("handoff_status") is None  # Rasa cleared it ...
        assert handoff_state(t) == "active"  # ... the registry did not
        assert [(e.key, e.value) for e in restore_handoff_slot(t, "active")] == [("handoff_status", "active")]


def test_a_crisis_during_a_handoff_is_silent_but_critical(registry: Registry) -> None:
    registry.set_status("c1", "active")
    t = rasa_tracker("crisis")
    assert next_crisis_action(t, human_mode=True) == ACTION_LISTEN_NAME
    events = critical_events(t, ACTION_LISTEN_NAME, human_mode=True)
    assert [(e.key, e.value) for e in events] == [("risk_level", "critical"), ("risk_reasons", ["crisis"])]
    check_in = rasa_tracker("crisis_check")
    assert critical_events(check_in, ACTION_LISTEN_NAME, human_mode=True)[1].value == ["check_in"]
    assert next_crisis_action(rasa_tracker("greet"), human_mode=True) is None


def small_domain():  # noqa: ANN201
    from rasa.shared.core.domain import Domain

    return Domain.from_dict({"intents": ["greet", "sextortion", "crisis"], "actions": ["action_request_human"],
                             "slots": {"handoff_status": {"type": "text", "mappings": [{"type": "custom"}]}},
                             "responses": {"utter_crisis": [{"text": "3114"}]}})


def test_the_bot_is_quiet_only_while_a_counsellor_has_the_conversation(registry: Registry) -> None:
    from bot.rasa_addons.policies.crisis_policy import CrisisPolicy, bot_is_quiet
    from bot.rasa_addons.policies.human_mode import HumanModePolicy

    domain = small_domain()
    policy = HumanModePolicy.__new__(HumanModePolicy)
    policy.priority = 7

    def predict(status: Optional[str], intent: str = "sextortion", slots: Optional[List] = None):  # noqa: ANN202
        registry.set_status("c1", status)
        return HumanModePolicy.predict_action_probabilities(policy, rasa_tracker(intent, slots), domain)

    assert [bot_is_quiet(s) for s in (None, "queued", "active", "closed")] == [False, False, True, False]
    active = predict("active")
    assert domain.action_names_or_texts[active.max_confidence_index] == ACTION_LISTEN_NAME
    assert active.is_no_user_prediction
    assert [(e.key, e.value) for e in active.events] == [("handoff_status", "active")]  # put back after a restart
    # Queued, day or night: nobody answers yet, so the bot does (the slot is put back for the queue line).
    queued = predict("queued")
    assert max(queued.probabilities) == 0.0 and [(e.key, e.value) for e in queued.events] == [("handoff_status", "queued")]
    assert predict("queued", slots=[SlotSet("handoff_status", "queued")]).events == []
    assert max(predict("closed").probabilities) == 0.0

    # A crisis while queued gets the emergency answer at once, from the bot itself.
    crisis = CrisisPolicy.__new__(CrisisPolicy)
    crisis.priority = 8
    registry.set_status("c1", "queued")
    answer = CrisisPolicy.predict_action_probabilities(crisis, rasa_tracker("crisis"), domain)
    assert domain.action_names_or_texts[answer.max_confidence_index] == "utter_crisis"


# ---- opening hours ----

def hours(**days: str) -> Hours:
    problems: List[str] = []
    data = {"timezone": "Europe/Paris", "hours": {d: days.get(d, "09:00-23:00") for d in
            ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")}}
    result = check_hours(data, lambda path, message: problems.append(message))
    assert problems == []
    return result


def test_opening_hours_in_paris_time() -> None:
    h = hours()
    saturday_2230 = dt.datetime(2026, 11, 28, 22, 30, tzinfo=PARIS)
    saturday_2330 = dt.datetime(2026, 11, 28, 23, 30, tzinfo=PARIS)
    assert h.is_open(saturday_2230) and not h.is_open(saturday_2330)
    assert h.is_open(dt.datetime(2026, 11, 28, 21, 30, tzinfo=dt.timezone.utc))  # 22:30 in Paris
    nxt = h.next_opening(saturday_2330)
    assert (nxt.day, nxt.hour) == (29, 9)
    assert describe_opening(nxt, saturday_2330, "fr") == "demain à 9h"
    assert describe_opening(nxt, saturday_2330, "en") == "tomorrow at 9am"
    closed_sunday = hours(dimanche="fermé")
    assert describe_opening(closed_sunday.next_opening(saturday_2330), saturday_2330, "fr") == "lundi à 9h"


def test_hours_mistakes_are_explained_in_french() -> None:
    problems: List[str] = []
    check_hours({"timezone": "Paris", "hours": {"lundi": "9h-23h", "lunday": "09:00-10:00"}, "closed_dates": ["25/12"]},
                lambda path, message: problems.append(message))
    text = " ".join(problems)
    assert "fuseau horaire inconnu" in text and "horaire illisible « 9h-23h »" in text
    assert "« lunday » n'est pas un jour" in text and "date « 25/12 »" in text
    assert parse_ranges("09:00-12:00, 14:00-23:00") == [(540, 720), (840, 1380)]
    assert parse_ranges("23:00-09:00") is None


def test_what_the_person_is_told_depends_on_hours_and_the_desk() -> None:
    h, now = hours(), dt.datetime(2026, 11, 28, 15, 0, tzinfo=PARIS)
    assert choose_answer({"counsellors_online": 2, "estimated_wait_minutes": 4}, h, now, "fr") == \
        {"response": "utter_handoff_queued", "wait_minutes": 4}
    assert choose_answer({"counsellors_online": 0}, h, now, "fr")["response"] == "utter_handoff_queued_nobody"
    assert choose_answer(None, h, now, "fr")["response"] == "utter_handoff_desk_unreachable"
    night = dt.datetime(2026, 11, 28, 23, 45, tzinfo=PARIS)
    closed = choose_answer({"counsellors_online": 3}, h, night, "fr")
    assert closed == {"response": "utter_handoff_closed_hours", "next_opening": "demain à 9h"}


# ---- the action that opens a case ----

def sdk_tracker(slots: Dict[str, Any], intent: str = "talk_to_human", loop: Optional[str] = None) -> Tracker:
    return Tracker("c1", slots, {"intent": {"name": intent}, "text": "…"}, [], False, None,
                   {"name": loop} if loop else {}, "action_listen")


def test_request_human_keeps_the_wait_for_the_queue_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.actions.handoff.counsellor_hours", lambda: hours(**{d: "00:00-24:00" for d in (
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")}))

    async def desk_answers() -> Dict[str, Any]:
        return {"counsellors_online": 2, "estimated_wait_minutes": 7}

    monkeypatch.setattr("bot.actions.handoff.desk_status", desk_answers)
    events = asyncio.run(ActionRequestHuman().run(CollectingDispatcher(), sdk_tracker({"language": "fr"}), {}))
    assert {e.get("name"): e.get("value") for e in events if e["event"] == "slot"}["handoff_wait_minutes"] == 7

    async def desk_down() -> None:
        return None

    monkeypatch.setattr("bot.actions.handoff.desk_status", desk_down)
    events = asyncio.run(ActionRequestHuman().run(CollectingDispatcher(), sdk_tracker({"language": "fr"}), {}))
    assert {e.get("name"): e.get("value") for e in events if e["event"] == "slot"}["handoff_wait_minutes"] is None


def test_request_human_queues_the_case_and_stops_the_questions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESK_URL", f"http://127.0.0.1:{free_port()}")  # nobody listens: the desk is down
    monkeypatch.setattr("bot.actions.handoff.counsellor_hours", lambda: hours(**{d: "00:00-24:00" for d in (
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")}))
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionRequestHuman().run(dispatcher, sdk_tracker({"language": "fr"}, loop="sextortion_form"), {}))
    assert dispatcher.messages[0]["response"] == "utter_handoff_desk_unreachable"
    assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in events]
    assert {"event": "slot", "name": "handoff_status", "value": "queued"} in \
        [{k: e.get(k) for k in ("event", "name", "value")} for e in events]


def test_feedback_is_recorded_and_a_person_can_be_offered_again() -> None:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionRecordFeedback().run(dispatcher, sdk_tracker({}, intent="deny"), {}))
    values = {e["name"]: e["value"] for e in events}
    assert values == {"feedback": "not_helpful", "human_offered": False}
    assert dispatcher.messages[0]["response"] == "utter_feedback_thanks"


# ---- socket.io sessions ----

def test_kept_messages_are_numbered_and_replayed_after_the_last_seen() -> None:
    outbox = SessionOutbox(per_session=3)
    for text in ("a", "b", "c", "d"):
        outbox.add("s1", {"text": text})
    assert [m["seq"] for m in outbox.after("s1", 0)] == [2, 3, 4]  # oldest dropped beyond the limit
    assert [m["text"] for m in outbox.after("s1", 3)] == ["d"]
    assert outbox.after("s1", 4) == [] and outbox.after("other", 0) == []
    outbox.forget("s1")
    assert outbox.after("s1", 0) == []


def test_a_client_can_resume_its_own_session_only() -> None:
    channel = SafeSocketIOInput.from_credentials({})
    token = channel.session_token("abc")
    assert channel.valid_session("abc", token)
    assert not channel.valid_session("abd", token)
    assert not channel.valid_session("abc", "0" * 64)
    assert not channel.valid_session(None, token) and not channel.valid_session("abc", None)
    other = SafeSocketIOInput.from_credentials({})
    assert not other.valid_session("abc", token)  # another secret: a forged token fails


def test_closed_handoffs_are_forgotten_after_the_retention_period(registry: Registry) -> None:
    registry.set_status("old", "closed")
    registry.set_status("open", "active")
    assert registry.forget_closed(older_than_seconds=3600) == 0  # too recent
    assert registry.forget_closed(older_than_seconds=-1) == 1
    assert registry.status("old") is None and registry.status("open") == "active"
