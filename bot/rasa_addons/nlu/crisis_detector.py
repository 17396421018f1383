"""The crisis safety net inside Rasa's NLU: it runs on every message, in every state.

Decision, in order:
  1. the editors' lexicon (content/crisis/lexicon.yml) over normalised text: a crisis
     pattern sets intent `crisis` with its `crisis_type`; a figure of speech that may
     hide abuse sets `crisis_check` (gentle check-in, not an alarm);
  2. otherwise the trained classifier: `crisis` above `threshold` is kept with type
     `unknown` (the answer then shows both 3114 and 112: when unsure, show the number),
     provided the message holds one of the lexicon's signal words once idioms are removed
     (the classifier alone is over-confident on "mon chat a failli mourir") and does not
     say in words that the person is not in danger ("je suis pas en danger hein");
     a classifier `crisis` under the threshold, or on a message whose only alarming
     words were an idiom ("ce jeu me tue"), is replaced by the next intent.
`risk_level` becomes critical through the CrisisPolicy, inside Rasa too.

The lexicon is saved in the model at training time, so that the net still works if
the content folder is unreadable; the live content wins when it is valid.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.content_store import shared_store
from bot.content_store.store import load_snapshot
from bot.rasa_addons.nlu.message_guard import FULL_TEXT
from bot.safety.answers import says_not_in_danger
from bot.safety.lexicon import Lexicon

logger = logging.getLogger(__name__)

EXTRACTOR = "CrisisDetector"
CRISIS, CHECK = "crisis", "crisis_check"
# The crisis_type of a crisis read by the classifier alone, with no lexicon cue.
CLASSIFIER_ONLY = "unknown"
# Entities only this component may set; any other source is dropped.
OWNED_ENTITIES = ("crisis_type", "risk_level")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class CrisisDetector(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"threshold": 0.8, "threshold_after_idiom": 0.97}

    def __init__(
        self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, lexicon_data: Optional[dict] = None
    ) -> None:
        self.threshold = float(config.get("threshold", 0.8))
        self.threshold_after_idiom = float(config.get("threshold_after_idiom", 0.95))
        self._storage, self._resource = model_storage, resource
        self._packaged = Lexicon.from_dict(lexicon_data) if lexicon_data else None

    @classmethod
    def create(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> "CrisisDetector":
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "CrisisDetector":
        data = None
        try:
            with model_storage.read_from(resource) as directory:
                data = json.loads((directory / "lexicon.json").read_text(encoding="utf-8"))
        except (ValueError, OSError, FileNotFoundError):
            logger.warning("No crisis lexicon packaged in the model; using the live content only")
        return cls(config, model_storage, resource, data)

    def train(self, training_data: TrainingData) -> Resource:
        # Fails training loudly if the lexicon is broken: a model must never ship blind.
        snapshot = load_snapshot(shared_store().root)
        with self._storage.write_to(self._resource) as directory:
            (directory / "lexicon.json").write_text(
                json.dumps(snapshot.lexicon_data, ensure_ascii=False, default=str), encoding="utf-8"
            )
        return self._resource

    def lexicon(self) -> Optional[Lexicon]:
        snapshot = shared_store().snapshot()
        if snapshot is not None and snapshot.lexicon.crisis:
            return snapshot.lexicon
        return self._packaged

    def process(self, messages: List[Message]) -> List[Message]:
        lexicon = self.lexicon()
        for message in messages:
            self._process_one(message, lexicon)
        return messages

    def _process_one(self, message: Message, lexicon: Optional[Lexicon]) -> None:
        text = message.get(FULL_TEXT) or message.get(TEXT) or ""
        entities = [e for e in message.get(ENTITIES, []) if e.get("entity") not in OWNED_ENTITIES]
        match, had_idiom = lexicon.scan(text) if lexicon else (None, False)
        ranking = message.get(INTENT_RANKING_KEY) or []
        predicted = message.get(INTENT) or {}
        classifier_crisis = _confidence(ranking, CRISIS)

        kind: Optional[str] = None
        if match is not None and match.kind != "check_in":
            kind = match.kind
        elif match is None:
            threshold = self.threshold_after_idiom if had_idiom else self.threshold
            signal = lexicon.has_signal(text) if lexicon else True
            said_safe = says_not_in_danger(lexicon.normalize(text) if lexicon else text.lower())
            if classifier_crisis >= threshold and signal and not said_safe:
                kind = CLASSIFIER_ONLY

        if kind is not None:
            self._set_intent(message, CRISIS, ranking)
            entities.append(_entity("crisis_type", kind, text))
        elif match is not None:  # check_in
            self._set_intent(message, CHECK, ranking)
        elif (
            _top(ranking) == CHECK and _confidence(ranking, CHECK) >= self.threshold and not had_idiom
            and (lexicon.has_signal(text) if lexicon else True)
        ):
            self._set_intent(message, CHECK, ranking)  # a classifier check-in: gentle, worth asking
        elif predicted.get("name") in (CRISIS, CHECK) or _top(ranking) in (CRISIS, CHECK):
            # The classifier alone was not sure enough: fall back to the next plausible intent.
            self._demote(message, ranking)
        message.set(ENTITIES, entities, add_to_output=True)

    @staticmethod
    def _set_intent(message: Message, name: str, ranking: List[Dict[str, Any]]) -> None:
        rest = [r for r in ranking if r.get("name") != name]
        message.set(INTENT, {"name": name, "confidence": 1.0}, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [{"name": name, "confidence": 1.0}] + rest, add_to_output=True)

    @staticmethod
    def _demote(message: Message, ranking: List[Dict[str, Any]]) -> None:
        rest = [r for r in ranking if r.get("name") not in (CRISIS, CHECK)]
        best = rest[0] if rest else {"name": "nlu_fallback", "confidence": 1.0}
        message.set(INTENT, dict(best), add_to_output=True)
        message.set(INTENT_RANKING_KEY, rest, add_to_output=True)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


def _confidence(ranking: List[Dict[str, Any]], name: str) -> float:
    return max((float(r.get("confidence", 0.0)) for r in ranking if r.get("name") == name), default=0.0)


def _top(ranking: List[Dict[str, Any]]) -> Optional[str]:
    named = [r for r in ranking if r.get("name") != "nlu_fallback"]
    return named[0].get("name") if named else None


def _entity(name: str, value: str, text: str) -> Dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": len(text), "confidence_entity": 1.0, "extractor": EXTRACTOR}
