"""TOTP (pyotp underneath) against the RFC 6238 appendix B test vectors (SHA-1), and the desk's replay rule."""
import base64

import pyotp
import pytest

from desk import totp

RFC_KEY = b"12345678901234567890"
RFC_SECRET = base64.b32encode(RFC_KEY).decode()
VECTORS = [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"), (1234567890, "89005924"),
           (2000000000, "69279037"), (20000000000, "65353130")]


@pytest.mark.parametrize("at,expected", VECTORS)
def test_rfc6238_vectors_8_digits(at, expected):
    assert pyotp.TOTP(RFC_SECRET, digits=8).at(at) == expected


@pytest.mark.parametrize("at,expected", VECTORS)
def test_six_digit_code_is_the_last_six_digits(at, expected):
    assert totp.now_code(RFC_SECRET, at=at) == expected[-6:]
    assert totp.verify(RFC_SECRET, expected[-6:], at=at) == at // 30


def test_one_step_of_drift_accepted_not_two():
    code = totp.now_code(RFC_SECRET, at=1234567890)
    assert totp.verify(RFC_SECRET, code, at=1234567890 + 30) is not None
    assert totp.verify(RFC_SECRET, code, at=1234567890 + 90) is None


def test_replayed_or_malformed_codes_refused():
    at = 1234567890
    code = totp.now_code(RFC_SECRET, at=at)
    counter = totp.verify(RFC_SECRET, code, at=at)
    assert totp.verify(RFC_SECRET, code, at=at, last_counter=counter) is None
    for bad in ("", "12345", "1234567", "abcdef", None, "１２３４５６"):
        assert totp.verify(RFC_SECRET, bad, at=at) is None
    assert totp.verify("", "123456", at=at) is None  # no secret: nothing matches


def test_new_secret_and_uri():
    secret = totp.new_secret()
    assert len(secret) == 32 and secret.isalnum()
    uri = totp.provisioning_uri(secret, "lea")
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri and "issuer=" in uri
    assert pyotp.parse_uri(uri).now() == totp.now_code(secret)
