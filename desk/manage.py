"""`python -m desk.manage`: accounts and retention from the command line.

    create-user --username U --first-name Léa --role counsellor|supervisor
    list-users | disable-user --username U | reset-password --username U | purge
    erase --id CONVERSATION_ID | erase --case N   (README, "Privacy": `make erase ID=...`)
Passwords are read with getpass, or from DESK_USER_PASSWORD (for scripts)."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
import time
from typing import Any, List, Optional

from sqlalchemy import select

from desk import auth, erasure, purge
from desk.config import ROOT, Settings
from desk.db import init_db, make_engine, make_tracker_engine
from desk.models import users


def _password() -> str:
    from_env = os.environ.get("DESK_USER_PASSWORD")
    if from_env:
        return from_env
    first = getpass.getpass("Mot de passe (12 caractères minimum) : ")
    if getpass.getpass("Confirmer : ") != first:
        raise auth.AccountError("the two passwords differ")
    return first


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desk.manage", description="Counsellor desk administration")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-user", help="create a counsellor or supervisor account")
    create.add_argument("--username", required=True)
    create.add_argument("--first-name", required=True, help="first name only (shown to young people)")
    create.add_argument("--role", required=True, choices=auth.ROLES)
    commands.add_parser("list-users", help="list accounts")
    disable = commands.add_parser("disable-user", help="disable an account (ends its sessions)")
    disable.add_argument("--username", required=True)
    reset = commands.add_parser("reset-password", help="set a new password (ends its sessions, unlocks)")
    reset.add_argument("--username", required=True)
    commands.add_parser("purge", help="delete closed cases and Rasa conversations older than the retention period")
    erase = commands.add_parser("erase", help="erase one conversation everywhere (desk and Rasa), as the person asked")
    which = erase.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", help="the conversation id (the case page shows it)")
    which.add_argument("--case", type=int, help="or the desk's case number")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    init_db(engine)
    try:
        if args.command == "create-user":
            auth.create_user(engine, args.username, args.first_name, args.role, _password())
            print(f"created {args.role} {args.username}")
        elif args.command == "list-users":
            policy = auth.Policy.from_settings(settings)
            for user in auth.list_users(engine):
                state = "disabled" if user["disabled"] else "active"
                if user["locked_until"] and user["locked_until"] > time.time():
                    state = "locked"
                second = " totp" if user["totp_enabled"] else (
                    " totp-to-set-up" if policy.totp_required(user["role"]) else "")
                print(f"{user['username']:<24} {user['first_name']:<16} {user['role']:<11} {state}{second}")
        elif args.command == "disable-user":
            with engine.connect() as conn:
                user_id = conn.execute(select(users.c.id).where(users.c.username == args.username)).scalar()
            if user_id is None:
                raise auth.AccountError(f"no user {args.username!r}")
            auth.set_disabled(engine, user_id, True)
            print(f"disabled {args.username}")
        elif args.command == "reset-password":
            auth.set_password(engine, args.username, _password())
            print(f"password reset for {args.username}")
        elif args.command == "purge":
            tracker = make_tracker_engine(settings.tracker_db_url) if settings.tracker_db_url else None
            counts = purge.purge(engine, tracker, settings.retention_days)
            print(f"purged {counts['cases']} closed cases, {counts['tracker_events']} tracker events")
        elif args.command == "erase":
            return erase_command(engine, settings, args.id, args.case)
    except auth.AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def erase_command(engine: Any, settings: Settings, conversation_id: Optional[str], case_id: Optional[int]) -> int:
    """The desk's side directly in its database, with an `erase` command for Rasa in the same
    transaction (the command outbox: Rasa erases its side and tells the person). The command
    is sent at once when Rasa answers (else the running desk sends it until Rasa takes it);
    when Rasa is not running, its stores (TRACKER_DB_URL, HANDOFF_DB) are also erased
    directly. Prints counts only, never a text."""
    from desk.content import load

    if case_id is not None:
        conversation_id = erasure.conversation_of_case(engine, case_id)
        if conversation_id is None:
            print(f"error: no case {case_id}", file=sys.stderr)
            return 2
    assert conversation_id
    result = erasure.erase(engine, conversation_id, "command", load(settings.content_dir).legal_hold_codes,
                           tell_rasa=True)
    print(f"desk: {len(result.erased)} case(s) erased, {len(result.kept)} kept as the law requires")
    if _rasa_running(settings.rasa_url):
        token = settings.commands_token or _secret_from_file("DESK_COMMANDS_TOKEN")
        if token and asyncio.run(_send_now(engine, settings, token, conversation_id)):
            print("rasa: erased by the running Rasa (the person is told)")
        else:
            print("rasa: the erasure is queued; the running desk sends it until Rasa takes it")
        return 0
    counts = erasure.erase_rasa_side_offline(conversation_id, settings.tracker_db_url, os.environ.get("HANDOFF_DB"))
    print(f"rasa (not running, its stores directly): {counts['tracker_events']} tracker events, "
          f"{counts['outbox_events']} outbox events erased; the queued command tells the person when Rasa is back")
    return 0


async def _send_now(engine: Any, settings: Settings, token: str, conversation_id: str) -> bool:
    from desk.commands import Outbox
    from desk.rasa_client import RasaClient

    client = RasaClient(settings.rasa_url, settings.rasa_api_token or "", token)
    try:
        return await Outbox(engine, client, settings.command_retry_max_seconds).flush(conversation_id)
    finally:
        await client.close()


def _rasa_running(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url.rstrip("/") + "/", timeout=2):
            return True
    except Exception:  # refused, timeout: not running here
        return False


def _secret_from_file(name: str) -> str:
    """A token that scripts/services.py generated into var/secrets.env (never printed)."""
    path = ROOT / "var" / "secrets.env"
    try:
        for line in path.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == name:
                return value.strip()
    except OSError:
        pass
    return ""


if __name__ == "__main__":
    sys.exit(main())
