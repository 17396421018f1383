"""All configuration comes from the environment, with safe defaults, read in one place."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

ROOT = Path(__file__).resolve().parents[1]
WEBHOOK_SECRET_MIN = 32


def _bool(value: Optional[str], default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}")
    if value < minimum:
        raise SystemExit(f"{name} must be at least {minimum}, got {value}")
    return value


def _sqlite_under_root(url: str) -> str:
    """`sqlite:///var/x.db` is relative; anchor it at the project root so the desk
    finds the same file whatever directory it is started from."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str(ROOT / url[len(prefix):])
    return url


@dataclass(frozen=True)
class Settings:
    port: int = 8081
    bind_host: str = "127.0.0.1"
    database_url: str = ""
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_api_token: str = ""
    api_token: str = ""
    status_token: str = ""  # GET /api/status only (the action server's)
    events_token: str = ""
    retention_days: int = 30
    purge_interval_seconds: int = 3600
    tracker_db_url: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""  # 32+ characters, or the webhook stays off (WEBHOOK_SECRET_MIN)
    secure_cookies: bool = False
    language: str = "fr"
    content_dir: Path = ROOT / "content"
    unclaimed_alert_seconds: int = 300
    crisis_grace_seconds: int = 60
    closing_check_seconds: int = 60  # how often the desk looks for cases still queued at closing time

    @property
    def webhook_enabled(self) -> bool:
        """The webhook runs only with a URL and a secret long enough that signatures mean something."""
        return bool(self.webhook_url) and len(self.webhook_secret) >= WEBHOOK_SECRET_MIN

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        env = os.environ if env is None else env
        language = (env.get("DESK_LANGUAGE") or "fr").strip().lower()
        if language not in {"fr", "en"}:
            raise SystemExit(f"DESK_LANGUAGE must be fr or en, got {language!r}")
        content_dir = Path(env.get("CONTENT_DIR") or "content")
        if not content_dir.is_absolute():
            content_dir = ROOT / content_dir
        return cls(
            port=_int(env, "DESK_PORT", 8081, 1),
            bind_host=env.get("BIND_HOST") or "127.0.0.1",
            database_url=_sqlite_under_root(env.get("DATABASE_URL") or "sqlite:///var/desk.db"),
            rasa_url=(env.get("RASA_URL") or "http://127.0.0.1:5005").rstrip("/"),
            rasa_api_token=env.get("RASA_API_TOKEN") or "",
            api_token=env.get("DESK_API_TOKEN") or "",
            status_token=env.get("DESK_STATUS_TOKEN") or "",
            events_token=env.get("DESK_EVENTS_TOKEN") or "",
            retention_days=_int(env, "DESK_RETENTION_DAYS", 30, 1),
            purge_interval_seconds=_int(env, "DESK_PURGE_INTERVAL_SECONDS", 3600, 1),
            tracker_db_url=_sqlite_under_root(env.get("TRACKER_DB_URL") or "sqlite:///var/tracker.db"),
            webhook_url=env.get("DESK_WEBHOOK_URL") or "",
            webhook_secret=env.get("DESK_WEBHOOK_SECRET") or "",
            secure_cookies=_bool(env.get("DESK_SECURE_COOKIES"), False),
            language=language,
            content_dir=content_dir,
            unclaimed_alert_seconds=_int(env, "DESK_UNCLAIMED_ALERT_SECONDS", 300, 1),
            crisis_grace_seconds=_int(env, "DESK_CRISIS_GRACE_SECONDS", 60, 0),
            closing_check_seconds=_int(env, "DESK_CLOSING_CHECK_SECONDS", 60, 1),
        )
