"""Shared fixtures: the trained model, and the running stack for integration tests."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.chat import Chat, Stack, free_port  # noqa: E402


@pytest.fixture(scope="session")
def model_path() -> str:
    result = subprocess.run([sys.executable, "scripts/train.py"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def agent(model_path: str):
    from rasa.core.agent import Agent

    return Agent.load(model_path)


@pytest.fixture(scope="session")
def stack(model_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Rasa + action server from `scripts/services.py`, on free ports, with a private
    tracker store and a private copy of the content (so tests can edit it)."""
    work = tmp_path_factory.mktemp("stack")
    content = work / "content"
    shutil.copytree(ROOT / "content", content)
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    endpoints["tracker_store"]["db"] = str(work / "tracker.db")
    endpoints_file = work / "endpoints.yml"
    endpoints_file.write_text(yaml.safe_dump(endpoints))
    rasa_port, actions_port = free_port(), free_port()
    token = uuid.uuid4().hex
    env = dict(
        os.environ,
        RASA_PORT=str(rasa_port),
        ACTIONS_PORT=str(actions_port),
        RASA_API_TOKEN=token,
        ENDPOINTS=str(endpoints_file),
        CONTENT_DIR=str(content),
        ACTION_SERVER_TIMEOUT="2",
    )
    log = open(work / "services.log", "w")
    process = subprocess.Popen(
        [sys.executable, "scripts/services.py", model_path], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    stack = Stack(f"http://127.0.0.1:{rasa_port}", token, content, work / "services.log", actions_port, process)
    try:
        stack.wait_ready(240)
        yield stack
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@pytest.fixture
def chat(stack: Stack) -> Chat:
    return stack.chat()
