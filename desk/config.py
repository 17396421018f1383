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
    crisis_grace_seconds: int = 60  # HANDOFF_CRISIS_GRACE_SECONDS, the name Rasa reads too (one setting)
    commands_token: str = ""  # DESK_COMMANDS_TOKEN: the desk's commands to Rasa (not Rasa's API token)
    command_retry_max_seconds: int = 30  # a command Rasa did not take is retried after 0.5 s, 1 s, 2 s... up to this
    reconcile_seconds: int = 60  # how often the desk compares each case's status with what Rasa holds
    counsellor_silence_seconds: int = 300  # a claimed case whose counsellor says nothing this long goes back to the queue
    closing_check_seconds: int = 60  # how often the desk looks for cases still queued at closing time
    # Accounts (see the README's desk section)
    account_max_failures: int = 20  # wrong passwords in a row, from anywhere, before the account locks
    totp_max_failures: int = 5  # wrong codes (a right password does not reset them) before it locks
    account_lock_seconds: int = 900
    login_free_failures: int = 5  # wrong passwords or codes from one client address before it must wait
    login_backoff_max_seconds: int = 900  # the wait doubles from 1 s up to this
    login_forget_seconds: int = 3600  # an address's failures are forgotten after this long without one
    proxies_count: int = 0  # reverse proxies in front of the desk whose X-Forwarded-For is trusted
    argon2_threads: int = 2  # password hashing's own pool (database calls use another)
    argon2_max_waiting: int = 32  # password checks allowed to wait for it; more get 429
    totp_for_all: bool = False  # supervisors always need TOTP; true: counsellors too
    stream_recheck_seconds: int = 15  # live streams check the session at least this often (and before each update)

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
            crisis_grace_seconds=_int(env, "HANDOFF_CRISIS_GRACE_SECONDS", 60, 0),
            commands_token=env.get("DESK_COMMANDS_TOKEN") or "",
            command_retry_max_seconds=_int(env, "DESK_COMMAND_RETRY_MAX_SECONDS", 30, 1),
            reconcile_seconds=_int(env, "DESK_RECONCILE_SECONDS", 60, 1),
            counsellor_silence_seconds=_int(env, "DESK_COUNSELLOR_SILENCE_SECONDS", 300, 1),
            closing_check_seconds=_int(env, "DESK_CLOSING_CHECK_SECONDS", 60, 1),
            account_max_failures=_int(env, "DESK_ACCOUNT_MAX_FAILURES", 20, 1),
            totp_max_failures=_int(env, "DESK_TOTP_MAX_FAILURES", 5, 1),
            account_lock_seconds=_int(env, "DESK_ACCOUNT_LOCK_SECONDS", 900, 1),
            login_free_failures=_int(env, "DESK_LOGIN_FREE_FAILURES", 5, 0),
            login_backoff_max_seconds=_int(env, "DESK_LOGIN_BACKOFF_MAX_SECONDS", 900, 1),
            login_forget_seconds=_int(env, "DESK_LOGIN_FORGET_SECONDS", 3600, 1),
            proxies_count=_int(env, "DESK_PROXIES_COUNT", 0, 0),
            argon2_threads=_int(env, "DESK_ARGON2_THREADS", 2, 1),
            argon2_max_waiting=_int(env, "DESK_ARGON2_MAX_WAITING", 32, 1),
            totp_for_all=_bool(env.get("DESK_TOTP_FOR_ALL"), False),
            stream_recheck_seconds=_int(env, "DESK_STREAM_RECHECK_SECONDS", 15, 1),
        )
