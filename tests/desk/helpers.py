"""Start the real desk (`python -m desk`) on a free port, and talk to it like a browser or a client."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests

from tests.support.chat import free_port

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


@dataclass
class Desk:
    url: str
    database_url: str
    api_token: str
    events_token: str
    process: subprocess.Popen
    log: Path
    env: Dict[str, str]

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}), Authorization=f"Bearer {self.api_token}")
        return requests.request(method, self.url + path, headers=headers, timeout=15, **kwargs)

    def ingest(self, events: List[Dict[str, Any]]) -> requests.Response:
        return requests.post(self.url + "/internal/events", json={"events": events},
                             headers={"Authorization": f"Bearer {self.events_token}"}, timeout=15)

    def engine(self):
        from desk.db import make_engine

        return make_engine(self.database_url)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start_desk(work: Path, database_url: str, rasa_url: str, rasa_token: str, commands_token: str = "commands-secret",
               **extra_env: str) -> Desk:
    port = free_port()
    api_token, events_token = uuid.uuid4().hex, uuid.uuid4().hex
    env = dict(os.environ, PYTHONPATH=str(ROOT), DESK_PORT=str(port), BIND_HOST="127.0.0.1",
               DATABASE_URL=database_url, RASA_URL=rasa_url, RASA_API_TOKEN=rasa_token,
               DESK_COMMANDS_TOKEN=commands_token, DESK_API_TOKEN=api_token,
               DESK_EVENTS_TOKEN=events_token, TRACKER_DB_URL=f"sqlite:///{work}/tracker.db",
               DESK_PURGE_INTERVAL_SECONDS="3600")
    env.update(extra_env)
    log = work / f"desk-{port}.log"
    process = subprocess.Popen([sys.executable, "-m", "desk"], cwd=ROOT, env=env, stdout=open(log, "w"),
                               stderr=subprocess.STDOUT)
    desk = Desk(f"http://127.0.0.1:{port}", database_url, api_token, events_token, process, log, env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("desk died at start-up:\n" + desk.log_text()[-4000:])
        try:
            if requests.get(desk.url + "/health", timeout=1).ok:
                return desk
        except requests.RequestException:
            time.sleep(0.1)
    desk.stop()
    raise RuntimeError("desk did not answer /health within 30 s:\n" + desk.log_text()[-4000:])


# TOTP secrets of the accounts made here, and the last time step each one used (codes are single-use).
TOTP_SECRETS: Dict[str, str] = {}
LAST_STEP: Dict[str, int] = {}


def make_user(database_url: str, username: str, role: str = "counsellor", first_name: Optional[str] = None,
              totp_on: Optional[bool] = None) -> None:
    """Supervisors get TOTP turned on (it is required for them) unless `totp_on=False`."""
    from sqlalchemy import update

    from desk import auth, totp
    from desk.db import init_db, make_engine
    from desk.models import users

    engine = make_engine(database_url)
    init_db(engine)
    user_id = auth.create_user(engine, username, first_name or username.capitalize(), role, PASSWORD)
    if totp_on if totp_on is not None else role == "supervisor":
        secret = totp.new_secret()
        with engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(totp_secret=secret, totp_enabled=True))
        TOTP_SECRETS[f"{database_url}|{username}"] = secret
    engine.dispose()


def next_code(database_url: str, username: str) -> str:
    """A code for a time step not used yet (waits for the next 30 s window when the 3 accepted ones are spent)."""
    from desk import totp

    key = f"{database_url}|{username}"
    while True:
        current = int(time.time() // 30)
        step = max(current - 1, LAST_STEP.get(key, -1) + 1)
        if step <= current + 1:
            LAST_STEP[key] = step
            return totp.now_code(TOTP_SECRETS[key], at=step * 30)
        time.sleep(1)


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
CSRF_DATA = re.compile(r'data-csrf="([^"]+)"')


class Browser:
    """A cookie-keeping client that logs in through the real form, from its own client address
    (X-Forwarded-For, believed by a desk started with DESK_PROXIES_COUNT=1, as the shared one is),
    so one test's failed logins never slow another's down."""

    def __init__(self, desk: Desk, address: Optional[str] = None):
        self.desk = desk
        self.http = requests.Session()
        self.address = address or "10.{}.{}.{}".format(*uuid.uuid4().bytes[:3])
        self.http.headers["X-Forwarded-For"] = self.address
        self.csrf: Optional[str] = None

    def login(self, username: str, password: str = PASSWORD, totp_code: bool = True) -> requests.Response:
        """With the account's TOTP code when the desk asks for it and the code is known here."""
        page = self.http.get(self.desk.url + "/login", timeout=10)
        token = CSRF_FIELD.search(page.text).group(1)
        response = self.http.post(self.desk.url + "/login", data={"csrf_token": token, "username": username,
                                                                  "password": password}, timeout=15)
        key = f"{self.desk.database_url}|{username}"
        if totp_code and response.url.endswith("/login/totp") and key in TOTP_SECRETS:
            step_token = CSRF_FIELD.search(response.text).group(1)
            response = self.http.post(self.desk.url + "/login/totp", timeout=15, data={
                "csrf_token": step_token, "code": next_code(self.desk.database_url, username)})
        match = CSRF_DATA.search(response.text)
        self.csrf = match.group(1) if match else None
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.desk.url + path, timeout=15, **kwargs)

    def post(self, path: str, data: Optional[Dict[str, Any]] = None, csrf: bool = True, **kwargs: Any) -> requests.Response:
        data = dict(data or {})
        if csrf:
            data["csrf_token"] = self.csrf
        return self.http.post(self.desk.url + path, data=data, timeout=15, **kwargs)


def handoff_events(conversation_id: str, at: Optional[float] = None) -> List[Dict[str, Any]]:
    at = at or time.time()
    return [{"id": f"{conversation_id}-h1", "conversation_id": conversation_id, "type": "handoff", "status": "queued",
             "timestamp": at, "channel": "rest"}]


def wait_until(predicate: Any, timeout: float = 10, message: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{message} not met within {timeout}s")
