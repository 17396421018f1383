"""The action server's status-only token opens GET /api/status and nothing else (issue 12, part 5)."""
from __future__ import annotations

import secrets
from pathlib import Path

import requests

from tests.desk.helpers import start_desk


def test_status_token_opens_the_status_only(tmp_path: Path, fake_rasa) -> None:  # noqa: ANN001
    status_token = secrets.token_urlsafe(32)
    desk = start_desk(tmp_path, f"sqlite:///{tmp_path}/desk.db", fake_rasa.url, fake_rasa.token,
                      DESK_STATUS_TOKEN=status_token)
    try:
        def call(method: str, path: str, token: str) -> int:
            return requests.request(method, desk.url + path, headers={"Authorization": f"Bearer {token}"},
                                    timeout=15).status_code

        assert call("GET", "/api/status", status_token) == 200
        assert call("GET", "/api/cases", status_token) == 401
        assert call("GET", "/api/cases/1", status_token) == 401
        assert call("POST", "/api/cases/1/close", status_token) == 401
        assert call("POST", "/internal/events", status_token) == 401
        assert call("GET", "/api/status", desk.api_token) == 200  # the API token still opens it
        assert call("GET", "/api/status", "wrong") == 401
    finally:
        desk.stop()
