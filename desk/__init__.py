"""Counsellor desk: the human side of the live handoff (see docs/handoff.md)."""
