"""The main flow on PostgreSQL: ingest → queue → claim → reply → close → purge."""
import os
import subprocess
import sys
import time

from sqlalchemy import create_engine, text

from tests.desk.helpers import ROOT, Browser, handoff_events, make_user, start_desk, wait_until


def test_main_flow_on_postgres(postgres, fake_rasa, tmp_path):
    url = postgres.create_database("desk_flow")
    make_user(url, "lea", "counsellor", "Léa")
    desk = start_desk(tmp_path, url, fake_rasa.url, fake_rasa.token)
    try:
        conversation = "pg-conv-1"
        fake_rasa.tracker_for(conversation)
        opened = desk.ingest(handoff_events(conversation))
        assert opened.status_code == 200, opened.text
        case_id = opened.json()["opened"][0]
        wait_until(lambda: desk.api("GET", f"/api/cases/{case_id}").json()["flow"] == "sextortion", 10, "context")
        assert [c["id"] for c in desk.api("GET", "/api/cases").json()["cases"]] == [case_id]

        lea = Browser(desk)
        assert lea.login("lea").status_code == 200
        assert f'href="/cases/{case_id}"' in lea.get("/queue").text
        claim = lea.post(f"/cases/{case_id}/claim", allow_redirects=False)
        assert claim.status_code == 303 and "notice=claimed" in claim.headers["Location"]
        assert lea.post(f"/cases/{case_id}/claim", allow_redirects=False).headers["Location"].endswith("already_claimed")
        reply = lea.post(f"/cases/{case_id}/reply", {"text": "Bonjour, je m'appelle Léa."}, allow_redirects=False)
        assert reply.status_code == 303 and "notice=sent" in reply.headers["Location"]
        sent = fake_rasa.wait_for(lambda: [c for c in fake_rasa.commands(conversation) if c["type"] == "message"])
        assert sent[0]["payload"]["text"] == "Bonjour, je m'appelle Léa."
        closed = desk.api("POST", f"/api/cases/{case_id}/close", json={"outcome": "platform_report"})
        assert closed.status_code == 200 and closed.json()["case"]["outcome"] == "platform_report"
    finally:
        desk.stop()

    # Purge: the case closed 31 days ago goes, with its Rasa conversation.
    tracker_url = f"sqlite:///{tmp_path}/tracker.db"
    tracker = create_engine(tracker_url, future=True)
    with tracker.begin() as conn:
        conn.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), type_name VARCHAR(255), "
                          "timestamp FLOAT, data TEXT)"))
        conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp) VALUES "
                          "(:a, 'user', :old), ('someone-else', 'user', :now)"),
                     {"a": conversation, "old": time.time() - 31 * 86400, "now": time.time()})
    engine = create_engine(url, future=True)
    with engine.begin() as conn:
        conn.execute(text("UPDATE desk_cases SET closed_at = :t WHERE id = :id"), {"t": time.time() - 31 * 86400, "id": case_id})
    env = dict(os.environ, PYTHONPATH=str(ROOT), DATABASE_URL=url, TRACKER_DB_URL=tracker_url, DESK_RETENTION_DAYS="30")
    result = subprocess.run([sys.executable, "-m", "desk.manage", "purge"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "purged 1 closed cases, 1 tracker events" in result.stdout
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM desk_cases")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM desk_messages")).scalar() == 0
    with tracker.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT sender_id FROM events"))] == ["someone-else"]
    engine.dispose()


def test_claim_race_on_postgres(postgres):
    import threading

    from desk import auth, cases as case_ops, ingest
    from desk.db import init_db, make_engine

    engine = make_engine(postgres.create_database("desk_race"))
    init_db(engine)
    ids = [auth.create_user(engine, name, name.capitalize(), "counsellor", "a long enough pass") for name in ("a1", "b2", "c3")]
    batch = ingest.validate_batch({"events": handoff_events("race-pg")})
    case_id = ingest.apply_events(engine, batch).opened[0]
    barrier = threading.Barrier(len(ids))
    outcomes = []

    def claim(user_id):
        barrier.wait()
        try:
            case_ops.claim(engine, case_id, {"id": user_id, "username": str(user_id)})
            outcomes.append("won")
        except case_ops.CaseError as error:
            outcomes.append(error.status)

    threads = [threading.Thread(target=claim, args=(i,)) for i in ids]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(map(str, outcomes)) == ["409", "409", "won"]
    engine.dispose()
