"""Desk accounts over HTTP: TOTP failures counted apart, atomic counters, throttling by client
address, TOTP required for supervisors. The shared desk believes one proxy's X-Forwarded-For,
so each Browser here is its own client address."""
import asyncio
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from desk import totp
from desk.db import Busy, HashPool
from desk.models import users
from tests.desk.helpers import TOTP_SECRETS, Browser, make_user


def account(desk, username):
    engine = desk.engine()
    try:
        with engine.connect() as conn:
            return dict(conn.execute(select(users).where(users.c.username == username)).mappings().one())
    finally:
        engine.dispose()


def wrong_code(secret):
    now = time.time()
    good = {totp.now_code(secret, at=now + d) for d in (-60, -30, 0, 30, 60)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c not in good)


def post_code(browser, response, code):
    token = re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)
    return browser.http.post(browser.desk.url + "/login/totp", data={"csrf_token": token, "code": code}, timeout=15)


def test_three_rounds_of_four_wrong_codes_and_the_right_password_lock_the_account(desk):
    make_user(desk.database_url, "tomas", "counsellor", "Tomas", totp_on=True)
    secret = TOTP_SECRETS[f"{desk.database_url}|tomas"]
    for _ in range(3):
        browser = Browser(desk)  # a new address each round: the lock is the account's, not the address's
        step = browser.login("tomas", totp_code=False)
        if step.url.endswith("/login/totp"):
            for _ in range(4):
                assert post_code(browser, step, wrong_code(secret)).status_code == 401
    final = Browser(desk)
    response = final.login("tomas")  # the right password, then the right code
    assert response.status_code == 401 and not response.url.endswith("/queue")
    assert final.get("/queue", allow_redirects=False).status_code == 302
    assert account(desk, "tomas")["totp_failures"] >= 5


def test_twenty_parallel_wrong_passwords_count_twenty(desk):
    make_user(desk.database_url, "para", "counsellor", "Paz")
    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(lambda _: Browser(desk).login("para", "wrong password!!").status_code, range(20)))
    assert codes == [401] * 20
    state = account(desk, "para")
    assert state["failed_logins"] == 20 and state["locked_until"] > time.time()
    assert Browser(desk).login("para").status_code == 401  # locked


def test_a_guessing_address_waits_while_others_still_log_in(desk):
    from desk import auth

    make_user(desk.database_url, "gus", "counsellor", "Gus")
    guesser = Browser(desk, "203.0.113.50")
    statuses = []
    for _ in range(12):
        response = guesser.login("gus", "wrong password!!")
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    # DESK_LOGIN_FREE_FAILURES (5) are checked; then the address waits 1 s, 2 s, 4 s ...
    assert statuses[:6] == [401] * 6 and statuses[-1] == 429, statuses
    assert int(response.headers["Retry-After"]) >= 1 and "secondes" in response.text
    engine = desk.engine()
    try:
        for _ in range(6):  # as after a few more guesses: a wait of a minute or more
            auth.throttle_failure(engine, guesser.address)
        assert auth.throttle_wait(engine, guesser.address) > 30
    finally:
        engine.dispose()
    slowed = guesser.login("gus")  # even the right password is not checked while it waits
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) > 30
    # The counsellor, from elsewhere, is not locked out by it; and 6 guesses do not lock the account.
    colleague = Browser(desk)
    assert colleague.login("gus").url.endswith("/queue") and colleague.csrf
    assert account(desk, "gus")["failed_logins"] == 0


def test_the_wait_also_holds_for_totp_codes(desk):
    make_user(desk.database_url, "tess", "counsellor", "Tess", totp_on=True)
    secret = TOTP_SECRETS[f"{desk.database_url}|tess"]
    browser = Browser(desk)
    step = browser.login("tess", totp_code=False)
    statuses = [post_code(browser, step, wrong_code(secret)).status_code for _ in range(7)]
    assert statuses[:5] == [401] * 5 and 429 in statuses[5:]


def test_a_supervisor_must_set_up_totp_before_anything_else(desk, fake_rasa):
    make_user(desk.database_url, "sue", "supervisor", "Sue", totp_on=False)
    sue = Browser(desk)
    landed = sue.login("sue")
    assert landed.status_code == 200 and "/settings" in landed.url and sue.csrf
    for path in ("/queue", "/users", "/audit", "/cases/1"):
        response = sue.get(path, allow_redirects=False)
        assert response.status_code == 302 and "/settings" in response.headers["Location"], path
    assert sue.get("/queue.json").status_code == 403
    assert sue.post("/cases/1/close", {"outcome": "information_given"}).status_code == 403
    with sue.http.get(desk.url + "/events/queue", stream=True, timeout=10) as stream:
        assert stream.status_code == 302 or stream.status_code == 403 or "/settings" in stream.url
    # Setting it up gives the full session (a new token), and the code is asked at each login.
    assert sue.post("/settings/totp/start").status_code == 200
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', sue.get("/settings").text).group(1)
    done = sue.post("/settings/totp/confirm", {"code": totp.now_code(secret, at=time.time() - 30)},
                    allow_redirects=False)
    assert done.status_code == 303 and done.headers["Location"].startswith("/queue")
    full = sue.get("/users")
    assert full.status_code == 200
    sue.csrf = re.search(r'data-csrf="([^"]+)"', full.text).group(1)  # a new session, a new CSRF token
    # A supervisor cannot turn it off.
    off = sue.post("/settings/totp/disable", {"code": totp.now_code(secret)}, allow_redirects=False)
    assert "notice=totp_required" in off.headers["Location"]
    TOTP_SECRETS[f"{desk.database_url}|sue"] = secret
    again = Browser(desk)
    step = again.login("sue", totp_code=False)
    assert step.url.endswith("/login/totp")
    assert again.get("/queue", allow_redirects=False).status_code == 302


def test_argon2_runs_on_its_own_small_pool_and_refuses_past_its_queue():
    pool = HashPool(threads=1, max_waiting=2)
    gate = threading.Event()

    async def scenario():
        names = await pool.run(lambda: threading.current_thread().name)
        slow = [asyncio.ensure_future(pool.run(gate.wait, 5)) for _ in range(2)]
        await asyncio.sleep(0.05)
        with pytest.raises(Busy):
            await pool.run(lambda: None)
        gate.set()
        await asyncio.gather(*slow)
        return names

    try:
        assert asyncio.run(scenario()).startswith("desk-argon2")
    finally:
        pool.close()
