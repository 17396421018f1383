"""The rasa-sdk action server: decisions only; every text comes from content/ via Rasa's NLG.

flows.py   start a flow, give its steps (content/flows/*.yml)
risk.py    keep risk_level and its reasons
forms.py   the guided questions: skipping, ages, platforms
handoff.py hand the conversation to a counsellor; the feedback question after it
"""
