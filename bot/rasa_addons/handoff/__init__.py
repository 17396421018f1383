"""Live handoff to a counsellor, on the Rasa side (see docs/handoff.md).

registry  which conversations are with a person (the desk's commands applied; survives session
          expiry and /restart), the desk's commands applied, the crisis deadlines
commands  the desk's commands (claim, message, transfer, requeue, close, notice), applied once
broker    forwards the events the desk needs, through a durable outbox
watchdog  the emergency answer when a crisis typed during a handoff gets no counsellor reply
"""
