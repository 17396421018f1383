"""One running stack with the three messaging channels on, their platform APIs pointed
at a local recording server, and helpers that speak each platform's webhook format."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Tuple

import pytest

from tests.channels.recording_server import RecordingServer
from tests.conftest import running_stack
from tests.support.chat import Stack, http

PUBLIC = "https://helpline.example.org"


@dataclass
class Channels:
    stack: Stack
    recorder: RecordingServer
    env: Dict[str, str]

    # ---- ids as the channels make them
    def conversation_id(self, channel: str, platform_id: str) -> str:
        digest = hmac.new(self.env["CHANNEL_ID_SECRET"].encode(), f"{channel}:{platform_id}".encode(), hashlib.sha256)
        return f"{channel}-{digest.hexdigest()[:32]}"

    def tracker(self, conversation_id: str) -> Dict[str, Any]:
        quoted = urllib.parse.quote(conversation_id, safe="")  # as the desk does
        return http("GET", f"{self.stack.url}/conversations/{quoted}/tracker?token={self.stack.token}")

    def post(self, path: str, body: bytes, headers: Dict[str, str]) -> Tuple[int, bytes]:
        request = urllib.request.Request(f"{self.stack.url}{path}", data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def get(self, path: str) -> Tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"{self.stack.url}{path}", timeout=15) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    # ---- Telegram
    def telegram(self, update: Dict[str, Any], secret: Optional[str] = "default") -> Tuple[int, bytes]:
        headers = {"Content-Type": "application/json"}
        if secret == "default":
            secret = self.env["TELEGRAM_SECRET_TOKEN"]
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return self.post("/webhooks/telegram/webhook", json.dumps(update).encode(), headers)

    # ---- Messenger
    def messenger(self, payload: Dict[str, Any], signature: Optional[str] = "default") -> Tuple[int, bytes]:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "default":
            signature = "sha256=" + hmac.new(self.env["MESSENGER_APP_SECRET"].encode(), body, hashlib.sha256).hexdigest()
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return self.post("/webhooks/facebook/webhook", body, headers)

    # ---- Twilio
    def twilio_signature(self, params: Dict[str, str], token: Optional[str] = None) -> str:
        data = self.env["TWILIO_WEBHOOK_URL"] + "".join(k + params[k] for k in sorted(params))
        mac = hmac.new((token or self.env["TWILIO_AUTH_TOKEN"]).encode(), data.encode(), hashlib.sha1)
        return base64.b64encode(mac.digest()).decode()

    def twilio(self, params: Dict[str, str], signature: Optional[str] = "default") -> Tuple[int, bytes]:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature == "default":
            signature = self.twilio_signature(params)
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        return self.post("/webhooks/twilio/webhook", urllib.parse.urlencode(params).encode(), headers)


def channel_env(recorder: RecordingServer) -> Dict[str, str]:
    return {
        "CHANNEL_ID_SECRET": secrets.token_hex(32),
        "TELEGRAM_TOKEN": "7000000001:AAtest-" + secrets.token_hex(8),
        "TELEGRAM_BOT_NAME": "netecoute_test_bot",
        "TELEGRAM_WEBHOOK_URL": f"{PUBLIC}/webhooks/telegram/webhook",
        "TELEGRAM_SECRET_TOKEN": secrets.token_hex(16),
        "TELEGRAM_API_URL": f"{recorder.url}/telegram",
        "MESSENGER_VERIFY_TOKEN": secrets.token_hex(8),
        "MESSENGER_APP_SECRET": secrets.token_hex(16),
        "MESSENGER_PAGE_ACCESS_TOKEN": "EAAG" + secrets.token_hex(20),
        "MESSENGER_API_URL": f"{recorder.url}/graph/v19.0",
        "TWILIO_ACCOUNT_SID": "AC" + secrets.token_hex(16),
        "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
        "TWILIO_WHATSAPP_NUMBER": "whatsapp:+14155238886",
        "TWILIO_WEBHOOK_URL": f"{PUBLIC}/webhooks/twilio/webhook",
        "TWILIO_API_URL": f"{recorder.url}/twilio",
        "TWILIO_REPLY_TEMPLATE_SID": "HX" + secrets.token_hex(16),
    }


@pytest.fixture(scope="session")
def recorder() -> Iterator[RecordingServer]:
    server = RecordingServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def no_failures_left(recorder: RecordingServer) -> Iterator[None]:
    """A test's unused simulated failures never reach the next test."""
    yield
    recorder.clear_failures()


@pytest.fixture(scope="session")
def channels(model_path: str, recorder: RecordingServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Channels]:
    from bot.rasa_addons.channels import credentials

    work: Path = tmp_path_factory.mktemp("channels")
    env = channel_env(recorder)
    credentials_file = credentials.write(work / "credentials.yml", env)
    starting = running_stack(model_path, work)
    # The stack copies the environment when it starts: the variables are set for that
    # moment only, so that stacks started later by other tests do not get the channels.
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        patch.setenv("CREDENTIALS", str(credentials_file))
        stack = starting.__enter__()
    try:
        yield Channels(stack, recorder, env)
    finally:
        starting.__exit__(None, None, None)
