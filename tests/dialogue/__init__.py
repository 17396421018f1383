"""Simulated conversations and the blind set, played against the running assistant."""
