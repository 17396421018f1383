"""The rasa-sdk action server: only what needs the outside world; every text comes from content/ via Rasa's NLG.

handoff.py hand the conversation to a counsellor (asks the desk's status); the feedback question after it

The guided flows, the risk level and the crisis net run inside Rasa (bot/rasa_addons/policies/),
so that they still work when this server is down.
"""
