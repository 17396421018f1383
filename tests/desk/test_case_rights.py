"""Who may act on a case, and who read it: only the counsellor who has a case (or a supervisor)
transfers or closes it; every read of a transcript is in the audit log, whatever the route;
a live stream ends with its session."""
import json
import re

from sqlalchemy import select

from desk.models import audit
from tests.desk.helpers import Browser, make_user
from tests.desk.test_http import logged_in, open_case


def act(browser, path, data=None):
    """A button press as desk.js sends it (JSON answer)."""
    return browser.http.post(browser.desk.url + path, data=data or {}, timeout=15,
                             headers={"X-CSRF-Token": browser.csrf, "X-Requested-With": "fetch"})


def case_of(desk, case_id):
    return desk.api("GET", f"/api/cases/{case_id}").json()


def audit_rows(desk, case_id):
    engine = desk.engine()
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(audit).where(audit.c.case_id == case_id)
                                                  .order_by(audit.c.id)).mappings()]
    finally:
        engine.dispose()


def test_a_counsellor_cannot_close_or_transfer_another_counsellors_case(desk, fake_rasa):
    lea, leo, sam = logged_in(desk, "lea"), logged_in(desk, "leo"), logged_in(desk, "sam")
    case_id, _ = open_case(desk, fake_rasa, wait_context=False)
    assert act(lea, f"/cases/{case_id}/claim").status_code == 200
    leo_id = re.search(r'<option value="(\d+)">Léo \(leo\)', sam.get(f"/cases/{case_id}").text).group(1)
    for path, data in ((f"/cases/{case_id}/close", {"outcome": "information_given"}),
                       (f"/cases/{case_id}/transfer", {"to": leo_id}),
                       (f"/cases/{case_id}/transfer", {"to": "queue"})):
        refused = act(leo, path, data)
        assert refused.status_code == 403 and refused.json()["notice"] == "not_your_case_action", path
    state = case_of(desk, case_id)
    assert state["status"] == "active" and state["assigned_to"] == "Léa"
    assert f'action="/cases/{case_id}/close"' not in leo.get(f"/cases/{case_id}").text  # no buttons for what is refused
    assert f'action="/cases/{case_id}/close"' in lea.get(f"/cases/{case_id}").text
    assert f'action="/cases/{case_id}/close"' in sam.get(f"/cases/{case_id}").text
    # Not on a queued case either (nobody has it yet): claim it first.
    queued_id, _ = open_case(desk, fake_rasa, wait_context=False)
    assert act(leo, f"/cases/{queued_id}/close", {"outcome": "information_given"}).status_code == 403
    assert case_of(desk, queued_id)["status"] == "queued"
    # A supervisor may: hand Léa's case to Léo, who now has it and closes it.
    assert act(sam, f"/cases/{case_id}/transfer", {"to": leo_id}).status_code == 200
    assert case_of(desk, case_id)["assigned_to"] == "Léo"
    assert act(lea, f"/cases/{case_id}/close", {"outcome": "information_given"}).status_code == 403
    assert act(leo, f"/cases/{case_id}/close", {"outcome": "information_given"}).status_code == 200
    assert act(sam, f"/cases/{queued_id}/close", {"outcome": "information_given"}).status_code == 200
    assert case_of(desk, queued_id)["status"] == "closed"


def test_every_transcript_read_is_audited_whatever_the_route(desk, fake_rasa):
    case_id, _ = open_case(desk, fake_rasa)  # with its transcript from (fake) Rasa
    lea = logged_in(desk, "lea")
    before = len(audit_rows(desk, case_id))

    assert desk.api("GET", f"/api/cases/{case_id}").json()["transcript"]
    read = lea.get(f"/cases/{case_id}/transcript.json", headers={"Accept": "application/json"}).json()
    assert read["messages"]
    last = max(m["id"] for m in read["messages"])
    with lea.http.get(desk.url + f"/events/cases/{case_id}?after=0", stream=True, timeout=10) as stream:
        next(line for line in stream.iter_lines(decode_unicode=True) if line == "event: message")
    rows = audit_rows(desk, case_id)[before:]
    seen = {(r["action"], r["username"]) for r in rows}
    assert {("read_api", None), ("read_json", "lea"), ("read_stream", "lea")} <= seen, seen
    assert all(r["detail"].endswith("messages") for r in rows if r["action"].startswith("read_"))
    # A poll that hands out no message text is not a read.
    count = len(audit_rows(desk, case_id))
    assert lea.get(f"/cases/{case_id}/transcript.json?after={last}").json()["messages"] == []
    assert len(audit_rows(desk, case_id)) == count
    # The supervisors' journal names them.
    journal = logged_in(desk, "sam").get("/audit").text
    assert "a lu la conversation (API)" in journal and "a lu la conversation (direct)" in journal


def test_a_live_stream_ends_with_its_session(desk, fake_rasa):
    make_user(desk.database_url, "lisa", "counsellor", "Lisa")
    lisa = logged_in(desk, "lisa")
    with lisa.http.get(desk.url + "/events/queue", stream=True, timeout=10) as stream:
        lines = stream.iter_lines(decode_unicode=True)
        assert next(line for line in lines if line.startswith("data:"))
        # Logged out in another tab (same session): the open stream must not go on showing cases.
        other = Browser(desk)
        other.http.cookies.update(lisa.http.cookies)
        assert other.http.post(desk.url + "/logout", data={"csrf_token": lisa.csrf}, timeout=10,
                               allow_redirects=False).status_code == 303
        case_id, _ = open_case(desk, fake_rasa, wait_context=False)
        shown = []
        for line in lines:  # ends when the desk closes the stream
            if line.startswith("data:"):
                shown.extend(c["id"] for c in json.loads(line[5:])["cases"])
    assert case_id not in shown
