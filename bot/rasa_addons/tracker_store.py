"""Rasa's SQL tracker store, keeping what people wrote out of error messages and logs.

Rasa's `SQLTrackerStore` builds its SQLAlchemy engine without `hide_parameters`: a database
error (a locked or full disk, a dropped connection) then carries the statement's bound
parameters, that is the conversation's events with the child's text, into the exception and
from there into Rasa's log. This subclass (`type: bot.rasa_addons.tracker_store.PrivateSQLTrackerStore`
in endpoints.yml, same settings as `type: SQL`) swaps in the same engine with
`hide_parameters=True`, keeps a SQLite file readable by its owner only, and turns on SQLite's
`secure_delete` (bot/sqlite_hygiene.py): an erased or purged conversation is overwritten, not
left in the file's free pages.

It also arms the crisis watchdog when a conversation is saved (handoff/watchdog.py), and
starts an erasure the person confirmed (erasure.py): here, because every turn is saved,
whatever event broker is configured, or none.
"""
from __future__ import annotations

import logging
import os
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs

from bot.sqlite_hygiene import secure_delete_on_connect

logger = logging.getLogger(__name__)


def private_sqlite_file(url: Any) -> None:
    """A SQLite database file (and so its journal and WAL, which SQLite creates with the
    database's mode) readable by its owner only."""
    url = sa.engine.make_url(url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        if os.path.exists(url.database):
            os.chmod(url.database, 0o600)


class PrivateSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # creates the tables (DDL only: no parameter to hide)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, hide_parameters=True, **create_engine_kwargs(url))
        secure_delete_on_connect(self.engine)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        private_sqlite_file(url)

    async def stream_events(self, tracker: Any) -> None:
        try:
            from bot.rasa_addons.handoff.watchdog import arm_after_a_crisis

            arm_after_a_crisis(tracker)
        except Exception:  # never lose a turn over it; the desk still shows the alert
            logger.exception("Could not arm the crisis watchdog")
        try:
            from bot.rasa_addons import erasure

            if erasure.confirmed_this_turn(tracker):
                erasure.schedule(tracker.sender_id)  # runs once this save has released the conversation
        except Exception:
            logger.exception("Could not start an erasure")
        await super().stream_events(tracker)
