"""Start one service for supervisord: `launch_service.py var/run-5005/desk.json`.

The file (mode 0600, written by scripts/services.py) holds the service's command and its whole
environment, so that no token is on a command line and each service gets only its own
variables. This process becomes the service (same pid, so supervisord watches the service
itself), and asks the kernel to stop it if supervisord dies, so that no orphan keeps a port.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import sys


def die_with_parent() -> None:
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: kept across exec
    except (OSError, AttributeError):
        pass  # not Linux: supervisord's own stop still applies


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    die_with_parent()
    if os.getppid() == 1:  # supervisord already gone
        sys.exit(1)
    os.execve(spec["argv"][0], spec["argv"], spec["env"])


if __name__ == "__main__":
    main()
