"""`python -m desk`: the counsellor desk on DESK_PORT (8081), BIND_HOST (127.0.0.1)."""
from __future__ import annotations

import logging

from desk.app import create_app
from desk.config import Settings


def main() -> None:
    from bot.logsafe import install

    install()  # logged exceptions keep their type and place, not the values they carry
    # The desk's own loggers (sanic configures its own): case ids and event types, never message text.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    desk_log = logging.getLogger("desk")
    desk_log.addHandler(handler)
    desk_log.setLevel(logging.INFO)
    desk_log.propagate = False
    settings = Settings.from_env()
    if not settings.api_token or not settings.events_token:
        logging.getLogger("desk").warning(
            "DESK_API_TOKEN or DESK_EVENTS_TOKEN is unset: the API / event ingest refuse every call (401)")
    if not settings.commands_token:
        logging.getLogger("desk").warning(
            "DESK_COMMANDS_TOKEN is unset: Rasa refuses the desk's commands (claims, messages, closes are kept "
            "and retried until it is set)")
    if settings.webhook_url and not settings.webhook_enabled:
        logging.getLogger("desk").error(
            "DESK_WEBHOOK_SECRET must be at least 32 characters: the webhook stays off until it is "
            "(generate one: python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
    app = create_app(settings)
    # Access log lines hold method, path and status only (no bodies, no message text).
    app.run(host=settings.bind_host, port=settings.port, access_log=True, workers=1, motd=False)


if __name__ == "__main__":
    main()
