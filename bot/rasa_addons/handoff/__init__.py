"""Live handoff to a counsellor, on the Rasa side (see docs/handoff.md).

registry  which conversations are with a person (survives session expiry and /restart)
broker    forwards the events the desk needs, through a durable outbox
watchdog  the emergency answer when a crisis typed during a handoff gets no counsellor reply
"""
