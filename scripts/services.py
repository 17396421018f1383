"""Start every service under supervisord; one crash does not take the assistant down.

`make run` runs this script: it prepares each service's command line and environment, then
becomes supervisord (http://supervisord.org, pinned in requirements/lock.txt), which starts
Rasa, the action server, the counsellor desk and the web widget, restarts any of them that
dies (at once if it had been running; with a growing delay, 1 s more each time, if it keeps
failing on start), logs each exit and restart, and stops them all on Ctrl-C or SIGTERM. While
the desk, the action server or the widget restarts, Rasa keeps answering (with the helpline's
numbers when a case cannot be opened); while Rasa restarts, the others keep serving.

Configuration comes from the environment, with safe defaults:

  BIND_HOST        interface to listen on (default 127.0.0.1; 0.0.0.0 opens the services up)
  RASA_PORT        Rasa server, REST channel and HTTP API (default 5005)
  ACTIONS_PORT     action server (default 5055)
  RASA_API_TOKEN   token protecting Rasa's HTTP API (generated when unset, see below)
  CREDENTIALS      credentials file (default: credentials.yml plus the messaging channels whose variables are set)
  DESK_PORT        counsellor desk (default 8081)
  DESK_API_TOKEN   bearer token of the desk's integration API (generated when unset)
  DESK_EVENTS_TOKEN  shared by Rasa's event broker and the desk (generated when unset)
  DESK_STATUS_TOKEN  opens the desk's GET /api/status only: the action server's (generated when unset)
  DESK_COMMANDS_TOKEN  the desk's commands to Rasa (/webhooks/desk_commands/), Rasa and the desk only
                   (generated when unset)
  SOCKETIO_SESSION_SECRET  signs socket.io session ids (generated when unset)
  DATABASE_URL     the desk's database (default SQLite under var/; a postgresql:// URL at scale)
  WIDGET_PORT      web widget and demo site of the helpline (default 8080)
  SOCKETIO_CORS_ORIGINS  page origins allowed on Rasa's socket.io channel, comma-separated
                   (default: the widget's own, http://localhost:WIDGET_PORT and http://127.0.0.1:WIDGET_PORT)
  RASA_MODEL       model to serve (default: the one `scripts/train.py` prints)
  ENDPOINTS        endpoints file (default endpoints.yml; the action URL follows ACTIONS_PORT)

Secrets: a token that is not set is generated once and kept in `var/secrets.env` (mode 0600,
readable by its owner only; delete it to get new ones); tokens are never printed and never put
on a command line (Rasa is started through `scripts/rasa_serve.py`, which reads its token from
the environment). Each service gets only the project's variables it uses (`OWN` below) plus
the generic ones (PATH, locale, ...); a variable that looks like a secret and that no service
claims is given to none. Files under var/ are created readable by their owner only (umask 077).

The supervisor's own files are in `var/run-RASA_PORT/`: `supervisorctl -c
var/run-5005/supervisord.conf status` (or `restart desk`, ...) talks to it.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"
SECRETS_FILE = VAR / "secrets.env"
GENERATED = ("RASA_API_TOKEN", "DESK_API_TOKEN", "DESK_EVENTS_TOKEN", "DESK_STATUS_TOKEN", "DESK_COMMANDS_TOKEN",
             "SOCKETIO_SESSION_SECRET")

# The project's variables, by the services that read them. A service never sees another's.
OWN: Dict[str, Tuple[str, ...]] = {
    "rasa": ("RASA_PORT", "RASA_URL", "RASA_API_TOKEN", "DESK_URL", "DESK_EVENTS_TOKEN", "DESK_COMMANDS_TOKEN",
             "DESK_RETENTION_DAYS",
             "HANDOFF_*", "ACTION_SERVER_TIMEOUT", "SOCKETIO_*", "CHANNEL_*", "MESSENGER_*", "TELEGRAM_*",
             "TWILIO_*", "TRACKER_DB_URL", "ENABLE_REST_CHANNEL", "RASA_INTERNAL_NETWORKS",
             # the channels' limits (bot/rasa_addons/settings.py)
             "MAX_BODY_BYTES", "MAX_MESSAGE_CHARS", "RATE_*", "NEW_CASES_PER_ADDRESS_PER_MINUTE", "TRUSTED_PROXIES",
             # retention inside the Rasa process (bot/rasa_addons/settings.py, RetentionSettings)
             "OUTBOX_MAX_AGE_HOURS", "REPLAY_MAX_AGE_HOURS", "HOUSEKEEPING_INTERVAL_SECONDS"),
    "actions": ("ACTIONS_PORT", "DESK_URL", "DESK_STATUS_TOKEN"),
    # HANDOFF_CRISIS_GRACE_SECONDS: the desk's crisis countdown shows Rasa's grace period (one name)
    "desk": ("DESK_*", "DATABASE_URL", "RASA_URL", "RASA_API_TOKEN", "TRACKER_DB_URL", "HANDOFF_CRISIS_GRACE_SECONDS"),
    "widget": ("WIDGET_*", "RASA_PORT"),
}
# Read by this script only.
LAUNCHER_ONLY = ("RASA_MODEL", "ENDPOINTS", "CREDENTIALS")
# Every service: where to listen, where the texts are, the code's path.
COMMON = ("BIND_HOST", "SANIC_HOST", "CONTENT_DIR", "PYTHONPATH", "PYTHONUNBUFFERED")
SECRET_LOOKING = re.compile(r"TOKEN|SECRET|PASSW|PASSPHRASE|PRIVATE|CREDENTIAL|(^|_)(API_?|ACCESS_)?KEY(_|$)", re.IGNORECASE)


def log(message: str) -> None:
    print(f"[services] {message}", flush=True)


def matches(name: str, patterns: Tuple[str, ...]) -> bool:
    return any(name == p or (p.endswith("*") and name.startswith(p[:-1])) for p in patterns)


def project_variable(name: str) -> bool:
    return matches(name, LAUNCHER_ONLY) or any(matches(name, own) for own in OWN.values())


def service_env(service: str, env: Mapping[str, str]) -> Dict[str, str]:
    """What `service` is given: its own variables, the common ones, and the machine's generic
    ones (PATH, HOME, locale, Rasa's and TensorFlow's switches); no other service's, no stray secret."""
    given = {}
    for name, value in env.items():
        if matches(name, OWN[service]) or matches(name, COMMON):
            given[name] = value
        elif not project_variable(name) and not SECRET_LOOKING.search(name):
            given[name] = value
    return given


def stray_secrets(env: Mapping[str, str]) -> List[str]:
    return sorted(n for n in env if SECRET_LOOKING.search(n) and not project_variable(n) and not matches(n, COMMON))


def supervisor_env(env: Mapping[str, str]) -> Dict[str, str]:
    """supervisord itself needs none of the project's variables (each service's are in its file)."""
    return {n: v for n, v in env.items() if not project_variable(n) and not SECRET_LOOKING.search(n)}


def private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, text: str) -> Path:
    """A file readable by its owner only, whatever the umask, replaced atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def read_env_file(path: Path) -> Dict[str, str]:
    values = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                name, _, value = line.partition("=")
                values[name.strip()] = value.strip()
    return values


def fill_secrets(env: Dict[str, str], path: Path = SECRETS_FILE) -> List[str]:
    """Fill each unset token from `path`, generating (and keeping there) those it lacks.
    Returns the names taken from the file. Values are never printed."""
    missing = [name for name in GENERATED if not env.get(name)]
    if not missing:
        return []
    private_dir(path.parent)
    lock = os.open(path.with_suffix(".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # several stacks may start at once
        kept = read_env_file(path)
        if any(name not in kept for name in missing):
            kept.update({name: secrets.token_urlsafe(32) for name in missing if name not in kept})
            write_private(path, "# Generated by scripts/services.py for the tokens that were not set; "
                                "delete this file to get new ones.\n"
                          + "".join(f"{name}={value}\n" for name, value in sorted(kept.items())))
        os.chmod(path, 0o600)
        env.update({name: kept[name] for name in missing})
    finally:
        os.close(lock)
    return missing


def prune_run_dirs(var: Path = VAR, now: Optional[float] = None) -> List[str]:
    """Remove the run folders (commands, environments with their tokens) of supervisors that
    have stopped: a pid file whose process is gone, or no pid file for over an hour."""
    now = time.time() if now is None else now
    removed = []
    for run in sorted(var.glob("run-*")):
        pidfile = run / "supervisord.pid"
        try:
            pid = int(pidfile.read_text().strip())
            os.kill(pid, 0)
            continue  # running
        except ProcessLookupError:
            pass
        except PermissionError:
            continue  # alive, someone else's
        except (OSError, ValueError):
            if pidfile.exists() or now - run.stat().st_mtime < 3600:
                continue  # starting, or unreadable: leave it
        shutil.rmtree(run, ignore_errors=True)
        removed.append(run.name)
    return removed


def local(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host


def widget_origins(env: Mapping[str, str]) -> str:
    """The widget's page origins, allowed on Rasa's socket.io channel by default."""
    port = env.get("WIDGET_PORT", "8080")
    hosts = ["localhost", "127.0.0.1", local(env.get("BIND_HOST", "127.0.0.1"))]
    return ",".join(dict.fromkeys(f"http://{host}:{port}" for host in hosts))


def shared_settings(env: Mapping[str, str]) -> Dict[str, str]:
    """Addresses the services use to reach each other (docs/handoff.md)."""
    host = local(env.get("BIND_HOST", "127.0.0.1"))
    return {
        "RASA_URL": env.get("RASA_URL") or f"http://{host}:{env.get('RASA_PORT', '5005')}",
        "DESK_URL": env.get("DESK_URL") or f"http://{host}:{env.get('DESK_PORT', '8081')}",
        "TRACKER_DB_URL": env.get("TRACKER_DB_URL") or f"sqlite:///{VAR / 'tracker.db'}",
        "SOCKETIO_CORS_ORIGINS": env.get("SOCKETIO_CORS_ORIGINS") or widget_origins(env),
    }


def endpoints_file(run: Path, actions_port: str) -> str:
    """endpoints.yml with the action server URL on the chosen port."""
    source = ROOT / os.environ.get("ENDPOINTS", "endpoints.yml")
    text = source.read_text(encoding="utf-8").replace("localhost:5055", f"localhost:{actions_port}")
    return str(write_private(run / "endpoints.yml", text))


def credentials_file(run: Path, rasa_env: Mapping[str, str]) -> str:
    """CREDENTIALS if set; else credentials.yml plus each messaging channel whose variables are set
    (class names only: the channels read their secrets from the environment)."""
    given = os.environ.get("CREDENTIALS")
    if given:
        return given
    path = run / "credentials.yml"
    subprocess.run([sys.executable, "-m", "bot.rasa_addons.channels.credentials", str(path)], cwd=ROOT, check=True,
                   env=dict(rasa_env))
    return str(path)


def programs(model: str, env: Mapping[str, str], run: Path) -> Dict[str, List[str]]:
    host = env.get("BIND_HOST", "127.0.0.1")
    rasa_port = env.get("RASA_PORT", "5005")
    actions_port = env.get("ACTIONS_PORT", "5055")
    py = sys.executable
    return {
        "desk": [py, "-m", "desk"],
        "widget": [py, "widget/server.py"],
        # logsafe_run.py: `python -m rasa_sdk ...` with logged exceptions scrubbed (bot/logsafe.py)
        "actions": [py, "scripts/logsafe_run.py", "rasa_sdk", "--actions", "bot.actions", "--port", actions_port],
        # No --auth-token here: rasa_serve.py passes RASA_API_TOKEN from the environment to Rasa.
        "rasa": [
            py, "scripts/rasa_serve.py", "run", "--model", model, "--enable-api",
            "--interface", host, "--port", rasa_port,
            "--credentials", credentials_file(run, service_env("rasa", env)),
            "--endpoints", endpoints_file(run, actions_port),
        ],
    }


# How long a service must stay up to count as started (a quicker exit is a failed start,
# retried after 1 s, 2 s, 3 s, ...: supervisord's backoff), and how many failed starts in a
# row before it is left stopped (FATAL, logged; `supervisorctl ... start NAME` tries again):
# 200 is about 5.5 hours of retrying, so a cause that goes away (a database back up) is outlived.
START_SECONDS = {"rasa": 10, "actions": 3, "desk": 3, "widget": 2}
START_RETRIES = 200


def supervisord_conf(run: Path, names: List[str], announce: List[str]) -> str:
    py = sys.executable
    control = secrets.token_urlsafe(24)  # supervisorctl's password for this run; in this 0600 file only
    lines = [
        "; Written by scripts/services.py at each start; do not edit.",
        "[supervisord]",
        "nodaemon=true",
        "logfile=/dev/null",  # its log goes to the terminal (nodaemon), with the services' output
        "logfile_maxbytes=0",
        f"pidfile={run / 'supervisord.pid'}",
        f"childlogdir={run}",
        "umask=077",
        "loglevel=info",
        "",
        "[unix_http_server]",
        f"file={run / 'supervisor.sock'}",
        "chmod=0700",
        "username=services",
        f"password={control}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{run / 'supervisor.sock'}",
        "username=services",
        f"password={control}",
        "",
    ]
    for name in names:
        lines += [
            f"[program:{name}]",
            f"command={py} {ROOT / 'scripts' / 'launch_service.py'} {run / (name + '.json')}",
            f"directory={ROOT}",
            "autostart=true",
            "autorestart=true",
            f"startsecs={START_SECONDS[name]}",
            f"startretries={START_RETRIES}",
            "stopsignal=TERM",
            "stopwaitsecs=10",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            "stdout_logfile=/dev/stdout",
            "stdout_logfile_maxbytes=0",
            "",
        ]
    lines += [
        "[program:ready]",
        "command=" + " ".join([py, str(ROOT / "scripts" / "services.py"), "--announce-ready", *announce]),
        f"directory={ROOT}",
        "autostart=true",
        "autorestart=false",
        "startsecs=0",
        "exitcodes=0",
        "redirect_stderr=true",
        "stdout_logfile=/dev/stdout",
        "stdout_logfile_maxbytes=0",
        "",
    ]
    return "\n".join(lines)


def announce_ready(rasa_url: str, desk_url: str, widget_url: str, actions_port: str) -> int:
    """Run once by supervisord: says where everything is when Rasa answers."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(rasa_url + "/", timeout=2) as response:
                if response.status == 200:
                    log(f"ready: chat at {rasa_url}/webhooks/rest/webhook and socket.io at {rasa_url}/socket.io ; "
                        f"actions on port {actions_port} ; counsellor desk at {desk_url}/ "
                        f"(create an account: make desk-user) ; web widget and demo site at {widget_url}/")
                    return 0
        except OSError:
            pass
        time.sleep(0.5)
    log(f"Rasa did not answer at {rasa_url} within 10 minutes; see its lines above")
    return 0


def main(argv: List[str]) -> int:
    if argv[1:2] == ["--announce-ready"]:
        return announce_ready(*argv[2:6])
    model = os.environ.get("RASA_MODEL") or (argv[1] if len(argv) > 1 else "")
    if not model:
        log("usage: services.py MODEL (or set RASA_MODEL)")
        return 2
    os.umask(0o077)  # databases, logs and run files under var/: owner only
    private_dir(VAR)
    env = dict(os.environ, PYTHONPATH=str(ROOT), SANIC_HOST=os.environ.get("BIND_HOST", "127.0.0.1"),
               PYTHONUNBUFFERED="1")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    taken = fill_secrets(env)
    if taken:
        log(f"{', '.join(taken)} not set: using the ones generated in {SECRETS_FILE.relative_to(ROOT)} "
            "(mode 0600; set them in the environment to choose your own)")
    env.update(shared_settings(env))
    for name in stray_secrets(env):
        log(f"{name} looks like a secret and no service uses it: given to none (see OWN in scripts/services.py)")

    prune_run_dirs()
    run = private_dir(VAR / f"run-{env.get('RASA_PORT', '5005')}")
    commands = programs(model, env, run)
    for name, command in commands.items():
        write_private(run / f"{name}.json", json.dumps({"argv": command, "env": service_env(name, env)}))
    host = local(env.get("BIND_HOST", "127.0.0.1"))
    announce = [env["RASA_URL"], env["DESK_URL"], f"http://{host}:{env.get('WIDGET_PORT', '8080')}",
                env.get("ACTIONS_PORT", "5055")]
    conf = write_private(run / "supervisord.conf", supervisord_conf(run, list(commands), announce))
    log(f"starting {', '.join(commands)} under supervisord (a service that dies is restarted; Ctrl-C stops all)")
    sys.stdout.flush()
    os.chdir(ROOT)
    os.execve(sys.executable, [sys.executable, "-m", "supervisor.supervisord", "-n", "-c", str(conf)],
              supervisor_env(env))
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv))
