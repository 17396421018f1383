"""The turn planner of the guided flows (bot/dialogue/planner.py): plain data in, actions out."""
from __future__ import annotations

from typing import Any

import pytest

from bot.dialogue.planner import (
    ANYTHING_ELSE, GLAD_SAFE, MAX_TURN_MESSAGES, OFFER_HUMAN, RECAP, REQUEST_HUMAN, SAFETY_CLARIFY,
    WELLBEING_SUPPORT, ADVICE_MORE, Turn, plan_turn,
)

SEXTORTION_QUESTIONS = ["wellbeing", "age", "paid", "platform", "posted", "deadline"]


def turn(**overrides: Any) -> Turn:
    base = dict(
        flow="sextortion", urgent="utter_sextortion_urgent", questions=SEXTORTION_QUESTIONS,
        slots={"platform": "snapchat"}, advice_parts=3, messages_before=0, risk_level="medium",
    )
    base.update(overrides)
    return Turn(**base)


def test_a_new_problem_gets_the_urgent_steps_then_the_first_open_question() -> None:
    plan = plan_turn(turn(flow_started=True))
    assert plan.actions == ["utter_sextortion_urgent", "utter_ask_wellbeing"]


def test_a_question_whose_answer_is_known_is_never_asked() -> None:
    slots = {"platform": "snapchat", "wellbeing": "ok", "age": 14, "paid": "no"}
    plan = plan_turn(turn(slots=slots, messages_before=2, asked={"wellbeing": 1}, user_turns_in_flow=2))
    assert plan.actions == ["utter_ask_posted"]


def test_not_understood_once_the_question_is_rephrased_then_the_bot_moves_on() -> None:
    slots = {"platform": "snapchat", "wellbeing": "ok"}
    first = plan_turn(turn(slots=slots, pending="age", asked={"wellbeing": 1, "age": 1}, messages_before=3, user_turns_in_flow=2))
    assert first.actions == ["utter_reask_age"]
    second = plan_turn(turn(slots=slots, pending="age", asked={"wellbeing": 1, "age": 2}, messages_before=4, user_turns_in_flow=2))
    assert "age" in second.updates["skipped_slots"]
    assert "utter_ask_age" not in second.actions and "utter_reask_age" not in second.actions
    yes_no = plan_turn(turn(slots=dict(slots, age=14), pending="paid", asked={"wellbeing": 1, "age": 1, "paid": 2},
                            messages_before=4))
    assert yes_no.updates["paid"] == "unknown"


@pytest.mark.parametrize("messages_before", [0, 2, 4])
def test_what_now_gives_the_advice_at_once_and_the_open_questions_after(messages_before: int) -> None:
    plan = plan_turn(turn(what_now=True, messages_before=messages_before))
    assert plan.actions[:3] == ["utter_advice_1", "utter_advice_2", "utter_advice_3"]
    assert plan.actions[3] == "utter_ask_wellbeing"  # the question comes after the advice


def test_what_now_in_the_first_message_stays_within_four_messages() -> None:
    plan = plan_turn(turn(flow_started=True, what_now=True))
    assert plan.actions == ["utter_sextortion_urgent", "utter_advice_1", "utter_advice_2", "utter_advice_3"]
    assert len(plan.actions) <= MAX_TURN_MESSAGES


def test_the_advice_comes_before_the_message_budget_is_spent() -> None:
    # Five bot messages already: one more question would put the end of the advice past 8.
    slots = {"platform": "snapchat", "wellbeing": "ok", "age": 14, "paid": "no"}
    plan = plan_turn(turn(slots=slots, messages_before=5, asked={"wellbeing": 1, "age": 1, "paid": 1}))
    assert plan.actions[:3] == ["utter_advice_1", "utter_advice_2", "utter_advice_3"]


def test_the_advice_comes_by_the_third_turn_whatever_the_answers() -> None:
    slots = {"platform": "snapchat", "wellbeing": "ok"}
    assert plan_turn(turn(slots=slots, user_turns_in_flow=2, messages_before=1, asked={"wellbeing": 1})).actions == ["utter_ask_age"]
    plan = plan_turn(turn(user_turns_in_flow=3, messages_before=1))
    assert plan.actions[0] == "utter_advice_1"


def test_high_risk_gets_the_offer_of_a_person_after_the_advice_once() -> None:
    plan = plan_turn(turn(what_now=True, risk_level="high", advice_parts=2))
    assert plan.actions == ["utter_advice_1", "utter_advice_2", OFFER_HUMAN]
    assert plan.updates["human_offered"] is True
    again = plan_turn(turn(what_now=True, risk_level="high", advice_parts=1, slots={"human_offered": True}))
    assert OFFER_HUMAN not in again.actions
    queued = plan_turn(turn(what_now=True, risk_level="high", advice_parts=1, slots={"handoff_status": "queued"}))
    assert OFFER_HUMAN not in queued.actions


def test_ok_after_the_offer_accepts_it() -> None:
    plan = plan_turn(turn(pending_offer=True, accepts=True, advice_given=True, advice_parts=0))
    assert plan.actions == [REQUEST_HUMAN]


def test_after_the_advice_what_now_gives_the_next_steps_again_never_nothing() -> None:
    done = {"platform": "snapchat", "wellbeing": "ok", "age": 14, "paid": "no", "posted": "no", "deadline": "no"}
    plan = plan_turn(turn(slots=done, advice_given=True, advice_parts=0, what_now=True))
    assert plan.actions == [RECAP]


def test_after_the_advice_a_new_fact_adds_its_step() -> None:
    done = {"platform": "snapchat", "wellbeing": "ok", "age": 14, "paid": "no", "posted": "yes", "deadline": "no"}
    plan = plan_turn(turn(slots=done, advice_given=True, advice_parts=1, pending="posted", answered=True))
    assert plan.actions == ["utter_advice_1", ANYTHING_ELSE]


def test_after_the_advice_small_talk_is_left_to_the_rules() -> None:
    done = {"platform": "snapchat", "wellbeing": "ok", "age": 14, "paid": "no", "posted": "no", "deadline": "no"}
    assert plan_turn(turn(slots=done, advice_given=True, advice_parts=0)).actions == []


def test_a_low_mood_gets_the_3114_gently_and_the_flow_goes_on() -> None:
    plan = plan_turn(turn(slots={"platform": "snapchat", "wellbeing": "low"}, pending="wellbeing", answered=True,
                          asked={"wellbeing": 1}, messages_before=2, user_turns_in_flow=2))
    assert plan.actions == [WELLBEING_SUPPORT, "utter_ask_age"]


def test_safety_answers() -> None:
    yes = plan_turn(turn(flow=None, pending="safe_at_home", answered=True, slots={"safe_at_home": "yes"}))
    assert yes.actions == [GLAD_SAFE]
    unsure = plan_turn(turn(flow=None, pending="safe_at_home", unsure_about_safety=True, asked={"safe_at_home": 1}))
    assert unsure.actions == [SAFETY_CLARIFY]
    # Still unsure after the clarifying question: no third question, no alarm.
    again = plan_turn(turn(flow=None, pending="safe_at_home", unsure_about_safety=True, asked={"safe_at_home": 2}))
    assert again.actions == []


def test_conditional_questions_follow_the_facts() -> None:
    grooming = ["age", "platform", "meeting_proposed"]
    plan = plan_turn(turn(flow="grooming", urgent="utter_grooming_urgent", questions=grooming,
                          slots={"age": 12, "platform": "roblox"}, messages_before=2, asked={"age": 1}, user_turns_in_flow=2))
    assert plan.actions == ["utter_ask_meeting_proposed"]


def test_no_flow_no_plan() -> None:
    assert plan_turn(Turn(flow=None)).actions == []


def test_advice_too_long_for_one_turn_comes_in_two_with_la_suite() -> None:
    first = plan_turn(turn(flow_started=True, what_now=True, advice_parts=4))
    assert first.actions == ["utter_sextortion_urgent", "utter_advice_1", "utter_advice_2", ADVICE_MORE]
    # Whatever the next message, the rest comes (then the open question).
    second = plan_turn(turn(advice_given=True, advice_parts=2, messages_before=5))
    assert second.actions == ["utter_advice_1", "utter_advice_2", "utter_ask_wellbeing"]
    no_urgent = plan_turn(turn(what_now=True, advice_parts=5))
    assert no_urgent.actions == ["utter_advice_1", "utter_advice_2", "utter_advice_3", ADVICE_MORE]
