"""Context extraction from a Rasa 3.6 tracker, and the one-sentence summary."""
from desk.context import extract_context
from desk.summary import summarise
from tests.desk.fake_rasa import TRACKER


def test_context_from_tracker():
    ctx = extract_context(TRACKER)
    assert ctx["channel"] == "rest"
    assert (ctx["language"], ctx["user_role"], ctx["age"], ctx["flow"], ctx["platform"]) == \
        ("fr", "teen", 14, "sextortion", "snapchat")
    assert ctx["risk_level"] == "critical" and ctx["risk_reasons"] == ["crisis"] and ctx["crisis_type"] == "suicide"
    # The last user text before handoff_status became queued.
    assert ctx["trigger_message"] == "je veux parler à quelqu'un"
    assert ctx["answers"] == {"paid": "yes", "posted": "no", "deadline": "yes"}
    # Step messages only, each once, with the first line of their text.
    assert ctx["advice_given"] == [
        {"action": "step_sextortion_paid", "text": "Tu as payé : ce n'est pas ta faute, et ce n'est pas trop tard."},
        {"action": "step_sextortion_evidence", "text": "**Avant de bloquer, garde les preuves** : le pseudo, les menaces, les dates."},
        {"action": "utter_sextortion_step_report", "text": "Signale le compte dans l'application."},
    ]
    senders = [m["sender"] for m in ctx["transcript"]]
    assert senders.count("user") == 4 and "system" in senders and senders[0] == "user"
    assert ctx["transcript"][0]["text"].startswith("une fille sur snap")
    assert all(isinstance(m["timestamp"], float) for m in ctx["transcript"])


def test_trigger_falls_back_to_the_message_that_made_risk_critical():
    events = [e for e in TRACKER["events"] if not (e.get("event") == "slot" and e.get("name") == "handoff_status")]
    ctx = extract_context(dict(TRACKER, events=events))
    assert ctx["trigger_message"] == "elle dit qu'elle publie ce soir, j'ai envie de mourir"


def test_context_tolerates_an_empty_or_odd_tracker():
    ctx = extract_context({"slots": {"age": "quatorze", "risk_level": "weird", "risk_reasons": "x"}, "events": [None, 3]})
    assert ctx["age"] is None and ctx["risk_level"] == "low" and ctx["risk_reasons"] == ["x"]
    assert ctx["transcript"] == [] and ctx["trigger_message"] is None and ctx["answers"] == {}


def test_summary_sentence_french_and_english():
    ctx = extract_context(TRACKER)
    assert summarise(ctx, "fr") == ("Adolescent·e de 14 ans, chantage à la vidéo intime sur Snapchat, a déjà payé, "
                                    "menace de publication, ultimatum en cours, risque critique (crisis).")
    assert summarise(ctx, "en") == ("Teenager, 14, sextortion (intimate video blackmail) on Snapchat, has already paid, "
                                    "threatened with publication, deadline set, critical risk (crisis).")


def test_summary_with_little_known():
    assert summarise({}, "fr") == "Personne (rôle non précisé), risque faible."
    assert summarise({"user_role": "parent", "age": 12, "flow": "grooming", "answers": {"meeting_proposed": "yes"},
                      "risk_level": "high"}, "fr") == \
        "Parent (enfant de 12 ans), mise en confiance par un adulte (grooming), rencontre proposée, risque élevé."
