"""While a counsellor has the conversation, the bot stays quiet.

Only while the case is `active` (a counsellor claimed it, or wrote in it): after each
user message this policy predicts only `action_listen`, so no rule, form or story
answers over the counsellor. While the case is merely `queued` nobody answers yet, so
the bot goes on helping (crisis_policy.bot_is_quiet; the content NLG opens each turn
with a line saying a person is coming). It does not rely on Rasa's
`ConversationPaused`, which a new session and `/restart` clear: the state comes from
the handoff registry (handoff/registry.py) and the slot is put back (queued or active)
if a new session or a restart cleared it. The crisis net (CrisisPolicy, higher
priority) still reads every message.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_addons.policies.code_policy import CodePolicy
from bot.rasa_addons.policies.crisis_policy import bot_is_quiet, handoff_state, restore_handoff_slot


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class HumanModePolicy(CodePolicy):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # Above the flows (7) and the rules (6), below the crisis net (9).
        return {"priority": 8}

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        status = handoff_state(tracker)
        if not bot_is_quiet(status):
            return self._prediction(probabilities, events=restore_handoff_slot(tracker, status))
        probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        return self._prediction(probabilities, events=restore_handoff_slot(tracker, status), is_no_user_prediction=True)

