"""Retention purge (desk and Rasa tracker store) and the signed outgoing webhook."""
import asyncio
import hashlib
import hmac
import json
import time

from aiohttp import ClientSession, web
from sqlalchemy import create_engine, func, select, text

from desk import cases as case_ops
from desk import ingest, purge, webhook
from desk.db import init_db, make_engine
from desk.models import audit, messages, notes, webhook_outbox
from tests.support.chat import free_port

DAY = 86400.0
NOW = 1_800_000_000.0


def tracker_store(path):
    """Rasa's SQLTrackerStore table, as far as the purge cares."""
    engine = create_engine(f"sqlite:///{path}", future=True)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                          "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                          "action_name VARCHAR(255), data TEXT)"))
    return engine


def add_tracker_events(engine, sender, *timestamps):
    with engine.begin() as conn:
        for ts in timestamps:
            conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', :t, '{}')"),
                         {"s": sender, "t": ts})


def open_case(engine, conversation, at):
    batch = ingest.validate_batch({"events": [
        {"id": f"{conversation}-1", "conversation_id": conversation, "type": "handoff", "status": "queued",
         "timestamp": at, "channel": "rest"},
        {"id": f"{conversation}-2", "conversation_id": conversation, "type": "user", "text": "message privé",
         "timestamp": at + 1, "channel": "rest"}]})
    return ingest.apply_events(engine, batch, now=at + 2).opened[0]


def test_purge_deletes_old_closed_cases_and_their_conversations(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/desk.db")
    init_db(engine)
    from desk import auth

    auth.create_user(engine, "lea", "Léa", "counsellor", "a long enough pass")
    lea = {"id": 1, "username": "lea"}
    tracker = tracker_store(tmp_path / "tracker.db")

    old = open_case(engine, "old-closed", NOW - 40 * DAY)
    case_ops.add_note(engine, old, lea, "note privée")
    case_ops.audit_entry(engine, lea, "viewed", old)
    recent = open_case(engine, "recent-closed", NOW - 5 * DAY)
    still_open = open_case(engine, "old-open", NOW - 60 * DAY)
    with engine.begin() as conn:  # closed_at set directly: the purge reads it, not the wall clock
        from desk.models import cases

        conn.execute(cases.update().where(cases.c.id == old).values(status="closed", closed_at=NOW - 35 * DAY))
        conn.execute(cases.update().where(cases.c.id == recent).values(status="closed", closed_at=NOW - 4 * DAY))
    add_tracker_events(tracker, "old-closed", NOW - 40 * DAY, NOW - 39 * DAY)
    add_tracker_events(tracker, "recent-closed", NOW - 5 * DAY)
    add_tracker_events(tracker, "old-open", NOW - 60 * DAY)  # open case: kept however old
    add_tracker_events(tracker, "stale-no-case", NOW - 31 * DAY)
    add_tracker_events(tracker, "fresh-no-case", NOW - 31 * DAY, NOW - 1 * DAY)

    counts = purge.purge(engine, tracker, 30, now=NOW)
    assert counts == {"cases": 1, "tracker_events": 3}
    assert case_ops.get_case(engine, old) is None
    assert case_ops.get_case(engine, recent) is not None and case_ops.get_case(engine, still_open) is not None
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages).where(messages.c.case_id == old)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(notes).where(notes.c.case_id == old)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(messages).where(messages.c.case_id == recent)).scalar() == 1
        rows = conn.execute(select(audit).where(audit.c.case_id == old)).mappings().all()
        assert rows and all(r["conversation_id"] is None and r["detail"] is None for r in rows)
    with tracker.connect() as conn:
        left = {r[0] for r in conn.execute(text("SELECT DISTINCT sender_id FROM events"))}
    assert left == {"recent-closed", "old-open", "fresh-no-case"}
    assert purge.purge(engine, tracker, 30, now=NOW) == {"cases": 0, "tracker_events": 0}


def test_purge_without_tracker_table(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/desk.db")
    init_db(engine)
    empty = create_engine(f"sqlite:///{tmp_path}/none.db", future=True)
    assert purge.purge(engine, empty, 30, now=NOW) == {"cases": 0, "tracker_events": 0}


SECRET = "s3cret-" + "x" * 32


def test_signature_is_hmac_sha256_of_the_timestamp_and_the_raw_body():
    body = b'{"event":"case_opened"}'
    expected = hmac.new(SECRET.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert webhook.sign(SECRET, "1700000000", body) == f"sha256={expected}"
    assert webhook.sign("other", "1700000000", body) != webhook.sign(SECRET, "1700000000", body)
    assert webhook.sign(SECRET, "1700000001", body) != webhook.sign(SECRET, "1700000000", body)


def test_webhook_needs_a_secret_of_32_characters():
    from desk.config import Settings

    base = {"DESK_WEBHOOK_URL": "https://partner.example/hook"}
    assert not Settings.from_env(base).webhook_enabled
    assert not Settings.from_env(dict(base, DESK_WEBHOOK_SECRET="short")).webhook_enabled
    assert Settings.from_env(dict(base, DESK_WEBHOOK_SECRET=SECRET)).webhook_enabled
    assert not Settings.from_env({"DESK_WEBHOOK_SECRET": SECRET}).webhook_enabled


def test_webhook_delivery_signed_retried_and_without_transcript(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/desk.db")
    init_db(engine)
    batch = ingest.validate_batch({"events": [
        {"id": "w1", "conversation_id": "hook", "type": "handoff", "status": "queued", "timestamp": NOW, "channel": None},
        {"id": "w2", "conversation_id": "hook", "type": "user", "text": "texte privé", "timestamp": NOW + 1,
         "channel": None}]})
    case_id = ingest.apply_events(engine, batch, webhook_enabled=True).opened[0]
    received = []
    answers = [500, 200]

    async def handler(request):
        received.append((await request.read(), dict(request.headers)))
        return web.Response(status=answers.pop(0))

    async def scenario():
        app = web.Application()
        app.router.add_post("/hook", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        url = f"http://127.0.0.1:{port}/hook"
        async with ClientSession() as http:
            first = await webhook.deliver_due(engine, url, SECRET, http)
            nothing_due = await webhook.deliver_due(engine, url, SECRET, http)  # backoff: not yet
            with engine.begin() as conn:
                conn.execute(webhook_outbox.update().values(next_attempt_at=0))
            second = await webhook.deliver_due(engine, url, SECRET, http)
        await runner.cleanup()
        return first, nothing_due, second

    first, nothing_due, second = asyncio.run(scenario())
    assert (first, nothing_due, second) == (0, 0, 1)
    assert len(received) == 2
    raw, headers = received[-1]
    timestamp = headers["X-Desk-Timestamp"]
    assert timestamp.isdigit() and abs(int(timestamp) - time.time()) < 60
    signed = timestamp.encode() + b"." + raw
    assert headers["X-Desk-Signature"] == "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    payload = json.loads(raw)
    assert payload["case"]["id"] == case_id
    # what the partner needs to triage and to ask the API; nothing that points at the person
    assert set(payload["case"]) == {"id", "risk_level", "flow", "language", "created_at"}
    assert "hook" not in raw.decode() and "texte privé" not in raw.decode()
    with engine.connect() as conn:
        row = conn.execute(select(webhook_outbox)).mappings().one()
    assert row["delivered_at"] is not None and row["attempts"] == 2
