"""Rasa's credentials, built from the environment at start-up.

Rasa fails on an unset `${VAR}` in `credentials.yml`, so the messaging channels are
not written there: this module takes the entries of `credentials.yml` (the REST and
socket.io channels) and adds each messaging channel whose variables are all set. The
secrets stay in the environment (each channel reads them when Rasa starts it), so
the file written here holds class names only.

    python -m bot.rasa_addons.channels.credentials var/credentials-1234.yml

Light on purpose (no Rasa import): `scripts/services.py` runs it before Rasa starts.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple

import yaml

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[3]
ID_SECRET = "CHANNEL_ID_SECRET"
BASE_CHANNELS: Dict[str, Any] = {
    "bot.rasa_addons.channels.rest.SafeRestInput": {},
    "bot.rasa_addons.channels.socketio.SafeSocketIOInput": {},
    "bot.rasa_addons.channels.desk_commands.DeskCommandsInput": {},
}
# name -> (class path, variables that must all be set)
MESSAGING: Dict[str, Tuple[str, Tuple[str, ...]]] = {
    "whatsapp (twilio)": (
        "bot.rasa_addons.channels.twilio.TwilioWhatsAppInput",
        ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_NUMBER", "TWILIO_WEBHOOK_URL"),
    ),
    "messenger": (
        "bot.rasa_addons.channels.messenger.MessengerInput",
        ("MESSENGER_VERIFY_TOKEN", "MESSENGER_APP_SECRET", "MESSENGER_PAGE_ACCESS_TOKEN"),
    ),
    "telegram": (
        "bot.rasa_addons.channels.telegram.TelegramInput",
        ("TELEGRAM_TOKEN", "TELEGRAM_BOT_NAME", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_SECRET_TOKEN"),
    ),
}


def base_channels(path: Optional[Path] = None) -> Dict[str, Any]:
    """The entries of credentials.yml (REST, socket.io), or those two if it is missing."""
    path = path or ROOT / "credentials.yml"
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        loaded = None
    return dict(loaded) if isinstance(loaded, dict) and loaded else dict(BASE_CHANNELS)


def build(env: Optional[Mapping[str, str]] = None, base: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    env = os.environ if env is None else env
    credentials = dict(base_channels() if base is None else base)
    for name, (class_path, variables) in MESSAGING.items():
        missing = [v for v in variables if not env.get(v)]
        if len(missing) == len(variables):
            logger.info("channel %s: off", name)
            continue
        if missing:
            logger.warning("channel %s: off, some of its variables are set but not %s", name, ", ".join(missing))
            continue
        if len(env.get(ID_SECRET, "")) < 16:
            logger.error("channel %s: NOT started: %s must be set (at least 16 characters, e.g. `openssl rand -hex 32`); "
                         "conversation ids are a keyed hash of the platform's user id", name, ID_SECRET)
            continue
        credentials[class_path] = {}
        logger.info("channel %s: on", name)
    return credentials


def write(path: Path, env: Optional[Mapping[str, str]] = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# Written at start-up by bot/rasa_addons/channels/credentials.py; edit credentials.yml instead.\n"
    text += yaml.safe_dump(build(env), sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def main(argv: Optional[list] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m bot.rasa_addons.channels.credentials OUTPUT.yml", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="[credentials] %(message)s")
    write(Path(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
