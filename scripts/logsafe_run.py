"""`python scripts/logsafe_run.py MODULE ARGS...` is `python -m MODULE ARGS...` with logged
exceptions scrubbed of the values they carry (bot/logsafe.py). scripts/services.py starts the
action server this way: `logsafe_run.py rasa_sdk --actions bot.actions --port 5055`."""
from __future__ import annotations

import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.logsafe import install  # noqa: E402


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: logsafe_run.py MODULE [ARGS...]")
    install()
    module = sys.argv[1]
    sys.argv = [module, *sys.argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
