"""`rasa data validate --fail-on-warnings` on the domain, the training data and the content's responses."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_rasa_data_validate_fails_on_no_warning() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate", "--config", "config.yml", "--domain", "bot/domain.yml",
         "--data", "bot/data", "--fail-on-warnings"],
        cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=300,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
