"""Integration API (JSON, bearer DESK_API_TOKEN). Bad input is always a 4xx with {"error": ...}."""
from __future__ import annotations

import json
import time
from typing import Any, Dict

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json as json_response

from desk import cases as case_ops
from desk.db import run

MAX_BODY = 64 * 1024
ERRORS = {
    "case_not_found": "no case with this id",
    "case_closed": "the case is closed",
    "bad_outcome": "unknown outcome code",
    "text_required": "'text' must be a non-empty string",
    "text_too_long": "'text' must be at most 2000 characters",
}


class BadBody(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def body_of(request: Request) -> Dict[str, Any]:
    raw = request.body or b""
    if len(raw) > MAX_BODY:
        raise BadBody(413, "body larger than 64 KB")
    if not raw.strip():
        raise BadBody(400, "empty body: a JSON object is expected")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadBody(400, "body is not valid JSON")
    if not isinstance(data, dict):
        raise BadBody(400, "body must be a JSON object")
    return data


def error(status: int, message: str) -> HTTPResponse:
    return json_response({"error": message}, status=status)


def register(app: Sanic) -> None:
    engine = app.ctx.engine

    def publish(case_id: int) -> None:
        app.ctx.hub.publish(f"case:{case_id}")
        app.ctx.hub.publish("queue")

    @app.get("/api/cases")
    async def api_cases(request: Request) -> HTTPResponse:
        now = time.time()
        return json_response({"cases": [case_ops.public_view(c, now) for c in await run(case_ops.queue, engine)]})

    @app.get("/api/cases/<case_id:int>")
    async def api_case(request: Request, case_id: int) -> HTTPResponse:
        case = await run(case_ops.get_case, engine, case_id)
        if case is None:
            return error(404, ERRORS["case_not_found"])
        view = case_ops.public_view(case)
        transcript = await run(case_ops.transcript, engine, case_id)
        await run(case_ops.audit_entry, engine, None, "read_api", case_id, f"{len(transcript)} messages")
        view["transcript"] = [{"sender": m["sender"], "author": m["author"], "text": m["text"],
                               "timestamp": m["timestamp"], "delivered": m["delivered"]} for m in transcript]
        return json_response(view)

    @app.post("/api/cases/<case_id:int>/messages")
    async def api_message(request: Request, case_id: int) -> HTTPResponse:
        try:
            body = body_of(request)
        except BadBody as exc:
            return error(exc.status, str(exc))
        author = body.get("author")
        if not isinstance(author, str) or not author.strip() or len(author) > 40:
            return error(400, "'author' (the counsellor's first name) must be a string of 1 to 40 characters")
        author = author.strip()
        try:
            case_ops.check_text(body.get("text"))
            # Any counsellor message claims a queued case, as the claim button does.
            claimed_now = await run(case_ops.claim_by_message, engine, case_id, None, author)
        except case_ops.CaseError as exc:
            return error(exc.status, ERRORS.get(exc.key, exc.key))
        if claimed_now:
            publish(case_id)
        try:
            message = await run(case_ops.add_counsellor_message, engine, case_id, author, body.get("text"),
                                None, "api")
        except case_ops.CaseError as exc:
            return error(exc.status, ERRORS.get(exc.key, exc.key))
        # The claim (if this message made it) and the message go in order, now if Rasa takes
        # them; otherwise the outbox retries until it does.
        delivered = await app.ctx.outbox.flush(message["conversation_id"])
        publish(case_id)
        if not delivered:
            return json_response({"error": "the message was NOT delivered yet: Rasa did not accept it; it is kept "
                                           "and sent again until Rasa takes it",
                                  "message_id": message["message_id"], "delivered": False, "retrying": True,
                                  "claimed": claimed_now}, status=502)
        return json_response({"message_id": message["message_id"], "delivered": True, "claimed": claimed_now},
                             status=201)

    @app.post("/api/cases/<case_id:int>/close")
    async def api_close(request: Request, case_id: int) -> HTTPResponse:
        try:
            body = body_of(request)
        except BadBody as exc:
            return error(exc.status, str(exc))
        outcome = body.get("outcome")
        if not isinstance(outcome, str):
            return error(400, "'outcome' must be one of: " + ", ".join(sorted(app.ctx.content.outcome_codes)))
        try:
            case = await run(case_ops.close, engine, case_id, outcome, None, app.ctx.content.outcome_codes, "api",
                             app.ctx.content.legal_hold_codes)
        except case_ops.CaseError as exc:
            message = ERRORS.get(exc.key, exc.key)
            if exc.key == "bad_outcome":
                message += ": " + ", ".join(sorted(app.ctx.content.outcome_codes))
            return error(exc.status, message)
        publish(case_id)
        # Closed at the desk whatever Rasa answers: the close is in the outbox, retried until applied.
        told = await app.ctx.outbox.flush(case["conversation_id"])
        return json_response({"case": case_ops.public_view(case), "rasa_notified": told})

    @app.get("/api/status")
    async def api_status(request: Request) -> HTTPResponse:
        return json_response(await run(case_ops.status, engine))
