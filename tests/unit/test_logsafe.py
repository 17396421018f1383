"""Logged exceptions never carry the values in their messages (issue 12, part 5)."""
from __future__ import annotations

import io
import logging

import pytest

from bot import logsafe


@pytest.fixture
def scrubbed_log():
    previous = logging.Formatter.formatException
    logsafe.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("logsafe-test")
    logger.addHandler(handler)
    yield logger, stream
    logger.removeHandler(handler)
    logging.Formatter.formatException = previous


def test_a_logged_exception_keeps_its_type_and_place_not_its_values(scrubbed_log) -> None:  # noqa: ANN001
    logger, stream = scrubbed_log
    secret = "je veux mourir, il a mon adresse"
    try:
        try:
            {}[secret]
        except KeyError as error:
            raise ValueError(f"could not read {secret!r} for the desk\nsecond line {secret}") from error
    except ValueError:
        logger.exception("Could not queue an event")
    text = stream.getvalue()
    assert secret not in text
    assert "Could not queue an event" in text and "Traceback (most recent call last)" in text
    assert "KeyError" in text and "ValueError: could not read «…» for the desk" in text
    assert "test_logsafe.py" in text  # where it happened


def test_gist_caps_and_keeps_plain_messages() -> None:
    assert logsafe.gist(OSError("database is locked")) == "database is locked"
    assert len(logsafe.gist(RuntimeError("x" * 1000))) <= logsafe.MAX_MESSAGE + 1
    assert logsafe.gist(KeyError("texte")) == "«…»"


def test_an_apostrophe_is_not_a_quote() -> None:
    text = "Failed to execute custom action 'action_x'. Couldn't connect to 'http://localhost:1/webhook'."
    assert logsafe.gist(RuntimeError(text)) == "Failed to execute custom action «…». Couldn't connect to «…»."
