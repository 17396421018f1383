"""Slot names shared by the actions (the contract is in docs/dialogue-design.md)."""

FLOW = "flow"
RISK_LEVEL = "risk_level"
RISK_REASONS = "risk_reasons"
USER_ROLE = "user_role"
LANGUAGE = "language"
PLATFORM = "platform"
AGE = "age"
HANDOFF_STATUS = "handoff_status"
SKIPPED = "skipped_slots"
HUMAN_OFFERED = "human_offered"
REQUESTED = "requested_slot"

# Answers that belong to one flow and are asked again when a new flow starts.
PER_FLOW_ANSWERS = ("safe_now", "paid", "posted", "deadline", "meeting_proposed", "school_involved", "can_login", SKIPPED)
