"""A tiny REST client for conversations with the running assistant."""
from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body: Optional[Any] = None, timeout: float = 30) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        raw = response.read()
        return json.loads(raw) if raw else None


@dataclass
class Chat:
    stack: "Stack"
    sender: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex[:12]}")
    transcript: List[Dict[str, Any]] = field(default_factory=list)

    def say(self, text: str, metadata: Optional[Dict[str, Any]] = None, timeout: float = 30) -> List[Dict[str, Any]]:
        body: Dict[str, Any] = {"sender": self.sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        replies = http("POST", f"{self.stack.url}/webhooks/rest/webhook", body, timeout) or []
        self.transcript.append({"user": text, "bot": replies})
        return replies

    @staticmethod
    def text(replies: List[Dict[str, Any]]) -> str:
        return "\n".join(r.get("text", "") for r in replies)

    @staticmethod
    def payloads(replies: List[Dict[str, Any]]) -> List[str]:
        return [b["payload"] for r in replies for b in r.get("buttons", [])]

    def tracker(self) -> Dict[str, Any]:
        return http("GET", f"{self.stack.url}/conversations/{self.sender}/tracker?token={self.stack.token}")

    def slots(self) -> Dict[str, Any]:
        return self.tracker()["slots"]

    def all_bot_text(self) -> str:
        return "\n".join(self.text(turn["bot"]) for turn in self.transcript)


@dataclass
class Stack:
    url: str
    token: str
    content_dir: Path
    log_file: Path
    actions_port: int
    process: subprocess.Popen
    desk_url: str = ""
    desk_token: str = ""
    commands_token: str = ""  # DESK_COMMANDS_TOKEN: the desk's commands to Rasa
    widget_url: str = ""

    def wait_ready(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("services died:\n" + self.log_file.read_text()[-4000:])
            try:
                status = http("GET", f"{self.url}/status?token={self.token}", timeout=3)
                if status and status.get("model_file"):
                    http("GET", f"http://127.0.0.1:{self.actions_port}/health", timeout=3)
                    if self.desk_url:
                        http("GET", f"{self.desk_url}/health", timeout=3)
                    if self.widget_url:
                        http("GET", f"{self.widget_url}/health", timeout=3)
                    return
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(1)
        raise RuntimeError("services not ready:\n" + self.log_file.read_text()[-4000:])

    def chat(self) -> Chat:
        return Chat(self)

    def actions_pid(self) -> int:
        out = subprocess.run(["pgrep", "-f", f"rasa_sdk --actions bot.actions --port {self.actions_port}"],
                             capture_output=True, text=True).stdout.split()
        assert out, "action server process not found"
        return int(out[0])
