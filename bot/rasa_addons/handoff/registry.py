"""Which conversations have an open case, and which are with a counsellor right now.

Rasa's own pause (`ConversationPaused`) is cleared by a new session and by `/restart`,
so the handoff state is kept here as well, outside the tracker: a small SQLite table
written by the event broker from the tracker's own `handoff_status` events, and read
by the policies before every prediction. A conversation stays with the person until
its case is closed, whatever happens to the Rasa session.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
import time
from pathlib import Path
from typing import Optional

# A case is open (the desk receives the conversation's messages) while queued or active;
# the bot is quiet (human mode) only while active: a counsellor has the conversation.
OPEN_STATUSES = ("queued", "active")
HUMAN_MODE = "active"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS human_mode (
    conversation_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    updated_at REAL NOT NULL,
    last_counsellor_at REAL
);
CREATE TABLE IF NOT EXISTS conversation_owner (
    conversation_id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    created_at REAL NOT NULL
);
-- Desk commands applied to a conversation (desk_commands channel): a retry is a no-op.
CREATE TABLE IF NOT EXISTS applied_commands (
    command_id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    applied_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_applied_commands_conversation ON applied_commands (conversation_id, seq);
-- A crisis typed while a counsellor has the conversation: when the emergency answer is due
-- (handoff/watchdog.py). Stored, so a restart in the grace period loses nothing.
CREATE TABLE IF NOT EXISTS crisis_deadlines (
    conversation_id TEXT PRIMARY KEY,
    alert_at REAL NOT NULL,
    due_at REAL NOT NULL,
    claimed_until REAL,
    fired_at REAL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""


def default_path() -> Path:
    return Path(os.environ.get("HANDOFF_DB", "var/handoff.db"))


CACHE_SIZE = 20000


class Registry:
    """Thread-safe; one short connection per write.

    The Rasa process is the only writer (the desk's commands set `active`, `queued` after
    a requeue and `closed`; the broker records `queued` when the bot opens a case), so
    statuses are also kept in memory and a read before every prediction costs no
    database access.
    """

    def __init__(self, path: Optional[Path] = None) -> None:
        self.path = Path(path or default_path())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Readable by its owner only (SQLite gives its journal and WAL the same mode).
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(self.path, 0o600)
        self._lock = threading.Lock()
        self._cache: "OrderedDict[str, Optional[str]]" = OrderedDict()
        self._owners: "OrderedDict[str, str]" = OrderedDict()
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")  # kept by the file: readers never wait for the writer
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        # The outbox holds messages' text: a deleted row is overwritten, not left in free pages.
        db.execute("PRAGMA secure_delete=ON")
        return db

    def _remember(self, conversation_id: str, status: Optional[str]) -> None:
        self._cache.pop(conversation_id, None)
        self._cache[conversation_id] = status
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    # ---- human mode ----
    def status(self, conversation_id: str) -> Optional[str]:
        with self._lock:
            if conversation_id in self._cache:
                return self._cache[conversation_id]
        with self._connect() as db:
            row = db.execute("SELECT status FROM human_mode WHERE conversation_id = ?", (conversation_id,)).fetchone()
        status = row[0] if row else None
        with self._lock:
            self._remember(conversation_id, status)
        return status

    def in_human_mode(self, conversation_id: str) -> bool:
        """A counsellor has the conversation (`active`): the bot is quiet."""
        return self.status(conversation_id) == HUMAN_MODE

    def case_open(self, conversation_id: str) -> bool:
        """Queued or active: the desk receives the conversation's messages."""
        return self.status(conversation_id) in OPEN_STATUSES

    def set_status(self, conversation_id: str, status: Optional[str]) -> None:
        with self._lock, self._connect() as db:
            self._remember(conversation_id, status)
            if status:
                db.execute(
                    "INSERT INTO human_mode (conversation_id, status, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT(conversation_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
                    (conversation_id, status, time.time()),
                )
            else:
                db.execute("DELETE FROM human_mode WHERE conversation_id = ?", (conversation_id,))

    def forget_closed(self, older_than_seconds: float) -> int:
        """Drop closed handoffs past the retention period (the desk purges the rest)."""
        with self._lock, self._connect() as db:
            cursor = db.execute(
                "DELETE FROM human_mode WHERE status = 'closed' AND updated_at < ?", (time.time() - older_than_seconds,)
            )
            # Owners of conversations past the retention period (the desk deletes the conversations);
            # a conversation still in use is claimed again by its own channel at its next message.
            db.execute("DELETE FROM conversation_owner WHERE created_at < ?", (time.time() - older_than_seconds,))
            db.execute("DELETE FROM applied_commands WHERE applied_at < ?", (time.time() - older_than_seconds,))
            db.execute("DELETE FROM crisis_deadlines WHERE fired_at IS NOT NULL AND fired_at < ?",
                       (time.time() - older_than_seconds,))
            self._owners.clear()
            self._cache.clear()
            return cursor.rowcount

    # ---- desk commands applied (bot/rasa_addons/handoff/commands.py) ----
    def command_applied(self, conversation_id: str, command_id: str, seq: int) -> bool:
        """This command, or a later one of the same conversation, was applied already: the
        desk delivers in order, so an older sequence number is a retry."""
        with self._connect() as db:
            if db.execute("SELECT 1 FROM applied_commands WHERE command_id = ?", (command_id,)).fetchone():
                return True
            row = db.execute("SELECT MAX(seq) FROM applied_commands WHERE conversation_id = ?",
                             (conversation_id,)).fetchone()
        return row is not None and row[0] is not None and row[0] >= seq

    def record_command(self, conversation_id: str, command_id: str, seq: int, kind: str) -> None:
        with self._lock, self._connect() as db:
            db.execute("INSERT OR IGNORE INTO applied_commands (command_id, conversation_id, seq, type, applied_at) "
                       "VALUES (?, ?, ?, ?, ?)", (command_id, conversation_id, seq, kind, time.time()))

    def last_command_seq(self, conversation_id: str) -> int:
        with self._connect() as db:
            row = db.execute("SELECT MAX(seq) FROM applied_commands WHERE conversation_id = ?",
                             (conversation_id,)).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    # ---- crisis deadlines (handoff/watchdog.py) ----
    def arm_deadline(self, conversation_id: str, alert_at: float, due_at: float) -> bool:
        """One pending emergency answer per conversation: a pending deadline is kept (the
        first crisis message counts); one that already fired is replaced by a later crisis
        only (the same crisis seen again at a later save is not a new one)."""
        with self._lock, self._connect() as db:
            cursor = db.execute(
                "INSERT INTO crisis_deadlines (conversation_id, alert_at, due_at) VALUES (?, ?, ?) "
                "ON CONFLICT(conversation_id) DO UPDATE SET alert_at = excluded.alert_at, due_at = excluded.due_at, "
                "claimed_until = NULL, fired_at = NULL "
                "WHERE crisis_deadlines.fired_at IS NOT NULL AND crisis_deadlines.alert_at < excluded.alert_at",
                (conversation_id, alert_at, due_at))
            return cursor.rowcount == 1

    def due_deadlines(self, now: float) -> list:
        """(conversation_id, alert_at) of the deadlines due and not claimed by a running send."""
        with self._connect() as db:
            return db.execute(
                "SELECT conversation_id, alert_at FROM crisis_deadlines WHERE fired_at IS NULL AND due_at <= ? "
                "AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY due_at LIMIT 100", (now, now)).fetchall()

    def claim_deadline(self, conversation_id: str, now: float, lease_seconds: float) -> bool:
        """Atomic: of two sweeps (the one at start-up and the periodic one), one wins."""
        with self._lock, self._connect() as db:
            return db.execute(
                "UPDATE crisis_deadlines SET claimed_until = ? WHERE conversation_id = ? AND fired_at IS NULL "
                "AND (claimed_until IS NULL OR claimed_until < ?)",
                (now + lease_seconds, conversation_id, now)).rowcount == 1

    def deadline_done(self, conversation_id: str, now: float) -> None:
        with self._lock, self._connect() as db:
            db.execute("UPDATE crisis_deadlines SET fired_at = ?, claimed_until = NULL WHERE conversation_id = ?",
                       (now, conversation_id))

    def release_deadline(self, conversation_id: str, retry_at: float) -> None:
        with self._lock, self._connect() as db:
            db.execute("UPDATE crisis_deadlines SET claimed_until = NULL, due_at = ? WHERE conversation_id = ? "
                       "AND fired_at IS NULL", (retry_at, conversation_id))
    def forget_abandoned(self, older_than_seconds: float) -> int:
        """Drop open handoffs (queued or active) untouched for this long: the desk closes and
        purges such abandoned cases after the same period, and a stale `active` left here
        would keep the bot quiet in that conversation for good."""
        cutoff = time.time() - older_than_seconds
        with self._lock, self._connect() as db:
            cursor = db.execute("DELETE FROM human_mode WHERE status != 'closed' "
                                "AND MAX(updated_at, COALESCE(last_counsellor_at, 0)) < ?", (cutoff,))
            self._cache.clear()
            return cursor.rowcount

    def counsellor_spoke(self, conversation_id: str, at: float) -> None:
        with self._lock, self._connect() as db:
            db.execute("UPDATE human_mode SET last_counsellor_at = ? WHERE conversation_id = ?", (at, conversation_id))

    def last_counsellor_at(self, conversation_id: str) -> Optional[float]:
        with self._connect() as db:
            row = db.execute(
                "SELECT last_counsellor_at FROM human_mode WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()
        return row[0] if row else None

    # ---- the channel that owns each conversation ----
    def claim_owner(self, conversation_id: str, channel: str) -> str:
        """Record `channel` as the conversation's owner unless one is recorded; returns the owner.
        The first channel to write to a conversation owns it for good: replies and pushed
        messages go out through it, and no other channel may write to it."""
        with self._lock:
            known = self._owners.get(conversation_id)
        if known:
            return known
        with self._lock, self._connect() as db:
            db.execute("INSERT OR IGNORE INTO conversation_owner (conversation_id, channel, created_at) VALUES (?, ?, ?)",
                       (conversation_id, channel, time.time()))
            row = db.execute("SELECT channel FROM conversation_owner WHERE conversation_id = ?",
                             (conversation_id,)).fetchone()
            owner = row[0] if row else channel
            self._remember_owner(conversation_id, owner)
        return owner

    def owner(self, conversation_id: str) -> Optional[str]:
        """The channel that owns the conversation, or None if none is recorded."""
        with self._lock:
            known = self._owners.get(conversation_id)
        if known:
            return known
        with self._connect() as db:
            row = db.execute("SELECT channel FROM conversation_owner WHERE conversation_id = ?",
                             (conversation_id,)).fetchone()
        if row is None:
            return None
        with self._lock:
            self._remember_owner(conversation_id, row[0])
        return row[0]

    def _remember_owner(self, conversation_id: str, channel: str) -> None:
        self._owners.pop(conversation_id, None)
        self._owners[conversation_id] = channel
        while len(self._owners) > CACHE_SIZE:
            self._owners.popitem(last=False)

    # ---- outbox (events waiting for the desk) ----
    def enqueue(self, body: str) -> None:
        with self._lock, self._connect() as db:
            db.execute("INSERT INTO outbox (body, created_at) VALUES (?, ?)", (body, time.time()))

    def pending(self, limit: int = 50) -> list:
        with self._connect() as db:
            return db.execute("SELECT seq, body FROM outbox ORDER BY seq LIMIT ?", (limit,)).fetchall()

    def delivered(self, up_to_seq: int) -> None:
        with self._lock, self._connect() as db:
            db.execute("DELETE FROM outbox WHERE seq <= ?", (up_to_seq,))

    def purge_outbox(self, older_than_seconds: float) -> int:
        """Events the desk has refused or not taken for this long are dropped: the outbox holds
        what people wrote, and must not keep it forever if the desk keeps refusing. An `erase`
        event stays (it holds no text, and without it the desk would keep the conversation)."""
        with self._lock, self._connect() as db:
            return db.execute("DELETE FROM outbox WHERE created_at < ? AND json_extract(body, '$.type') IS NOT 'erase'",
                              (time.time() - older_than_seconds,)).rowcount

    # ---- erasure (bot/rasa_addons/erasure.py) ----
    def erase(self, conversation_id: str) -> int:
        """Everything this registry holds about one conversation: its handoff status, its
        owner, and its events still waiting for the desk. Returns the outbox rows deleted."""
        with self._lock, self._connect() as db:
            db.execute("DELETE FROM human_mode WHERE conversation_id = ?", (conversation_id,))
            db.execute("DELETE FROM conversation_owner WHERE conversation_id = ?", (conversation_id,))
            # A pending emergency answer dies with the conversation; the applied commands' ids
            # stay (no text): a retried `erase` command is then a no-op.
            db.execute("DELETE FROM crisis_deadlines WHERE conversation_id = ?", (conversation_id,))
            deleted = db.execute("DELETE FROM outbox WHERE json_extract(body, '$.conversation_id') = ?",
                                 (conversation_id,)).rowcount
            self._cache.pop(conversation_id, None)
            self._owners.pop(conversation_id, None)
        return deleted

    def compact(self) -> bool:
        """Rewrite the file without the free pages deleted rows left (bot/sqlite_hygiene.py)."""
        from bot.sqlite_hygiene import compact_file

        with self._lock:
            return compact_file(self.path)

    def pending_count(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]


_shared: Optional[Registry] = None
_shared_lock = threading.Lock()


def shared_registry() -> Registry:
    """One registry per process, at HANDOFF_DB (default var/handoff.db)."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.path != default_path():
            _shared = Registry()
        return _shared


def human_status(conversation_id: str, slot_value: Optional[str]) -> Optional[str]:
    """The handoff status that holds now. `active` and `closed` come from the desk's commands
    applied here (the desk owns the case), never from an event broker; the registry wins over
    the slot (which a new session or a restart may have cleared). `queued` is the bot's own
    decision (action_request_human): the slot says it even when no broker recorded it, e.g.
    for a new request after a closed case. Never raises: if the registry cannot be read, the
    slot decides."""
    try:
        status = shared_registry().status(conversation_id)
    except Exception:
        status = None
    if status in OPEN_STATUSES:
        return status
    if slot_value == "queued":
        return slot_value
    return status or slot_value
