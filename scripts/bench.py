"""Speed benchmark: the full assistant against a bare `rasa init` bot, same machine,
same SQLite tracker store, same REST channel, alternating rounds in one run.

Prints, for each: single-conversation p50/p95 latency, and messages per second with
parallel 12-turn conversations; then the throughput ratio. Not a test: `make bench`.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "var" / "bench"
PARALLEL = int(os.environ.get("BENCH_PARALLEL", "8"))
ROUND_SECONDS = float(os.environ.get("BENCH_ROUND_SECONDS", "20"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))

# A natural conversation with the guided flow: the problem, then answers to the questions in
# the flow's order (how they hold up, age, paid, posted, deadline), then service questions,
# thanks, a request for a person and goodbye.
ASSISTANT_TURNS = [
    "salut", "une fille sur insta me menace de publier ma video si je paie pas", "bof jsuis pas trop bien", "14",
    "non j'ai rien payé", "non", "elle a dit avant ce soir", "c'est gratuit ?", "merci", "je veux parler a quelqu'un",
    "comment porter plainte", "merci au revoir",
]
BARE_TURNS = ["hello", "I am sad", "no", "bye", "hi", "great", "are you a bot?", "hello", "I am happy", "yes", "bye", "hi"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, sender: str, text: str) -> float:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
    return time.perf_counter() - start


def wait(url: str, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            post(url, "warmup", "hello")
            return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"{url} did not come up")


def bare_bot() -> Tuple[subprocess.Popen, str]:
    project = WORK / "init"
    trained = project.exists() and any((project / "models").glob("*.tar.gz"))
    if not trained:
        shutil.rmtree(project, ignore_errors=True)
        project.mkdir(parents=True)
        subprocess.run([sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(project)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    (project / "bench-endpoints.yml").write_text(
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {WORK / 'bare.db'}\n")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "rasa", "run", "--port", str(port), "--interface", "127.0.0.1",
         "--endpoints", "bench-endpoints.yml"],
        cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
    )
    return process, f"http://127.0.0.1:{port}/webhooks/rest/webhook"


def assistant(model: str) -> Tuple[subprocess.Popen, str]:
    endpoints = (ROOT / "endpoints.yml").read_text().replace("db: var/tracker.db", f"db: {WORK / 'assistant.db'}")
    (WORK / "assistant-endpoints.yml").write_text(endpoints)
    port = free_port()
    # The bench talks REST (off by default) and sends every message from 127.0.0.1, many
    # conversations a second, each asking for a person: limits raised for it (README, "Limits").
    env = dict(os.environ, RASA_PORT=str(port), ACTIONS_PORT=str(free_port()), RASA_API_TOKEN=uuid.uuid4().hex,
               ENDPOINTS=str(WORK / "assistant-endpoints.yml"), ENABLE_REST_CHANNEL="true",
               RATE_CONVERSATION_MESSAGES="1000", RATE_ADDRESS_MESSAGES="1000000",
               NEW_CASES_PER_ADDRESS_PER_MINUTE="1000000")
    process = subprocess.Popen([sys.executable, "scripts/services.py", model], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    return process, f"http://127.0.0.1:{port}/webhooks/rest/webhook"


def single(url: str, turns: List[str], conversations: int = 5) -> List[float]:
    latencies = []
    for _ in range(conversations):
        sender = f"bench-{uuid.uuid4().hex}"  # not the shape of a socket.io id, which REST may not address
        latencies += [post(url, sender, t) for t in turns]
    return latencies


def throughput(url: str, turns: List[str], seconds: float) -> Tuple[int, float]:
    count = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        nonlocal count
        while time.monotonic() < stop:
            sender = f"bench-{uuid.uuid4().hex}"
            for text in turns:
                if time.monotonic() >= stop:
                    return
                post(url, sender, text)
                with lock:
                    count += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return count, time.perf_counter() - start


def pct(values: List[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


def main() -> int:
    model = sys.argv[1]
    WORK.mkdir(parents=True, exist_ok=True)
    for db in ("bare.db", "assistant.db"):
        (WORK / db).unlink(missing_ok=True)
    processes = []
    try:
        bare_process, bare_url = bare_bot()
        processes.append(bare_process)
        full_process, full_url = assistant(model)
        processes.append(full_process)
        wait(bare_url)
        wait(full_url)
        bots: Dict[str, Tuple[str, List[str]]] = {"bare rasa init": (bare_url, BARE_TURNS), "assistant": (full_url, ASSISTANT_TURNS)}
        latencies: Dict[str, List[float]] = {name: [] for name in bots}
        totals: Dict[str, List[float]] = {name: [0, 0.0] for name in bots}
        for _ in range(ROUNDS):
            for name, (url, turns) in bots.items():  # alternating, same run
                latencies[name] += single(url, turns)
                count, elapsed = throughput(url, turns, ROUND_SECONDS)
                totals[name][0] += count
                totals[name][1] += elapsed
        print(f"{'':16} {'p50 ms':>8} {'p95 ms':>8} {'msg/s':>8}   ({PARALLEL} parallel 12-turn conversations)")
        rates = {}
        for name in bots:
            rates[name] = totals[name][0] / totals[name][1]
            print(f"{name:16} {pct(latencies[name], 0.5):8.1f} {pct(latencies[name], 0.95):8.1f} {rates[name]:8.1f}")
        print(f"throughput ratio assistant / bare: {rates['assistant'] / rates['bare rasa init']:.2f}")
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
