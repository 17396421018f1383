"""One crash does not take the assistant down (issue 12, part 7), and the stack keeps its
secrets (part 5): on a stack of its own, since these tests kill its services."""
from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Dict, Iterator, Optional

import pytest

from tests.conftest import ROOT, running_stack
from tests.integration.helpers import says
from tests.support.chat import Chat, Stack, http

SERVICES = {  # how each service's command line looks under supervisord
    "rasa": "scripts/rasa_serve.py",
    "actions": "rasa_sdk --actions",
    "desk": "-m desk",
    "widget": "widget/server.py",
}
BACK_WITHIN = 10.0


@pytest.fixture(scope="module")
def supervised(model_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(model_path, tmp_path_factory.mktemp("supervised")) as stack:
        yield stack


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def service_pids(stack: Stack) -> Dict[str, int]:
    """The services, as direct children of the supervisor (the process `make run` started)."""
    children = subprocess.run(["pgrep", "-P", str(stack.process.pid)], capture_output=True, text=True).stdout.split()
    found = {}
    for pid in map(int, children):
        line = cmdline(pid)
        for name, mark in SERVICES.items():
            if mark in line:
                found[name] = pid
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def health_url(stack: Stack, name: str) -> str:
    return {
        "rasa": f"{stack.url}/status?token={stack.token}",
        "actions": f"http://127.0.0.1:{stack.actions_port}/health",
        "desk": f"{stack.desk_url}/health",
        "widget": f"{stack.widget_url}/health",
    }[name]


def serving(stack: Stack, name: str) -> bool:
    try:
        http("GET", health_url(stack, name), timeout=3)
        return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_for(condition: Callable[[], object], seconds: float, what: str, log: Optional[Path] = None) -> float:
    """Polls `condition` until it holds; returns how long that took; fails after `seconds`."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if condition():
            return time.monotonic() - start
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log else ""
    pytest.fail(f"{what}: not within {seconds:.0f} s\n{tail}")


def rasa_answers_with_the_numbers(stack: Stack) -> None:
    chat = stack.chat()
    says(Chat.text(chat.say("je veux mourir", timeout=15)), "3114")
    # A case may not open while the desk restarts: the numbers are given either way.
    says(Chat.text(chat.say("je veux parler à un humain maintenant", timeout=15)), "112")


def test_no_token_on_any_command_line(supervised: Stack) -> None:
    """`ps` shows every user of the machine each process's command line: no token there."""
    assert set(service_pids(supervised)) == set(SERVICES)
    pids, todo = [], [supervised.process.pid]  # this stack's processes (other stacks may run on the machine)
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += map(int, subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split())
    listing = subprocess.run(["ps", "-o", "args", "ww", "-p", ",".join(map(str, pids))], capture_output=True,
                             text=True).stdout
    assert "scripts/rasa_serve.py run" in listing and "-m desk" in listing and "--auth-token" not in listing
    for token in (supervised.token, supervised.desk_token):
        assert token not in listing
    assert supervised.token not in supervised.log_file.read_text(errors="replace")


def test_each_service_has_only_its_own_tokens(supervised: Stack) -> None:
    pids = service_pids(supervised)

    def environ(name: str) -> Dict[str, str]:
        raw = Path(f"/proc/{pids[name]}/environ").read_bytes().split(b"\0")
        return dict(item.decode(errors="replace").split("=", 1) for item in raw if b"=" in item)

    assert "RASA_API_TOKEN" in environ("rasa") and "DESK_API_TOKEN" not in environ("rasa")
    assert "DESK_STATUS_TOKEN" in environ("actions") and "DESK_API_TOKEN" not in environ("actions")
    assert "RASA_API_TOKEN" not in environ("actions")
    assert not {n for n in environ("widget") if "TOKEN" in n or "SECRET" in n}
    assert "SOCKETIO_SESSION_SECRET" not in environ("desk")


def test_the_action_server_reads_the_desk_status_with_its_status_token(supervised: Stack) -> None:
    chat = supervised.chat()
    says(Chat.text(chat.say("je veux parler à quelqu'un")), "3018")
    assert chat.slots()["handoff_status"] == "queued"
    assert "Desk status: HTTP" not in supervised.log_file.read_text(errors="replace")  # no 401 from the desk


def test_files_are_private(supervised: Stack) -> None:
    work = supervised.log_file.parent
    chat = supervised.chat()
    chat.say("bonjour")
    with sqlite3.connect(work / "tracker.db") as db:  # the project's tracker store is the one in use
        assert db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (chat.sender,)).fetchone()[0] > 0
    for db in ("tracker.db", "desk.db", "handoff.db"):
        assert stat.S_IMODE((work / db).stat().st_mode) == 0o600, db
    run = ROOT / "var" / f"run-{supervised.url.rsplit(':', 1)[1]}"
    assert stat.S_IMODE(run.stat().st_mode) == 0o700
    for path in run.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    secrets_file = ROOT / "var" / "secrets.env"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600


def test_a_page_from_another_origin_cannot_open_the_socketio_channel(supervised: Stack) -> None:
    def handshake(origin: str) -> int:
        request = urllib.request.Request(f"{supervised.url}/socket.io/?EIO=4&transport=polling",
                                         headers={"Origin": origin})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    assert handshake("https://evil.example") == 400
    assert handshake(supervised.widget_url.replace("127.0.0.1", "localhost")) == 200


def test_rasa_api_refused_from_outside_the_channels_still_open(supervised: Stack) -> None:
    """Through a reverse proxy (a forwarding header), only the channels and health answer."""
    outside = {"X-Forwarded-For": "203.0.113.7"}

    def status(method: str, path: str, headers: Dict[str, str], body: Optional[bytes] = None) -> int:
        request = urllib.request.Request(supervised.url + path, data=body, method=method,
                                         headers=dict(headers, **{"Content-Type": "application/json"}))
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    api = f"/conversations/x/tracker?token={supervised.token}"
    assert status("GET", api, {}) == 200
    assert status("GET", api, outside) == 403
    assert status("GET", f"/status?token={supervised.token}", outside) == 403
    assert status("GET", "/", outside) == 200
    assert status("POST", "/webhooks/rest/webhook", outside, b'{"sender": "outside-1", "message": "bonjour"}') == 200


@pytest.mark.parametrize("name", ["desk", "actions", "widget", "rasa"])
def test_kill_9_of_one_service_the_others_keep_serving_and_it_comes_back(supervised: Stack, name: str) -> None:
    stack = supervised
    wait_for(lambda: all(serving(stack, n) for n in SERVICES), 240, "the whole stack serving", stack.log_file)
    before = service_pids(stack)
    assert set(before) == set(SERVICES), before
    os.kill(before[name], signal.SIGKILL)
    killed_at = time.monotonic()
    wait_for(lambda: not alive(before[name]), 5, f"{name} killed")

    for other in SERVICES:
        if other != name:
            assert serving(stack, other), f"{other} stopped serving when {name} was killed"
    if name != "rasa":
        rasa_answers_with_the_numbers(stack)

    def respawned() -> bool:
        pid = service_pids(stack).get(name)
        return pid is not None and pid != before[name]

    wait_for(respawned, BACK_WITHIN - (time.monotonic() - killed_at), f"{name} restarted", stack.log_file)
    if name == "rasa":
        # Rasa is started again at once; loading the model takes longer than 10 s on a small machine.
        wait_for(lambda: serving(stack, "rasa"), 240, "Rasa serving again", stack.log_file)
        rasa_answers_with_the_numbers(stack)
    else:
        wait_for(lambda: serving(stack, name), BACK_WITHIN - (time.monotonic() - killed_at), f"{name} serving again",
                 stack.log_file)
    for other in SERVICES:
        assert serving(stack, other), f"{other} not serving after {name} came back"
    log = stack.log_file.read_text(errors="replace")
    assert f"exited: {name} (terminated by SIGKILL" in log, "the crash is not logged"
    assert stack.process.poll() is None, "the supervisor stopped"


def test_the_supervisor_stops_every_service(supervised: Stack) -> None:
    """Ctrl-C (here SIGINT to the supervisor) stops every service; checked last, on this module's stack."""
    pids = service_pids(supervised)
    assert set(pids) == set(SERVICES)
    supervised.process.send_signal(signal.SIGINT)
    supervised.process.wait(timeout=30)
    wait_for(lambda: not any(alive(pid) for pid in pids.values()), 15, "every service stopped")
    log = supervised.log_file.read_text(errors="replace")
    for name in SERVICES:
        assert f"stopped: {name}" in log, f"{name} not stopped cleanly"


def test_a_service_failing_on_start_is_retried_with_growing_delays_and_logged(tmp_path: Path) -> None:
    """supervisord with the configuration scripts/services.py writes, and a 'desk' that exits at once."""
    import json
    import re
    import sys

    from tests.support.chat import free_port
    from tests.unit.test_services import services

    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    (run / "desk.json").write_text(json.dumps({"argv": [sys.executable, "-c", "raise SystemExit(3)"],
                                               "env": {"PATH": os.environ.get("PATH", "")}}))
    unused = f"http://127.0.0.1:{free_port()}"
    conf = run / "supervisord.conf"
    conf.write_text(services.supervisord_conf(run, ["desk"], [unused, unused, unused, "1"]))
    log = tmp_path / "supervisord.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "supervisor.supervisord", "-n", "-c", str(conf)],
                                   cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: log.read_text().count("spawned: 'desk'") >= 4, 30, "four starts of the failing service", log)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    text = log.read_text()
    assert "exited: desk (exit status 3; not expected)" in text
    events = [(time.mktime(time.strptime(m[0], "%Y-%m-%d %H:%M:%S")) + float("0." + m[1]), m[2])
              for m in re.findall(r"^(\S+ \S+),(\d+) \w+ (spawned|exited): '?desk", text, re.MULTILINE)]
    # from each exit to the next start: 1 s, then 2 s, then 3 s (supervisord's backoff)
    delays = [after[0] - before[0] for before, after in zip(events, events[1:])
              if before[1] == "exited" and after[1] == "spawned"][:3]
    assert len(delays) == 3 and delays[0] >= 0.8 and delays[1] >= delays[0] + 0.8 and delays[2] >= delays[1] + 0.8, delays
