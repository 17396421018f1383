"""Slot names shared by the actions (the contract is in docs/dialogue-design.md)."""

FLOW = "flow"
RISK_LEVEL = "risk_level"
RISK_REASONS = "risk_reasons"
USER_ROLE = "user_role"
LANGUAGE = "language"
PLATFORM = "platform"
AGE = "age"
HANDOFF_STATUS = "handoff_status"
# The desk's estimated wait when the case was queued (None when unknown); the queue line uses it.
HANDOFF_WAIT = "handoff_wait_minutes"
SKIPPED = "skipped_slots"
HUMAN_OFFERED = "human_offered"
REQUESTED = "requested_slot"

