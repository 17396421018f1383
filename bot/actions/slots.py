"""Slot names shared by the actions (the contract is in docs/dialogue-design.md)."""

LANGUAGE = "language"
HANDOFF_STATUS = "handoff_status"
# The desk's estimated wait when the case was queued (None when unknown); the queue line uses it.
HANDOFF_WAIT = "handoff_wait_minutes"
HUMAN_OFFERED = "human_offered"

