"""The flow and crisis policies together, on real Rasa trackers, turn by turn.

A small processor stands in for Rasa's: the test gives each message's intent (the
classifier's job), the facts come from the real context reader (bot/safety/context.py),
the texts from the real content. No trained model: these tests check the dialogue
logic, the conversation tests (tests/dialogue, tests/e2e) check it with the real NLU.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.content_store import shared_store
from bot.rasa_addons.importer import ContentResponsesImporter
from bot.rasa_addons.flow_texts import flow_message
from bot.rasa_addons.handoff import registry as registry_module
from bot.rasa_addons.policies.crisis_policy import CrisisPolicy
from bot.rasa_addons.policies.flow_policy import FlowPolicy
from bot.safety.context import read_context

ROOT = Path(__file__).resolve().parents[2]
# The domain as training builds it: bot/domain.yml and the content's responses used in the rules.
DOMAIN = Domain.load(str(ROOT / "bot" / "domain.yml")).merge(
    ContentResponsesImporter(training_data_paths=[str(ROOT / "bot" / "data")]).get_domain()
)
ENTITY_SLOTS = {
    "age", "platform", "user_role", "language", "paid", "posted", "deadline", "meeting_proposed", "can_login",
    "impersonation", "school_involved",
}
RULE = "(a rule)"
# The rules' answers the tests need (bot/data/rules/), to see what the flow does after them.
RULE_ANSWERS = {"thanks": "utter_thanks", "greet": "utter_greet", "ask_free_anonymous": "utter_free_anonymous"}


@pytest.fixture(autouse=True)
def private_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_DB", str(tmp_path / "handoff.db"))
    monkeypatch.setattr(registry_module, "_shared", None)


def policy(cls: Any) -> Any:
    instance = cls.__new__(cls)  # code policies: nothing to train or load
    instance.priority = cls.get_default_config()["priority"]
    instance.config = cls.get_default_config()
    return instance


class Conversation:
    def __init__(self, channel: str = "socketio") -> None:
        self.channel = channel
        self.tracker = DialogueStateTracker.from_events("c1", [ActionExecuted(ACTION_LISTEN_NAME)], slots=DOMAIN.slots)
        self.crisis, self.flows = policy(CrisisPolicy), policy(FlowPolicy)
        self.last_policy: Optional[str] = None
        self.snapshot = shared_store().snapshot()

    def say(self, text: str, intent: str) -> List[str]:
        facts = read_context(text, self.snapshot.platform_aliases, self.snapshot.lexicon.sms)
        entities = [{"entity": k, "value": v, "extractor": "ContextExtractor"} for k, v in facts.items()]
        self.tracker.update(UserUttered(text, {"name": intent, "confidence": 1.0}, entities, input_channel=self.channel))
        for entity in entities:  # Rasa's action_extract_slots, for the from_entity mappings
            if entity["entity"] in ENTITY_SLOTS:
                self.tracker.update(SlotSet(entity["entity"], entity["value"]))
        actions: List[str] = []
        for _ in range(10):
            action = self.predict()
            if action == RULE and intent in RULE_ANSWERS and not actions:
                action = RULE_ANSWERS[intent]
            if action in (ACTION_LISTEN_NAME, RULE):
                if action == RULE and not actions:
                    actions.append(RULE)
                break
            actions.append(action)
            self.run(action)
        return actions

    def predict(self) -> str:
        predictions = [p.predict_action_probabilities(self.tracker, DOMAIN) for p in (self.crisis, self.flows)]
        for prediction in predictions:
            self.tracker.update_with_events(prediction.events, DOMAIN)
        for policy_, prediction in zip((self.crisis, self.flows), predictions):
            if max(prediction.probabilities) > 0:
                self.last_policy = type(policy_).__name__
                return DOMAIN.action_names_or_texts[prediction.probabilities.index(max(prediction.probabilities))]
        self.last_policy = None
        return RULE  # nothing from the code policies: Rasa's rules would answer

    def run(self, action: str) -> None:
        self.tracker.update(ActionExecuted(action, policy=self.last_policy))
        if action == "action_request_human":
            self.tracker.update(SlotSet("handoff_status", "queued"))
            self.tracker.update(SlotSet("human_offered", True))
        elif action.startswith("utter_"):
            slots = self.tracker.current_slot_values()
            composed = flow_message(action, self.tracker, slots, self.snapshot, lambda n, s: {"text": n})
            metadata = {"utter_action": action, **({"steps": composed["steps"]} if composed and "steps" in composed else {})}
            self.tracker.update(BotUttered(action, {}, metadata))

    def slot(self, name: str) -> Any:
        return self.tracker.get_slot(name)

    def messages_until_advice_complete(self) -> int:
        """Bot messages up to the last part of the advice (what follows it is not counted)."""
        uttered = [e for e in self.tracker.events if isinstance(e, BotUttered)]
        last = max(i for i, e in enumerate(uttered) if (e.metadata or {}).get("steps"))
        return last + 1

    def steps_given(self) -> List[str]:
        return [s for e in self.tracker.events if isinstance(e, BotUttered) for s in (e.metadata or {}).get("steps", [])]


def test_a_14_year_old_answering_out_of_order_gets_the_whole_advice_and_high_risk() -> None:
    c = Conversation()
    assert c.say("un mec sur snap a mes nudes et veut 200 balles sinon il les envoie a mes potes", "sextortion") == [
        "utter_sextortion_urgent", "utter_ask_wellbeing"]
    assert c.slot("user_role") == "teen" and c.slot("platform") == "snapchat"
    c.say("oui", "affirm")
    advice_turn = c.say("14", "inform")  # the flow's third turn: the advice, whatever is still open
    assert c.slot("age") == 14 and advice_turn[0] == "utter_advice_1"
    assert c.slot("risk_level") == "high" and "utter_offer_human" in advice_turn  # under 15, serious flow
    c.say("snapchat", "inform")
    turn = c.say("ce soir", "inform")
    assert c.slot("deadline") == "yes" and turn[0] == "utter_advice_1"  # the deadline step, given now
    steps = c.steps_given()
    assert {"step_sextortion_deadline", "step_sextortion_takeitdown", "step_sextortion_report"} <= set(steps)
    assert "step_sextortion_stopncii" not in steps and len(steps) == len(set(steps))
    assert c.say("merci", "thanks") == ["utter_thanks"]  # the rules thank; no question comes back


def test_non_followed_by_content_answers_the_content_never_an_emergency() -> None:
    c = Conversation()
    c.say("mon fils de 14 ans est victime de chantage sexuel sur instagram, que dois-je faire ?", "sextortion")
    assert c.slot("user_role") == "parent" and c.slot("age") == 14
    c.say("il n'a pas payé", "inform")
    assert c.slot("paid") == "no"
    turn = c.say("non, rien n'a été publié", "deny")
    assert c.slot("posted") == "no"
    assert "utter_not_safe" not in turn and "utter_crisis" not in turn and c.slot("risk_level") != "critical"


def test_the_safety_question_bare_no_is_an_emergency_but_no_with_content_is_not() -> None:
    c = Conversation()
    c.say("un adulte sur roblox veut voir ma fille de 12 ans en vrai", "grooming")
    assert c.slot("meeting_proposed") == "yes"
    c.say("roblox", "inform")
    # The safety question is asked because a meeting was proposed.
    asked = [a for e in c.tracker.events if isinstance(e, ActionExecuted) for a in [e.action_name] if a.startswith("utter_ask_")]
    assert "utter_ask_safe_now" in asked
    assert c.say("non", "deny")[0] == "utter_not_safe"
    assert c.slot("risk_level") == "critical"


def test_a_question_is_never_asked_a_third_time() -> None:
    c = Conversation()
    c.say("quelqu'un menace de publier ma video", "sextortion")
    for text in ("hmm", "euh", "bah", "ptdr", "mmh", "bon"):
        c.say(text, "nlu_fallback")
    asked: Dict[str, int] = {}
    for event in c.tracker.events:
        if isinstance(event, ActionExecuted) and event.action_name.startswith(("utter_ask_", "utter_reask_")):
            slot = event.action_name.split("ask_", 1)[1]
            asked[slot] = asked.get(slot, 0) + 1
    assert asked and max(asked.values()) <= 2
    assert c.steps_given(), "the advice came anyway"


@pytest.mark.parametrize("what_now, intent", [
    ("je fais quoi ???", "what_now"), ("et du coup", "what_now"), ("what should I do?", "what_now"), ("passe", "skip"),
])
def test_what_now_at_any_point_gives_the_advice(what_now: str, intent: str) -> None:
    c = Conversation()
    c.say("on a piraté mon compte insta", "hacked_account")
    turn = c.say(what_now, intent)
    assert turn[0] == "utter_advice_1"
    again = c.say(what_now, intent)
    assert again and again[0] in ("utter_recap", "utter_advice_1")


def test_teen_advice_within_six_turns_and_eight_messages() -> None:
    for answers in (["jsp", "jsp", "jsp", "jsp", "jsp"], ["ok", "16", "nan", "insta", "nan"]):
        c = Conversation()
        c.say("jsuis dans la merde ya qqn qui menace de diffuser mes photos", "sextortion")
        turn_of_advice = None
        for i, text in enumerate(answers, start=2):
            c.say(text, "skip" if text == "jsp" else "inform")
            if c.steps_given() and turn_of_advice is None:
                turn_of_advice = i
        assert turn_of_advice is not None and turn_of_advice <= 6
        assert c.messages_until_advice_complete() <= 8


def test_the_check_in_then_yes_is_reassured_and_unsure_gets_one_clarifying_question() -> None:
    c = Conversation()
    assert c.say("mon pere va me tuer s'il voit mes notes", "crisis_check") == ["utter_ask_safe_at_home"]
    assert c.say("oui", "affirm") == ["utter_glad_safe"]
    c = Conversation()
    c.say("mon pere va me tuer s'il voit mes notes", "crisis_check")
    assert c.say("bof", "nlu_fallback") == ["utter_safety_clarify"]
    assert c.say("jsp", "skip") in ([], [RULE])  # no third question, no alarm
    assert c.slot("risk_level") != "critical"


def test_a_crisis_in_the_middle_of_a_flow_comes_first() -> None:
    c = Conversation()
    c.say("il menace d'envoyer ma video a ma classe", "sextortion")
    assert c.say("je veux mourir", "crisis")[:2] == ["utter_crisis", "action_request_human"]
    assert c.slot("risk_level") == "critical"
    # Queued, not yet with a counsellor: the bot keeps answering.
    assert c.say("je fais quoi maintenant", "what_now")[0].startswith("utter_")


def test_a_short_answer_misread_as_another_problem_does_not_switch_flows() -> None:
    c = Conversation()
    c.say("une meuf me fait du chantage avec mes nudes", "sextortion")
    c.say("ok", "affirm")
    c.say("c'etait sur insta", "report_account")
    assert c.slot("flow") == "sextortion" and c.slot("platform") == "instagram"


def test_risk_is_never_above_the_facts() -> None:
    c = Conversation()
    c.say("quelqu'un a fait un faux compte avec mes photos sur tiktok", "impersonation")
    c.say("j'ai 16 ans", "inform")
    assert c.slot("flow") == "report_account" and c.slot("impersonation") == "yes"
    assert c.slot("risk_level") == "low"
    assert "step_hacked_impersonation" in c.steps_given() and "step_report_platform" in c.steps_given()


def test_a_serious_flow_with_a_minor_is_at_least_medium_and_under_15_is_high_at_once() -> None:
    c = Conversation()
    c.say("un adulte parle a mon fils de 13 ans sur discord et lui offre des cadeaux", "grooming")
    assert c.slot("risk_level") == "high"
    c = Conversation()
    c.say("les photos de ma fille de 16 ans tournent au lycee", "nonconsensual_sharing")
    assert c.slot("risk_level") in ("medium", "high")


def test_ok_does_not_answer_a_question_of_fact_but_accepts_an_offer() -> None:
    c = Conversation()
    c.say("un mec me fait du chantage avec mes nudes sur insta j'ai 15 ans", "sextortion")
    c.say("ca va", "affirm")
    assert c.slot("wellbeing") == "ok"
    turn = c.say("ok", "affirm")  # to "have you already paid?"
    assert c.slot("paid") is None and turn[-1] == "utter_reask_paid"
    c.say("ok merci", "thanks")
    assert c.slot("paid") in (None, "unknown")  # never "yes"


def test_thanks_before_the_advice_still_brings_the_advice() -> None:
    c = Conversation()
    c.say("des gens de ma classe ont fait un montage de moi nue", "nonconsensual_sharing")
    c.say("jsp", "skip")
    turn = c.say("merci", "thanks")
    assert turn[0] == "utter_thanks" and "utter_advice_1" in turn and len(turn) <= 6
    assert "step_sharing_takeitdown" in c.steps_given() or "step_sharing_stopncii" in c.steps_given()


def test_a_service_question_in_the_middle_gets_its_answer_then_the_question_again() -> None:
    c = Conversation()
    c.say("on me harcele sur tiktok depuis 2 semaines", "cyberbullying")
    turn = c.say("c'est anonyme ?", "ask_free_anonymous")
    assert turn == ["utter_free_anonymous", "utter_reask_age"]


def test_how_do_i_report_it_in_a_serious_flow_gives_that_flows_advice_not_another_flow() -> None:
    c = Conversation()
    c.say("ma photo nue tourne dans le groupe de la classe", "nonconsensual_sharing")
    turn = c.say("comment je fais pour signaler la publication sur insta", "report_account")
    assert c.slot("flow") == "nonconsensual_sharing" and turn[0] == "utter_advice_1"
    assert "step_sharing_report" in c.steps_given()


@pytest.mark.parametrize("channel, most", [("twilio", 4), ("facebook", 4), ("telegram", 4), ("socketio", 6)])
def test_never_more_than_four_messages_a_turn_on_messaging_apps(channel: str, most: int) -> None:
    """A parent's long advice (every branch): 'la suite ?' on WhatsApp, Messenger and
    Telegram, all at once on the web chat; the whole advice either way."""
    c = Conversation(channel)
    turns = [c.say("mon fils de 15 ans est victime de chantage, la video est deja en ligne, il a deja paye, "
                   "il a jusqu'a ce soir, que dois-je faire ?", "sextortion")]
    turns.append(c.say("oui", "affirm"))
    assert all(len(t) <= most for t in turns), turns
    assert ("utter_advice_more" in turns[0]) == (most == 4)
    given = c.steps_given()
    for step in ("step_sextortion_paid", "step_sextortion_posted", "step_sextortion_deadline", "step_sextortion_complaint",
                 "step_sextortion_trusted_adult", "step_sextortion_takeitdown"):
        assert step in given, step


def test_asking_for_a_person_while_the_safety_question_is_pending_is_left_to_the_rules() -> None:
    c = Conversation()
    c.say("Un adulte envoie des messages a ma fille de 12 ans sur Instagram et lui propose de se voir", "grooming")
    assert c.say("je veux parler a quelqu'un", "talk_to_human") == [RULE]  # the rule opens a case
    c = Conversation()
    c.say("mon pere va me tuer s'il voit mes notes", "crisis_check")
    assert c.say("je veux parler a quelqu'un", "talk_to_human") == [RULE]


def test_a_detail_read_as_another_problem_stays_in_the_flow_but_a_real_threat_switches() -> None:
    c = Conversation()
    c.say("un homme de 35 ans me parle sur snap depuis des semaines", "grooming")
    assert c.slot("flow") == "grooming"
    c.say("il m'a envoyé une carte cadeau et il veut des photos de moi en maillot", "sextortion")
    assert c.slot("flow") == "grooming"  # a gift and a request for photos: grooming's own signs
    c.say("maintenant il dit qu'il va envoyer mes photos a tout le monde si je paie pas 200 euros", "sextortion")
    assert c.slot("flow") == "sextortion"  # a threat with a demand: now it is blackmail


def test_the_first_problem_follows_the_words_that_define_it() -> None:
    c = Conversation()
    actions = c.say("y a une vidéo de moi qui tourne dans tout le collège", "sextortion")
    assert c.slot("flow") == "nonconsensual_sharing" and actions[0] == "utter_sharing_urgent"


def test_a_statement_that_names_one_problem_starts_its_flow() -> None:
    c = Conversation()
    actions = c.say("une vidéo de mon fils a été partagée sans son accord", "inform")
    assert c.slot("flow") == "nonconsensual_sharing" and actions[0] == "utter_sharing_urgent"
    c2 = Conversation()
    c2.say("je sais pas trop comment dire ca", "inform")
    assert c2.slot("flow") is None


def _say_with_crisis_type(c: "Conversation", text: str, kind: str) -> List[str]:
    """A message the crisis NLU component marked crisis, with the kind it found."""
    c.tracker.update(UserUttered(text, {"name": "crisis", "confidence": 1.0},
                                 [{"entity": "crisis_type", "value": kind, "extractor": "CrisisDetector"}],
                                 input_channel=c.channel))
    actions: List[str] = []
    for _ in range(10):
        action = c.predict()
        if action in (ACTION_LISTEN_NAME, RULE):
            break
        actions.append(action)
        c.run(action)
    return actions


def test_fear_answering_how_are_you_holding_up_gets_3114_gently_not_the_emergency() -> None:
    c = Conversation()
    actions = c.say("un mec me fait du chantage avec mes photos, il veut 100 euros", "sextortion")
    assert "utter_ask_wellbeing" in actions
    actions = _say_with_crisis_type(c, "mal, j'ai peur", "unknown")  # the classifier alone
    assert "utter_crisis" not in actions and "utter_wellbeing_support" in actions
    c2 = Conversation()
    c2.say("un mec me fait du chantage avec mes photos, il veut 100 euros", "sextortion")
    actions = _say_with_crisis_type(c2, "mal, j'ai envie de mourir", "suicide")  # a lexicon cue
    assert actions[0] == "utter_crisis"


def test_a_turn_the_flow_began_is_never_left_to_rasas_core_fallback() -> None:
    """If what a turn changed moves the plan after the flow has spoken, the turn ends there:
    no policy predicting would run action_default_fallback, which rewinds the message (and,
    repeated, erased a whole conversation's facts)."""
    c = Conversation()
    c.say("my account got hacked, i'm 21", "hacked_account")
    c.tracker.update(UserUttered("what do i do", {"name": "what_now", "confidence": 1.0}, [], input_channel=c.channel))
    c.tracker.update(ActionExecuted("utter_menu", policy="FlowPolicy"))  # an action the plan does not hold
    assert c.predict() == ACTION_LISTEN_NAME
