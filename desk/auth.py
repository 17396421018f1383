"""Accounts, passwords, lockout, server-side sessions and CSRF tokens (all synchronous, run in threads)."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from desk import totp
from desk.models import sessions, users

ROLES = ("counsellor", "supervisor")
MIN_PASSWORD = 12
MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60
SESSION_IDLE_SECONDS = 8 * 3600
TOTP_STAGE_SECONDS = 5 * 60
TOUCH_EVERY_SECONDS = 20  # write "last seen" at most this often per session

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both answers take about as long.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    pass


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def validate_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"password must have at least {MIN_PASSWORD} characters")


def validate_names(username: str, first_name: str) -> None:
    if not username or len(username) > 64 or not all(c.isalnum() or c in "._-" for c in username):
        raise AccountError("username: 1-64 letters, digits, '.', '_' or '-'")
    if not first_name or not first_name.strip() or len(first_name) > 40:
        raise AccountError("first name: 1-40 characters")


def create_user(engine: Engine, username: str, first_name: str, role: str, password: str, now: Optional[float] = None) -> int:
    validate_names(username, first_name)
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    validate_password(password)
    try:
        with engine.begin() as conn:
            return conn.execute(insert(users).values(
                username=username, first_name=first_name.strip(), role=role, password_hash=hash_password(password),
                totp_enabled=False, failed_logins=0, disabled=False, created_at=now or time.time(),
            )).inserted_primary_key[0]
    except IntegrityError:
        raise AccountError(f"username {username!r} already exists")


def set_password(engine: Engine, username: str, password: str) -> None:
    validate_password(password)
    with engine.begin() as conn:
        done = conn.execute(update(users).where(users.c.username == username).values(
            password_hash=hash_password(password), failed_logins=0, locked_until=None)).rowcount
        if not done:
            raise AccountError(f"no user {username!r}")
        uid = conn.execute(select(users.c.id).where(users.c.username == username)).scalar_one()
        conn.execute(delete(sessions).where(sessions.c.user_id == uid))  # a reset logs everyone out


def set_disabled(engine: Engine, user_id: int, disabled: bool) -> bool:
    with engine.begin() as conn:
        done = conn.execute(update(users).where(users.c.id == user_id).values(disabled=disabled)).rowcount
        if disabled:
            conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
        return bool(done)


def unlock(engine: Engine, user_id: int) -> bool:
    with engine.begin() as conn:
        return bool(conn.execute(update(users).where(users.c.id == user_id).values(
            failed_logins=0, locked_until=None)).rowcount)


def reset_totp(engine: Engine, user_id: int) -> bool:
    with engine.begin() as conn:
        return bool(conn.execute(update(users).where(users.c.id == user_id).values(
            totp_enabled=False, totp_secret=None, totp_last_counter=None)).rowcount)


def get_user(engine: Engine, user_id: int) -> Optional[Dict[str, Any]]:
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
        return dict(row) if row else None


def list_users(engine: Engine) -> list:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(users).order_by(users.c.username)).mappings()]


@dataclass
class LoginResult:
    outcome: str  # "ok" | "totp" | "refused"
    user: Optional[Dict[str, Any]] = None


def _record_failure(conn: Any, user: Dict[str, Any], now: float) -> None:
    failures = (user["failed_logins"] or 0) + 1
    values: Dict[str, Any] = {"failed_logins": failures}
    if failures >= MAX_FAILURES:
        values = {"failed_logins": 0, "locked_until": now + LOCK_SECONDS}
    conn.execute(update(users).where(users.c.id == user["id"]).values(**values))


def authenticate(engine: Engine, username: str, password: str, now: Optional[float] = None) -> LoginResult:
    """One answer for unknown user, wrong password, disabled or locked account: the page
    says the same thing, and the hash is always verified so timing stays similar."""
    now = now or time.time()
    with engine.begin() as conn:
        row = conn.execute(select(users).where(users.c.username == (username or "")[:64])).mappings().first()
        if row is None:
            check_password(_DUMMY_HASH, password or "")
            return LoginResult("refused")
        user = dict(row)
        good = check_password(user["password_hash"], password or "")
        if user["disabled"] or (user["locked_until"] and user["locked_until"] > now):
            return LoginResult("refused")
        if not good:
            _record_failure(conn, user, now)
            return LoginResult("refused")
        values: Dict[str, Any] = {"failed_logins": 0, "locked_until": None}
        if _hasher.check_needs_rehash(user["password_hash"]):
            values["password_hash"] = hash_password(password)
        conn.execute(update(users).where(users.c.id == user["id"]).values(**values))
    return LoginResult("totp" if user["totp_enabled"] else "ok", user)


def verify_totp_login(engine: Engine, user_id: int, code: str, now: Optional[float] = None) -> bool:
    now = now or time.time()
    with engine.begin() as conn:
        user = dict(conn.execute(select(users).where(users.c.id == user_id)).mappings().one())
        if user["disabled"] or (user["locked_until"] and user["locked_until"] > now) or not user["totp_enabled"]:
            return False
        counter = totp.verify(user["totp_secret"], code, at=now, last_counter=user["totp_last_counter"])
        if counter is None:
            _record_failure(conn, user, now)  # guessing codes counts towards the lockout too
            return False
        conn.execute(update(users).where(users.c.id == user_id).values(totp_last_counter=counter, failed_logins=0))
        return True


def start_totp_setup(engine: Engine, user_id: int) -> str:
    secret = totp.new_secret()
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user_id, users.c.totp_enabled.is_(False)).values(totp_secret=secret))
    return secret


def confirm_totp_setup(engine: Engine, user_id: int, code: str, now: Optional[float] = None) -> bool:
    with engine.begin() as conn:
        user = dict(conn.execute(select(users).where(users.c.id == user_id)).mappings().one())
        if not user["totp_secret"] or user["totp_enabled"]:
            return False
        counter = totp.verify(user["totp_secret"], code, at=now)
        if counter is None:
            return False
        conn.execute(update(users).where(users.c.id == user_id).values(totp_enabled=True, totp_last_counter=counter))
        return True


# ---- sessions ----

def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(engine: Engine, user_id: int, stage: str = "full", now: Optional[float] = None) -> str:
    now = now or time.time()
    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(insert(sessions).values(token_hash=token_hash(token), user_id=user_id, stage=stage,
                                             csrf_token=secrets.token_urlsafe(32), created_at=now, last_seen_at=now))
        conn.execute(update(users).where(users.c.id == user_id).values(last_seen_at=now))
    return token


def load_session(engine: Engine, token: Optional[str], now: Optional[float] = None) -> Optional[Dict[str, Any]]:
    """The session and its user, or None (unknown, expired, user disabled). Refreshes the idle timer."""
    if not token or len(token) > 200:
        return None
    now = now or time.time()
    digest = token_hash(token)
    with engine.connect() as conn:
        row = conn.execute(
            select(sessions.c.id.label("session_id"), sessions.c.stage, sessions.c.csrf_token,
                   sessions.c.created_at.label("session_created_at"), sessions.c.last_seen_at.label("session_seen_at"),
                   users.c.id, users.c.username, users.c.first_name, users.c.role, users.c.disabled,
                   users.c.totp_enabled, users.c.totp_secret, users.c.last_seen_at)
            .join(users, users.c.id == sessions.c.user_id).where(sessions.c.token_hash == digest)
        ).mappings().first()
    if row is None:
        return None
    data = dict(row)
    idle_limit = TOTP_STAGE_SECONDS if data["stage"] == "totp" else SESSION_IDLE_SECONDS
    if data["disabled"] or now - data["session_seen_at"] > idle_limit:
        with engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.id == data["session_id"]))
        return None
    if data["stage"] == "full" and now - data["session_seen_at"] > TOUCH_EVERY_SECONDS:
        touch(engine, data["session_id"], data["id"], now)
    return data


def touch(engine: Engine, session_id: int, user_id: int, now: Optional[float] = None) -> None:
    """Keeps the session alive and marks the counsellor online (used by /api/status)."""
    now = now or time.time()
    with engine.begin() as conn:
        conn.execute(update(sessions).where(sessions.c.id == session_id).values(last_seen_at=now))
        conn.execute(update(users).where(users.c.id == user_id).values(last_seen_at=now))


def promote_session(engine: Engine, session_id: int, user_id: int) -> str:
    """After the TOTP step: drop the half-session and issue a new token (no fixation)."""
    with engine.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.id == session_id))
    return create_session(engine, user_id, "full")


def end_session(engine: Engine, token: Optional[str]) -> None:
    if token:
        with engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash(token)))


def csrf_valid(expected: Optional[str], provided: Optional[str]) -> bool:
    if not expected or not provided:
        return False
    return hmac.compare_digest(expected.encode(), provided.encode())


def bearer_valid(expected: str, header: Optional[str]) -> bool:
    """Constant-time bearer check; an unset token refuses everything."""
    if not expected or not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(expected.encode(), header[len("Bearer "):].strip().encode())
