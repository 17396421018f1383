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


def test_lockout_after_max_failures_same_answer_as_unknown_user(engine):
    policy = auth.Policy(account_max_failures=5, lock_seconds=900)
    now = 1_000_000.0
    for _ in range(4):
        assert auth.authenticate(engine, "lea", "wrong password!!", now=now, policy=policy).outcome == "refused"
    assert auth.authenticate(engine, "lea", "a long enough pass", now=now, policy=policy).outcome == "ok"  # resets
    for _ in range(5):
        auth.authenticate(engine, "lea", "wrong password!!", now=now, policy=policy)
    # Locked: even the right password is refused, with the same outcome as an unknown user.
    assert auth.authenticate(engine, "lea", "a long enough pass", now=now + 60, policy=policy).outcome == "refused"
    assert auth.authenticate(engine, "nobody", "a long enough pass", now=now, policy=policy).outcome == "refused"
    assert auth.authenticate(engine, "lea", "a long enough pass", now=now + 15 * 60 + 1, policy=policy).outcome == "ok"


def test_default_lockout_needs_20_wrong_passwords(engine):
    """The database half of a login (argon2 is the other half): 20, not 5, so knowing a first
    name is not enough to lock a counsellor out (and an address is slowed long before)."""
    user = auth.find_login(engine, "lea")
    now = 1_000_000.0
    for _ in range(19):
        auth.settle_login(engine, user, False, now=now)
    assert auth.settle_login(engine, user, True, now=now).outcome == "ok"
    for _ in range(20):
        auth.settle_login(engine, user, False, now=now)
    assert auth.settle_login(engine, user, True, now=now + 1).outcome == "refused"
    assert auth.settle_login(engine, user, True, now=now + 901).outcome == "ok"


def failures(engine, column="failed_logins"):
    with engine.connect() as conn:
        return conn.execute(select(users.c[column]).where(users.c.username == "lea")).scalar_one()


def test_twenty_parallel_wrong_passwords_count_twenty(engine):
    """Read-then-write lost most of them; one UPDATE ... SET n = n + 1 each counts."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(lambda _: auth.authenticate(engine, "lea", "wrong password!!").outcome, range(20)))
    assert outcomes == ["refused"] * 20
    assert failures(engine) == 20
    assert auth.authenticate(engine, "lea", "a long enough pass").outcome == "refused"  # 20: locked


def enable_totp(engine, user_id=1):
    secret = auth.start_totp_setup(engine, user_id)
    assert auth.confirm_totp_setup(engine, user_id, totp.now_code(secret, at=time.time() - 30), now=time.time())
    return secret


def wrong_code(secret, at):
    good = {totp.now_code(secret, at=at + d) for d in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in good)


def test_three_rounds_of_four_wrong_codes_and_the_right_password_lock_the_account(engine):
    """TOTP failures are counted apart: a right password never resets them (it reset the
    shared counter, so codes could be guessed without end)."""
    secret = enable_totp(engine)
    now = time.time()
    for _ in range(3):
        result = auth.authenticate(engine, "lea", "a long enough pass", now=now)
        for _ in range(4):
            if result.outcome == "totp":
                assert not auth.verify_totp_login(engine, 1, wrong_code(secret, now), now=now)
    # Locked: the right password and even the right code are refused.
    assert auth.authenticate(engine, "lea", "a long enough pass", now=now).outcome == "refused"
    assert not auth.verify_totp_login(engine, 1, totp.now_code(secret, at=now + 30), now=now)
    assert failures(engine, "totp_failures") >= 5
    # After the lock, a right code (not a password) clears the count; a supervisor's unlock too.
    later = now + 901
    assert auth.authenticate(engine, "lea", "a long enough pass", now=later).outcome == "totp"
    assert failures(engine, "totp_failures") >= 5
    assert auth.verify_totp_login(engine, 1, totp.now_code(secret, at=later), now=later)
    assert failures(engine, "totp_failures") == 0


def test_wrong_codes_after_the_lock_relock_at_once(engine):
    secret = enable_totp(engine)
    now = time.time()
    for _ in range(5):
        auth.verify_totp_login(engine, 1, wrong_code(secret, now), now=now)
    later = now + 901
    assert not auth.verify_totp_login(engine, 1, wrong_code(secret, later), now=later)
    assert auth.authenticate(engine, "lea", "a long enough pass", now=later + 1).outcome == "refused"
    assert auth.unlock(engine, 1)
    assert failures(engine, "totp_failures") == 0
    assert auth.authenticate(engine, "lea", "a long enough pass", now=later + 2).outcome == "totp"


def test_parallel_replay_of_one_code_logs_in_once(engine):
    from concurrent.futures import ThreadPoolExecutor

    secret = enable_totp(engine)
    later = time.time() + 30
    code = totp.now_code(secret, at=later)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: auth.verify_totp_login(engine, 1, code, now=later), range(8)))
    assert results.count(True) == 1


def test_totp_required_for_supervisors(engine):
    auth.create_user(engine, "sam", "Sam", "supervisor", "a long enough pass")
    result = auth.authenticate(engine, "sam", "a long enough pass")
    assert result.outcome == "enrol"  # not "ok": nothing but setting TOTP up until it is on
    # A session made before the rule (or whose TOTP a supervisor reset) is back at the enrolment stage.
    token = auth.create_session(engine, result.user["id"], "full")
    assert auth.load_session(engine, token)["stage"] == "enrol"
    assert not auth.session_alive(engine, auth.load_session(engine, token)["session_id"])
    enable_totp(engine, result.user["id"])
    assert auth.load_session(engine, token)["stage"] == "full"
    assert auth.authenticate(engine, "sam", "a long enough pass").outcome == "totp"
    # Counsellors: optional, unless DESK_TOTP_FOR_ALL.
    assert auth.authenticate(engine, "lea", "a long enough pass").outcome == "ok"
    everyone = auth.Policy(totp_roles=auth.ROLES)
    assert auth.authenticate(engine, "lea", "a long enough pass", policy=everyone).outcome == "enrol"


def test_address_backoff_doubles_up_to_the_cap_and_is_forgotten(engine):
    policy = auth.Policy(free_failures=3, backoff_max_seconds=10, forget_seconds=3600)
    now = 5_000_000.0
    for _ in range(3):
        assert auth.throttle_wait(engine, "203.0.113.9", policy, now) == 0
        auth.throttle_failure(engine, "203.0.113.9", policy, now)
    assert auth.throttle_wait(engine, "203.0.113.9", policy, now) == 0  # 3 free failures
    waits = []
    for _ in range(6):
        auth.throttle_failure(engine, "203.0.113.9", policy, now)
        waits.append(auth.throttle_wait(engine, "203.0.113.9", policy, now))
    assert waits == [1, 2, 4, 8, 10, 10]
    assert auth.throttle_wait(engine, "198.51.100.1", policy, now) == 0  # another address is not slowed
    assert auth.throttle_wait(engine, "203.0.113.9", policy, now + 11) == 0
    # An hour without failures: forgotten, free failures again.
    later = now + 3601
    assert auth.throttle_failure(engine, "203.0.113.9", policy, later) == 1
    assert auth.throttle_wait(engine, "203.0.113.9", policy, later) == 0
    assert auth.forget_old_failures(engine, policy, later + 3601) == 1


def test_old_database_gets_the_new_columns(tmp_path):
    from sqlalchemy import text

    engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE desk_users (id INTEGER PRIMARY KEY, username VARCHAR(64) NOT NULL UNIQUE, "
                          "first_name VARCHAR(40) NOT NULL, role VARCHAR(16) NOT NULL, password_hash VARCHAR(255) NOT NULL, "
                          "totp_secret VARCHAR(64), totp_enabled BOOLEAN NOT NULL, totp_last_counter INTEGER, "
                          "failed_logins INTEGER NOT NULL, locked_until FLOAT, disabled BOOLEAN NOT NULL, "
                          "created_at FLOAT NOT NULL, last_seen_at FLOAT)"))
    init_db(engine)
    init_db(engine)  # twice: nothing to add the second time
    auth.create_user(engine, "lea", "Léa", "counsellor", "a long enough pass")
    assert auth.authenticate(engine, "lea", "wrong password!!").outcome == "refused"


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
    assert not auth.confirm_totp_setup(engine, 1, wrong_code(secret, time.time()))
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


def test_sign_in_settings_from_the_environment_with_safe_defaults():
    from desk.config import Settings

    default = auth.Policy.from_settings(Settings.from_env({}))
    assert default == auth.DEFAULT_POLICY and default.totp_required("supervisor") and not default.totp_required("counsellor")
    assert Settings.from_env({}).proxies_count == 0  # X-Forwarded-For is not believed unless told
    custom = Settings.from_env({"DESK_ACCOUNT_MAX_FAILURES": "8", "DESK_TOTP_FOR_ALL": "true", "DESK_PROXIES_COUNT": "1",
                                "DESK_LOGIN_BACKOFF_MAX_SECONDS": "7200", "DESK_LOGIN_FORGET_SECONDS": "60"})
    policy = auth.Policy.from_settings(custom)
    assert policy.account_max_failures == 8 and policy.totp_required("counsellor") and custom.proxies_count == 1
    assert policy.forget_after == 7200  # never forgotten before the longest wait is over
    for bad in ({"DESK_ACCOUNT_MAX_FAILURES": "0"}, {"DESK_ARGON2_THREADS": "many"}):
        with pytest.raises(SystemExit):
            Settings.from_env(bad)
