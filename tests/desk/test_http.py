"""The real desk (`python -m desk`) over HTTP, with a fake Rasa."""
import json
import re
import threading
import time
import uuid

import pytest
import requests

from desk import totp
from tests.desk.helpers import PASSWORD, Browser, handoff_events, wait_until


def new_conversation(fake_rasa, tracker=True):
    conversation = f"conv-{uuid.uuid4().hex[:10]}"
    if tracker:
        fake_rasa.tracker_for(conversation)
    return conversation


def open_case(desk, fake_rasa, conversation=None, wait_context=True):
    conversation = conversation or new_conversation(fake_rasa)
    response = desk.ingest(handoff_events(conversation))
    assert response.status_code == 200, response.text
    case_id = response.json()["opened"][0]
    if wait_context:
        wait_until(lambda: desk.api("GET", f"/api/cases/{case_id}").json()["flow"] == "sextortion", 10, "context")
    return case_id, conversation


def logged_in(desk, username):
    browser = Browser(desk)
    response = browser.login(username)
    assert response.status_code == 200 and browser.csrf, response.text[:500]
    return browser


def test_health_is_public_and_says_nothing_else(desk):
    response = requests.get(desk.url + "/health", timeout=5)
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_ingest_opens_a_case_with_the_context_from_rasa(desk, fake_rasa):
    case_id, conversation = open_case(desk, fake_rasa)
    listed = {c["id"]: c for c in desk.api("GET", "/api/cases").json()["cases"]}
    case = listed[case_id]
    assert case["conversation_id"] == conversation and case["status"] == "queued"
    assert (case["channel"], case["language"], case["user_role"], case["age"], case["flow"], case["platform"]) == \
        ("rest", "fr", "teen", 14, "sextortion", "snapchat")
    assert case["risk_level"] == "critical" and case["risk_reasons"] == ["crisis"]
    assert case["trigger_message"] == "je veux parler à quelqu'un"
    assert case["answers"] == {"paid": "yes", "posted": "no", "deadline": "yes"}
    assert [a["action"] for a in case["advice_given"]][:2] == ["step_sextortion_paid", "step_sextortion_evidence"]
    assert case["summary"].startswith("Adolescent·e de 14 ans, chantage à la vidéo intime sur Snapchat, a déjà payé")
    assert isinstance(case["waiting_seconds"], int) and case["alert"] is False and case["user_left"] is False
    read = fake_rasa.calls(conversation, "GET")[0]
    assert read["path"] == f"/conversations/{conversation}/tracker" and read["query"]["token"] == fake_rasa.token
    detail = desk.api("GET", f"/api/cases/{case_id}").json()
    assert detail["transcript"][0]["text"].startswith("une fille sur snap") and "notes" not in detail
    # Idempotent: the same batch again opens nothing.
    again = desk.ingest(handoff_events(conversation))
    assert again.json() == {"accepted": 0, "duplicates": 1, "opened": []}


def test_context_is_fetched_later_when_rasa_was_down(desk, fake_rasa):
    conversation = new_conversation(fake_rasa)
    fake_rasa.down = True
    try:
        case_id, _ = open_case(desk, fake_rasa, conversation, wait_context=False)
        case = desk.api("GET", f"/api/cases/{case_id}").json()
        assert case["flow"] is None and case["status"] == "queued"  # opened anyway, with what the events said
        fake_rasa.wait_for(lambda: fake_rasa.calls(conversation, "GET"))
    finally:
        fake_rasa.down = False
    wait_until(lambda: desk.api("GET", f"/api/cases/{case_id}").json()["flow"] == "sextortion", 15, "retried context")


def claim_sent(fake_rasa, conversation, first_name):
    """The claim, as the claim button sends it: one `claim` command with the counsellor's name
    (Rasa ends any question, goes quiet and says a person joined); returns its place among
    the conversation's commands."""
    commands = fake_rasa.commands(conversation)
    index = [(c["type"], c["payload"]) for c in commands].index(("claim", {"counsellor_name": first_name}))
    assert [c["seq"] for c in commands] == list(range(1, len(commands) + 1))  # in order, none missing
    return index


def test_api_reply_and_close_reach_rasa_in_the_contract_format(desk, fake_rasa):
    case_id, conversation = open_case(desk, fake_rasa)
    response = desk.api("POST", f"/api/cases/{case_id}/messages", json={"text": "Bonjour, ici Léa.", "author": "Léa"})
    assert response.status_code == 201, response.text
    assert response.json()["claimed"] is True  # a message on a queued case claims it
    assert desk.api("GET", f"/api/cases/{case_id}").json()["status"] == "active"
    claimed_at = claim_sent(fake_rasa, conversation, "Léa")
    message_id = response.json()["message_id"]
    commands = fake_rasa.commands(conversation)
    sent = [c for c in commands if c["type"] == "message"]
    assert commands.index(sent[0]) == claimed_at + 1  # the claim first
    # the commands channel with its own token, never Rasa's HTTP API (whose token it does not send)
    assert not [r for r in fake_rasa.calls(conversation, "POST") if r["tail"] != "command"]
    assert sent[0]["payload"] == {"text": "Bonjour, ici Léa.", "author": "Léa", "message_id": message_id}
    # Rasa echoes the message as a bot event: the desk does not store it twice.
    desk.ingest([{"id": f"{conversation}-echo", "conversation_id": conversation, "type": "bot", "text": "Bonjour, ici Léa.",
                  "sender": "counsellor", "author": "Léa", "message_id": message_id, "timestamp": time.time(),
                  "channel": "rest"}])
    transcript = desk.api("GET", f"/api/cases/{case_id}").json()["transcript"]
    assert [m["text"] for m in transcript].count("Bonjour, ici Léa.") == 1

    closed = desk.api("POST", f"/api/cases/{case_id}/close", json={"outcome": "information_preoccupante"})
    assert closed.status_code == 200 and closed.json()["case"]["status"] == "closed"
    assert closed.json()["rasa_notified"] is True
    assert [c["type"] for c in fake_rasa.commands(conversation)][-1] == "close"
    assert desk.api("POST", f"/api/cases/{case_id}/close", json={"outcome": "out_of_scope"}).status_code == 409
    late = desk.api("POST", f"/api/cases/{case_id}/messages", json={"text": "encore ?", "author": "Léa"})
    assert late.status_code == 409 and "error" in late.json()
    assert case_id not in [c["id"] for c in desk.api("GET", "/api/cases").json()["cases"]]
    # The user's answer to the feedback question comes after the close.
    feedback = desk.ingest([{"id": f"{conversation}-fb", "conversation_id": conversation, "type": "feedback",
                             "value": "helpful", "timestamp": time.time(), "channel": "rest"}])
    assert feedback.status_code == 200
    assert desk.api("GET", f"/api/cases/{case_id}").json()["feedback"] == "helpful"


def test_undelivered_message_is_reported_and_kept(desk, fake_rasa):
    case_id, conversation = open_case(desk, fake_rasa)
    fake_rasa.down = True
    try:
        response = desk.api("POST", f"/api/cases/{case_id}/messages", json={"text": "Tu es là ?", "author": "Léa"})
        transcript = desk.api("GET", f"/api/cases/{case_id}").json()["transcript"]
    finally:
        fake_rasa.down = False
    assert response.status_code == 502 and response.json()["delivered"] is False
    assert "NOT delivered" in response.json()["error"]
    assert response.json()["retrying"] is True
    assert [m for m in transcript if m["text"] == "Tu es là ?"][0]["delivered"] is False
    # The desk owns the case: the claim stands, and the claim then the message reach Rasa once
    # it is back (the outbox retries), each once, in order.
    assert desk.api("GET", f"/api/cases/{case_id}").json()["status"] == "active"
    fake_rasa.wait_for(lambda: [c for c in fake_rasa.commands(conversation) if c["type"] == "message"], 15)
    assert [c["type"] for c in fake_rasa.commands(conversation)] == ["claim", "message"]
    wait_until(lambda: [m for m in desk.api("GET", f"/api/cases/{case_id}").json()["transcript"]
                        if m["text"] == "Tu es là ?"][0]["delivered"] is True, 10, "marked delivered")


BAD_BODIES = [
    (b"", "empty"), (b"   ", "empty"), (b"{not json", "JSON"), (b"[1, 2]", "object"), (b'"text"', "object"),
    (b"x" * (70 * 1024), "64 KB"), (json.dumps({"text": "a" * 70000, "author": "Léa"}).encode(), "64 KB"),
    (json.dumps({"author": "Léa"}).encode(), "text"), (json.dumps({"text": "", "author": "Léa"}).encode(), "text"),
    (json.dumps({"text": "a" * 2001, "author": "Léa"}).encode(), "2000"),
    (json.dumps({"text": "ok"}).encode(), "author"), (json.dumps({"text": "ok", "author": ""}).encode(), "author"),
    (json.dumps({"text": "ok", "author": "L" * 41}).encode(), "author"),
    (json.dumps({"text": 12, "author": "Léa"}).encode(), "text"), (b"\xff\xfe\x00", "JSON"),
]


@pytest.mark.parametrize("body,fragment", BAD_BODIES)
def test_bad_message_bodies_are_4xx_with_a_clear_error(desk, fake_rasa, body, fragment):
    case_id, _ = open_case(desk, fake_rasa, wait_context=False) if not hasattr(desk, "_bad_case") else (desk._bad_case, 0)
    desk._bad_case = case_id
    response = desk.api("POST", f"/api/cases/{case_id}/messages", data=body,
                        headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert fragment in response.json()["error"]


@pytest.mark.parametrize("method,path,body,status", [
    ("GET", "/api/cases/999999", None, 404),
    ("GET", "/api/cases/abc", None, 404),
    ("POST", "/api/cases/999999/messages", {"text": "x", "author": "Léa"}, 404),
    ("POST", "/api/cases/999999/close", {"outcome": "out_of_scope"}, 404),
    ("POST", "/api/cases/1/close", {"outcome": "not_a_code"}, 400),
    ("POST", "/api/cases/1/close", {"outcome": 3}, 400),
    ("POST", "/api/cases/1/close", {}, 400),
    ("GET", "/api/nothing-here", None, 404),
    ("PUT", "/api/cases", {}, 405),
])
def test_bad_api_calls_are_4xx_json(desk, fake_rasa, method, path, body, status):
    if "/1/" in path:
        case_id, _ = open_case(desk, fake_rasa, wait_context=False)
        path = path.replace("/1/", f"/{case_id}/")
    response = desk.api(method, path, json=body) if body is not None else desk.api(method, path)
    assert response.status_code == status, response.text
    assert response.json()["error"]


@pytest.mark.parametrize("body", [b"", b"nope", b"[]", b'{"events": [{"type": "user"}]}', b'{"events": {}}'])
def test_malformed_event_batches_are_400(desk, body):
    response = requests.post(desk.url + "/internal/events", data=body, timeout=5,
                             headers={"Authorization": f"Bearer {desk.events_token}"})
    assert response.status_code == 400 and response.json()["error"]


def test_event_ingest_and_api_need_their_own_tokens(desk):
    batch = {"events": handoff_events("token-test")}
    assert requests.post(desk.url + "/internal/events", json=batch, timeout=5).status_code == 401
    assert requests.post(desk.url + "/internal/events", json=batch, timeout=5,
                         headers={"Authorization": f"Bearer {desk.api_token}"}).status_code == 401
    assert requests.get(desk.url + "/api/cases", timeout=5,
                        headers={"Authorization": f"Bearer {desk.events_token}"}).status_code == 401


def concrete(path):
    path = "/" + path
    path = re.sub(r"<__file_uri__:path>", "desk.css", path)
    return re.sub(r"<[^>]+:int>", "1", path)


def all_routes(tmp_path_factory):
    from desk.app import create_app
    from desk.config import Settings

    folder = tmp_path_factory.mktemp("routes")
    app = create_app(Settings(database_url=f"sqlite:///{folder}/routes.db"), name=f"routes_{uuid.uuid4().hex[:6]}")
    return [(method, concrete(route.path)) for route in app.router.routes for method in sorted(route.methods)
            if method != "HEAD"]


PUBLIC = {("GET", "/health"), ("GET", "/login"), ("GET", "/static/desk.css")}


def test_every_route_refuses_without_session_or_token(desk, fake_rasa, tmp_path_factory):
    open_case(desk, fake_rasa, wait_context=False)  # so that /cases/1 exists
    routes = all_routes(tmp_path_factory)
    assert len(routes) > 30
    checked = 0
    for method, path in routes:
        if (method, path) in PUBLIC:
            continue
        response = requests.request(method, desk.url + path, allow_redirects=False, timeout=5,
                                    data={"text": "x", "outcome": "out_of_scope"})
        refused = response.status_code in (401, 403) or (
            response.status_code in (302, 303) and response.headers["Location"].endswith("/login"))
        assert refused, f"{method} {path} answered {response.status_code} without authentication"
        checked += 1
    assert checked == len(routes) - len(PUBLIC)


def test_supervisor_pages_refused_to_counsellors(desk, tmp_path_factory):
    lea = logged_in(desk, "lea")
    sam = logged_in(desk, "sam")
    supervisor_routes = [(m, p) for m, p in all_routes(tmp_path_factory) if p.startswith(("/users", "/audit"))]
    assert len(supervisor_routes) >= 6
    for method, path in supervisor_routes:
        if method == "GET":
            assert lea.get(path, allow_redirects=False).status_code == 403, path
            assert sam.get(path, allow_redirects=False).status_code == 200, path
        else:
            assert lea.post(path, {"username": "x"}, allow_redirects=False).status_code == 403, path


def test_csrf_required_on_state_changes(desk, fake_rasa):
    case_id, _ = open_case(desk, fake_rasa, wait_context=False)
    lea = logged_in(desk, "lea")
    assert lea.post(f"/cases/{case_id}/notes", {"text": "note"}, csrf=False).status_code == 403
    assert lea.post(f"/cases/{case_id}/notes", {"text": "note", "csrf_token": "forged"}, csrf=False).status_code == 403
    headers = {"X-CSRF-Token": "forged", "X-Requested-With": "fetch"}
    assert lea.http.post(desk.url + f"/cases/{case_id}/claim", headers=headers, timeout=5).status_code == 403
    assert lea.post(f"/cases/{case_id}/notes", {"text": "note privée"}).status_code == 200
    ok = lea.http.post(desk.url + f"/cases/{case_id}/notes", data={"text": "autre note"}, timeout=5,
                       headers={"X-CSRF-Token": lea.csrf, "X-Requested-With": "fetch"})
    assert ok.status_code == 200 and ok.json()["notice"] == "note_saved"
    # Login form too (double-submit cookie).
    fresh = requests.Session()
    fresh.get(desk.url + "/login", timeout=5)
    refused = fresh.post(desk.url + "/login", data={"username": "lea", "password": PASSWORD}, timeout=5)
    assert refused.status_code == 403


def test_counsellor_flow_through_the_pages(desk, fake_rasa):
    case_id, conversation = open_case(desk, fake_rasa)
    lea, leo = logged_in(desk, "lea"), logged_in(desk, "leo")
    queue = lea.get("/queue")
    assert queue.status_code == 200 and f'href="/cases/{case_id}"' in queue.text
    for name, value in {"Content-Security-Policy": "default-src 'self'", "X-Content-Type-Options": "nosniff",
                        "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}.items():
        assert value in queue.headers[name]
    cookie = [c for c in lea.http.cookies if c.name == "desk_session"][0]
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.get_nonstandard_attr("SameSite") == "Strict"
    page = lea.get(f"/cases/{case_id}")
    assert "Adolescent·e de 14 ans" in page.text and "je veux parler à quelqu&#39;un" in page.text
    assert "step_sextortion_evidence" in page.text and "Avant de bloquer" in page.text

    # Two counsellors claim at once: exactly one wins, the other is told.
    results = {}
    barrier = threading.Barrier(2)

    def claim(name, browser):
        barrier.wait()
        results[name] = browser.http.post(desk.url + f"/cases/{case_id}/claim", timeout=10,
                                          headers={"X-CSRF-Token": browser.csrf, "X-Requested-With": "fetch"})

    threads = [threading.Thread(target=claim, args=item) for item in (("lea", lea), ("leo", leo))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [200, 409], {k: (v.status_code, v.text) for k, v in results.items()}
    winner = "lea" if results["lea"].status_code == 200 else "leo"
    loser = "leo" if winner == "lea" else "lea"
    assert results[loser].json()["notice"] == "already_claimed"
    browser = lea if winner == "lea" else leo
    first_name = "Léa" if winner == "lea" else "Léo"
    fake_rasa.wait_for(lambda: fake_rasa.commands(conversation))
    assert claim_sent(fake_rasa, conversation, first_name) == 0

    other = leo if winner == "lea" else lea
    refused = other.http.post(desk.url + f"/cases/{case_id}/reply", data={"text": "moi aussi"}, timeout=5,
                              headers={"X-CSRF-Token": other.csrf, "X-Requested-With": "fetch"})
    assert refused.status_code == 409
    reply = browser.http.post(desk.url + f"/cases/{case_id}/reply", data={"text": "Je suis là, tu as bien fait."},
                              timeout=10, headers={"X-CSRF-Token": browser.csrf, "X-Requested-With": "fetch"})
    assert reply.status_code == 200 and reply.json()["delivered"] is True
    sent = [c["payload"] for c in fake_rasa.commands(conversation) if c["type"] == "message"]
    assert sent[-1]["text"] == "Je suis là, tu as bien fait." and sent[-1]["author"] == first_name

    close = browser.post(f"/cases/{case_id}/close", {"outcome": "complaint_advised"}, allow_redirects=False)
    assert close.status_code == 303 and "notice=closed" in close.headers["Location"]
    audit = logged_in(desk, "sam").get("/audit")
    assert f"#{case_id}" in audit.text and "Je suis là" not in audit.text


def test_writing_in_a_queued_case_claims_it(desk, fake_rasa):
    case_id, conversation = open_case(desk, fake_rasa)
    lea, leo = logged_in(desk, "lea"), logged_in(desk, "leo")
    assert 'id="reply-form"' in lea.get(f"/cases/{case_id}").text  # no need to claim first
    reply = lea.http.post(desk.url + f"/cases/{case_id}/reply", data={"text": "Bonjour, je suis Léa."}, timeout=10,
                          headers={"X-CSRF-Token": lea.csrf, "X-Requested-With": "fetch"})
    assert reply.status_code == 200 and reply.json()["delivered"] is True and reply.json()["claimed"] is True
    case = desk.api("GET", f"/api/cases/{case_id}").json()
    assert case["status"] == "active" and case["assigned_to"] == "Léa"
    # Rasa hears the claim exactly as from the claim button (the bot goes quiet, any question
    # in progress ends), then the message.
    claimed_at = claim_sent(fake_rasa, conversation, "Léa")
    commands = fake_rasa.commands(conversation)
    assert commands[claimed_at + 1]["payload"]["text"] == "Bonjour, je suis Léa."
    # The case is Léa's now: Léo cannot write in it; Léa's next message claims nothing.
    refused = leo.http.post(desk.url + f"/cases/{case_id}/reply", data={"text": "moi aussi"}, timeout=5,
                            headers={"X-CSRF-Token": leo.csrf, "X-Requested-With": "fetch"})
    assert refused.status_code == 409 and refused.json()["notice"] == "not_your_case"
    again = lea.http.post(desk.url + f"/cases/{case_id}/reply", data={"text": "Tu es là ?"}, timeout=10,
                          headers={"X-CSRF-Token": lea.csrf, "X-Requested-With": "fetch"})
    assert again.json()["claimed"] is False
    assert [c["type"] for c in fake_rasa.commands(conversation)].count("claim") == 1
    audit = logged_in(desk, "sam").get("/audit").text
    assert "a pris en charge en écrivant" in audit


def test_user_text_is_escaped_in_the_case_page(desk, fake_rasa):
    case_id, conversation = open_case(desk, fake_rasa, wait_context=False)
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    desk.ingest([{"id": f"{conversation}-evil", "conversation_id": conversation, "type": "user", "text": evil,
                  "timestamp": time.time(), "channel": "rest"}])
    page = logged_in(desk, "lea").get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert evil not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert "<script>" not in page.text.replace('<script src="/static/desk.js" defer></script>', "") \
        .replace('<script type="application/json" id="strings">', "")


def test_queue_stream_sends_new_cases(desk, fake_rasa):
    lea = logged_in(desk, "lea")
    with lea.http.get(desk.url + "/events/queue", stream=True, timeout=10) as stream:
        assert stream.status_code == 200 and stream.headers["Content-Type"].startswith("text/event-stream")
        lines = stream.iter_lines(decode_unicode=True)
        first = next(line for line in lines if line.startswith("data:"))
        assert "cases" in json.loads(first[5:])
        case_id, _ = open_case(desk, fake_rasa, wait_context=False)
        for line in lines:
            if line.startswith("data:") and any(c["id"] == case_id for c in json.loads(line[5:])["cases"]):
                break
    status = desk.api("GET", "/api/status").json()
    assert status["counsellors_online"] >= 1 and status["queue_length"] >= 1
    assert set(status) == {"counsellors_online", "queue_length", "estimated_wait_minutes"}


def test_login_lockout_over_http_without_revealing_accounts(desk):
    from tests.desk.helpers import make_user

    make_user(desk.database_url, "locky", "counsellor", "Lou")
    messages = set()
    for _ in range(20):  # DESK_ACCOUNT_MAX_FAILURES, each from its own address (one address would be slowed first)
        response = Browser(desk).login("locky", "wrong password!!")
        assert response.status_code == 401
        messages.add(response.text.split('role="alert">')[1].split("<")[0])
    locked = Browser(desk).login("locky")
    unknown = Browser(desk).login("nobody-here")
    assert locked.status_code == unknown.status_code == 401
    assert locked.text.split('role="alert">')[1].split("<")[0] in messages
    assert unknown.text.split('role="alert">')[1].split("<")[0] in messages and "échecs" in messages.pop()


def test_totp_enrolment_and_login(desk):
    from tests.desk.helpers import make_user

    make_user(desk.database_url, "tina", "counsellor", "Tina")
    tina = logged_in(desk, "tina")
    assert tina.post("/settings/totp/start").status_code == 200
    settings = tina.get("/settings").text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', settings).group(1)
    assert "otpauth://totp/" in settings
    assert "notice=totp_refused" in tina.post("/settings/totp/confirm", {"code": "000000"}, allow_redirects=False) \
        .headers["Location"] or totp.now_code(secret) == "000000"
    assert "notice=totp_enabled" in tina.post("/settings/totp/confirm", {"code": totp.now_code(secret)},
                                              allow_redirects=False).headers["Location"]
    again = Browser(desk)
    step = again.login("tina")
    assert step.url.endswith("/login/totp")
    assert again.get("/queue", allow_redirects=False).status_code == 302  # half-logged-in is not logged in
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', step.text).group(1)
    next_window = time.time() + 30  # the enrolment used the current code
    done = again.http.post(desk.url + "/login/totp", data={"csrf_token": csrf,
                                                           "code": totp.now_code(secret, at=next_window)}, timeout=5)
    assert done.status_code == 200 and done.url.endswith("/queue")
