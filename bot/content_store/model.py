"""The compiled, validated content: what the renderer and the services read."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from bot.safety.lexicon import Lexicon

LANGUAGES = ("fr", "en")
AUDIENCES = ("teen", "adult")
DEFAULT_LANGUAGE = "fr"


@dataclass(frozen=True)
class Button:
    payload: str
    titles: Dict[str, str]  # language -> title


@dataclass(frozen=True)
class Variant:
    when: Dict[str, Any]
    texts: Dict[str, Dict[str, str]]  # language -> audience -> text
    buttons: List[Button]


@dataclass(frozen=True)
class Response:
    name: str
    variants: List[Variant]
    file: str
    source: Optional[str] = None
    verified_on: Optional[str] = None


@dataclass(frozen=True)
class FlowStep:
    response: str
    when: Dict[str, Any]


@dataclass(frozen=True)
class FlowQuestion:
    """A question the flow may ask (response utter_ask_<slot>), when its `when` matches."""

    slot: str
    when: Dict[str, Any]


@dataclass(frozen=True)
class Flow:
    name: str
    steps: List[FlowStep]
    file: str
    urgent: str = ""  # the flow's first answer: the most urgent steps, at once
    questions: List[FlowQuestion] = field(default_factory=list)  # in the order they are asked


@dataclass
class Snapshot:
    responses: Dict[str, Response] = field(default_factory=dict)
    flows: Dict[str, Flow] = field(default_factory=dict)
    helplines: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    platforms: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    platform_aliases: Dict[str, str] = field(default_factory=dict)  # folded alias -> platform id
    lexicon: Lexicon = field(default_factory=Lexicon)
    lexicon_data: Dict[str, Any] = field(default_factory=dict)
    settings: Dict[str, Any] = field(default_factory=dict)
    version: str = ""
