"""Configuration of the code that runs inside Rasa, read from the environment, with safe defaults.

(Started with the settings of issue 12, part 5; other Rasa-side settings still read their
variable where they are used: see the README's table.)
"""
from __future__ import annotations

import os
from typing import Any, Iterable, List, Mapping, Optional, Union

# The web widget's own pages in `make run` (WIDGET_PORT's default): the only origins allowed
# on the socket.io channel when SOCKETIO_CORS_ORIGINS is not set.
DEFAULT_WIDGET_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")


def socketio_cors_origins(configured: Union[None, str, Iterable[str]] = None,
                          env: Optional[Mapping[str, str]] = None) -> List[str]:
    """Page origins allowed to open the socket.io channel: `configured` (the channel's
    `cors_allowed_origins` in credentials.yml) if given, else SOCKETIO_CORS_ORIGINS
    (comma-separated), else the widget's own. Never "any": python-engineio reads an empty
    list as "no check" and "*" as every site, so neither can come out of here."""
    env = os.environ if env is None else env
    if configured is None or configured == [] or configured == "":
        configured = env.get("SOCKETIO_CORS_ORIGINS") or ""
    if isinstance(configured, str):
        configured = configured.split(",")
    origins = [o.strip().rstrip("/") for o in configured if o and o.strip()]
    if any(o == "*" for o in origins):
        raise ValueError("SOCKETIO_CORS_ORIGINS: '*' would let any site open conversations in the name of the "
                         "helpline; list the pages' origins (https://www.example.org,https://example.org)")
    return origins or list(DEFAULT_WIDGET_ORIGINS)


DEFAULT_INTERNAL_NETWORKS = "127.0.0.0/8,::1/128"


def internal_networks(env: Optional[Mapping[str, str]] = None) -> List[Any]:
    """RASA_INTERNAL_NETWORKS: addresses (CIDR, comma-separated) whose requests may use Rasa's
    HTTP API (the desk's, the watchdog's); default this machine only."""
    import ipaddress

    env = os.environ if env is None else env
    raw = env.get("RASA_INTERNAL_NETWORKS") or DEFAULT_INTERNAL_NETWORKS
    try:
        return [ipaddress.ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip()]
    except ValueError as error:
        raise ValueError(f"RASA_INTERNAL_NETWORKS: {error}") from None
