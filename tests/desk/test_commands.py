"""Desk -> Rasa commands (docs/handoff.md): written with the case change, delivered in order per
conversation, retried until Rasa applies them, never two of a conversation in flight; the
reconciliation re-sends what Rasa lost. The real desk over HTTP, with the fake Rasa."""
import time

from sqlalchemy import select

from desk.models import rasa_commands
from tests.desk.helpers import wait_until
from tests.desk.test_http import open_case


def attempts(fake_rasa, conversation):
    """(seq, type) of every command the desk sent for the conversation, retries included."""
    return [(r["json"]["seq"], r["json"]["type"]) for r in fake_rasa.calls(conversation, "POST")
            if r["tail"] == "command"]


def test_commands_arrive_in_order_each_once_after_failures(desk, fake_rasa):
    case_id, conversation = open_case(desk, fake_rasa)
    fake_rasa.fail_commands = 3  # Rasa refuses the next three attempts (503): the desk retries
    first = desk.api("POST", f"/api/cases/{case_id}/messages", json={"text": "Un.", "author": "Léa"})
    assert first.status_code == 502 and first.json()["retrying"] is True
    second = desk.api("POST", f"/api/cases/{case_id}/messages", json={"text": "Deux.", "author": "Léa"})
    assert second.status_code in (201, 502)
    closed = desk.api("POST", f"/api/cases/{case_id}/close", json={"outcome": "information_given"})
    assert closed.status_code == 200 and closed.json()["case"]["status"] == "closed"
    fake_rasa.wait_for(lambda: [c for c in fake_rasa.commands(conversation) if c["type"] == "close"], 20)
    applied = fake_rasa.commands(conversation)
    assert [(c["seq"], c["type"]) for c in applied] == [(1, "claim"), (2, "message"), (3, "message"), (4, "close")]
    assert [c["payload"].get("text") for c in applied if c["type"] == "message"] == ["Un.", "Deux."]
    # Never a later command before an earlier one was applied: each attempt is a retry of the
    # same command or the next one.
    seqs = [seq for seq, _kind in attempts(fake_rasa, conversation)]
    assert seqs[0] == 1 and all(b in (a, a + 1) for a, b in zip(seqs, seqs[1:])), seqs
    assert seqs.count(1) == 4  # three refusals, then applied
    def stored():
        with desk.engine().connect() as conn:
            return conn.execute(select(rasa_commands.c.seq, rasa_commands.c.delivered_at, rasa_commands.c.attempts)
                                .where(rasa_commands.c.conversation_id == conversation)
                                .order_by(rasa_commands.c.seq)).all()

    rows = wait_until(lambda: [r for r in stored() if r.delivered_at] == stored() and stored(), 10, "all marked delivered")
    assert [r.seq for r in rows] == [1, 2, 3, 4] and rows[0].attempts == 4


def test_a_lost_answer_is_retried_and_applied_once(desk, fake_rasa):
    case_id, conversation = open_case(desk, fake_rasa)
    fake_rasa.lose_answers = 1  # the claim is applied, its answer lost: the desk sends it again
    response = desk.api("POST", f"/api/cases/{case_id}/messages", json={"text": "Bonjour.", "author": "Léa"})
    assert response.status_code == 502
    wait_until(lambda: [m for m in desk.api("GET", f"/api/cases/{case_id}").json()["transcript"]
                        if m["text"] == "Bonjour." and m["delivered"]], 15, "delivered after the retry")
    assert [c["type"] for c in fake_rasa.commands(conversation)] == ["claim", "message"]  # each applied once
    assert [seq for seq, _ in attempts(fake_rasa, conversation)] == [1, 1, 2]


def test_reconciliation_sends_the_desk_state_again(tmp_path, fake_rasa):
    from tests.desk.helpers import start_desk

    own = start_desk(tmp_path, f"sqlite:///{tmp_path}/desk.db", fake_rasa.url, fake_rasa.token,
                     DESK_RECONCILE_SECONDS="1")
    try:
        case_id, conversation = open_case(own, fake_rasa)
        reply = own.api("POST", f"/api/cases/{case_id}/messages", json={"text": "Salut.", "author": "Léa"})
        assert reply.status_code == 201
        # Rasa lost the claim (a restored backup, say): it holds "queued" while the desk says active.
        fake_rasa.status_of[conversation] = "queued"
        fake_rasa.wait_for(lambda: len(fake_rasa.commands(conversation)) == 3, 20)
        resent = fake_rasa.commands(conversation)[-1]
        assert (resent["seq"], resent["type"], resent["payload"]) == (3, "claim", {"counsellor_name": "Léa"})
        assert fake_rasa.status_of[conversation] == "active"
        # Once Rasa agrees, nothing more is sent: two more comparisons, still three commands.
        asked = len(fake_rasa.calls(conversation, "GET"))
        fake_rasa.wait_for(lambda: len(fake_rasa.calls(conversation, "GET")) >= asked + 2, 20)
        assert len(fake_rasa.commands(conversation)) == 3
        with own.engine().connect() as conn:
            from desk.models import audit

            actions = list(conn.execute(select(audit.c.action).where(audit.c.case_id == case_id)).scalars())
        assert actions.count("reconciled") == 1
    finally:
        own.stop()


def test_a_silent_counsellor_hands_the_case_back(tmp_path, fake_rasa):
    """Claimed, the person writes, the counsellor says nothing: an alert for the supervisors,
    the case back in the queue, and a requeue whose notice tells the person (their register)."""
    from desk.models import audit
    from tests.desk.helpers import start_desk

    own = start_desk(tmp_path, f"sqlite:///{tmp_path}/desk.db", fake_rasa.url, fake_rasa.token,
                     DESK_COUNSELLOR_SILENCE_SECONDS="2")
    try:
        case_id, conversation = open_case(own, fake_rasa)  # a teen, in French (the tracker's context)
        assert own.api("POST", f"/api/cases/{case_id}/messages", json={"text": "Je lis.", "author": "Léa"}).status_code == 201
        own.ingest([{"id": f"{conversation}-u", "conversation_id": conversation, "type": "user", "text": "allo ?",
                     "timestamp": time.time(), "channel": "rest"}])
        requeue = fake_rasa.wait_for(lambda: [c for c in fake_rasa.commands(conversation) if c["type"] == "requeue"], 20)
        assert "s'absenter" in requeue[0]["payload"]["notice"] and "te répondre" in requeue[0]["payload"]["notice"]
        case = own.api("GET", f"/api/cases/{case_id}").json()
        assert case["status"] == "queued" and case["assigned_to"] is None
        with own.engine().connect() as conn:
            actions = list(conn.execute(select(audit.c.action).where(audit.c.case_id == case_id)).scalars())
        assert actions.count("counsellor_silent") == 1
        # Back in the queue, nobody has it: nothing more happens until someone claims it.
        assert [c["type"] for c in fake_rasa.commands(conversation)] == ["claim", "message", "requeue"]
    finally:
        own.stop()
