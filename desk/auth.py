"""Accounts, passwords, lockout, server-side sessions and CSRF tokens (all synchronous, run in threads)."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import case as sql_case, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from desk import totp
from desk.models import login_throttle, sessions, users

ROLES = ("counsellor", "supervisor")
MIN_PASSWORD = 12
SESSION_IDLE_SECONDS = 8 * 3600
TOTP_STAGE_SECONDS = 5 * 60
ENROL_STAGE_SECONDS = 15 * 60
TOUCH_EVERY_SECONDS = 20  # write "last seen" at most this often per session


@dataclass(frozen=True)
class Policy:
    """Login limits (from desk.config.Settings; these defaults are the same)."""
    account_max_failures: int = 20
    totp_max_failures: int = 5
    lock_seconds: int = 900
    free_failures: int = 5
    backoff_max_seconds: int = 900
    forget_seconds: int = 3600  # never less than backoff_max_seconds (see `forget_after`)
    totp_roles: Tuple[str, ...] = ("supervisor",)

    @classmethod
    def from_settings(cls, settings: Any) -> "Policy":
        return cls(account_max_failures=settings.account_max_failures, totp_max_failures=settings.totp_max_failures,
                   lock_seconds=settings.account_lock_seconds, free_failures=settings.login_free_failures,
                   backoff_max_seconds=settings.login_backoff_max_seconds, forget_seconds=settings.login_forget_seconds,
                   totp_roles=ROLES if settings.totp_for_all else ("supervisor",))

    @property
    def forget_after(self) -> int:
        return max(self.forget_seconds, self.backoff_max_seconds)

    def totp_required(self, role: Optional[str]) -> bool:
        return role in self.totp_roles


DEFAULT_POLICY = Policy()

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


def create_user(engine: Engine, username: str, first_name: str, role: str, password: str, now: Optional[float] = None,
                password_hash: Optional[str] = None) -> int:
    """`password_hash`: already computed (the pages hash on the argon2 pool, not the database's)."""
    validate_names(username, first_name)
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    validate_password(password)
    try:
        with engine.begin() as conn:
            return conn.execute(insert(users).values(
                username=username, first_name=first_name.strip(), role=role, password_hash=password_hash or hash_password(password),
                totp_enabled=False, failed_logins=0, totp_failures=0, disabled=False, created_at=now or time.time(),
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
            failed_logins=0, totp_failures=0, locked_until=None)).rowcount)


def reset_totp(engine: Engine, user_id: int) -> bool:
    with engine.begin() as conn:
        return bool(conn.execute(update(users).where(users.c.id == user_id).values(
            totp_enabled=False, totp_secret=None, totp_last_counter=None, totp_failures=0)).rowcount)


def get_user(engine: Engine, user_id: int) -> Optional[Dict[str, Any]]:
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
        return dict(row) if row else None


def list_users(engine: Engine) -> list:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(users).order_by(users.c.username)).mappings()]


@dataclass
class LoginResult:
    outcome: str  # "ok" | "totp" (code next) | "enrol" (TOTP required, not set up yet) | "refused"
    user: Optional[Dict[str, Any]] = None


def _count_failure(conn: Any, user_id: int, column: str, limit: int, policy: Policy, now: float) -> None:
    """One UPDATE ... SET n = n + 1: parallel failures each count (no read-then-write).
    At `limit` and beyond, each failure (re)locks the account."""
    counter = users.c[column]
    conn.execute(update(users).where(users.c.id == user_id).values({
        column: counter + 1,
        "locked_until": sql_case((counter + 1 >= limit, now + policy.lock_seconds), else_=users.c.locked_until),
    }))


def _locked(user: Dict[str, Any], now: float) -> bool:
    return bool(user["disabled"] or (user["locked_until"] and user["locked_until"] > now))


def find_login(engine: Engine, username: str) -> Optional[Dict[str, Any]]:
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == (username or "")[:64])).mappings().first()
    return dict(row) if row else None


def password_matches(user: Optional[Dict[str, Any]], password: str) -> Tuple[bool, Optional[str]]:
    """The argon2 part of a login (CPU only, no database): whether the password is right, and a
    new hash when the stored one used older parameters. An unknown user is checked against a
    dummy hash, so both answers take about as long."""
    if user is None:
        check_password(_DUMMY_HASH, password or "")
        return False, None
    good = check_password(user["password_hash"], password or "")
    new_hash = hash_password(password) if good and _hasher.check_needs_rehash(user["password_hash"]) else None
    return good, new_hash


def settle_login(engine: Engine, user: Optional[Dict[str, Any]], good: bool, new_hash: Optional[str] = None,
                 policy: Policy = DEFAULT_POLICY, now: Optional[float] = None) -> LoginResult:
    """The database part of a login. One answer for unknown user, wrong password, disabled or
    locked account. Every wrong password counts, even on a locked account; a right one resets
    the password count only (never the TOTP count)."""
    now = now or time.time()
    if user is None:
        return LoginResult("refused")
    with engine.begin() as conn:
        if not good:
            _count_failure(conn, user["id"], "failed_logins", policy.account_max_failures, policy, now)
            return LoginResult("refused")
        fresh = dict(conn.execute(select(users).where(users.c.id == user["id"])).mappings().one())
        if _locked(fresh, now):
            return LoginResult("refused")
        values: Dict[str, Any] = {"failed_logins": 0}
        if new_hash:
            values["password_hash"] = new_hash
        conn.execute(update(users).where(users.c.id == user["id"]).values(**values))
    if fresh["totp_enabled"]:
        return LoginResult("totp", fresh)
    return LoginResult("enrol" if policy.totp_required(fresh["role"]) else "ok", fresh)


def authenticate(engine: Engine, username: str, password: str, now: Optional[float] = None,
                 policy: Policy = DEFAULT_POLICY) -> LoginResult:
    """All three steps in the calling thread (the command line, tests); the desk's login route
    runs them on their own pools (`find_login` and `settle_login` on the database's, argon2 on its own)."""
    user = find_login(engine, username)
    good, new_hash = password_matches(user, password)
    return settle_login(engine, user, good, new_hash, policy, now)


def verify_totp_login(engine: Engine, user_id: int, code: str, now: Optional[float] = None,
                      policy: Policy = DEFAULT_POLICY) -> bool:
    """A wrong code counts in `totp_failures` (apart from passwords; only a right code or a
    supervisor's unlock resets it). A code's time step is used once, even by parallel requests."""
    now = now or time.time()
    with engine.begin() as conn:
        user = dict(conn.execute(select(users).where(users.c.id == user_id)).mappings().one())
        if _locked(user, now) or not user["totp_enabled"] or not user["totp_secret"]:
            return False
        counter = totp.verify(user["totp_secret"], code, at=now, last_counter=user["totp_last_counter"])
        if counter is None:
            _count_failure(conn, user_id, "totp_failures", policy.totp_max_failures, policy, now)
            return False
        used = conn.execute(update(users).where(
            users.c.id == user_id, (users.c.totp_last_counter.is_(None)) | (users.c.totp_last_counter < counter))
            .values(totp_last_counter=counter, totp_failures=0)).rowcount
        return used == 1


# ---- throttling by client address ----

def throttle_wait(engine: Engine, address: str, policy: Policy = DEFAULT_POLICY, now: Optional[float] = None) -> float:
    """Seconds this address must still wait before its next login attempt (0: go ahead)."""
    now = now or time.time()
    with engine.connect() as conn:
        row = conn.execute(select(login_throttle).where(login_throttle.c.address == _address_key(address))).first()
    if row is None or not row.blocked_until or now - row.last_failure_at > policy.forget_after:
        return 0.0
    return max(0.0, row.blocked_until - now)


def throttle_failure(engine: Engine, address: str, policy: Policy = DEFAULT_POLICY, now: Optional[float] = None) -> int:
    """Counts a wrong password or code from this address (atomically); past `free_failures`
    the address waits 1 s, then 2, 4, ... up to `backoff_max_seconds`. Returns the count."""
    now = now or time.time()
    key = _address_key(address)
    for _ in range(3):
        try:
            with engine.begin() as conn:
                stale = login_throttle.c.last_failure_at < now - policy.forget_after
                done = conn.execute(update(login_throttle).where(login_throttle.c.address == key).values(
                    failures=sql_case((stale, 1), else_=login_throttle.c.failures + 1),
                    blocked_until=sql_case((stale, None), else_=login_throttle.c.blocked_until),
                    last_failure_at=now)).rowcount
                if not done:
                    conn.execute(insert(login_throttle).values(address=key, failures=1, last_failure_at=now))
                failures = conn.execute(select(login_throttle.c.failures)
                                        .where(login_throttle.c.address == key)).scalar_one()
                beyond = failures - policy.free_failures
                if beyond > 0:
                    wait = min(float(policy.backoff_max_seconds), 2.0 ** min(beyond - 1, 30))
                    conn.execute(update(login_throttle).where(login_throttle.c.address == key)
                                 .values(blocked_until=now + wait))
                return failures
        except IntegrityError:  # another request inserted the same address first: count again
            continue
    return 0


def forget_old_failures(engine: Engine, policy: Policy = DEFAULT_POLICY, now: Optional[float] = None) -> int:
    now = now or time.time()
    with engine.begin() as conn:
        return conn.execute(delete(login_throttle).where(
            login_throttle.c.last_failure_at < now - policy.forget_after)).rowcount


def _address_key(address: Optional[str]) -> str:
    return (address or "unknown")[:64]


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


def load_session(engine: Engine, token: Optional[str], now: Optional[float] = None,
                 policy: Policy = DEFAULT_POLICY) -> Optional[Dict[str, Any]]:
    """The session and its user, or None (unknown, expired, user disabled). Refreshes the idle timer.
    A full session whose user must have TOTP and has none (a supervisor whose TOTP was reset,
    a session from before the rule) comes back at the "enrol" stage."""
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
    idle_limit = {"totp": TOTP_STAGE_SECONDS, "enrol": ENROL_STAGE_SECONDS}.get(data["stage"], SESSION_IDLE_SECONDS)
    if data["disabled"] or now - data["session_seen_at"] > idle_limit:
        with engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.id == data["session_id"]))
        return None
    if data["stage"] == "full" and policy.totp_required(data["role"]) and not data["totp_enabled"]:
        data["stage"] = "enrol"
    if data["stage"] in ("full", "enrol") and now - data["session_seen_at"] > TOUCH_EVERY_SECONDS:
        touch(engine, data["session_id"], data["id"], now)
    return data


def session_alive(engine: Engine, session_id: int, now: Optional[float] = None, policy: Policy = DEFAULT_POLICY) -> bool:
    """For live streams, before each update and at each keep-alive: the session still exists
    (no logout, no password reset), its user is enabled and complete (TOTP when required), and
    the page was used within the idle limit (a stream alone does not extend the session). Marks
    the counsellor online."""
    now = now or time.time()
    with engine.begin() as conn:
        row = conn.execute(select(sessions.c.stage, sessions.c.last_seen_at, users.c.id, users.c.role,
                                  users.c.disabled, users.c.totp_enabled)
                           .join(users, users.c.id == sessions.c.user_id).where(sessions.c.id == session_id)).first()
        if (row is None or row.stage != "full" or row.disabled or now - row.last_seen_at > SESSION_IDLE_SECONDS
                or (policy.totp_required(row.role) and not row.totp_enabled)):
            return False
        conn.execute(update(users).where(users.c.id == row.id).values(last_seen_at=now))
    return True


def touch(engine: Engine, session_id: int, user_id: int, now: Optional[float] = None) -> None:
    """Keeps the session alive and marks the counsellor online (used by /api/status)."""
    now = now or time.time()
    with engine.begin() as conn:
        conn.execute(update(sessions).where(sessions.c.id == session_id).values(last_seen_at=now))
        conn.execute(update(users).where(users.c.id == user_id).values(last_seen_at=now))


def promote_session(engine: Engine, session_id: int, user_id: int) -> str:
    """After the TOTP step (or the required enrolment): drop the half-session and issue a new token (no fixation)."""
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
