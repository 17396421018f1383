"""Rasa's own command-line entry point, with the HTTP API token taken from the environment.

`python scripts/rasa_serve.py run --enable-api ...` is `rasa run --enable-api ... --auth-token
$RASA_API_TOKEN`, except that the token never appears on the command line, where `ps` shows it
to every user of the machine. Refuses an --auth-token given on the command line.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> None:
    args = sys.argv[1:]
    if any(arg == "--auth-token" or arg.startswith("--auth-token=") for arg in args):
        sys.exit("rasa_serve.py: give the token in RASA_API_TOKEN, not on the command line")
    token = os.environ.get("RASA_API_TOKEN", "")
    if "--enable-api" in args and not token:
        sys.exit("rasa_serve.py: --enable-api needs RASA_API_TOKEN (scripts/services.py generates one)")
    if token:
        args += ["--auth-token", token]  # sys.argv of this process only; /proc/PID/cmdline keeps the original
    sys.argv = ["rasa", *args]
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bot.logsafe import install

    install()  # logged exceptions keep their type and place, not the values they carry
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
