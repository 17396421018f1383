"""Train the model only when its inputs changed; print the model's path.

The inputs are everything that ends up in the model: config, domain, training data,
the project's Rasa code, and the content (its texts and lexicon are packaged as the
fallback). The model is named after a hash of them, so an unchanged tree reuses it.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ["config.yml", "bot/domain.yml", "bot/data", "bot/rasa_addons", "bot/safety", "bot/content_store", "content"]
# Run-time code and files the model does not contain: changing them needs no training.
EXCLUDED = ("bot/rasa_addons/channels", "bot/rasa_addons/handoff", "bot/rasa_addons/settings.py",
            "bot/rasa_addons/tracker_store.py", "bot/rasa_addons/exposure.py", "content/desk", "content/widget")
MODELS = ROOT / "models"


def fingerprint() -> str:
    digest = hashlib.sha256()
    for name in INPUTS:
        path = ROOT / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for file in files:
            if file.relative_to(ROOT).as_posix().startswith(EXCLUDED):
                continue
            if file.suffix in (".yml", ".yaml", ".py"):  # not .md: guides are not in the model
                digest.update(file.relative_to(ROOT).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def main() -> int:
    MODELS.mkdir(exist_ok=True)
    # One training at a time: a second caller waits, then finds the model made.
    with open(MODELS / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return train_if_needed()


def train_if_needed() -> int:
    model = MODELS / f"model-{fingerprint()}.tar.gz"
    if model.exists():
        print(model)
        return 0
    print(f"Training {model.name} (inputs changed)...", file=sys.stderr)
    command = [
        sys.executable, "-m", "rasa", "train", "--config", "config.yml", "--domain", "bot/domain.yml",
        "--data", "bot/data", "--out", str(MODELS), "--fixed-model-name", model.name[: -len(".tar.gz")],
    ]
    # No graph cache: the packaged lexicon and texts are read from content/, which
    # Rasa does not fingerprint, so a cached component could ship stale safety data.
    env = dict(os.environ, RASA_MAX_CACHE_SIZE="0")
    result = subprocess.run(command, cwd=ROOT, stdout=sys.stderr, env=env)
    if result.returncode != 0 or not model.exists():
        print("Training failed", file=sys.stderr)
        return result.returncode or 1
    # Keep the two previous models: a running test session or service may still need its own.
    older = sorted((p for p in MODELS.glob("model-*.tar.gz") if p != model), key=lambda p: p.stat().st_mtime)
    for old in older[:-2]:
        old.unlink()
    print(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
