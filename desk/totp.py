"""TOTP (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) from pyotp, plus the desk's one rule
on top: a code whose time step was already used is refused (no replay)."""
from __future__ import annotations

import time
from typing import Optional

import pyotp
from pyotp.utils import strings_equal

STEP = 30
DIGITS = 6
ISSUER = "Net Ecoute desk"


def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits, as RFC 4226 recommends


def _totp(secret_b32: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret_b32, digits=DIGITS, interval=STEP)


def now_code(secret_b32: str, at: Optional[float] = None) -> str:
    return _totp(secret_b32).at(time.time() if at is None else at)


def verify(secret_b32: str, code: Optional[str], at: Optional[float] = None,
           last_counter: Optional[int] = None) -> Optional[int]:
    """The matched time step (one step of clock drift allowed either way), or None.
    A step at or below `last_counter` was already used and is refused (no replay)."""
    code = (code or "").strip().replace(" ", "")
    if not secret_b32 or len(code) != DIGITS or not (code.isascii() and code.isdigit()):
        return None
    otp = _totp(secret_b32)
    current = otp.timecode(time.time() if at is None else at)
    for counter in (current - 1, current, current + 1):
        if last_counter is not None and counter <= last_counter:
            continue
        if strings_equal(otp.generate_otp(counter), code):
            return counter
    return None


def provisioning_uri(secret_b32: str, username: str, issuer: str = ISSUER) -> str:
    return _totp(secret_b32).provisioning_uri(name=username, issuer_name=issuer)
