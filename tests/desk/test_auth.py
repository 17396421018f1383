"""Passwords, lockout, sessions (idle expiry, hashed tokens), CSRF and bearer checks."""
import time

import pytest
from sqlalchemy import select

from desk import auth, totp
from desk.db import init_db, make_engine
from desk.models import sessions, users


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/auth.db")
    init_db(engine)
    auth.create_user(engine, "lea", "Léa", "counsellor", "a long enough pass")
    return engine


def test_password_is_hashed_with_argon2(engine):
    with engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2") and "a long enough pass" not in stored
    assert auth.check_password(stored, "a long enough pass")
    assert not auth.check_password(stored, "wrong password!!")
    assert not auth.check_password("not a hash", "a long enough pass")


def test_short_password_and_bad_role_refused(engine):
    with pytest.raises(auth.AccountError):
        auth.create_user(engine, "x", "X", "counsellor", "short")
    with pytest.raises(auth.AccountError):
        auth.create_user(engine, "y", "Y", "admin", "a long enough pass")
    with pytest.raises(auth.AccountError):
        auth.create_user(engine, "lea", "Léa", "counsellor", "a long enough pass")


def test_rehash_when_parameters_change(engine, monkeypatch):
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    with engine.begin() as conn:
        conn.execute(users.update().values(password_hash=weak.hash("a long enough pass")))
    assert auth.authenticate(engine, "lea", "a long enough pass").outcome == "ok"
    with engine.connect() as conn:
        assert not auth._hasher.check_needs_rehash(conn.execute(select(users.c.password_hash)).scalar_one())


def test_lockout_after_five_failures_same_answer_as_unknown_user(engine):
    now = 1_000_000.0
    for _ in range(4):
        assert auth.authenticate(engine, "lea", "wrong password!!", now=now).outcome == "refused"
    assert auth.authenticate(engine, "lea", "a long enough pass", now=now).outcome == "ok"  # resets the count
    for _ in range(5):
        auth.authenticate(engine, "lea", "wrong password!!", now=now)
    # Locked: even the right password is refused, with the same outcome as an unknown user.
    assert auth.authenticate(engine, "lea", "a long enough pass", now=now + 60).outcome == "refused"
    assert auth.authenticate(engine, "nobody", "a long enough pass", now=now).outcome == "refused"
    assert auth.authenticate(engine, "lea", "a long enough pass", now=now + 15 * 60 + 1).outcome == "ok"


def test_unknown_user_takes_about_as_long_as_a_wrong_password(engine):
    def timed(name):
        start = time.perf_counter()
        auth.authenticate(engine, name, "wrong password!!")
        return time.perf_counter() - start

    unknown = min(timed("nobody") for _ in range(3))
    known = min(timed("lea") for _ in range(3))
    assert unknown > known * 0.4  # both verify an argon2 hash


def test_disabled_user_cannot_log_in_and_loses_sessions(engine):
    token = auth.create_session(engine, 1)
    auth.set_disabled(engine, 1, True)
    assert auth.load_session(engine, token) is None
    assert auth.authenticate(engine, "lea", "a long enough pass").outcome == "refused"


def test_session_token_stored_hashed_and_idle_expiry(engine):
    now = 2_000_000.0
    token = auth.create_session(engine, 1, now=now)
    with engine.connect() as conn:
        stored = conn.execute(select(sessions.c.token_hash)).scalar_one()
    assert stored == auth.token_hash(token) and token not in stored
    assert auth.load_session(engine, token, now=now + 7 * 3600)["username"] == "lea"
    # Activity at +7 h moved the idle timer: +14 h is fine, then 8 h of silence ends it.
    assert auth.load_session(engine, token, now=now + 14 * 3600) is not None
    assert auth.load_session(engine, token, now=now + 22 * 3600 + 1) is None
    assert auth.load_session(engine, "forged-token") is None
    assert auth.load_session(engine, None) is None


def test_totp_login_flow(engine):
    secret = auth.start_totp_setup(engine, 1)
    assert not auth.confirm_totp_setup(engine, 1, "000000" if totp.now_code(secret) != "000000" else "111111")
    assert auth.confirm_totp_setup(engine, 1, totp.now_code(secret))
    assert auth.authenticate(engine, "lea", "a long enough pass").outcome == "totp"
    later = time.time() + 30
    assert auth.verify_totp_login(engine, 1, totp.now_code(secret, at=later), now=later)
    assert not auth.verify_totp_login(engine, 1, totp.now_code(secret, at=later), now=later)  # replay


def test_csrf_and_bearer_comparisons():
    assert auth.csrf_valid("abc", "abc")
    assert not auth.csrf_valid("abc", "abd")
    assert not auth.csrf_valid("abc", None)
    assert not auth.csrf_valid(None, None)
    assert auth.bearer_valid("tok", "Bearer tok")
    assert not auth.bearer_valid("tok", "Bearer nope")
    assert not auth.bearer_valid("tok", "tok")
    assert not auth.bearer_valid("", "Bearer ")  # unset token refuses everything
