"""Shared fixtures: the trained model, and the running stack for integration tests."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Dict, Iterator, Optional

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.chat import Chat, Stack, free_port  # noqa: E402
from tests.support.postgres import TempPostgres, find_bin_dir  # noqa: E402

DESK_TOKEN = uuid.uuid4().hex
# The emergency answer after a crisis typed during a handoff waits 60 s in production;
# the tests use a short wait so that they stay fast.
CRISIS_GRACE_SECONDS = 4
# Limits for the tests' stacks: many conversations from 127.0.0.1, in quick succession.
TEST_LIMITS = {
    "RATE_CONVERSATION_MESSAGES": "1000",
    "RATE_ADDRESS_MESSAGES": "100000",
    "NEW_CASES_PER_ADDRESS_PER_MINUTE": "100000",
}


def always_open(content: Path) -> None:
    settings = yaml.safe_load((content / "settings.yml").read_text(encoding="utf-8"))
    days = settings["counsellors"]["hours"]
    settings["counsellors"]["hours"] = {day: "00:00-24:00" for day in days}
    (content / "settings.yml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="session")
def model_path() -> str:
    result = subprocess.run([sys.executable, "scripts/train.py"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def agent(model_path: str):
    from rasa.core.agent import Agent

    return Agent.load(model_path)


@contextlib.contextmanager
def running_stack(model_path: str, work: Path, postgres: Optional[TempPostgres] = None,
                  limits: Optional[Dict[str, str]] = None, extra_env: Optional[Dict[str, str]] = None,
                  event_broker: Optional[Dict[str, object]] = None) -> Iterator[Stack]:
    """Rasa + action server + desk + web widget from `scripts/services.py`, on free ports, with
    private databases and a private copy of the content (so tests can edit it).
    Counsellors are on duty around the clock in this copy, so the tests do not depend
    on the time of day. With `postgres`, the desk and Rasa's tracker store both use it.
    The tests talk to the assistant through the REST channel, which is off unless
    ENABLE_REST_CHANNEL=true, and send many messages from one address: the rate limits and
    the new-case cap are raised (TEST_LIMITS) unless `limits` gives others (README, "Limits").
    `extra_env` adds or overrides variables; `event_broker` replaces endpoints.yml's broker
    ({} for none)."""
    content = work / "content"
    shutil.copytree(ROOT / "content", content)
    always_open(content)
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    if postgres is None:
        endpoints["tracker_store"]["db"] = str(work / "tracker.db")
        tracker_url = f"sqlite:///{work / 'tracker.db'}"
        desk_url = f"sqlite:///{work / 'desk.db'}"
    else:
        suffix = uuid.uuid4().hex[:8]
        tracker_url = postgres.create_database(f"tracker_{suffix}")
        desk_url = postgres.create_database(f"desk_{suffix}")
        endpoints["tracker_store"] = {
            "type": endpoints["tracker_store"]["type"], "dialect": "postgresql", "url": "127.0.0.1", "port": postgres.port,
            "db": f"tracker_{suffix}", "username": "postgres", "password": "",
        }
    if event_broker is not None:
        endpoints.pop("event_broker", None)
        if event_broker:
            endpoints["event_broker"] = event_broker
    endpoints_file = work / "endpoints.yml"
    endpoints_file.write_text(yaml.safe_dump(endpoints))
    rasa_port, actions_port, desk_port, widget_port = free_port(), free_port(), free_port(), free_port()
    token = uuid.uuid4().hex
    commands_token = uuid.uuid4().hex
    env = dict(
        os.environ,
        RASA_PORT=str(rasa_port),
        ACTIONS_PORT=str(actions_port),
        DESK_PORT=str(desk_port),
        WIDGET_PORT=str(widget_port),
        RASA_API_TOKEN=token,
        DESK_API_TOKEN=DESK_TOKEN,
        DESK_EVENTS_TOKEN=uuid.uuid4().hex,
        DESK_COMMANDS_TOKEN=commands_token,
        DATABASE_URL=desk_url,
        TRACKER_DB_URL=tracker_url,
        HANDOFF_DB=str(work / "handoff.db"),
        HANDOFF_CRISIS_GRACE_SECONDS=str(CRISIS_GRACE_SECONDS),
        ENDPOINTS=str(endpoints_file),
        CONTENT_DIR=str(content),
        ACTION_SERVER_TIMEOUT="2",
        ENABLE_REST_CHANNEL="true",
    )
    env.update(TEST_LIMITS if limits is None else limits)
    env.update(extra_env or {})
    log = open(work / "services.log", "w")
    process = subprocess.Popen(
        [sys.executable, "scripts/services.py", model_path], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    stack = Stack(f"http://127.0.0.1:{rasa_port}", token, content, work / "services.log", actions_port, process,
                  desk_url=f"http://127.0.0.1:{desk_port}", desk_token=DESK_TOKEN,
                  widget_url=f"http://127.0.0.1:{widget_port}", commands_token=commands_token)
    try:
        stack.wait_ready(240)
        yield stack
    finally:
        with contextlib.suppress(ProcessLookupError):  # a test may have stopped it already
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="session")
def stack(model_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(model_path, tmp_path_factory.mktemp("stack")) as running:
        yield running


# Debian's chromium, driven by Playwright (its own browser download is blocked here).
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless chromium for one test module. Module-scoped on purpose: Playwright's sync
    API keeps an event loop running in this thread while it is open, which would break
    later tests that use asyncio.run()."""
    if not Path(CHROMIUM).exists():
        message = f"chromium not found at {CHROMIUM} (make system-deps installs Debian's chromium; or set CHROMIUM_PATH)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[TempPostgres]:
    """A throwaway PostgreSQL cluster (Debian's server binaries), for the whole run."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        message = "PostgreSQL server binaries not found (make system-deps installs Debian's postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = TempPostgres(bin_dir).start()
    yield server
    server.stop()


@pytest.fixture
def chat(stack: Stack) -> Chat:
    return stack.chat()
