"""A case Rasa did not open because one client address opened too many (issue 12, the new-case cap):
the desk opens nothing, logs it for the supervisors and shows them a banner."""
import time
import uuid

from tests.desk.helpers import PASSWORD, Browser


def test_a_case_limit_event_alerts_the_supervisors_and_opens_no_case(desk):
    conversation = f"conv-{uuid.uuid4().hex[:10]}"
    answer = desk.ingest([{"id": uuid.uuid4().hex, "conversation_id": conversation, "type": "case_limit",
                           "timestamp": time.time(), "channel": "socketio"}])
    assert answer.status_code == 200 and answer.json()["opened"] == []
    assert conversation not in [c["conversation_id"] for c in desk.api("GET", "/api/cases").json()["cases"]]

    supervisor = Browser(desk)
    assert supervisor.login("sam", PASSWORD).status_code == 200
    page = supervisor.get("/").text
    assert 'id="case-limits-banner"' in page
    audit = supervisor.get("/audit").text
    assert "cas non ouvert (limite par adresse)" in audit or "case not opened (per-address limit)" in audit

    counsellor = Browser(desk)
    assert counsellor.login("lea", PASSWORD).status_code == 200
    assert 'id="case-limits-banner"' not in counsellor.get("/").text
