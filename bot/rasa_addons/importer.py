"""Training-data importer that adds the content's responses to the domain.

The texts live in `content/` (editors' home) and are served live by the NLG; the
copy added here is packaged in the model, as the fallback when the content cannot
be read. Only responses named in stories and rules are added, so that `rasa data validate`
(which flags unused responses) sees exactly those; the forms' questions and the
flows' steps are served from the live content only.

Configured in config.yml under `importers`, after the default RasaFileImporter.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Optional, Set, Text, Union

import rasa.shared.data
from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.core.training_data.structures import StoryGraph
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.content_store.export import to_domain_responses
from bot.content_store.store import default_content_dir, load_snapshot

UTTER = re.compile(r"\butter_[a-z0-9_]+\b")


class ContentResponsesImporter(TrainingDataImporter):
    def __init__(
        self,
        config_file: Optional[Text] = None,
        domain_path: Optional[Text] = None,
        training_data_paths: Optional[Union[List[Text], Text]] = None,
        content_dir: Optional[Text] = None,
    ) -> None:
        self._domain_path = domain_path
        self._story_files = rasa.shared.data.get_data_files(training_data_paths, YAMLStoryReader.is_stories_file)
        self._content_dir = Path(content_dir) if content_dir else default_content_dir()

    def _used_responses(self) -> Set[str]:
        used: Set[str] = set()
        for path in self._story_files:
            used |= set(UTTER.findall(Path(path).read_text(encoding="utf-8")))
        return used

    def get_domain(self) -> Domain:
        snapshot = load_snapshot(self._content_dir)  # training must fail on broken content
        responses = to_domain_responses(snapshot, self._used_responses())
        return Domain.from_dict({"responses": responses})

    def get_stories(self, exclusion_percentage: Optional[int] = None) -> StoryGraph:
        return StoryGraph([])

    def get_conversation_tests(self) -> StoryGraph:
        return StoryGraph([])

    def get_config(self) -> Dict:
        return {}

    def get_config_file_for_auto_config(self) -> Optional[Text]:
        return None

    def get_nlu_data(self, language: Optional[Text] = "en") -> TrainingData:
        return TrainingData()
