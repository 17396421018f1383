from bot.safety.risk import assess


def test_levels() -> None:
    assert assess({})[0] == "low"
    assert assess({"flow": "cyberbullying"})[0] == "low"
    assert assess({"flow": "sextortion", "age": 16})[0] == "medium"
    assert assess({"flow": "sextortion", "age": 14})[0] == "high"
    assert assess({"flow": "sextortion", "deadline": "yes"})[0] == "high"
    assert assess({"flow": "grooming", "meeting_proposed": "yes"})[0] == "high"
    assert assess({"safe_now": "no"})[0] == "critical"
    assert assess({"crisis_type": "suicide"})[0] == "critical"
    assert assess({}, ["crisis_check"])[0] == "high"


def test_reasons_are_kept_and_level_never_goes_down() -> None:
    level, reasons = assess({"risk_level": "critical", "risk_reasons": ["crisis"], "flow": "report_account"})
    assert level == "critical" and "crisis" in reasons
    level, reasons = assess({"risk_level": "high", "flow": "sextortion", "age": 17})
    assert level == "high"
    level, reasons = assess({"flow": "sextortion", "age": 13, "paid": "yes", "posted": "yes"})
    assert {"under_15", "already_paid", "already_posted"} <= set(reasons)


def test_a_crisis_read_by_the_classifier_alone_is_not_critical_until_confirmed() -> None:
    from bot.safety.risk import assess

    level, reasons = assess({"crisis_type": "unknown", "flow": "cyberbullying", "age": 16})
    assert level != "critical" and "crisis" not in reasons
    level, _ = assess({"crisis_type": "suicide", "flow": "cyberbullying", "age": 16})
    assert level == "critical"
