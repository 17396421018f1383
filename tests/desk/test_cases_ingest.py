"""Ingest (validation, idempotency, case life), queue order, the claim race."""
import threading
import time

import pytest
from sqlalchemy import func, select

from desk import cases as case_ops
from desk import ingest
from desk.context import extract_context
from desk.db import init_db, make_engine
from desk.models import messages
from tests.desk.fake_rasa import TRACKER

NOW = 1_800_000_000.0


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/cases.db")
    init_db(engine)
    from desk import auth

    auth.create_user(engine, "lea", "Léa", "counsellor", "a long enough pass")
    auth.create_user(engine, "leo", "Léo", "counsellor", "a long enough pass")
    return engine


def ev(event_id, conversation, kind, at=NOW, **extra):
    return dict({"id": event_id, "conversation_id": conversation, "type": kind, "timestamp": at, "channel": "rest"}, **extra)


def apply(engine, *events):
    return ingest.apply_events(engine, ingest.validate_batch({"events": list(events)}), now=NOW + 1000)


@pytest.mark.parametrize("body,fragment", [
    (None, "events"), ([], "events"), ({"events": "x"}, "events"), ({"events": [1]}, "events[0]"),
    ({"events": [{"type": "nope"}]}, "'type'"),
    ({"events": [{"id": "a", "conversation_id": "c", "type": "user", "timestamp": "now"}]}, "'timestamp'"),
    ({"events": [{"id": "a", "conversation_id": "c", "type": "user", "timestamp": 1}]}, "'text'"),
    ({"events": [{"id": "", "conversation_id": "c", "type": "left", "timestamp": 1}]}, "'id'"),
    ({"events": [{"id": "a", "conversation_id": "c", "type": "handoff", "status": "maybe", "timestamp": 1}]}, "'status'"),
    ({"events": [{"id": "a", "conversation_id": "c", "type": "risk", "risk_level": "huge", "timestamp": 1}]}, "'risk_level'"),
    ({"events": [{"id": "a", "conversation_id": "c", "type": "bot", "text": "x", "sender": "alien", "timestamp": 1}]}, "'sender'"),
])
def test_malformed_batches_are_refused_with_a_clear_message(body, fragment):
    with pytest.raises(ingest.BatchError) as error:
        ingest.validate_batch(body)
    assert fragment in str(error.value)


def test_handoff_opens_one_case_and_replayed_events_are_ignored(engine):
    batch = [ev("e1", "c1", "handoff", status="queued"), ev("e2", "c1", "user", text="allô ?")]
    first = apply(engine, *batch)
    assert len(first.opened) == 1
    again = apply(engine, *batch)
    assert again.opened == [] and again.duplicates == 2
    queue = case_ops.queue(engine)
    assert len(queue) == 1 and queue[0]["conversation_id"] == "c1"
    assert [m["text"] for m in case_ops.transcript(engine, queue[0]["id"])] == ["allô ?"]
    # A second "queued" for the same conversation does not open another case.
    apply(engine, ev("e3", "c1", "handoff", status="queued"))
    assert len(case_ops.queue(engine)) == 1


def test_concurrent_duplicate_ingest_opens_a_single_case(engine):
    batch = ingest.validate_batch({"events": [ev("d1", "cx", "handoff", status="queued")]})
    barrier = threading.Barrier(4)

    def worker():
        barrier.wait()
        ingest.apply_events(engine, batch)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len([c for c in case_ops.queue(engine) if c["conversation_id"] == "cx"]) == 1


def test_events_update_the_case(engine):
    case_id = apply(engine, ev("a1", "c2", "handoff", status="queued")).opened[0]
    apply(engine, ev("a2", "c2", "risk", NOW + 5, risk_level="critical", risk_reasons=["crisis"], crisis_type="suicide"))
    case = case_ops.get_case(engine, case_id)
    assert case["risk_level"] == "critical" and case["alert"] and case["alert_at"] == NOW + 5
    apply(engine, ev("a3", "c2", "left", NOW + 6))
    assert case_ops.get_case(engine, case_id)["user_left"]
    # A counsellor message the desk stored is not stored twice when Rasa echoes it.
    message = case_ops.add_counsellor_message(engine, case_id, "Léa", "Bonjour, je suis là.")
    # Rasa applied the message's command (desk/commands.py): delivered.
    from desk import commands

    command = commands.head(engine, "c2")
    assert command["type"] == "message" and command["payload"]["_message_row"] == message["id"]
    commands.delivered(engine, command, NOW + 6.5)
    assert not case_ops.get_case(engine, case_id)["alert"]  # a person answered: alert cleared
    apply(engine, ev("a4", "c2", "bot", NOW + 7, text="Bonjour, je suis là.", sender="counsellor", author="Léa",
                     message_id=message["message_id"]),
          ev("a5", "c2", "bot", NOW + 8, text="Une écoutante te rejoint.", sender="bot", author=None, message_id=None))
    texts = [m["text"] for m in case_ops.transcript(engine, case_id)]
    assert texts == ["Bonjour, je suis là.", "Une écoutante te rejoint."]
    # Events for a conversation without an open case open nothing (except critical risk).
    assert apply(engine, ev("a6", "zz", "user", text="hello")).opened == []
    assert len(apply(engine, ev("a7", "zz", "risk", risk_level="critical", risk_reasons=[])).opened) == 1


def test_context_merge_does_not_duplicate_messages(engine):
    case_id = apply(engine, ev("b1", "c3", "handoff", status="queued")).opened[0]
    # An event for a message that is also in the tracker.
    apply(engine, ev("b2", "c3", "user", 1764366310.00, text="je veux parler à quelqu'un"))
    ingest.apply_context(engine, case_id, extract_context(TRACKER))
    ingest.apply_context(engine, case_id, extract_context(TRACKER))  # a retry must not add anything
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(messages).where(messages.c.case_id == case_id)).scalar()
    assert count == len(extract_context(TRACKER)["transcript"])
    case = case_ops.get_case(engine, case_id)
    assert case["flow"] == "sextortion" and case["age"] == 14 and case["context_status"] == "done"
    assert case["summary"].startswith("Adolescent·e de 14 ans, chantage")


def test_queue_order_risk_then_waiting_time(engine):
    apply(engine, ev("q1", "low-old", "handoff", NOW - 500, status="queued"))
    apply(engine, ev("q2", "high-new", "handoff", NOW - 10, status="queued"))
    apply(engine, ev("q3", "high-new-r", "risk", NOW - 10, conversation_id="high-new", risk_level="high", risk_reasons=[]))
    apply(engine, ev("q4", "high-old", "handoff", NOW - 300, status="queued"))
    apply(engine, ev("q5", "high-old-r", "risk", NOW - 300, conversation_id="high-old", risk_level="high", risk_reasons=[]))
    apply(engine, ev("q6", "crit", "risk", NOW - 1, risk_level="critical", risk_reasons=["crisis"]))
    apply(engine, ev("q7", "medium", "handoff", NOW - 900, status="queued"))
    apply(engine, ev("q8", "medium-r", "risk", NOW - 900, conversation_id="medium", risk_level="medium", risk_reasons=[]))
    order = [c["conversation_id"] for c in case_ops.queue(engine)]
    assert order == ["crit", "high-old", "high-new", "medium", "low-old"]


def test_claim_race_exactly_one_wins(engine):
    case_id = apply(engine, ev("r1", "race", "handoff", status="queued")).opened[0]
    people = [{"id": 1, "username": "lea"}, {"id": 2, "username": "leo"}]
    barrier = threading.Barrier(2)
    results = []

    def claim(person):
        barrier.wait()
        try:
            case_ops.claim(engine, case_id, person)
            results.append(("won", person["id"]))
        except case_ops.CaseError as error:
            results.append((error.status, person["id"]))

    threads = [threading.Thread(target=claim, args=(p,)) for p in people]
    [t.start() for t in threads]
    [t.join() for t in threads]
    outcomes = sorted(str(r[0]) for r in results)
    assert outcomes == ["409", "won"]
    winner = next(r[1] for r in results if r[0] == "won")
    assert case_ops.get_case(engine, case_id)["assigned_to"] == winner


def test_close_needs_a_known_outcome_and_only_once(engine):
    case_id = apply(engine, ev("k1", "close", "handoff", status="queued")).opened[0]
    with pytest.raises(case_ops.CaseError) as error:
        case_ops.close(engine, case_id, "nope", None, {"information_given"})
    assert error.value.status == 400
    case_ops.close(engine, case_id, "information_given", None, {"information_given"})
    with pytest.raises(case_ops.CaseError) as error:
        case_ops.close(engine, case_id, "information_given", None, {"information_given"})
    assert error.value.status == 409
    with pytest.raises(case_ops.CaseError) as error:
        case_ops.add_counsellor_message(engine, case_id, "Léa", "encore là ?")
    assert error.value.status == 409
    # The conversation can have a new case after the first one closed.
    assert len(apply(engine, ev("k2", "close", "handoff", status="queued")).opened) == 1


def test_status_estimate(engine):
    assert case_ops.status(engine)["estimated_wait_minutes"] == 5
    case_id = apply(engine, ev("s1", "st", "handoff", time.time() - 600, status="queued")).opened[0]
    case_ops.claim(engine, case_id, {"id": 1, "username": "lea"})
    assert case_ops.status(engine)["estimated_wait_minutes"] == 10


def test_forwarded_event_already_in_the_tracker_transcript_is_skipped(engine):
    case_id = apply(engine, ev("t1", "c9", "handoff", status="queued")).opened[0]
    ingest.apply_context(engine, case_id, extract_context(TRACKER))
    before = len(case_ops.transcript(engine, case_id))
    # Same timestamp and text as the tracker's last user message: already there.
    apply(engine, ev("t2", "c9", "user", 1764366310.00, text="je veux parler à quelqu'un"),
          ev("t3", "c9", "bot", 1764366310.51, text="Je préviens un·e écoutant·e. En attendant, le 3114 répond jour et nuit.",
             sender="bot", author=None, message_id=None))
    assert len(case_ops.transcript(engine, case_id)) == before
    apply(engine, ev("t4", "c9", "user", 1764366400.00, text="je veux parler à quelqu'un"))  # said again, later
    assert len(case_ops.transcript(engine, case_id)) == before + 1


def test_feedback_after_close_lands_on_the_latest_case(engine):
    case_id = apply(engine, ev("f1", "fb", "handoff", status="queued")).opened[0]
    case_ops.close(engine, case_id, "information_given", None, {"information_given"})
    apply(engine, ev("f2", "fb", "feedback", value="not_helpful"))
    assert case_ops.get_case(engine, case_id)["feedback"] == "not_helpful"
    with pytest.raises(ingest.BatchError):
        ingest.validate_batch({"events": [ev("f3", "fb", "feedback", value="great")]})
