"""Content as Rasa domain responses: the texts packaged with the model.

Each content variant becomes Rasa variants with explicit slot conditions (language,
user_role and the variant's `when`), kept in content order, so that the fallback
renderer below reproduces the content's "first matching variant wins" exactly.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional

from bot.content_store.model import LANGUAGES, Snapshot
from bot.content_store.render import audience_of, fill, language_of

ROLES = (None, "teen", "parent", "professional")


def to_domain_responses(snapshot: Snapshot, names: Optional[Iterable[str]] = None) -> Dict[str, List[Dict[str, Any]]]:
    wanted = set(names) if names is not None else set(snapshot.responses)
    out: Dict[str, List[Dict[str, Any]]] = {}
    for name in sorted(wanted & set(snapshot.responses)):
        variants: List[Dict[str, Any]] = []
        for variant in snapshot.responses[name].variants:
            # Age conditions cannot be written as Rasa conditions; the packaged copy
            # treats them as "unknown age", which the content defines as a match.
            when = {k: v for k, v in variant.when.items() if k not in ("age_below", "age_at_least")}
            for expanded in _expand(when):
                for lang in LANGUAGES:
                    for role in ROLES:
                        slots = {"language": lang, "user_role": role, **expanded}
                        text = fill(
                            variant.texts[lang][audience_of(slots)], snapshot, {"language": lang}, lang
                        )
                        item: Dict[str, Any] = {
                            "text": text,
                            "condition": [{"type": "slot", "name": k, "value": v} for k, v in slots.items()],
                        }
                        if variant.buttons:
                            item["buttons"] = [
                                {"title": b.titles.get(lang, b.payload), "payload": b.payload} for b in variant.buttons
                            ]
                        variants.append(item)
        out[name] = variants
    return out


def _expand(when: Mapping[str, Any]) -> List[Dict[str, Any]]:
    combos: List[Dict[str, Any]] = [{}]
    for key, value in when.items():
        options = value if isinstance(value, list) else [value]
        combos = [{**c, key: option} for c in combos for option in options]
    return combos


def render_packaged(responses: Mapping[str, List[Dict[str, Any]]], name: str, slots: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """Render from the packaged domain responses: first variant whose conditions all hold."""
    variants = responses.get(name)
    if not variants:
        return None
    effective = dict(slots)
    effective["language"] = language_of(slots)
    if effective.get("user_role") not in ROLES:
        effective["user_role"] = None
    for variant in variants:
        conditions = variant.get("condition") or []
        if all(_holds(c, effective) for c in conditions):
            message = {"text": variant.get("text", "")}
            if variant.get("buttons"):
                message["buttons"] = variant["buttons"]
            return message
    return None


def _holds(condition: Mapping[str, Any], slots: Mapping[str, Any]) -> bool:
    actual, expected = slots.get(condition.get("name")), condition.get("value")
    if expected is None or actual is None:
        return expected is None and actual is None
    return str(actual) == str(expected)
