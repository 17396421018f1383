"""TOTP (RFC 6238): HMAC-SHA1, 30-second steps, 6 digits."""
from __future__ import annotations

import base64
import hmac
import secrets
import struct
import time
from typing import Optional
from urllib.parse import quote

STEP = 30
DIGITS = 6


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret_b32: str) -> bytes:
    cleaned = secret_b32.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def code_at(key: bytes, counter: int, digits: int = DIGITS) -> str:
    digest = hmac.new(key, struct.pack(">Q", counter), "sha1").digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def now_code(secret_b32: str, at: Optional[float] = None) -> str:
    return code_at(_key(secret_b32), int((time.time() if at is None else at) // STEP))


def verify(secret_b32: str, code: str, at: Optional[float] = None, last_counter: Optional[int] = None) -> Optional[int]:
    """Return the matched counter (one step of clock drift allowed either way), or None.
    A counter at or below `last_counter` was already used and is refused (no replay)."""
    code = (code or "").strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    key = _key(secret_b32)
    current = int((time.time() if at is None else at) // STEP)
    for counter in (current - 1, current, current + 1):
        if last_counter is not None and counter <= last_counter:
            continue
        if hmac.compare_digest(code_at(key, counter), code):
            return counter
    return None


def provisioning_uri(secret_b32: str, username: str, issuer: str = "Net Ecoute desk") -> str:
    label = quote(f"{issuer}:{username}")
    return f"otpauth://totp/{label}?secret={secret_b32}&issuer={quote(issuer)}&algorithm=SHA1&digits=6&period=30"
