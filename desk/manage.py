"""`python -m desk.manage`: accounts and retention from the command line.

    create-user --username U --first-name Léa --role counsellor|supervisor
    list-users | disable-user --username U | reset-password --username U | purge
Passwords are read with getpass, or from DESK_USER_PASSWORD (for scripts)."""
from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from typing import List, Optional

from sqlalchemy import create_engine, select

from desk import auth, purge
from desk.config import Settings
from desk.db import init_db, make_engine
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
            tracker = create_engine(settings.tracker_db_url, future=True, hide_parameters=True) if settings.tracker_db_url else None
            counts = purge.purge(engine, tracker, settings.retention_days)
            print(f"purged {counts['cases']} closed cases, {counts['tracker_events']} tracker events")
    except auth.AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
