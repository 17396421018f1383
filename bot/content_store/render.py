"""Turn a response name and the conversation's slots into the message to send."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional

from bot.content_store.model import DEFAULT_LANGUAGE, LANGUAGES, Snapshot, Variant

PLACEHOLDER = re.compile(r"\{([a-z0-9_]+(?:\.[a-z0-9_]+)*)\}")
PLATFORM_FIELDS = {
    "platform_name": "name",
    "platform_report": "report",
    "platform_block": "block",
    "platform_notes": "notes",
    "platform_link": "link",
}
HELPLINE_FIELDS = ("number", "name", "hours", "link", "sms")
# Values known only when the message is sent (counsellor's first name, wait, next opening).
RUNTIME_FIELDS = ("counsellor_name", "wait_minutes", "next_opening")
# The service's name and operator (content/settings.yml, service:), e.g. {service.name}.
SERVICE_FIELDS = ("service.name", "service.operator")
ADULT_ROLES = ("parent", "professional")


def language_of(slots: Mapping[str, Any]) -> str:
    lang = slots.get("language")
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def audience_of(slots: Mapping[str, Any]) -> str:
    """Parents and professionals are addressed with "vous"; teens and unknown with "tu"."""
    return "adult" if slots.get("user_role") in ADULT_ROLES else "teen"


def matches(when: Mapping[str, Any], slots: Mapping[str, Any]) -> bool:
    for key, expected in when.items():
        if key in ("age_below", "age_at_least"):
            age = _as_number(slots.get("age"))
            if age is None:
                continue  # unknown age: give both resources rather than neither
            if key == "age_below" and not age < float(expected):
                return False
            if key == "age_at_least" and not age >= float(expected):
                return False
            continue
        actual = slots.get(key)
        options = expected if isinstance(expected, list) else [expected]
        if not any(_same(actual, option) for option in options):
            return False
    return True


def _same(actual: Any, expected: Any) -> bool:
    if expected is None:
        return actual is None
    if actual is None:
        return False
    if isinstance(actual, bool) or isinstance(expected, bool):
        return str(actual).lower() == str(expected).lower()
    return str(actual) == str(expected)


def _as_number(value: Any) -> Optional[float]:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def pick_text(texts: Mapping[str, Mapping[str, str]], lang: str, audience: str) -> str:
    by_audience = texts.get(lang) or texts.get(DEFAULT_LANGUAGE) or next(iter(texts.values()))
    return by_audience.get(audience) or by_audience.get("teen") or next(iter(by_audience.values()))


def platform_field(snapshot: Snapshot, platform: Optional[str], name: str, lang: str) -> str:
    guide = snapshot.platforms.get(platform or "") or snapshot.platforms.get("_default") or {}
    value = guide.get(name, "")
    if isinstance(value, dict):
        value = value.get(lang) or value.get(DEFAULT_LANGUAGE) or ""
    return str(value or "").strip()


def helpline_field(snapshot: Snapshot, helpline: str, name: str, lang: str) -> str:
    value = snapshot.helplines.get(helpline, {}).get(name, "")
    if isinstance(value, dict):
        value = value.get(lang) or value.get(DEFAULT_LANGUAGE) or ""
    return str(value or "")


def service_field(snapshot: Optional[Snapshot], field: str, lang: str) -> str:
    """content/settings.yml's service.<field> in this language ("3018" if the content has none)."""
    value = (((snapshot.settings if snapshot else None) or {}).get("service") or {}).get(field) or ""
    if isinstance(value, dict):
        value = value.get(lang) or value.get(DEFAULT_LANGUAGE) or ""
    return str(value) or "3018"


def fill(text: str, snapshot: Snapshot, slots: Mapping[str, Any], lang: str) -> str:
    def replace(match: "re.Match[str]") -> str:
        key = match.group(1)
        if key in PLATFORM_FIELDS:
            return platform_field(snapshot, slots.get("platform"), PLATFORM_FIELDS[key], lang)
        if key in RUNTIME_FIELDS:
            return str(slots.get(key) if slots.get(key) is not None else "")
        if key in SERVICE_FIELDS:
            return service_field(snapshot, key.split(".")[1], lang)
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "helpline":
            return helpline_field(snapshot, parts[1], parts[2], lang)
        return match.group(0)  # refused at load time; never reached with valid content

    return PLACEHOLDER.sub(replace, text).strip()


def choose_variant(variants: List[Variant], slots: Mapping[str, Any]) -> Optional[Variant]:
    for variant in variants:
        if matches(variant.when, slots):
            return variant
    return None


def render(snapshot: Snapshot, name: str, slots: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """The message for response `name`, or None when the content has no such response."""
    response = snapshot.responses.get(name)
    if response is None:
        return None
    variant = choose_variant(response.variants, slots)
    if variant is None:
        return None
    lang, audience = language_of(slots), audience_of(slots)
    message: Dict[str, Any] = {"text": fill(pick_text(variant.texts, lang, audience), snapshot, slots, lang)}
    if variant.buttons:
        message["buttons"] = [
            {"title": b.titles.get(lang) or b.titles.get(DEFAULT_LANGUAGE, b.payload), "payload": b.payload}
            for b in variant.buttons
        ]
    return message
