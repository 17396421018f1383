"""Start every service in the foreground; stop them all together.

Ctrl-C stops them all. If one service dies, the others are stopped and the reason
is printed. Configuration comes from the environment, with safe defaults:

  BIND_HOST        interface to listen on (default 127.0.0.1; 0.0.0.0 opens the services up)
  RASA_PORT        Rasa server, REST channel and HTTP API (default 5005)
  ACTIONS_PORT     action server (default 5055)
  RASA_API_TOKEN   token protecting Rasa's HTTP API (generated and printed when unset)
  CREDENTIALS      credentials file (default: credentials.yml plus the messaging channels whose variables are set)
  DESK_PORT        counsellor desk (default 8081)
  DESK_API_TOKEN   bearer token of the desk's integration API (generated and printed when unset)
  DESK_EVENTS_TOKEN  shared by Rasa's event broker and the desk (generated when unset)
  DATABASE_URL     the desk's database (default SQLite under var/; a postgresql:// URL at scale)
  WIDGET_PORT      web widget and demo site of the helpline (default 8080)
  SOCKETIO_CORS_ORIGINS  page origins allowed on Rasa's socket.io channel, comma-separated
                   (default: the widget's own, http://localhost:WIDGET_PORT and http://127.0.0.1:WIDGET_PORT)
  RASA_MODEL       model to serve (default: the one `scripts/train.py` prints)
  ENDPOINTS        endpoints file (default endpoints.yml; the action URL follows ACTIONS_PORT)
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]


def log(message: str) -> None:
    print(f"[services] {message}", flush=True)


def endpoints_file(actions_port: str) -> str:
    """endpoints.yml with the action server URL on the chosen port."""
    source = ROOT / os.environ.get("ENDPOINTS", "endpoints.yml")
    text = source.read_text(encoding="utf-8").replace("localhost:5055", f"localhost:{actions_port}")
    handle = tempfile.NamedTemporaryFile("w", suffix=".yml", prefix="endpoints-", delete=False, dir=ROOT / "var")
    handle.write(text)
    handle.close()
    return handle.name


def credentials_file() -> str:
    """CREDENTIALS if set; else credentials.yml plus each messaging channel whose variables are set."""
    given = os.environ.get("CREDENTIALS")
    if given:
        return given
    path = ROOT / "var" / f"credentials-{os.environ.get('RASA_PORT', '5005')}.yml"
    subprocess.run([sys.executable, "-m", "bot.rasa_addons.channels.credentials", str(path)], cwd=ROOT, check=True,
                   env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return str(path)


def commands(model: str, token: str) -> Dict[str, List[str]]:
    host = os.environ.get("BIND_HOST", "127.0.0.1")
    rasa_port = os.environ.get("RASA_PORT", "5005")
    actions_port = os.environ.get("ACTIONS_PORT", "5055")
    py = sys.executable
    return {
        "desk": [py, "-m", "desk"],
        "widget": [py, "widget/server.py"],
        "actions": [py, "-m", "rasa_sdk", "--actions", "bot.actions", "--port", actions_port],
        "rasa": [
            py, "-m", "rasa", "run", "--model", model, "--enable-api", "--auth-token", token,
            "--interface", host, "--port", rasa_port, "--credentials", credentials_file(),
            "--endpoints", endpoints_file(actions_port),
        ],
    }


def local(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host


def widget_origins(env: Dict[str, str]) -> str:
    """The widget's page origins, allowed on Rasa's socket.io channel by default."""
    port = env.get("WIDGET_PORT", "8080")
    hosts = ["localhost", "127.0.0.1", local(env.get("BIND_HOST", "127.0.0.1"))]
    return ",".join(dict.fromkeys(f"http://{host}:{port}" for host in hosts))


def shared_settings(env: Dict[str, str]) -> Dict[str, str]:
    """Addresses and tokens the services use to reach each other (docs/handoff.md)."""
    host = local(env.get("BIND_HOST", "127.0.0.1"))
    settings = {
        "RASA_URL": env.get("RASA_URL") or f"http://{host}:{env.get('RASA_PORT', '5005')}",
        "DESK_URL": env.get("DESK_URL") or f"http://{host}:{env.get('DESK_PORT', '8081')}",
        "DESK_EVENTS_TOKEN": env.get("DESK_EVENTS_TOKEN") or secrets.token_urlsafe(24),
        "TRACKER_DB_URL": env.get("TRACKER_DB_URL") or f"sqlite:///{ROOT / 'var' / 'tracker.db'}",
        "SOCKETIO_CORS_ORIGINS": env.get("SOCKETIO_CORS_ORIGINS") or widget_origins(env),
    }
    if not env.get("DESK_API_TOKEN"):
        settings["DESK_API_TOKEN"] = secrets.token_urlsafe(24)
        log(f"DESK_API_TOKEN was not set; generated for this run: {settings['DESK_API_TOKEN']}")
    return settings


def pump(name: str, stream) -> None:  # noqa: ANN001
    for line in iter(stream.readline, ""):
        sys.stdout.write(f"{name:>8} | {line}")
        sys.stdout.flush()


def wait_ready(url: str, process: subprocess.Popen, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def main() -> int:
    model = os.environ.get("RASA_MODEL") or (sys.argv[1] if len(sys.argv) > 1 else "")
    if not model:
        log("usage: services.py MODEL (or set RASA_MODEL)")
        return 2
    (ROOT / "var").mkdir(exist_ok=True)
    token = os.environ.get("RASA_API_TOKEN")
    if not token:
        token = secrets.token_urlsafe(24)
        log(f"RASA_API_TOKEN was not set; generated for this run: {token}")
    env = dict(os.environ, PYTHONPATH=str(ROOT), SANIC_HOST=os.environ.get("BIND_HOST", "127.0.0.1"), RASA_API_TOKEN=token)
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.update(shared_settings(env))
    processes: Dict[str, subprocess.Popen] = {}
    stopping = threading.Event()

    def stop_all(reason: str) -> None:
        if stopping.is_set():
            return
        stopping.set()
        log(f"stopping all services: {reason}")
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 10
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()

    signal.signal(signal.SIGINT, lambda *_: stop_all("interrupted (Ctrl-C)"))
    signal.signal(signal.SIGTERM, lambda *_: stop_all("terminated"))

    for name, command in commands(model, token).items():
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        processes[name] = process
        threading.Thread(target=pump, args=(name, process.stdout), daemon=True).start()

    host = os.environ.get("BIND_HOST", "127.0.0.1")
    host = "127.0.0.1" if host == "0.0.0.0" else host
    rasa_url = f"http://{host}:{os.environ.get('RASA_PORT', '5005')}"
    if wait_ready(rasa_url + "/", processes["rasa"], 180):
        log(f"ready: chat at {rasa_url}/webhooks/rest/webhook and socket.io at {rasa_url}/socket.io ; "
            f"actions on port {os.environ.get('ACTIONS_PORT', '5055')} ; counsellor desk at {env['DESK_URL']}/ "
            "(create an account: make desk-user) ; web widget and demo site at "
            f"http://{host}:{os.environ.get('WIDGET_PORT', '8080')}/")

    exit_code = 0
    while not stopping.is_set():
        for name, process in processes.items():
            code = process.poll()
            if code is not None:
                why = f"signal {-code}" if code < 0 else f"exit code {code}"
                stop_all(f"service '{name}' died ({why}); see its last lines above")
                exit_code = 1
                break
        time.sleep(0.3)
    stop_all("done")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
