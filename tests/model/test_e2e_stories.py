"""Rasa conversation tests (tests/e2e/*.yml) on the trained policies: each story gives the
user's intent and the facts the message carries (as the NLU would), and any action the
policies predict differently fails the test (--fail-on-prediction-errors). The NLU itself
is measured by tests/model/test_nlu_quality.py, and whole conversations with the real NLU by
tests/integration/ and tests/dialogue/."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_conversation_stories(model_path: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "test", "core", "--model", model_path, "--stories", "tests/e2e",
         "--fail-on-prediction-errors", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=600,
    )
    failed = (tmp_path / "failed_test_stories.yml")
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:] + "\n" + details[-4000:]
