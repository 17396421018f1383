"""Case operations: queue, claim, transfer, messages, notes, close, audit (synchronous).

The desk owns a case's state: each change that Rasa must know adds its command to the
outbox (desk/commands.py) in the same transaction, so the two never disagree for good."""
from __future__ import annotations

import time
import uuid
from typing import Any, Dict, List, Optional

from sqlalchemy import case as sql_case, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from desk.commands import enqueue
from desk.context import RISK_ORDER
from desk.models import audit, cases, messages, notes, users

OPEN = ("queued", "active")
MAX_TEXT = 2000


class CaseError(Exception):
    """Carries an HTTP-like status and an i18n key, so pages and the API word it their own way."""

    def __init__(self, status: int, key: str):
        super().__init__(key)
        self.status = status
        self.key = key


def record(conn: Connection, user: Optional[Dict[str, Any]], action: str, case_id: Optional[int] = None,
           conversation_id: Optional[str] = None, detail: Optional[str] = None, now: Optional[float] = None) -> None:
    """Audit row: who, what, which case, when. Never message text."""
    conn.execute(insert(audit).values(
        user_id=user["id"] if user else None, username=user["username"] if user else None, action=action,
        case_id=case_id, conversation_id=conversation_id, detail=(detail or None) and detail[:128],
        created_at=now or time.time()))


def audit_entry(engine: Engine, user: Optional[Dict[str, Any]], action: str, case_id: Optional[int] = None,
                detail: Optional[str] = None) -> None:
    with engine.begin() as conn:
        conversation = None
        if case_id is not None:
            conversation = conn.execute(select(cases.c.conversation_id).where(cases.c.id == case_id)).scalar()
        record(conn, user, action, case_id, conversation, detail)


_risk_rank = sql_case({"critical": 3, "high": 2, "medium": 1, "low": 0}, value=cases.c.risk_level, else_=0)


def queue(engine: Engine) -> List[Dict[str, Any]]:
    """Open cases: highest risk first, then the longest wait."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(cases, users.c.first_name.label("assignee_name"), users.c.username.label("assignee_username"))
            .outerjoin(users, users.c.id == cases.c.assigned_to)
            .where(cases.c.status.in_(OPEN))
            .order_by(_risk_rank.desc(), cases.c.created_at.asc(), cases.c.id.asc())
        ).mappings().all()
    return [dict(r) for r in rows]


def get_case(engine: Engine, case_id: int) -> Optional[Dict[str, Any]]:
    with engine.connect() as conn:
        row = conn.execute(
            select(cases, users.c.first_name.label("assignee_name"), users.c.username.label("assignee_username"))
            .outerjoin(users, users.c.id == cases.c.assigned_to).where(cases.c.id == case_id)
        ).mappings().first()
    return dict(row) if row else None


def require_case(engine: Engine, case_id: int) -> Dict[str, Any]:
    found = get_case(engine, case_id)
    if found is None:
        raise CaseError(404, "case_not_found")
    return found


def transcript(engine: Engine, case_id: int, after_id: int = 0) -> List[Dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(messages).where(messages.c.case_id == case_id, messages.c.id > after_id)
                            .order_by(messages.c.timestamp, messages.c.id)).mappings().all()
    return [dict(r) for r in rows]


def case_notes(engine: Engine, case_id: int) -> List[Dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(notes, users.c.first_name, users.c.username).join(users, users.c.id == notes.c.user_id)
                            .where(notes.c.case_id == case_id).order_by(notes.c.created_at)).mappings().all()
    return [dict(r) for r in rows]


def public_view(case: Dict[str, Any], now: Optional[float] = None) -> Dict[str, Any]:
    """The integration API's shape of a case (no transcript, no notes)."""
    now = now or time.time()
    return {
        "id": case["id"], "conversation_id": case["conversation_id"], "status": case["status"],
        "channel": case["channel"], "language": case["language"], "user_role": case["user_role"], "age": case["age"],
        "flow": case["flow"], "platform": case["platform"], "risk_level": case["risk_level"],
        "risk_reasons": case["risk_reasons"] or [], "crisis_type": case["crisis_type"],
        "trigger_message": case["trigger_message"], "answers": case["answers"] or {},
        "advice_given": case["advice_given"] or [], "summary": case["summary"], "created_at": case["created_at"],
        "claimed_at": case["claimed_at"], "closed_at": case["closed_at"], "outcome": case["outcome"], "feedback": case.get("feedback"),
        "assigned_to": case.get("assignee_name"),
        "waiting_seconds": int(max(0, (case["claimed_at"] or (case["closed_at"] or now)) - case["created_at"])),
        "alert": bool(case["alert"]), "alert_at": case["alert_at"], "user_left": bool(case["user_left"]),
    }


def claim(engine: Engine, case_id: int, user: Dict[str, Any], now: Optional[float] = None) -> None:
    """Atomic: only the UPDATE that still finds the case queued wins."""
    now = now or time.time()
    with engine.begin() as conn:
        won = conn.execute(update(cases).where(cases.c.id == case_id, cases.c.status == "queued")
                           .values(status="active", assigned_to=user["id"], claimed_at=now)).rowcount
        if won != 1:
            exists = conn.execute(select(cases.c.status).where(cases.c.id == case_id)).scalar()
            if exists is None:
                raise CaseError(404, "case_not_found")
            raise CaseError(409, "already_claimed" if exists == "active" else "case_closed")
        conversation = _conversation(conn, case_id)
        enqueue(conn, conversation, "claim", {"counsellor_name": user.get("first_name") or user["username"]}, case_id, now)
        record(conn, user, "claimed", case_id, conversation, now=now)


def claim_by_message(engine: Engine, case_id: int, user: Optional[Dict[str, Any]], author: str,
                     now: Optional[float] = None) -> bool:
    """Any counsellor message claims a queued case, exactly like the claim button: True
    when this message claimed it (the caller tells Rasa, as for a claim).

    From the pages, the case becomes the writer's; an active case must already be
    theirs. From the integration API (no account, a first name only), the case becomes
    active without an account, and an active case takes the message whoever has it.
    """
    now = now or time.time()
    with engine.begin() as conn:
        won = conn.execute(update(cases).where(cases.c.id == case_id, cases.c.status == "queued")
                           .values(status="active", assigned_to=user["id"] if user else None, claimed_at=now)).rowcount
        row = conn.execute(select(cases.c.status, cases.c.assigned_to).where(cases.c.id == case_id)).first()
        if row is None:
            raise CaseError(404, "case_not_found")
        if won == 1:
            conversation = _conversation(conn, case_id)
            enqueue(conn, conversation, "claim", {"counsellor_name": author}, case_id, now)
            record(conn, user, "claimed_by_message" if user else "claimed_api", case_id, conversation,
                   detail=None if user else author, now=now)
            return True
        if row.status not in OPEN:
            raise CaseError(409, "case_closed")
        if user is not None and row.assigned_to != user["id"]:
            raise CaseError(409, "not_your_case")
        return False


def recent_case_limits(engine: Engine, seconds: float = 3600, now: Optional[float] = None) -> int:
    """Cases not opened in the last hour because one client address opened too many (the
    supervisors' banner)."""
    since = (now or time.time()) - seconds
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(audit).where(
            audit.c.action == "new_case_limit", audit.c.created_at >= since)).scalar() or 0


def _conversation(conn: Connection, case_id: int) -> Optional[str]:
    return conn.execute(select(cases.c.conversation_id).where(cases.c.id == case_id)).scalar()


def _only_assignee_or_supervisor(user: Optional[Dict[str, Any]]) -> list:
    """Conditions for the UPDATE itself (no check-then-act): a counsellor acts on their own
    case only; a supervisor on any; the integration API (no account) as before."""
    if user is None or user.get("role") == "supervisor":
        return []
    return [cases.c.assigned_to == user["id"]]


def _why_not(conn: Connection, case_id: int) -> CaseError:
    current = conn.execute(select(cases.c.status).where(cases.c.id == case_id)).scalar()
    if current is None:
        return CaseError(404, "case_not_found")
    if current not in OPEN:
        return CaseError(409, "case_closed")
    return CaseError(403, "not_your_case_action")


def transfer(engine: Engine, case_id: int, user: Dict[str, Any], to_user_id: Optional[int]) -> Optional[Dict[str, Any]]:
    """To another counsellor (the case stays active) or back to the queue (to_user_id None).
    Only the counsellor who has the case, or a supervisor. Returns the new counsellor, if any."""
    allowed = [cases.c.id == case_id, cases.c.status.in_(OPEN)] + _only_assignee_or_supervisor(user)
    with engine.begin() as conn:
        if to_user_id is None:
            done = conn.execute(update(cases).where(*allowed)
                                .values(status="queued", assigned_to=None, claimed_at=None)).rowcount
            if not done:
                raise _why_not(conn, case_id)
            conversation = _conversation(conn, case_id)
            enqueue(conn, conversation, "requeue", {}, case_id)
            record(conn, user, "returned_to_queue", case_id, conversation)
            return None
        target = conn.execute(select(users).where(users.c.id == to_user_id, users.c.disabled.is_(False))).mappings().first()
        if target is None:
            if _conversation(conn, case_id) is None:
                raise CaseError(404, "case_not_found")
            raise CaseError(400, "unknown_counsellor")
        done = conn.execute(update(cases).where(*allowed).values(
            status="active", assigned_to=to_user_id, claimed_at=func.coalesce(cases.c.claimed_at, time.time()))).rowcount
        if not done:
            raise _why_not(conn, case_id)
        conversation = _conversation(conn, case_id)
        enqueue(conn, conversation, "transfer", {"counsellor_name": target["first_name"]}, case_id)
        record(conn, user, "transferred", case_id, conversation, detail=target["username"])
        return dict(target)


def check_text(text: Any, limit: int = MAX_TEXT) -> str:
    if not isinstance(text, str) or not text.strip():
        raise CaseError(400, "text_required")
    if len(text) > limit:
        raise CaseError(400, "text_too_long")
    return text.strip()


def add_counsellor_message(engine: Engine, case_id: int, author: str, text: str,
                           user: Optional[Dict[str, Any]] = None, via: str = "desk") -> Dict[str, Any]:
    """Stored undelivered, with its command in the outbox: marked delivered when Rasa applied it."""
    text = check_text(text)
    now = time.time()
    with engine.begin() as conn:
        row = conn.execute(select(cases.c.status, cases.c.conversation_id).where(cases.c.id == case_id)).first()
        if row is None:
            raise CaseError(404, "case_not_found")
        if row.status not in OPEN:
            raise CaseError(409, "case_closed")
        message_id = uuid.uuid4().hex
        new_id = conn.execute(insert(messages).values(case_id=case_id, sender="counsellor", author=author, text=text,
                                                      timestamp=now, message_id=message_id, delivered=False)
                              ).inserted_primary_key[0]
        enqueue(conn, row.conversation_id, "message", {"text": text, "author": author, "message_id": message_id,
                                                       "_message_row": new_id}, case_id, now)
        record(conn, user, "message_sent" if via == "desk" else "message_sent_api", case_id, row.conversation_id, now=now)
    return {"id": new_id, "message_id": message_id, "conversation_id": row.conversation_id, "author": author,
            "text": text, "timestamp": now, "sender": "counsellor", "delivered": False}


def add_note(engine: Engine, case_id: int, user: Dict[str, Any], text: str) -> None:
    text = check_text(text, 4000)
    with engine.begin() as conn:
        conversation = _conversation(conn, case_id)
        if conversation is None:
            raise CaseError(404, "case_not_found")
        conn.execute(insert(notes).values(case_id=case_id, user_id=user["id"], text=text, created_at=time.time()))
        record(conn, user, "note_added", case_id, conversation)


def close(engine: Engine, case_id: int, outcome: str, user: Optional[Dict[str, Any]], valid_outcomes: Any,
          via: str = "desk", legal_hold_codes: Any = ()) -> Dict[str, Any]:
    """Only the counsellor who has the case, or a supervisor (or the integration API). An
    outcome after which the law keeps a record (`legal_hold` in outcomes.yml) is told to Rasa
    with the close, so that a later erasure tells the person what is kept."""
    if outcome not in valid_outcomes:
        raise CaseError(400, "bad_outcome")
    now = time.time()
    allowed = [cases.c.id == case_id, cases.c.status.in_(OPEN)] + _only_assignee_or_supervisor(user)
    with engine.begin() as conn:
        done = conn.execute(update(cases).where(*allowed)
                            .values(status="closed", closed_at=now, outcome=outcome, alert=False)).rowcount
        if not done:
            raise _why_not(conn, case_id)
        conversation = _conversation(conn, case_id)
        enqueue(conn, conversation, "close", {"legal_hold": True} if outcome in legal_hold_codes else {}, case_id, now)
        record(conn, user, "closed" if via == "desk" else "closed_api", case_id, conversation,
               detail=outcome, now=now)
    return require_case(engine, case_id)


def counsellors(engine: Engine) -> List[Dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(users.c.id, users.c.username, users.c.first_name, users.c.role)
                                              .where(users.c.disabled.is_(False)).order_by(users.c.first_name)).mappings()]


def status(engine: Engine, now: Optional[float] = None) -> Dict[str, int]:
    """For Rasa's `action_request_human`: who is there, how many wait, how long it usually takes."""
    now = now or time.time()
    with engine.connect() as conn:
        online = conn.execute(select(func.count()).select_from(users).where(
            users.c.role == "counsellor", users.c.disabled.is_(False), users.c.last_seen_at >= now - 120)).scalar_one()
        waiting = conn.execute(select(func.count()).select_from(cases).where(cases.c.status == "queued")).scalar_one()
        delays = conn.execute(select(cases.c.claimed_at - cases.c.created_at).where(
            cases.c.claimed_at.isnot(None), cases.c.claimed_at >= now - 86400)
            .order_by(cases.c.claimed_at.desc()).limit(20)).scalars().all()
    estimate = 5
    if delays:
        estimate = max(1, round(sum(max(0.0, d) for d in delays) / len(delays) / 60))
    return {"counsellors_online": int(online), "queue_length": int(waiting), "estimated_wait_minutes": int(estimate)}


def audit_log(engine: Engine, limit: int = 500) -> List[Dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(audit).order_by(audit.c.created_at.desc(), audit.c.id.desc())
                                              .limit(limit)).mappings()]


def risk_rank(level: Optional[str]) -> int:
    return RISK_ORDER.get(level or "low", 0)
