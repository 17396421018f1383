"""Tables (SQLAlchemy Core). Times are Unix seconds (float): portable between SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import (JSON, Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text,
                        UniqueConstraint, text)

metadata = MetaData()

users = Table(
    "desk_users", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("first_name", String(40), nullable=False),
    Column("role", String(16), nullable=False),  # counsellor | supervisor
    Column("password_hash", String(255), nullable=False),
    Column("totp_secret", String(64)),
    Column("totp_enabled", Boolean, nullable=False, default=False),
    Column("totp_last_counter", Integer),  # refuses replay of a code already used
    Column("failed_logins", Integer, nullable=False, default=0),  # wrong passwords since the last right one
    Column("totp_failures", Integer, nullable=False, default=0),  # wrong codes since the last right code (a password never resets it)
    Column("locked_until", Float),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("last_seen_at", Float),
)

sessions = Table(
    "desk_sessions", metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 of the cookie, never the cookie
    Column("user_id", Integer, ForeignKey("desk_users.id", ondelete="CASCADE"), nullable=False),
    # "totp" (password ok, code pending) | "enrol" (password ok, TOTP required but not set up yet) | "full"
    Column("stage", String(8), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_seen_at", Float, nullable=False),
)

# Wrong passwords and codes per client address: after a few, the address waits longer and longer.
login_throttle = Table(
    "desk_login_throttle", metadata,
    Column("address", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", Float, nullable=False),
    Column("blocked_until", Float),
)

cases = Table(
    "desk_cases", metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(255), nullable=False),
    Column("status", String(8), nullable=False),  # queued | active | closed
    Column("channel", String(64)),
    Column("language", String(8)),
    Column("user_role", String(32)),
    Column("age", Integer),
    Column("flow", String(64)),
    Column("platform", String(64)),
    Column("risk_level", String(16), nullable=False, default="low"),
    Column("risk_reasons", JSON, nullable=False, default=list),
    Column("crisis_type", String(32)),
    Column("trigger_message", Text),
    Column("answers", JSON, nullable=False, default=dict),
    Column("advice_given", JSON, nullable=False, default=list),
    Column("summary", Text),
    Column("created_at", Float, nullable=False),
    Column("claimed_at", Float),
    Column("closed_at", Float),
    Column("assigned_to", Integer, ForeignKey("desk_users.id")),
    Column("alert", Boolean, nullable=False, default=False),
    Column("alert_at", Float),
    Column("user_left", Boolean, nullable=False, default=False),
    Column("left_at", Float),
    Column("outcome", String(64)),
    Column("feedback", String(16)),  # the user's answer after closing: helpful | not_helpful | skipped
    Column("context_status", String(8), nullable=False, default="pending"),  # pending | done
    Column("context_attempts", Integer, nullable=False, default=0),
    Column("next_context_at", Float),
    # One open case per conversation, enforced by the database even under concurrent ingest.
    Index("uq_desk_open_case", "conversation_id", unique=True,
          sqlite_where=text("status != 'closed'"), postgresql_where=text("status != 'closed'")),
    Index("ix_desk_cases_status", "status"),
)

messages = Table(
    "desk_messages", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("desk_cases.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("sender", String(16), nullable=False),  # user | bot | counsellor | system
    Column("author", String(40)),
    Column("text", Text, nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("message_id", String(64), index=True),  # the desk's id for counsellor messages
    Column("delivered", Boolean),  # counsellor messages: False until Rasa accepted it
)

notes = Table(
    "desk_notes", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("desk_cases.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("user_id", Integer, ForeignKey("desk_users.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

audit = Table(
    "desk_audit", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer),
    Column("username", String(64)),
    Column("action", String(32), nullable=False),
    Column("case_id", Integer, index=True),
    Column("conversation_id", String(255)),  # emptied by the purge with the case
    Column("detail", String(128)),  # codes and usernames only, never message text
    Column("created_at", Float, nullable=False),
)

ingested_events = Table(
    "desk_ingested_events", metadata,
    Column("event_id", String(200), primary_key=True),
    Column("received_at", Float, nullable=False),
)

# A case still queued when the counsellors' day ended: the person was told, once per closing.
queue_closing_notices = Table(
    "desk_queue_closing_notices", metadata,
    Column("case_id", Integer, ForeignKey("desk_cases.id", ondelete="CASCADE"), primary_key=True),
    Column("closing_at", Float, primary_key=True),  # the end of the opening hours it was about
    Column("told_at", Float, nullable=False),
)

webhook_outbox = Table(
    "desk_webhook_outbox", metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer),
    Column("body", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("delivered_at", Float),
    Column("last_error", String(200)),
)

# Desk -> Rasa commands (docs/handoff.md), written in the same transaction as the case change
# they project, delivered in order per conversation (seq), retried until Rasa applied them.
rasa_commands = Table(
    "desk_rasa_commands", metadata,
    Column("id", String(64), primary_key=True),  # Rasa records it: a retry is applied once
    Column("conversation_id", String(255), nullable=False),
    Column("seq", Integer, nullable=False),  # 1, 2, 3... per conversation
    Column("type", String(16), nullable=False),  # claim | transfer | message | requeue | close | notice | erase
    Column("payload", JSON, nullable=False),  # a counsellor message's text: purged with its case
    Column("case_id", Integer),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_try_at", Float, nullable=False),
    Column("last_error", String(64)),  # an HTTP status or an exception's type, never a body
    UniqueConstraint("conversation_id", "seq", name="uq_desk_rasa_commands_seq"),
    Index("ix_desk_rasa_commands_pending", "delivered_at", "next_try_at"),
)
