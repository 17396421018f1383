"""Server-rendered screens for counsellors and supervisors, and their live streams."""
from __future__ import annotations

import asyncio
import math
import secrets
import time
from typing import Any, Dict, List, Optional
from urllib.parse import quote

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json as json_response, redirect

from desk import auth, cases as case_ops, erasure, i18n, totp
from desk.app import LANG_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE, client_address, page, set_cookie, wants_json
from desk.db import Busy, run
from desk.live import sse

MAX_LOGINS_IN_FLIGHT = 2  # per client address: a burst in parallel is not a way round the backoff
RISK_CLASS = {"critical": "risk-critical", "high": "risk-high", "medium": "risk-medium", "low": "risk-low"}


def _back(path: str, notice: Optional[str] = None) -> HTTPResponse:
    return redirect(path + (f"?notice={quote(notice)}" if notice else ""), status=303)


def _form(request: Request, name: str) -> str:
    return (request.form.get(name) or "") if request.form else ""


def queue_item(case: Dict[str, Any], lang: str, now: float) -> Dict[str, Any]:
    view = case_ops.public_view(case, now)
    view.update(
        risk_label=i18n.t(lang, f"risk_{case['risk_level']}"),
        status_label=i18n.t(lang, f"status_{case['status']}"),
        url=f"/cases/{case['id']}",
    )
    return view


def register(app: Sanic) -> None:
    engine = app.ctx.engine
    settings = app.ctx.settings
    policy = app.ctx.policy
    hub = app.ctx.hub
    in_flight: Dict[str, int] = {}  # password checks under way per client address

    def outcomes(lang: str) -> List[Dict[str, str]]:
        return [{"code": o["code"], "label": o[lang]} for o in app.ctx.content.outcomes]

    async def notify_rasa(conversation_id: str) -> bool:
        """Deliver the conversation's commands now (they were written with the case change):
        True if Rasa has them all; otherwise the outbox keeps retrying."""
        return await app.ctx.outbox.flush(conversation_id)

    # ---------------- login ----------------

    @app.get("/login")
    async def login_form(request: Request) -> HTTPResponse:
        lang = request.args.get("lang")
        if lang in i18n.LANGUAGES:
            request.ctx.lang = lang
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
        response = page(request, "login.html", login_csrf=token)
        set_cookie(response, settings, LOGIN_CSRF_COOKIE, token)
        if lang in i18n.LANGUAGES:
            set_cookie(response, settings, LANG_COOKIE, lang, max_age=365 * 86400)
        return response

    def too_many(request: Request, template: str, seconds: float, key: str, **context: Any) -> HTTPResponse:
        wait = max(1, math.ceil(seconds))
        response = page(request, template, status=429, error=i18n.t(request.ctx.lang, key, s=wait), **context)
        response.headers["Retry-After"] = str(wait)
        return response

    @app.post("/login")
    async def login(request: Request) -> HTTPResponse:
        # Login CSRF: no session yet, so the form echoes a cookie (double submit).
        if not auth.csrf_valid(request.cookies.get(LOGIN_CSRF_COOKIE), _form(request, "csrf_token")):
            return page(request, "error.html", status=403, message=i18n.t(request.ctx.lang, "csrf_refused"))
        login_csrf = request.cookies.get(LOGIN_CSRF_COOKIE)
        address = client_address(request)
        wait = await run(auth.throttle_wait, engine, address, policy)
        if wait > 0:  # a guesser is slowed down here, before any password is checked
            return too_many(request, "login.html", wait, "login_wait", login_csrf=login_csrf)
        if in_flight.get(address, 0) >= MAX_LOGINS_IN_FLIGHT:
            return too_many(request, "login.html", 1, "login_wait", login_csrf=login_csrf)
        in_flight[address] = in_flight.get(address, 0) + 1
        try:
            user = await run(auth.find_login, engine, _form(request, "username").strip())
            good, new_hash = await app.ctx.hash_pool.run(auth.password_matches, user, _form(request, "password"))
            result = await run(auth.settle_login, engine, user, good, new_hash, policy)
        except Busy:
            return too_many(request, "login.html", 2, "login_busy", login_csrf=login_csrf)
        finally:
            in_flight[address] -= 1
            if not in_flight[address]:
                del in_flight[address]
        if result.outcome == "refused":
            await run(auth.throttle_failure, engine, address, policy)
            return page(request, "login.html", status=401, login_csrf=login_csrf,
                        error=i18n.t(request.ctx.lang, "login_refused"))
        stage = {"totp": "totp", "enrol": "enrol"}.get(result.outcome, "full")
        token = await run(auth.create_session, engine, result.user["id"], stage)
        target = {"totp": "/login/totp", "enrol": "/settings?notice=totp_required"}.get(stage, "/queue")
        response = redirect(target, status=303)
        set_cookie(response, settings, SESSION_COOKIE, token)
        return response

    @app.get("/login/totp")
    async def totp_form(request: Request) -> HTTPResponse:
        return page(request, "login_totp.html")

    @app.post("/login/totp")
    async def totp_login(request: Request) -> HTTPResponse:
        session = request.ctx.session
        address = client_address(request)
        wait = await run(auth.throttle_wait, engine, address, policy)
        if wait > 0:
            return too_many(request, "login_totp.html", wait, "login_wait")
        if not await run(auth.verify_totp_login, engine, session["id"], _form(request, "code"), None, policy):
            await run(auth.throttle_failure, engine, address, policy)
            return page(request, "login_totp.html", status=401, error=i18n.t(request.ctx.lang, "totp_refused"))
        token = await run(auth.promote_session, engine, session["session_id"], session["id"])
        response = redirect("/queue", status=303)
        set_cookie(response, settings, SESSION_COOKIE, token)
        return response

    @app.post("/logout")
    async def logout(request: Request) -> HTTPResponse:
        await run(auth.end_session, engine, request.cookies.get(SESSION_COOKIE))
        response = redirect("/login", status=303)
        response.cookies[SESSION_COOKIE] = ""
        response.cookies[SESSION_COOKIE]["max-age"] = 0
        response.cookies[SESSION_COOKIE]["path"] = "/"
        return response

    # ---------------- queue ----------------

    @app.get("/")
    async def home(request: Request) -> HTTPResponse:
        return redirect("/queue")

    async def queue_payload(lang: str) -> Dict[str, Any]:
        now = time.time()
        rows = await run(case_ops.queue, engine)
        return {"now": now, "alert_after": settings.unclaimed_alert_seconds,
                "cases": [queue_item(c, lang, now) for c in rows]}

    @app.get("/queue")
    async def queue_page(request: Request) -> HTTPResponse:
        data = await queue_payload(request.ctx.lang)
        return page(request, "queue.html", cases=data["cases"], now=data["now"], risk_class=RISK_CLASS)

    @app.get("/queue.json")
    async def queue_json(request: Request) -> HTTPResponse:
        return json_response(await queue_payload(request.ctx.lang))

    async def stream(request: Request, topic: str, produce: Any) -> None:
        """Server-Sent Events. The session is checked again before every update and at every
        keep-alive: a logout, a disabled account, an expired or reset session ends the stream."""
        session = request.ctx.session
        subscription = hub.subscribe(topic)

        async def alive() -> bool:
            return await run(auth.session_alive, engine, session["session_id"], None, policy)

        try:
            response = await request.respond(content_type="text/event-stream; charset=utf-8",
                                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
            await response.send("retry: 3000\n\n")
            for chunk in await produce():
                await response.send(chunk)
            while not hub.closing:
                try:
                    item = await asyncio.wait_for(subscription.get(), timeout=settings.stream_recheck_seconds)
                except asyncio.TimeoutError:
                    if not await alive():
                        break
                    await response.send(": keep-alive\n\n")
                    continue
                if item is StopAsyncIteration:
                    break
                while not subscription.empty():  # coalesce a burst into one refresh
                    if subscription.get_nowait() is StopAsyncIteration:
                        return
                if not await alive():
                    break
                for chunk in await produce():
                    await response.send(chunk)
        finally:
            hub.unsubscribe(topic, subscription)

    @app.get("/events/queue")
    async def queue_stream(request: Request) -> None:
        lang = request.ctx.lang

        async def produce() -> List[str]:
            return [sse("queue", await queue_payload(lang))]

        await stream(request, "queue", produce)

    # ---------------- case ----------------

    def message_view(message: Dict[str, Any]) -> Dict[str, Any]:
        return {"id": message["id"], "sender": message["sender"], "author": message["author"], "text": message["text"],
                "timestamp": message["timestamp"], "delivered": message["delivered"]}

    def case_state(case: Dict[str, Any], lang: str) -> Dict[str, Any]:
        view = queue_item(case, lang, time.time())
        view["crisis_deadline"] = (case["alert_at"] + settings.crisis_grace_seconds) if case["alert"] and case["alert_at"] else None
        return view

    async def load_case(request: Request, case_id: int) -> Dict[str, Any]:
        case = await run(case_ops.get_case, engine, case_id)
        if case is None:
            from sanic.exceptions import NotFound

            raise NotFound(i18n.t(request.ctx.lang, "case_not_found"))
        return case

    @app.get("/cases/<case_id:int>")
    async def case_page(request: Request, case_id: int) -> HTTPResponse:
        lang = request.ctx.lang
        case = await load_case(request, case_id)
        await run(case_ops.audit_entry, engine, request.ctx.user, "viewed", case_id)
        messages = await run(case_ops.transcript, engine, case_id)
        notes = await run(case_ops.case_notes, engine, case_id)
        people = [p for p in await run(case_ops.counsellors, engine) if p["id"] != case["assigned_to"]]
        case_lang = case["language"] if case["language"] in i18n.LANGUAGES else settings.language
        first_name = request.ctx.user["first_name"]
        canned = [{"id": c["id"], "label": c[f"label_{lang}"], "text": c[case_lang].replace("{prenom}", first_name)}
                  for c in app.ctx.content.canned]
        return page(request, "case.html", case=case, state=case_state(case, lang), messages=messages, notes=notes,
                    people=people, canned=canned, outcomes=outcomes(lang), risk_class=RISK_CLASS,
                    mine=case["assigned_to"] == request.ctx.user["id"], now=time.time(),
                    last_message_id=max([m["id"] for m in messages] or [0]))

    @app.get("/cases/<case_id:int>/transcript.json")
    async def case_json(request: Request, case_id: int) -> HTTPResponse:
        case = await load_case(request, case_id)
        try:
            after = int(request.args.get("after", "0"))
        except ValueError:
            after = 0
        messages = await run(case_ops.transcript, engine, case_id, after)
        if messages:  # every read that hands out transcript text is in the audit log (an empty poll is not)
            await run(case_ops.audit_entry, engine, request.ctx.user, "read_json", case_id, f"{len(messages)} messages")
        return json_response({"case": case_state(case, request.ctx.lang), "messages": [message_view(m) for m in messages]})

    @app.get("/events/cases/<case_id:int>")
    async def case_stream(request: Request, case_id: int) -> None:
        lang = request.ctx.lang
        await load_case(request, case_id)
        try:
            last = {"id": int(request.args.get("after", "0"))}
        except ValueError:
            last = {"id": 0}

        async def produce() -> List[str]:
            case = await run(case_ops.get_case, engine, case_id)
            if case is None:
                return []
            new = await run(case_ops.transcript, engine, case_id, last["id"])
            if new:
                last["id"] = max(m["id"] for m in new)
                await run(case_ops.audit_entry, engine, request.ctx.user, "read_stream", case_id, f"{len(new)} messages")
            # Delivery status of earlier counsellor messages may change: resend those too.
            return [sse("case", case_state(case, lang))] + [sse("message", message_view(m)) for m in new]

        await stream(request, f"case:{case_id}", produce)

    def changed(case_id: int) -> None:
        hub.publish(f"case:{case_id}")
        hub.publish("queue")

    def done(request: Request, case_id: int, notice: str, status: int = 200, **extra: Any) -> HTTPResponse:
        if wants_json(request):
            return json_response(dict(notice=notice, message=i18n.t(request.ctx.lang, notice), **extra), status=status)
        return _back(f"/cases/{case_id}", notice)

    def failed(request: Request, case_id: int, error: case_ops.CaseError) -> HTTPResponse:
        if wants_json(request):
            return json_response({"error": i18n.t(request.ctx.lang, error.key), "notice": error.key}, status=error.status)
        if error.status == 404:
            return page(request, "error.html", status=404, message=i18n.t(request.ctx.lang, error.key))
        return _back(f"/cases/{case_id}", error.key)

    @app.post("/cases/<case_id:int>/claim")
    async def claim(request: Request, case_id: int) -> HTTPResponse:
        user = request.ctx.user
        try:
            await run(case_ops.claim, engine, case_id, user)
        except case_ops.CaseError as error:
            return failed(request, case_id, error)
        case = await run(case_ops.get_case, engine, case_id)
        changed(case_id)
        ok = await notify_rasa(case["conversation_id"])
        return done(request, case_id, "claimed" if ok else "claimed_rasa_failed")

    @app.post("/cases/<case_id:int>/transfer")
    async def transfer(request: Request, case_id: int) -> HTTPResponse:
        target = _form(request, "to")
        to_id: Optional[int] = None
        if target != "queue":
            try:
                to_id = int(target)
            except ValueError:
                return failed(request, case_id, case_ops.CaseError(400, "unknown_counsellor"))
        try:
            person = await run(case_ops.transfer, engine, case_id, request.ctx.user, to_id)
        except case_ops.CaseError as error:
            return failed(request, case_id, error)
        case = await run(case_ops.get_case, engine, case_id)
        changed(case_id)
        if person is None:
            ok = await notify_rasa(case["conversation_id"])
            return done(request, case_id, "returned" if ok else "rasa_not_told")
        ok = await notify_rasa(case["conversation_id"])
        return done(request, case_id, "transferred" if ok else "rasa_not_told")

    @app.post("/cases/<case_id:int>/reply")
    async def reply(request: Request, case_id: int) -> HTTPResponse:
        """Writing in a queued case claims it (as the claim button does), then sends."""
        user = request.ctx.user
        case = await load_case(request, case_id)
        try:
            case_ops.check_text(_form(request, "text"))
            claimed_now = await run(case_ops.claim_by_message, engine, case_id, user, user["first_name"])
        except case_ops.CaseError as error:
            return failed(request, case_id, error)
        if claimed_now:
            changed(case_id)
        try:
            await run(case_ops.add_counsellor_message, engine, case_id, user["first_name"],
                      _form(request, "text"), user)
        except case_ops.CaseError as error:
            return failed(request, case_id, error)
        # The claim (if this message made it) and the message go in order; not delivered now,
        # they are retried (the page shows the message as not delivered until then).
        delivered = await notify_rasa(case["conversation_id"])
        changed(case_id)
        if delivered:
            return done(request, case_id, "sent", delivered=True, claimed=claimed_now)
        return done(request, case_id, "not_delivered", status=502, delivered=False)

    @app.post("/cases/<case_id:int>/notes")
    async def add_note(request: Request, case_id: int) -> HTTPResponse:
        try:
            await run(case_ops.add_note, engine, case_id, request.ctx.user, _form(request, "text"))
        except case_ops.CaseError as error:
            return failed(request, case_id, error)
        hub.publish(f"case:{case_id}")
        return done(request, case_id, "note_saved")

    @app.post("/cases/<case_id:int>/close")
    async def close(request: Request, case_id: int) -> HTTPResponse:
        try:
            case = await run(case_ops.close, engine, case_id, _form(request, "outcome"), request.ctx.user,
                             app.ctx.content.outcome_codes, "desk", app.ctx.content.legal_hold_codes)
        except case_ops.CaseError as error:
            return failed(request, case_id, error)
        changed(case_id)
        ok = await notify_rasa(case["conversation_id"])
        return done(request, case_id, "closed" if ok else "closed_rasa_failed")

    @app.post("/cases/<case_id:int>/erase")
    async def erase(request: Request, case_id: int) -> HTTPResponse:
        """At the person's request (they asked the counsellor): the desk's side here, Rasa's
        through an `erase` command in the outbox (Rasa also tells the person). Audited."""
        user = request.ctx.user
        case = await load_case(request, case_id)
        if case["assigned_to"] != user["id"] and user["role"] != "supervisor":
            return failed(request, case_id, case_ops.CaseError(403, "not_your_case_action"))
        if _form(request, "confirm") != "yes":
            return failed(request, case_id, case_ops.CaseError(400, "erase_confirm_required"))
        result = await run(erasure.erase, engine, case["conversation_id"], "counsellor",
                           app.ctx.content.legal_hold_codes, user, True)
        for touched in result.erased + result.kept:
            changed(touched)
        reached = await app.ctx.outbox.flush(case["conversation_id"])  # else retried until Rasa takes it
        notice = "erased_rasa_failed" if not reached else ("erasure_kept" if result.legal_hold else "erased")
        if wants_json(request):
            return json_response({"notice": notice, "message": i18n.t(request.ctx.lang, notice), "rasa": reached,
                                  "kept": result.kept}, status=200 if reached else 502)
        return _back(f"/cases/{case_id}" if result.legal_hold else "/queue", notice)

    # ---------------- settings ----------------

    @app.get("/settings")
    async def settings_page(request: Request) -> HTTPResponse:
        user = await run(auth.get_user, engine, request.ctx.user["id"])
        pending = user["totp_secret"] if user["totp_secret"] and not user["totp_enabled"] else None
        return page(request, "settings.html", account=user, pending_secret=pending,
                    totp_required=policy.totp_required(user["role"]),
                    otpauth=totp.provisioning_uri(pending, user["username"]) if pending else None)

    @app.post("/settings/language")
    async def set_language(request: Request) -> HTTPResponse:
        lang = _form(request, "lang")
        if lang not in i18n.LANGUAGES:
            lang = settings.language
        response = _back(_form(request, "next") if _form(request, "next").startswith("/") and
                         not _form(request, "next").startswith("//") else "/settings")
        set_cookie(response, settings, LANG_COOKIE, lang, max_age=365 * 86400)
        return response

    @app.post("/settings/totp/start")
    async def totp_start(request: Request) -> HTTPResponse:
        await run(auth.start_totp_setup, engine, request.ctx.user["id"])
        return _back("/settings")

    @app.post("/settings/totp/confirm")
    async def totp_confirm(request: Request) -> HTTPResponse:
        session = request.ctx.session
        ok = await run(auth.confirm_totp_setup, engine, session["id"], _form(request, "code"))
        if not ok:
            return _back("/settings", "totp_refused")
        await run(case_ops.audit_entry, engine, session, "totp_enabled")
        if session["stage"] != "enrol":
            return _back("/settings", "totp_enabled")
        # The required enrolment is done: a full session, with a new token.
        token = await run(auth.promote_session, engine, session["session_id"], session["id"])
        response = _back("/queue", "totp_enabled")
        set_cookie(response, settings, SESSION_COOKIE, token)
        return response

    @app.post("/settings/totp/disable")
    async def totp_disable(request: Request) -> HTTPResponse:
        user = await run(auth.get_user, engine, request.ctx.user["id"])
        if policy.totp_required(user["role"]):
            return _back("/settings", "totp_required")
        if not user["totp_enabled"] or not await run(auth.verify_totp_login, engine, user["id"],
                                                     _form(request, "code"), None, policy):
            return _back("/settings", "totp_refused")
        await run(auth.reset_totp, engine, user["id"])
        await run(case_ops.audit_entry, engine, request.ctx.user, "totp_disabled")
        return _back("/settings", "totp_disabled")

    # ---------------- supervisors ----------------

    @app.get("/users")
    async def users_page(request: Request) -> HTTPResponse:
        return page(request, "users.html", accounts=await run(auth.list_users, engine), now=time.time(),
                    roles=auth.ROLES)

    @app.post("/users")
    async def create_user(request: Request) -> HTTPResponse:
        try:
            auth.validate_password(_form(request, "password"))
            hashed = await app.ctx.hash_pool.run(auth.hash_password, _form(request, "password"))
            await run(auth.create_user, engine, _form(request, "username").strip(), _form(request, "first_name").strip(),
                      _form(request, "role"), _form(request, "password"), None, hashed)
        except Busy:
            return _back("/users", "login_busy")
        except auth.AccountError:
            return _back("/users", "user_invalid")
        await run(case_ops.audit_entry, engine, request.ctx.user, "user_created", None, _form(request, "username").strip())
        return _back("/users", "user_created")

    def account_action(action: str, fn: Any, notice: str) -> Any:
        async def handler(request: Request, user_id: int) -> HTTPResponse:
            target = await run(auth.get_user, engine, user_id)
            if target is None:
                return _back("/users", "user_not_found")
            if action == "user_disabled" and user_id == request.ctx.user["id"]:
                return _back("/users", "cannot_disable_self")
            await run(fn, engine, user_id)
            await run(case_ops.audit_entry, engine, request.ctx.user, action, None, target["username"])
            return _back("/users", notice)

        handler.__name__ = f"users_{action}"
        return handler

    app.add_route(account_action("user_disabled", lambda e, i: auth.set_disabled(e, i, True), "user_disabled"),
                  "/users/<user_id:int>/disable", methods=["POST"], name="users_disable")
    app.add_route(account_action("user_enabled", lambda e, i: auth.set_disabled(e, i, False), "user_enabled"),
                  "/users/<user_id:int>/enable", methods=["POST"], name="users_enable")
    app.add_route(account_action("user_unlocked", auth.unlock, "user_unlocked"),
                  "/users/<user_id:int>/unlock", methods=["POST"], name="users_unlock")
    app.add_route(account_action("totp_reset", auth.reset_totp, "totp_reset"),
                  "/users/<user_id:int>/reset-totp", methods=["POST"], name="users_reset_totp")

    @app.get("/content")
    async def content_page(request: Request) -> HTTPResponse:
        status = app.ctx.content_status
        errors = await run(status.errors)
        return page(request, "content.html", errors=errors, version=await run(status.version),
                    content_dir=str(settings.content_dir))

    @app.get("/audit")
    async def audit_page(request: Request) -> HTTPResponse:
        return page(request, "audit.html", entries=await run(case_ops.audit_log, engine))
