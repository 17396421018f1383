"""The base of the project's policies that are code only (crisis net, human mode):
nothing to learn from the stories, nothing to save in the model."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.core.policies.policy import Policy
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates


class CodePolicy(Policy):
    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "CodePolicy":
        return cls(config, model_storage, resource, execution_context)

    def persist(self) -> None:
        """Nothing to save: the policy is code."""
