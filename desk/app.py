"""The sanic application: wiring, authentication gate, security headers, background tasks."""
from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional, Set

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic
from sanic.handlers import ErrorHandler
from sanic.request import Request
from sanic.response import HTTPResponse, json as json_response, redirect

from desk import auth, cases as case_ops, closing, commands, content, erasure, i18n, ingest, purge, reconcile, silence, webhook
from desk.config import Settings
from desk.content_status import ContentStatus
from desk.db import HashPool, init_db, make_engine, make_tracker_engine, run
from desk.live import Hub
from desk.rasa_client import RasaClient, RasaUnavailable

log = logging.getLogger("desk")
HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "desk_session"
LANG_COOKIE = "desk_lang"
LOGIN_CSRF_COOKIE = "desk_login_csrf"
SUPERVISOR_PREFIXES = ("/users", "/audit", "/content")
# All that a session at the "enrol" stage may do: set up TOTP (required for its role), or leave.
ENROL_PATHS = {"/settings", "/settings/totp/start", "/settings/totp/confirm", "/settings/language", "/logout"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def wants_json(request: Request) -> bool:
    path = request.path
    return (path.startswith(("/api/", "/internal/", "/events/")) or path.endswith(".json")
            or "application/json" in (request.headers.get("accept") or "")
            or request.headers.get("x-requested-with") == "fetch")


class DeskErrorHandler(ErrorHandler):
    """Errors as JSON for machines and as a calm page for people; never a traceback, never a body."""

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        status = getattr(exception, "status_code", 500) or 500
        if status >= 500:
            log.error("error %s on %s %s: %s", status, request.method, request.path, type(exception).__name__,
                      exc_info=exception)
            message = "internal error"
        else:
            message = str(exception) or "error"
        if wants_json(request):
            return json_response({"error": message}, status=status)
        lang = getattr(request.ctx, "lang", "fr")
        return page(request, "error.html", status=status, message=i18n.t(lang, f"http_{status}", default=message))


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTTPResponse:
    app = request.app
    lang = getattr(request.ctx, "lang", app.ctx.settings.language)
    session = getattr(request.ctx, "session", None)
    body = app.ctx.templates.get_template(template).render(
        t=lambda key, **kw: i18n.t(lang, key, **kw), lang=lang, user=getattr(request.ctx, "user", None),
        csrf=session["csrf_token"] if session else None, notice=request.args.get("notice"),
        js_strings=i18n.js_strings(lang), settings=app.ctx.settings,
        content_errors=getattr(request.ctx, "content_errors", None),
        case_limits=getattr(request.ctx, "case_limits", 0), silent_claims=getattr(request.ctx, "silent_claims", 0),
        **context)
    return HTTPResponse(body, status=status, content_type="text/html; charset=utf-8")


def set_cookie(response: HTTPResponse, settings: Settings, name: str, value: str, max_age: Optional[int] = None) -> None:
    response.cookies[name] = value
    cookie = response.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = "/"
    if max_age is not None:
        cookie["max-age"] = max_age
    if settings.secure_cookies:
        cookie["secure"] = True


def client_address(request: Request) -> str:
    """The socket's address; behind DESK_PROXIES_COUNT trusted proxies, the address they forwarded."""
    if request.app.ctx.settings.proxies_count:
        forwarded = request.remote_addr
        if forwarded:
            return forwarded
    return request.ip or "unknown"


def unauthorised(request: Request) -> HTTPResponse:
    if wants_json(request) or request.method not in SAFE_METHODS:
        return json_response({"error": "authentication required"}, status=401)
    return redirect("/login")


def create_app(settings: Optional[Settings] = None, name: str = "desk") -> Sanic:
    settings = settings or Settings.from_env()
    app = Sanic(name)
    # Event batches can be large; the integration API applies its own 64 KB limit.
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = 1.0
    app.config.REQUEST_TIMEOUT = 30
    # X-Forwarded-For is believed only from this many reverse proxies (0: never, the socket's address).
    app.config.PROXIES_COUNT = settings.proxies_count or None
    app.ctx.settings = settings
    app.ctx.policy = auth.Policy.from_settings(settings)
    app.ctx.hash_pool = HashPool(settings.argon2_threads, settings.argon2_max_waiting)
    app.ctx.engine = make_engine(settings.database_url)
    init_db(app.ctx.engine)
    app.ctx.content = content.load(settings.content_dir)
    app.ctx.content_status = ContentStatus(settings.content_dir)
    app.ctx.hub = Hub()
    app.ctx.templates = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                                    autoescape=select_autoescape(default=True, default_for_string=True))
    app.ctx.context_in_flight: Set[int] = set()
    app.ctx.tasks = []
    app.error_handler = DeskErrorHandler()
    app.static("/static", str(HERE / "static"), name="static")

    @app.middleware("request")
    async def gate(request: Request) -> Optional[HTTPResponse]:
        """Default deny: every route needs a session or a bearer token, except the few listed here."""
        request.ctx.session = None
        request.ctx.user = None
        cookie_lang = request.cookies.get(LANG_COOKIE)
        request.ctx.lang = cookie_lang if cookie_lang in i18n.LANGUAGES else settings.language
        path = request.path
        if path in ("/health", "/login") or path.startswith("/static/"):
            return None
        if path.startswith("/api/"):
            header = request.headers.get("authorization")
            if path == "/api/status" and request.method == "GET" and auth.bearer_valid(settings.status_token, header):
                return None  # the status-only token (the action server's) opens this one route
            if not auth.bearer_valid(settings.api_token, header):
                return json_response({"error": "missing or invalid bearer token"}, status=401)
            return None
        if path.startswith("/internal/"):
            if not auth.bearer_valid(settings.events_token, request.headers.get("authorization")):
                return json_response({"error": "missing or invalid bearer token"}, status=401)
            return None
        session = await run(auth.load_session, app.ctx.engine, request.cookies.get(SESSION_COOKIE), None,
                            app.ctx.policy)
        if path.startswith("/login/totp"):
            if session is None or session["stage"] != "totp":
                return redirect("/login")
        elif session is not None and session["stage"] == "enrol":
            # TOTP is required for this role and not set up yet: the settings page, nothing else.
            request.ctx.user = session
            if path not in ENROL_PATHS:
                if wants_json(request) or request.method not in SAFE_METHODS:
                    return json_response({"error": "two-factor authentication must be set up first, in /settings"},
                                         status=403)
                return redirect("/settings?notice=totp_required")
        elif session is None or session["stage"] != "full":
            return unauthorised(request)
        else:
            request.ctx.user = session
            if path.startswith(SUPERVISOR_PREFIXES) and session["role"] != "supervisor":
                if wants_json(request):
                    return json_response({"error": "supervisors only"}, status=403)
                return page(request, "error.html", status=403, message=i18n.t(request.ctx.lang, "http_403"))
            if session["role"] == "supervisor" and request.method == "GET" and not wants_json(request):
                # The banner on every page: an edit of content/ that the assistant refused.
                request.ctx.content_errors = await run(app.ctx.content_status.errors)
                # ... and cases not opened because one address opened too many (a flood)
                request.ctx.case_limits = await run(case_ops.recent_case_limits, app.ctx.engine)
                # ... and cases handed back to the queue because their counsellor went silent
                request.ctx.silent_claims = await run(silence.recent_alerts, app.ctx.engine)
        request.ctx.session = session
        if request.method not in SAFE_METHODS:
            provided = request.headers.get("x-csrf-token") or (request.form.get("csrf_token") if request.form else None)
            if not auth.csrf_valid(session["csrf_token"], provided):
                if wants_json(request):
                    return json_response({"error": "missing or invalid CSRF token"}, status=403)
                return page(request, "error.html", status=403, message=i18n.t(request.ctx.lang, "csrf_refused"))
        return None

    @app.middleware("response")
    async def headers(request: Request, response: HTTPResponse) -> None:
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        if not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return json_response({"status": "ok"})

    @app.post("/internal/events")
    async def events(request: Request) -> HTTPResponse:
        try:
            body = json.loads(request.body or b"")
        except ValueError:
            return json_response({"error": "body must be JSON: {\"events\": [...]}"}, status=400)
        try:
            batch = ingest.validate_batch(body)
        except ingest.BatchError as exc:
            return json_response({"error": str(exc)}, status=400)
        result = await run(ingest.apply_events, app.ctx.engine, batch, settings.language, settings.webhook_enabled,
                           legal_hold_codes=app.ctx.content.legal_hold_codes)
        if result.erased:  # what was deleted leaves the file and its WAL too
            await run(erasure.compact, app.ctx.engine)
        for case_id in result.opened:
            app.add_task(fetch_context(app, case_id))
        for case_id in result.changed:
            app.ctx.hub.publish(f"case:{case_id}")
        if result.changed:
            app.ctx.hub.publish("queue")
        log.info("ingest: %s events (%s duplicates), opened %s, types %s", len(batch), result.duplicates,
                 result.opened, sorted({e["type"] for e in batch}))
        return json_response({"accepted": len(batch) - result.duplicates, "duplicates": result.duplicates,
                              "opened": result.opened})

    from desk import api, pages  # noqa: E402  (routes need the helpers above)

    pages.register(app)
    api.register(app)

    @app.before_server_start
    async def start(app: Sanic, _loop: Any) -> None:
        app.ctx.rasa = RasaClient(settings.rasa_url, settings.rasa_api_token, settings.commands_token)

        def delivered(command: Any) -> None:  # a counsellor's page shows "delivered" at once
            if command.get("case_id") is not None:
                app.ctx.hub.publish(f"case:{command['case_id']}")

        app.ctx.outbox = commands.Outbox(app.ctx.engine, app.ctx.rasa, settings.command_retry_max_seconds, delivered)
        import aiohttp

        app.ctx.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        app.ctx.tracker_engine = make_tracker_engine(settings.tracker_db_url) if settings.tracker_db_url else None

    @app.after_server_start
    async def tasks(app: Sanic, _loop: Any) -> None:
        jobs = [
            # desk -> Rasa commands not delivered yet: in order per conversation, with backoff
            ("command delivery", 0.5, 0.0, app.ctx.outbox.deliver_due),
            # what Rasa holds for each case is what the desk decided
            ("reconciliation", settings.reconcile_seconds, min(10, settings.reconcile_seconds),
             lambda: reconcile.reconcile(app.ctx.engine, app.ctx.rasa)),
            # a counsellor who claimed a case and went silent: supervisors alerted, back to the queue
            ("counsellor silence", min(5.0, settings.counsellor_silence_seconds / 2), 0.0,
             lambda: requeue_silent_cases(app)),
            # cases opened while Rasa was unreachable: read their context again
            ("context loop", 1.0, 0.0, lambda: retry_missing_context(app)),
            ("purge", settings.purge_interval_seconds, min(5, settings.purge_interval_seconds),
             lambda: run(purge.purge, app.ctx.engine, app.ctx.tracker_engine, settings.retention_days)),
            # a refused edit of content/ is logged even when no supervisor is looking
            ("content check", 5.0, 0.0, lambda: run(app.ctx.content_status.errors)),
            # the counsellors' day ended with cases still queued: tell each person once
            ("queue closing", settings.closing_check_seconds, 0.0, lambda: tell_queue_closing(app)),
            # login failures per address: forgotten once old
            ("login throttle", 600.0, 60.0, lambda: run(auth.forget_old_failures, app.ctx.engine, app.ctx.policy)),
        ]
        if settings.webhook_enabled:
            jobs.append(("webhook loop", 1.0, 0.0, lambda: webhook.deliver_due(
                app.ctx.engine, settings.webhook_url, settings.webhook_secret, app.ctx.http)))
        app.ctx.tasks = [asyncio.ensure_future(every(*job)) for job in jobs]

    @app.before_server_stop
    async def stop(app: Sanic, _loop: Any) -> None:
        app.ctx.hub.close_all()
        for task in app.ctx.tasks:
            task.cancel()
        await app.ctx.rasa.close()
        await app.ctx.http.close()
        app.ctx.hash_pool.close()

    return app


async def every(name: str, seconds: float, first_delay: float, work: Callable[[], Awaitable[Any]]) -> None:
    """Run `work` now and then until the server stops; a failure is logged, never fatal."""
    await asyncio.sleep(first_delay)
    while True:
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed", name)
        await asyncio.sleep(seconds)


async def fetch_context(app: Sanic, case_id: int) -> None:
    """Read the tracker once; on failure the case keeps what the events said and the
    context loop retries with backoff."""
    if case_id in app.ctx.context_in_flight:
        return
    app.ctx.context_in_flight.add(case_id)
    try:
        case = await run(case_ops.get_case, app.ctx.engine, case_id)
        if case is None or case["context_status"] == "done":
            return
        try:
            tracker = await app.ctx.rasa.tracker(case["conversation_id"])
        except RasaUnavailable as exc:
            delay = await run(ingest.context_failed, app.ctx.engine, case_id)
            log.warning("context for case %s not read (%s), retry in %.0f s", case_id, exc, delay)
            return
        from desk.context import extract_context

        await run(ingest.apply_context, app.ctx.engine, case_id, extract_context(tracker), app.ctx.settings.language)
        app.ctx.hub.publish(f"case:{case_id}")
        app.ctx.hub.publish("queue")
    except Exception:
        log.exception("context for case %s failed", case_id)
    finally:
        app.ctx.context_in_flight.discard(case_id)


async def tell_queue_closing(app: Sanic) -> None:
    snapshot = await run(app.ctx.content_status.store.snapshot)
    await closing.tell_queued_cases_at_closing(app.ctx.engine, commands.QueueClosingNotices(app.ctx.outbox), snapshot,
                                               app.ctx.settings.language)


async def requeue_silent_cases(app: Sanic) -> None:
    requeued = await run(silence.check, app.ctx.engine, app.ctx.content, app.ctx.settings.counsellor_silence_seconds)
    for case_id in requeued:
        app.ctx.hub.publish(f"case:{case_id}")
        await app.ctx.outbox.flush((await run(case_ops.get_case, app.ctx.engine, case_id))["conversation_id"])
    if requeued:
        app.ctx.hub.publish("queue")


async def retry_missing_context(app: Sanic) -> None:
    for row in await run(ingest.cases_needing_context, app.ctx.engine):
        await fetch_context(app, row["id"])
