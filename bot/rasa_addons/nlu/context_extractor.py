"""Entities the assistant reads without asking: user_role, age, platform, language,
paid, posted (rules in bot/safety/context.py, platform names from content/platforms.yml).

The language can also come from the channel (message metadata `language`, e.g. the
web widget's language switch), which wins over detection.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.content_store import shared_store
from bot.rasa_addons.nlu.message_guard import FULL_TEXT
from bot.safety.context import entity_list, read_context

EXTRACTOR = "ContextExtractor"
LANGUAGES = ("fr", "en")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class ContextExtractor(GraphComponent):
    @classmethod
    def create(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> "ContextExtractor":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        snapshot = shared_store().snapshot()
        aliases = snapshot.platform_aliases if snapshot else {}
        sms = snapshot.lexicon.sms if snapshot else {}
        for message in messages:
            text = message.get(FULL_TEXT) or message.get(TEXT) or ""
            found = read_context(text[:2000], aliases, sms)
            metadata = message.get(METADATA) or {}
            if isinstance(metadata, dict) and metadata.get("language") in LANGUAGES:
                found["language"] = metadata["language"]
            entities = [e for e in message.get(ENTITIES, []) if e.get("entity") not in found]
            message.set(ENTITIES, entities + entity_list(found, text, EXTRACTOR), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
