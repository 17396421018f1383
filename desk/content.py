"""Canned replies and outcome codes from content/desk/ (editors' YAML, French and English)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, FrozenSet, List

import yaml


class ContentError(ValueError):
    pass


@dataclass(frozen=True)
class DeskContent:
    canned: List[Dict[str, str]]
    outcomes: List[Dict[str, str]]
    notices: Dict[str, Dict[str, Dict[str, str]]] = None  # type: ignore[assignment]  # name -> lang -> register -> text

    def notice(self, name: str, language: str, user_role: str) -> str:
        """A message the desk itself sends to the person, in their language and register."""
        texts = (self.notices or {}).get(name) or {}
        by_register = texts.get(language if language in ("fr", "en") else "fr") or texts.get("fr") or {}
        return by_register.get("teen" if user_role in (None, "", "teen") else "adult") or ""

    # Outcomes after which the law requires a record to be kept (`legal_hold: true` in
    # outcomes.yml): an erasure keeps such a case (desk/erasure.py).
    legal_hold_codes: FrozenSet[str] = frozenset()

    @property
    def outcome_codes(self) -> set:
        return {o["code"] for o in self.outcomes}

    def outcome_label(self, code: str, lang: str) -> str:
        for outcome in self.outcomes:
            if outcome["code"] == code:
                return outcome[lang]
        return code


def _load(path: Path, key: str) -> List[Dict]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(f"{path}: {exc}")
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise ContentError(f"{path}: needs a non-empty list '{key}'")
    return items


def load(content_dir: Path) -> DeskContent:
    folder = content_dir / "desk"
    canned = []
    for index, item in enumerate(_load(folder / "canned_replies.yml", "replies")):
        label = item.get("label") or {}
        if not all(isinstance(x, str) and x.strip() for x in (item.get("id"), item.get("fr"), item.get("en"),
                                                             label.get("fr"), label.get("en"))):
            raise ContentError(f"canned_replies.yml: replies[{index}] needs id, label.fr, label.en, fr and en")
        canned.append({"id": item["id"], "label_fr": label["fr"], "label_en": label["en"], "fr": item["fr"],
                       "en": item["en"]})
    outcomes = []
    for index, item in enumerate(_load(folder / "outcomes.yml", "outcomes")):
        if not all(isinstance(item.get(k), str) and item[k].strip() for k in ("code", "fr", "en")):
            raise ContentError(f"outcomes.yml: outcomes[{index}] needs code, fr and en")
        if not isinstance(item.get("legal_hold", False), bool):
            raise ContentError(f"outcomes.yml: outcomes[{index}].legal_hold must be true or false")
        outcomes.append({"code": item["code"], "fr": item["fr"], "en": item["en"]})
    if len({o["code"] for o in outcomes}) != len(outcomes):
        raise ContentError("outcomes.yml: duplicate code")
    notices = _notices(folder / "notices.yml")
    held = frozenset(item["code"] for item in _load(folder / "outcomes.yml", "outcomes") if item.get("legal_hold"))
    return DeskContent(canned, outcomes, notices, held)


def _notices(path: Path) -> Dict[str, Dict[str, Dict[str, str]]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(f"{path}: {exc}")
    if not isinstance(data, dict) or not data:
        raise ContentError(f"{path}: needs notices by name")
    for name, texts in data.items():
        for lang in ("fr", "en"):
            for register in ("teen", "adult"):
                value = ((texts or {}).get(lang) or {}).get(register) if isinstance(texts, dict) else None
                if not isinstance(value, str) or not value.strip():
                    raise ContentError(f"notices.yml: {name}.{lang}.{register} must be a non-empty text")
    return data
