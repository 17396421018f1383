"""scripts/services.py without starting anything: what each service is given, where the
generated tokens go, and the supervisor's restart policy."""
from __future__ import annotations

import configparser
import importlib.util
import stat
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("services", ROOT / "scripts" / "services.py")
services = importlib.util.module_from_spec(_spec)
sys.modules["services"] = services
_spec.loader.exec_module(services)

ENV = {
    "PATH": "/usr/bin", "HOME": "/root", "LANG": "C.UTF-8", "RASA_TELEMETRY_ENABLED": "false",
    "BIND_HOST": "127.0.0.1", "CONTENT_DIR": "/c",
    "RASA_PORT": "5005", "ACTIONS_PORT": "5055", "DESK_PORT": "8081", "WIDGET_PORT": "8080",
    "RASA_API_TOKEN": "rasa-token", "DESK_API_TOKEN": "desk-token", "DESK_EVENTS_TOKEN": "events-token",
    "DESK_STATUS_TOKEN": "status-token", "DESK_COMMANDS_TOKEN": "commands-token",
    "SOCKETIO_SESSION_SECRET": "sio-secret", "CHANNEL_ID_SECRET": "id-secret", "TELEGRAM_TOKEN": "tg-token",
    "TWILIO_AUTH_TOKEN": "tw-token", "DATABASE_URL": "postgresql://desk:pw@db/desk",
    "DESK_WEBHOOK_SECRET": "hook-secret", "RASA_MODEL": "models/x.tar.gz",
    "SOME_VENDOR_API_KEY": "stray", "GITHUB_TOKEN": "stray-too",
}


def given(service: str) -> dict:
    return services.service_env(service, ENV)


def test_each_service_gets_only_its_own_secrets() -> None:
    rasa, actions, desk, widget = given("rasa"), given("actions"), given("desk"), given("widget")
    assert {"RASA_API_TOKEN", "DESK_EVENTS_TOKEN", "SOCKETIO_SESSION_SECRET", "CHANNEL_ID_SECRET", "TELEGRAM_TOKEN",
            "TWILIO_AUTH_TOKEN"} <= set(rasa)
    assert not {"DESK_API_TOKEN", "DESK_STATUS_TOKEN", "DATABASE_URL", "DESK_WEBHOOK_SECRET"} & set(rasa)
    assert set(actions) & {n for n in ENV if "TOKEN" in n or "SECRET" in n} == {"DESK_STATUS_TOKEN"}
    assert {"DESK_API_TOKEN", "DESK_EVENTS_TOKEN", "DESK_STATUS_TOKEN", "RASA_API_TOKEN", "DATABASE_URL",
            "DESK_WEBHOOK_SECRET"} <= set(desk)
    assert not {"TELEGRAM_TOKEN", "TWILIO_AUTH_TOKEN", "CHANNEL_ID_SECRET", "SOCKETIO_SESSION_SECRET"} & set(desk)
    assert not {n for n in widget if "TOKEN" in n or "SECRET" in n or n == "DATABASE_URL"}
    # The desk's commands to Rasa: a token for the two of them only.
    assert "DESK_COMMANDS_TOKEN" in rasa and "DESK_COMMANDS_TOKEN" in desk and "DESK_COMMANDS_TOKEN" not in actions
    for env in (rasa, actions, desk, widget):
        assert env["PATH"] == "/usr/bin" and env["CONTENT_DIR"] == "/c" and env["RASA_TELEMETRY_ENABLED"] == "false"
        assert "SOME_VENDOR_API_KEY" not in env and "GITHUB_TOKEN" not in env and "RASA_MODEL" not in env
    assert services.stray_secrets(ENV) == ["GITHUB_TOKEN", "SOME_VENDOR_API_KEY"]
    supervisor = services.supervisor_env(ENV)
    assert not {n for n in supervisor if "TOKEN" in n or "SECRET" in n or "KEY" in n or n == "DATABASE_URL"}


def test_generated_tokens_go_to_a_private_file_and_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secrets.env"
    env = {"RASA_API_TOKEN": "mine"}
    taken = services.fill_secrets(env, path)
    assert taken == ["DESK_API_TOKEN", "DESK_EVENTS_TOKEN", "DESK_STATUS_TOKEN", "DESK_COMMANDS_TOKEN",
                     "SOCKETIO_SESSION_SECRET"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert "mine" not in text and all(f"{name}={env[name]}" in text for name in taken)
    again = {"RASA_API_TOKEN": "mine"}
    services.fill_secrets(again, path)
    assert again == env  # the same tokens on the next start
    assert services.fill_secrets({n: "x" for n in services.GENERATED}, tmp_path / "none" / "s.env") == []
    assert not (tmp_path / "none").exists()


def test_the_supervisor_restarts_with_backoff_and_stops_all(tmp_path: Path) -> None:
    conf = configparser.RawConfigParser()
    conf.read_string(services.supervisord_conf(tmp_path, ["desk", "rasa"], ["u", "d", "w", "1"]))
    assert conf["supervisord"]["nodaemon"] == "true" and conf["supervisord"]["umask"] == "077"
    assert conf["unix_http_server"]["chmod"] == "0700" and conf["unix_http_server"]["password"]
    for name in ("desk", "rasa"):
        program = conf[f"program:{name}"]
        assert program["autorestart"] == "true" and int(program["startretries"]) >= 10
        assert int(program["startsecs"]) >= 2  # a quicker exit is a failed start: retried after 1 s, 2 s, ...
        assert program["stopasgroup"] == "true" and program["killasgroup"] == "true"
        assert program["command"].endswith(f"launch_service.py {tmp_path / (name + '.json')}")
    assert conf["program:ready"]["autorestart"] == "false"


def test_rasa_command_line_holds_no_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDENTIALS", "credentials.yml")
    commands = services.programs("models/x.tar.gz", ENV, tmp_path)
    line = " ".join(" ".join(argv) for argv in commands.values())
    assert "--auth-token" not in line and "rasa-token" not in line
    assert commands["rasa"][1] == "scripts/rasa_serve.py"


def test_run_folders_of_stopped_supervisors_are_removed(tmp_path: Path) -> None:
    import os
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()
    for name, pid in (("run-1", os.getpid()), ("run-2", gone.pid)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "supervisord.pid").write_text(str(pid))
    (tmp_path / "run-3").mkdir()  # starting: no pid file yet
    old = tmp_path / "run-4"
    old.mkdir()
    os.utime(old, (1, 1))
    assert services.prune_run_dirs(tmp_path) == ["run-2", "run-4"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run-1", "run-3"]
